"""A partial day (a history ending mid-day, a day with a few hours missing) still tells the shape about the
slots it has: it joins the profile, scaled by what the shape expects over those slots, not by its own mean."""
import numpy as np
import pytest

from cloudtune.models.shape import IntradayShape

S = 96  # 15-minute slots


def day_shape(peak_hour: float) -> np.ndarray:
    hour = np.arange(S) / 4
    return np.exp(0.5 * np.cos(2 * np.pi * (hour - peak_hour) / 24))


def grid_with_partial_last_day(last_day: np.ndarray, cover: float, days=10, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grid = 100 * day_shape(10) * np.exp(rng.normal(0, 0.02, (days, S)))
    last = last_day.copy()
    last[int(cover * S):] = np.nan  # the morning only: the history ends at this slot
    return np.vstack([grid, last[None, :]])


def fit(grid, min_partial=0.25):
    return IntradayShape(smooth=1, min_partial=min_partial).fit(grid, np.zeros(len(grid), int))


def without_last_day(grid):
    """The same grid with the last day missing: the reference a partial day is compared with."""
    out = grid.copy()
    out[-1] = np.nan
    return out


def test_partial_day_at_another_level_leaves_the_shape_alone():
    # Same shape, three times the level, the morning only: scaled by its own (morning) mean it would bend the
    # profile; scaled by the shape's expectation over its slots it agrees with the full days.
    grid = grid_with_partial_last_day(300 * day_shape(10), cover=0.5)
    with_partial = fit(grid).profile(0)
    full_only = fit(without_last_day(grid)).profile(0)
    assert np.abs(with_partial / full_only - 1).max() < 0.006  # by its own mean: 0.011


def test_partial_day_counts_where_it_has_data_as_the_whole_day_would():
    # The last day's peak moved an hour (within the days' noise, so the per-slot clipping lets it count).
    rng = np.random.default_rng(1)
    last = 100 * day_shape(9) * np.exp(rng.normal(0, 0.02, S))
    whole = grid_with_partial_last_day(last, cover=1.0)
    half = grid_with_partial_last_day(last, cover=0.5)
    target = fit(whole).profile(0)[: S // 2]
    ignored = np.abs(fit(without_last_day(half)).profile(0)[: S // 2] - target).mean()
    used = np.abs(fit(half).profile(0)[: S // 2] - target).mean()
    assert used < 0.7 * ignored


@pytest.mark.parametrize("cover", [0.1, 0.2])
def test_a_few_hours_are_not_a_day(cover):
    grid = grid_with_partial_last_day(100 * day_shape(4), cover=cover)
    np.testing.assert_array_equal(fit(grid).profile(0), fit(without_last_day(grid)).profile(0))


def test_a_group_with_only_a_partial_day_falls_back_to_the_pooled_profile():
    # A Sunday seen only up to noon: its own profile would have nothing in the afternoon.
    grid = grid_with_partial_last_day(100 * day_shape(10), cover=0.5)
    groups = np.array([0] * (len(grid) - 1) + [6])
    shape = IntradayShape(smooth=1).fit(grid, groups)
    np.testing.assert_array_equal(shape.profile(6), shape.profile("__all__"))
    assert shape.profile(6).min() > 0.5 and shape.n_days_used_["6"] == 0


def test_partial_days_do_not_count_towards_the_clipping_of_a_small_group():
    rng = np.random.default_rng(3)
    base = 100 * day_shape(10)
    others = base * np.exp(rng.normal(0, 0.02, (10, S)))
    a = base * np.exp(rng.normal(0, 0.02, (2, S)))
    a[1, 20] *= 5  # an outlier slot on one of group a's two whole days
    partial = base.copy()
    partial[60:] = np.nan  # a partial day of group a (slots 0-59, 15-24 missing), silent at the spike's slot:
    partial[15:25] = np.nan  # there group a has two values, which no per-slot median can clip
    grid = np.vstack([others, a, partial[None, :]])
    groups = np.array(["b"] * 10 + ["a", "a", "a"])
    with_partial = IntradayShape(smooth=1).fit(grid, groups, day_types={"a", "b"}).profile("a")
    whole_only = IntradayShape(smooth=1).fit(without_last_day(grid), groups, day_types={"a", "b"}).profile("a")
    assert with_partial[20] < 1.5 * whole_only[20]
    assert with_partial[20] < 2 * (base / base.mean())[20]


def test_a_slot_missing_every_day_takes_the_level_not_zero():
    grid = grid_with_partial_last_day(100 * day_shape(10), cover=1.0)
    grid[:, 5] = np.nan  # the feed never reports at 01:15
    prof = IntradayShape(smooth=1).fit(grid, np.zeros(len(grid), int)).profile(0)
    assert prof[5] > 0.5


def test_a_slot_missing_from_a_group_takes_the_pooled_value():
    # Group 1's days never report at 01:15; group 0's do: group 1 borrows the pooled profile's value there.
    grid = grid_with_partial_last_day(100 * day_shape(10), cover=1.0)
    groups = np.array([0, 1] * (len(grid) // 2) + [0] * (len(grid) % 2))
    grid[groups == 1, 5] = np.nan
    shape = IntradayShape(smooth=1).fit(grid, groups)
    truth = day_shape(10) / day_shape(10).mean()
    assert abs(shape.profile(1)[5] / truth[5] - 1) < 0.05


def test_slots_a_partial_day_fills_to_three_keep_a_small_groups_own_shape():
    # Group a's mornings really differ (a bump at 02:30-06:15) on its 2 whole days and its partial day: where three
    # days agree, a per-slot median can tell shape from spike, so the departure is not clipped there.
    rng = np.random.default_rng(4)
    base = 100 * day_shape(10)
    bumped = base.copy()
    bumped[10:25] *= 1.5
    others = base * np.exp(rng.normal(0, 0.02, (10, S)))
    a = bumped * np.exp(rng.normal(0, 0.02, (2, S)))
    partial = bumped * np.exp(rng.normal(0, 0.02, S))
    partial[60:] = np.nan
    grid = np.vstack([others, a, partial[None, :]])
    groups = np.array(["b"] * 10 + ["a", "a", "a"])
    shape = IntradayShape(smooth=1).fit(grid, groups, day_types={"a", "b"})
    lift = shape.profile("a")[10:25] / shape.profile("b")[10:25]
    assert lift.mean() > 1.35
