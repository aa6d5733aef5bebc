"""Manual exclude and keep windows from config: matching, team ownership, precedence, validation."""
import textwrap

import numpy as np
import pandas as pd
import pytest

from cloudtune.config import from_dict
from cloudtune.errors import ConfigError
from cloudtune.outliers import OutlierSettings, detect_outliers, mask_from_flags
from outlier_synth import make_series

START = pd.Timestamp("2025-11-01", tz="UTC")


def _actuals(services=("checkout", "search"), spike_at=None):
    rng = np.random.default_rng(0)
    ts = pd.date_range(START, periods=10 * 1440, freq="1min")
    frames = []
    for s in services:
        value = rng.poisson(make_series(rng, ts, 300.0)).astype(float)
        if spike_at is not None:
            i = ts.get_loc(spike_at)
            value[i:i + 5] *= 6
        frames.append(pd.DataFrame(dict(service=s, region="us", metric="orders", ts=ts, value=value)))
    return pd.concat(frames, ignore_index=True)


def _settings(data: dict) -> OutlierSettings:
    return from_dict(OutlierSettings, data, source="test.yaml", where="outliers")


def test_exclusion_is_snapped_to_points_and_half_open():
    settings = _settings({"enabled": False, "exclude": [
        {"service": "check*", "start": "2025-11-03T10:00Z", "end": "2025-11-03T12:00Z", "note": "load test"}]})
    actuals = _actuals()
    flags = detect_outliers(actuals, config=settings)
    row = flags.iloc[0]
    assert len(flags) == 1 and row["service"] == "checkout"
    assert (row["reason"], row["method"], row["note"]) == ("manual_exclude", "manual", "load test")
    assert row["start"] == pd.Timestamp("2025-11-03T10:00Z") and row["end"] == pd.Timestamp("2025-11-03T11:59Z")
    assert np.isnan(row["score"])
    assert mask_from_flags(actuals, flags).sum() == 120


def test_team_windows_only_reach_the_teams_services():
    settings = _settings({"enabled": False, "teams": {"checkout-team": {
        "services": ["checkout"],
        "exclude": [{"start": "2025-11-04", "end": "2025-11-05"}]}}})
    flags = detect_outliers(_actuals(), config=settings)
    assert list(flags["service"]) == ["checkout"]
    assert list(flags["team"]) == ["checkout-team"]


def test_window_outside_the_history_flags_nothing():
    settings = _settings({"enabled": False, "exclude": [{"start": "2024-01-01", "end": "2024-01-02"}]})
    assert detect_outliers(_actuals(), config=settings).empty


def test_keep_vetoes_automatic_flags_only_where_it_matches():
    spike = pd.Timestamp("2025-11-06T15:00Z")
    actuals = _actuals(spike_at=spike)
    auto = detect_outliers(actuals)
    hit = lambda f, s: ((f["service"] == s) & (f["start"] <= spike + pd.Timedelta("4min")) & (f["end"] >= spike)).any()
    assert hit(auto, "checkout") and hit(auto, "search")
    keep = _settings({"keep": [{"service": "checkout", "start": "2025-11-06T14:00Z", "end": "2025-11-06T16:00Z"}]})
    kept = detect_outliers(actuals, config=keep)
    assert not hit(kept, "checkout")
    assert hit(kept, "search")


def test_exclusion_wins_over_keep_and_replaces_automatic_flags():
    spike = pd.Timestamp("2025-11-06T15:00Z")
    window = {"start": "2025-11-06T14:00Z", "end": "2025-11-06T16:00Z"}
    flags = detect_outliers(_actuals(services=("checkout",), spike_at=spike),
                            config=_settings({"exclude": [window], "keep": [window]}))
    inside = flags[(flags["start"] < pd.Timestamp(window["end"])) & (flags["end"] >= pd.Timestamp(window["start"]))]
    assert list(inside["reason"]) == ["manual_exclude"]


def test_config_from_pipeline_yaml_path(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(textwrap.dedent("""
        outliers:
          enabled: false
          teams:
            search-team:
              services: ["search*"]
              exclude:
                - {start: "2025-11-02T00:00Z", end: "2025-11-02T01:00Z", note: reindex}
    """))
    flags = detect_outliers(_actuals(), config=path)
    assert list(flags["note"]) == ["reindex"] and list(flags["service"]) == ["search"]


@pytest.mark.parametrize("data, message", [
    ({"exclude": [{"start": "2025-11-02", "end": "2025-11-01"}]}, "start must be before end"),
    ({"exclude": [{"start": "yesterday-ish", "end": "2025-11-01"}]}, "not a timestamp"),
    ({"exclude": [{"start": "2025-11-01", "end": "2025-11-02", "servce": "x"}]}, "unknown key 'outliers.exclude\\[0\\].servce'. Did you mean 'service'"),
    ({"teams": {"t": {"exclude": []}}}, "at least one service pattern"),
    ({"detect": {"window_z": -1}}, "detect.window_z must be > 0"),
    ({"detect": {"windows": ["30"]}}, "give a unit"),
])
def test_bad_config_is_rejected_with_a_message_naming_it(data, message):
    with pytest.raises(ConfigError, match=message):
        _settings(data)


def test_bad_config_argument_type():
    with pytest.raises(ConfigError, match="config must be None, an OutlierSettings"):
        detect_outliers(_actuals(services=("a",)), config=42)
