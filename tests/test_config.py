"""Strict config: typos are rejected with the file, the key and the allowed keys."""
import pytest

from cloudtune.config import load_config
from cloudtune.errors import ConfigError
from cloudtune.events import load_calendar


def test_bundled_config_loads_with_defaults(repo):
    config = load_config(repo / "conf" / "pipeline.yaml")
    assert config.database == "cloudtune" and config.ingest.grain == "1min"
    assert len(config.config_hash()) == 16


def test_a_misspelled_key_names_file_key_and_allowed_keys(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("spark:\n  mastr: local[2]\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert str(path) in text and "'spark.mastr'" in text and "Did you mean 'master'" in text
    assert "app_name, conf, master" in text


@pytest.mark.parametrize("body, fragment", [
    ("ingest:\n  grain: 7min\n", "grain must be one of"),
    ("forecast:\n  components_grain: 2h\n", "components_grain must be one of 1min, 5min"),
    ("simulate:\n  days: many\n", "'simulate.days' must be a whole number"),
    ("spark: [1, 2]\n", "spark must be a mapping"),
])
def test_wrong_values_are_rejected_with_their_place(tmp_path, body, fragment):
    path = tmp_path / "p.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=fragment):
        load_config(path)


def test_event_calendars_hold_moving_dates_and_changing_durations(repo):
    events = load_calendar(repo / "conf" / "events")
    assert {"us", "in", "uk"} <= set(events.region)
    prime = events[(events.name == "prime_day") & (events.region == "us")]
    hours = set((prime.end - prime.start).dt.total_seconds() / 3600)
    assert {24.0, 48.0} <= hours
    assert prime.start.dt.strftime("%m-%d").nunique() >= 5  # the date moves from year to year
    names_by_region = events.groupby("region")["name"].apply(set)
    assert {"black_friday", "cyber_monday", "mothers_day"} <= names_by_region["us"]
    assert "diwali" in names_by_region["in"] and "diwali" not in names_by_region["us"]
    launch = events[events.name == "console_launch"].iloc[0]
    assert launch.end - launch.start == __import__("pandas").Timedelta("90min") and launch.prior_lift == 3.0


def test_an_event_typo_is_rejected(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("region: us\nevents:\n  - name: a\n    occurences: []\n")
    with pytest.raises(ConfigError, match="unknown key 'events\\[0\\].occurences'.*Did you mean 'occurrences'"):
        load_calendar(path)


def test_a_config_kept_elsewhere_still_finds_the_event_calendars(tmp_path, repo, monkeypatch):
    path = tmp_path / "mine.yaml"
    path.write_text("forecast:\n  horizon: 7d\n")
    monkeypatch.chdir(repo)
    config = load_config(path)
    assert config.resolve(config.events_dir) == repo / "conf" / "events"


def test_no_default_config_says_to_pass_one(tmp_path, monkeypatch):
    # An installed wheel has no conf/ beside the package: the default path is then missing.
    import cloudtune.config.pipeline as pipeline

    monkeypatch.setattr(pipeline, "DEFAULT_CONFIG", tmp_path / "conf" / "pipeline.yaml")
    with pytest.raises(ConfigError, match="pass --config PATH"):
        load_config()
