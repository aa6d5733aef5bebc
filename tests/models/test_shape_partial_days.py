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


def test_partial_day_at_another_level_leaves_the_shape_alone():
    # Same shape, three times the level, the morning only: scaled by its own (morning) mean it would bend the
    # profile; scaled by the shape's expectation over its slots it agrees with the full days.
    grid = grid_with_partial_last_day(300 * day_shape(10), cover=0.5)
    with_partial = fit(grid).profile(0)
    full_only = fit(grid, min_partial=1.0).profile(0)
    assert np.abs(with_partial / full_only - 1).max() < 0.02


def test_partial_day_counts_where_it_has_data_as_the_whole_day_would():
    # The last day's peak moved an hour (within the days' noise, so the per-slot clipping lets it count).
    rng = np.random.default_rng(1)
    last = 100 * day_shape(9) * np.exp(rng.normal(0, 0.02, S))
    whole = grid_with_partial_last_day(last, cover=1.0)
    half = grid_with_partial_last_day(last, cover=0.5)
    target = fit(whole).profile(0)[: S // 2]
    ignored = np.abs(fit(half, min_partial=1.0).profile(0)[: S // 2] - target).mean()
    used = np.abs(fit(half).profile(0)[: S // 2] - target).mean()
    assert used < 0.7 * ignored


@pytest.mark.parametrize("cover", [0.1, 0.2])
def test_a_few_hours_are_not_a_day(cover):
    grid = grid_with_partial_last_day(100 * day_shape(4), cover=cover)
    np.testing.assert_array_equal(fit(grid).profile(0), fit(grid, min_partial=1.0).profile(0))
