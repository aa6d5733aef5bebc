"""`cloudtune backtest` flags become BacktestSettings (no Spark: settings are checked before a session starts)."""
import pytest

from cloudtune.cli import _parser, main
from cloudtune.commands.backtest import backtest_settings
from cloudtune.config import PipelineConfig


def settings_from(*flags):
    args = _parser().parse_args(["backtest", *flags])
    return backtest_settings(args, PipelineConfig())


def test_flags_override_the_defaults():
    s = settings_from("--cutoffs", "5", "--horizon", "7d", "--buckets", "1d,3d", "--models", "ets, seasonal_naive",
                      "--levels", "series", "--min-improvement", "5")
    assert (s.cutoffs, s.horizon, s.horizon_buckets, s.models, s.levels, s.min_improvement_pct) == (
        5, "7d", ["1d", "3d"], ["ets", "seasonal_naive"], ["series"], 5.0)
    assert s.step == "1d" and s.champion_metric == "mase"  # untouched defaults


def test_repeated_cutoff_dates_are_kept_in_order():
    assert settings_from("--cutoff-date", "2025-12-01", "--cutoff-date", "2025-12-03").cutoff_dates == [
        "2025-12-01", "2025-12-03"]


def test_a_bad_flag_fails_before_spark_with_the_allowed_values(capsys):
    assert main(["backtest", "--models", "cloudtune,prophet"]) == 2
    err = capsys.readouterr().err
    assert "models must be a non-empty list of cloudtune, seasonal_naive, ets, naive" in err and "prophet" in err
    assert main(["backtest", "--run-date", "08/12/2025"]) == 2
    assert "--run-date must be YYYY-MM-DD, got '08/12/2025'" in capsys.readouterr().err


def test_champion_metric_must_be_lower_is_better():
    with pytest.raises(Exception, match="champion_metric must be one of"):
        settings_from("--champion-metric", "coverage_p99")
