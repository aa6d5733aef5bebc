"""Reconciliation against numbers worked out by hand on 2 regions x 2 services (eu: a, b; us: a, b).

Nodes in hierarchy order: G (global), eu, us, a/eu, b/eu, a/us, b/us. Base means y = 100, 40, 50, 15, 20, 25, 30:
the bottom sums to 90, not 100, and eu's series sum to 35, not 40.

    S = [[1, 1, 1, 1],   G
         [1, 1, 0, 0],   eu
         [0, 0, 1, 1],   us
         I_4         ]   the series

A reconciled bottom x solves (S'W^-1 S) x = S'W^-1 y. By symmetry x2 - x1 = x4 - x3 = 5 (b exceeds a by 5 in both
regions in every equation), and A = x1 + x2, B = x3 + x4 solve a 2 x 2 system; each test writes it out.
"""
import numpy as np
import pandas as pd
import pytest

from cloudtune.reconcile import (ReconcileSettings, build_hierarchies, projection_matrix, reconcile,
                                 shrink_covariance)
from cloudtune.reconcile.methods import METHODS

Y = np.array([100, 40, 50, 15, 20, 25, 30.0])
S_BY_HAND = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0],
                      [0, 0, 0, 1]], dtype=float)
NODES = [("*", "*", "global"), ("*", "eu", "region"), ("*", "us", "region"), ("a", "eu", "series"),
         ("b", "eu", "series"), ("a", "us", "series"), ("b", "us", "series")]


def small_base(means=Y):
    rows = [dict(service=s, region=r, metric="requests", level=lv, ts=pd.Timestamp("2025-12-08", tz="UTC"),
                 mean=v, p50=v, p90=v + 2, p99=v + 4) for (s, r, lv), v in zip(NODES, means)]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def S():
    return build_hierarchies(small_base(), ["global", "region", "series"])[("requests",)].S


def test_summing_matrix_matches_the_one_written_by_hand(S):
    np.testing.assert_array_equal(S, S_BY_HAND)


def test_bottom_up_sums_the_series(S):
    np.testing.assert_allclose(S @ projection_matrix(S, "bottom_up") @ Y, [90, 35, 55, 15, 20, 25, 30])


def test_ols_by_hand(S):
    # W = I. S'S: 3 on the diagonal (G, region, self), 2 for the same region, 1 across regions.
    # S'y = (100+40+15, 100+40+20, 100+50+25, 100+50+30) = (155, 160, 175, 180).
    # Adding rows: 5A + 2B = 315 and 2A + 5B = 355, so A = 865/21 and B = 1145/21; x1 = (A - 5)/2 = 380/21.
    A, B = 865 / 21, 1145 / 21
    expected_bottom = [(A - 5) / 2, (A + 5) / 2, (B - 5) / 2, (B + 5) / 2]
    got = S @ projection_matrix(S, "ols") @ Y
    np.testing.assert_allclose(got, [A + B, A, B, *expected_bottom], rtol=1e-12)
    assert got[0] == pytest.approx(95.714285714, rel=1e-9)


def test_wls_struct_by_hand(S):
    # W = diag(4, 2, 2, 1, 1, 1, 1), the number of series under each node.
    # S'W^-1 S: 1/4 + 1/2 + 1 = 1.75 on the diagonal, 0.75 in the same region, 0.25 across.
    # S'W^-1 y = (25+20+15, 25+20+20, 25+25+25, 25+25+30) = (60, 65, 75, 80).
    # 2.5A + 0.5B = 125 and 0.5A + 2.5B = 155: A = 235/6, B = 325/6.
    A, B = 235 / 6, 325 / 6
    got = S @ projection_matrix(S, "wls_struct") @ Y
    np.testing.assert_allclose(got, [A + B, A, B, (A - 5) / 2, (A + 5) / 2, (B - 5) / 2, (B + 5) / 2], rtol=1e-12)


def test_top_down_by_hand():
    # Historical means a/eu 10, b/eu 30, a/us 20, b/us 40: shares 0.1, 0.3, 0.2, 0.4 of G's 100.
    history = pd.DataFrame(dict(service=["a", "b", "a", "b"], region=["eu", "eu", "us", "us"], metric="requests",
                                ts=pd.Timestamp("2025-12-01", tz="UTC"), value=[10.0, 30, 20, 40]))
    out, info = reconcile(small_base(), ReconcileSettings(method="top_down"), history=history)
    np.testing.assert_allclose(out["mean"], [100, 40, 60, 10, 30, 20, 40])
    assert info["requests"]["method"] == "top_down"


