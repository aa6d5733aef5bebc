"""Parent spreads from children's spreads, worked by hand."""
import numpy as np
import pytest

from cloudtune.reconcile.quantiles import ordered_non_negative, parent_spreads, quantile_columns

ONE_PARENT = np.array([[1.0, 1.0]])


def test_parent_spread_is_sqrt_d_r_d_between_independent_and_comonotone():
    d = np.array([[3.0, 4.0]])
    half = np.array([[1.0, 0.5], [0.5, 1.0]])
    # d'Rd = 9 + 16 + 2 * 0.5 * 12 = 37
    assert parent_spreads(d, ONE_PARENT, half)[0, 0] == pytest.approx(np.sqrt(37), rel=1e-12)
    assert parent_spreads(d, ONE_PARENT, np.eye(2))[0, 0] == pytest.approx(5.0, rel=1e-12)  # independent
    assert parent_spreads(d, ONE_PARENT, None)[0, 0] == pytest.approx(7.0, rel=1e-12)  # comonotone


def test_negative_spreads_keep_their_sign():
    d = np.array([[-3.0, -4.0]])  # both medians below their means
    assert parent_spreads(d, ONE_PARENT, np.eye(2))[0, 0] == pytest.approx(-5.0, rel=1e-12)


def test_mixed_sign_spreads_diversify_the_signed_sum():
    d = np.array([[3.0, -1.0]])
    # signed sum 2, diversification sqrt(3^2 + 1^2) / (3 + 1) under independence
    assert parent_spreads(d, ONE_PARENT, np.eye(2))[0, 0] == pytest.approx(2 * np.sqrt(10) / 4, rel=1e-12)


def test_each_parent_uses_only_its_own_series_and_zero_spreads_stay_zero():
    S_parents = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    d = np.array([[3.0, 4.0, 2.0], [0.0, 0.0, 0.0]])
    got = parent_spreads(d, S_parents, np.eye(3))
    np.testing.assert_allclose(got, [[5.0, 2.0], [0.0, 0.0]])


def test_quantile_columns_sorted_by_level():
    assert quantile_columns(["mean", "p99", "p50", "p999", "p05", "p90", "peak"]) == \
        ["p05", "p50", "p90", "p99", "p999"]


def test_ordered_non_negative_is_a_running_maximum_after_clipping():
    q = np.array([[-1.0, 5.0, 3.0], [2.0, 1.0, 4.0]])
    np.testing.assert_array_equal(ordered_non_negative(q), [[0.0, 5.0, 5.0], [2.0, 2.0, 4.0]])
