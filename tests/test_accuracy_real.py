"""Rolling-origin accuracy on the real series in shared/data (sources: each folder's SOURCE.md; loaders in
cloudtune.realdata cite them). Asserts properties, not copied numbers: the default model's MASE relative to
seasonal naive's MASE on the same windows is < 1 on every dataset and >= 15% better on average; P90 coverage is
in [0.85, 0.95] and P99 coverage >= 0.97. The report with the figures is
tests/benchmarks/recovery_accuracy.py -> tests/benchmarks/results/accuracy.md. Skipped when the data folder is absent."""
import pandas as pd
import pytest

from cloudtune import realdata
from cloudtune.backtest import backtest, summarize

pytestmark = pytest.mark.slow
if not realdata.data_root().is_dir():
    pytest.skip("real data folder not found (set CLOUDTUNE_DATA)", allow_module_level=True)

# Per dataset: horizon, number of origins, spacing and minimum training history (see the module doc).
PLANS = {
    "twitter": dict(horizon="1d", n_origins=3, every="1d", min_train="6d"),
    "nab": dict(horizon="1d", n_origins=3, every="1d"),
    "pedestrian": dict(horizon="7d", n_origins=6, every="28d", min_train="28d"),
    "bike": dict(horizon="7d", n_origins=8, every="28d", min_train="28d"),
    "electricity": dict(horizon="1d", n_origins=28, every="1d", min_train="28d"),
}


@pytest.fixture(scope="module")
def results():
    out = {}
    for name, plan in PLANS.items():
        out[name] = summarize(backtest(realdata.DATASETS[name](), **plan))
    return out


@pytest.mark.parametrize("name", list(PLANS))
def test_beats_seasonal_naive(results, name):
    s = results[name]
    assert s["mase"] / s["naive_mase"] < 1.0, s


def test_average_improvement_at_least_15_percent(results):
    rel = pd.Series({k: v["mase"] / v["naive_mase"] for k, v in results.items()})
    assert 1 - rel.mean() >= 0.15, rel.to_dict()


@pytest.mark.parametrize("name", list(PLANS))
def test_p90_coverage_within_the_bar(results, name):
    assert 0.85 <= results[name]["cov90"] <= 0.95, results[name]


# NAB's P99 used to miss the bar: two of its series (ec2_cpu_utilization_ac20cd, rds_cpu_utilization_cc0c53)
# jump to about three times their level inside the test windows. ac20cd's history holds a day at a tenth of its level
# before any calibration origin; the quantiles now add such level jumps seen in the history (but not in the
# calibration windows) as a mixture (cloudtune.models.quantiles.level_jumps), which covers it. cc0c53's history is
# flat, and nothing honest covers its jump.
P99_BAR = {name: 0.97 for name in PLANS}


@pytest.mark.parametrize("name", list(PLANS))
def test_p99_coverage(results, name):
    assert results[name]["cov99"] >= P99_BAR[name], results[name]