def test_mint_matches_the_closed_form_with_the_constraint_matrix(S):
    # Wickramasuriya et al. (2019), eq. (9): P = J - J W U (U'W U)^-1 U', U' = [I_3 | -C], J = [0 | I_4].
    # A different formula from the one the code uses ((S'W^-1 S)^-1 S'W^-1), so agreement is a real check.
    rng = np.random.default_rng(3)
    bottom_err = rng.normal(0, 1, (60, 4)) + rng.normal(0, 1, (60, 1))
    err = bottom_err @ S.T + rng.normal(0, 0.5, (60, 7)) * [1, 1, 1, 0, 0, 0, 0]
    W = shrink_covariance(err).cov
    U_t = np.hstack([np.eye(3), -S[:3]])
    J = np.hstack([np.zeros((4, 3)), np.eye(4)])
    closed = J - J @ W @ U_t.T @ np.linalg.solve(U_t @ W @ U_t.T, U_t)
    np.testing.assert_allclose(projection_matrix(S, "mint_shrink", W=W), closed, atol=1e-10)


def test_shrinkage_by_hand():
    # E has T = 4 rows: W1 = E'E/4 = [[1.5, 1], [1, 1.5]], so r = 2/3.
    # Scaled products w_t = e1 e2 / 1.5 = 4/3, 0, 4/3, 0: sum 8/3, sum of squares 32/9;
    # Var(r) = (32/9 - (8/3)^2 / 4) / (4 * 3) = 4/27 for each of the two off-diagonal cells.
    # lambda = (2 * 4/27) / (2 * (2/3)^2) = 1/3; shrunk off-diagonal = (1 - 1/3) * 1 = 2/3.
    E = np.array([[1, 2], [-1, 0], [2, 1], [0, -1.0]])
    shrunk = shrink_covariance(E)
    assert shrunk.lambda_ == pytest.approx(1 / 3, rel=1e-12)
    np.testing.assert_allclose(shrunk.cov, [[1.5, 2 / 3], [2 / 3, 1.5]], rtol=1e-12)


@pytest.mark.parametrize("gaps", [False, True])
def test_shrinkage_matches_the_schafer_strimmer_sums_written_as_loops(gaps):
    # With gaps every sum runs over the timestamps both columns have; each mean square over the column's own, and
    # correlations are divided by sqrt(T_i T_j) instead of T (see cloudtune.reconcile.methods).
    rng = np.random.default_rng(5)
    E = rng.normal(0, 1, (12, 3)) @ np.array([[1, 0.5, 0.2], [0, 1, 0.4], [0, 0, 1]])
    if gaps:
        E[[1, 4], 0], E[7, 1], E[[2, 9, 10], 2] = np.nan, np.nan, np.nan
    T, n = E.shape
    has = ~np.isnan(E)
    own = has.sum(axis=0)
    sd = [np.sqrt(sum(E[t, i] ** 2 for t in range(T) if has[t, i]) / own[i]) for i in range(n)]
    num = den = 0.0
    W1 = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            both = [t for t in range(T) if has[t, i] and has[t, j]]
            norm = np.sqrt(own[i] * own[j])
            W1[i, j] = sum(E[t, i] * E[t, j] for t in both) / norm
            if i == j:
                continue
            w = [E[t, i] / sd[i] * E[t, j] / sd[j] for t in both]
            w_bar = sum(w) / len(both)
            overlap = len(both) / norm
            num += sum((wt - w_bar) ** 2 for wt in w) / (len(both) * (len(both) - 1)) * overlap ** 2
            den += (sum(w) / norm) ** 2
    lam = min(max(num / den, 0.0), 1.0)
    shrunk = shrink_covariance(E)
    assert shrunk.lambda_ == pytest.approx(lam, rel=1e-12)
    assert shrunk.rows == (7 if gaps else 12)  # columns 0 and 2 share 12 - 2 - 3 timestamps (their gaps differ)
    np.testing.assert_allclose(shrunk.cov, lam * np.diag(np.diag(W1)) + (1 - lam) * W1, rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_on_the_small_hierarchy_is_coherent(S, method):
    history = pd.DataFrame(dict(service=["a", "b", "a", "b"], region=["eu", "eu", "us", "us"], metric="requests",
                                ts=pd.Timestamp("2025-12-01", tz="UTC"), value=[10.0, 30, 20, 40]))
    out, _ = reconcile(small_base(), ReconcileSettings(method=method), history=history)
    m = out["mean"].to_numpy()
    assert m[0] == pytest.approx(m[1] + m[2], rel=1e-9)
    assert m[1] == pytest.approx(m[3] + m[4], rel=1e-9) and m[2] == pytest.approx(m[5] + m[6], rel=1e-9)
    np.testing.assert_array_equal(out["base_mean"], Y)
