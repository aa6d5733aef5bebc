"""The daily level's robust regression and the fast median are the statsmodels / numpy estimators, in less time."""
import numpy as np
import pytest
import statsmodels.api as sm

from cloudtune.models.level import huber_rlm
from cloudtune.models.shape import nanmedian


def test_huber_rlm_matches_statsmodels():
    rng = np.random.default_rng(1)
    n = 120
    X = np.column_stack([np.ones(n), np.arange(n) / 10, rng.normal(size=(n, 3))])
    y = X @ [1, 0.2, 0.5, -0.3, 0.1] + rng.standard_t(3, n) * 0.1
    y[::17] += 2  # outlier days
    params, scale = huber_rlm(X, y)
    ref = sm.RLM(y, X, M=sm.robust.norms.HuberT()).fit(maxiter=15, tol=1e-5)
    np.testing.assert_allclose(params, ref.params, atol=1e-7)
    assert abs(scale - ref.scale) < 1e-6


@pytest.mark.filterwarnings("ignore:All-NaN slice")
@pytest.mark.parametrize("shape", [(9, 40), (3, 1440), (16, 1440), (28, 1440), (1, 1440), (40, 3000), (100, 24),
                                   (3000, 40)])
def test_nanmedian_matches_numpy_with_gaps(shape):
    """Both ways (bottleneck's selection for few values or few medians, a sort for many of each) give numpy's
    medians, NaN for a column without values."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=shape)
    a[rng.random(a.shape) < 0.2] = np.nan
    a[:, 0] = np.nan
    for axis in (0, 1):
        np.testing.assert_array_equal(nanmedian(a, axis), np.nanmedian(a, axis=axis))
    np.testing.assert_array_equal(nanmedian(a.copy(), 0, overwrite_input=True), np.nanmedian(a, axis=0))
