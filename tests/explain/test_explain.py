"""Change explanations: the parts add up to the total change, and each part moves when its cause does."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.events import events_for_region, load_calendar
from cloudtune.explain import PARTS, PUBLISHED, SeriesInput, explain_change, lmdi
from cloudtune.models.settings import ModelSettings
from cloudtune.simulate import simulate_fleet

ANCHOR = pd.Timestamp("2025-11-24T00:00Z")
PREVIOUS = pd.Timestamp("2025-11-17T00:00Z")


def test_lmdi_allocates_exactly_and_to_the_component_that_moved():
    rng = np.random.default_rng(3)
    a = {"trend": rng.uniform(50, 60, 100), "daily": rng.uniform(0.5, 1.5, 100), "event:x": rng.uniform(1, 2, 100)}
    b = {"trend": rng.uniform(40, 50, 100), "daily": rng.uniform(0.5, 1.5, 100)}
    got = lmdi(a, b)
    total = np.sum(a["trend"] * a["daily"] * a["event:x"]) - np.sum(b["trend"] * b["daily"])
    assert sum(got.values()) == pytest.approx(total, rel=1e-12)
    only = lmdi({"trend": np.full(4, 110.0), "daily": np.full(4, 2.0)}, {"trend": np.full(4, 100.0), "daily": np.full(4, 2.0)})
    assert only["trend"] == pytest.approx(4 * 20.0) and only["daily"] == 0.0
    zero = lmdi({"trend": np.array([0.0, 2.0])}, {"trend": np.array([1.0, 1.0])})
    assert zero["unallocated"] == -1.0 and zero["trend"] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def fleet(repo):
    """Two hourly series over six weeks; a robot spike in the last week that run A excludes and run B never saw."""
    cal = load_calendar(repo / "conf" / "events")
    fl = simulate_fleet(services=["checkout", "search"], regions=["us"], metrics=["requests"], days=42,
                        end="2025-11-24", seed=4, events=cal, grain="1h", outliers=False, missing=False)
    act = fl.actuals.copy()
    spike = (act.ts >= "2025-11-20T10:00Z") & (act.ts < "2025-11-20T16:00Z") & (act.service == "checkout")
    act.loc[spike, "value"] *= 6
    return act, events_for_region(cal, "us")


def _inputs(act, flagged=True):
    flags_a = pd.DataFrame({"start": [pd.Timestamp("2025-11-20T10:00Z")], "end": [pd.Timestamp("2025-11-20T15:00Z")],
                            "reason": ["spike_up"]})
    out = []
    for key, rows in act.groupby(["service", "region", "metric"]):
        h = rows[["ts", "value"]]
        out.append(SeriesInput(key, h[h.ts < ANCHOR], h[h.ts < PREVIOUS],
                               flags_a if flagged and key[0] == "checkout" else None, None))
    return out


@pytest.mark.parametrize("quantity", ["total_4w", "event_peak"])
def test_the_parts_add_up_to_the_total_change_for_a_region(fleet, quantity):
    act, events = fleet
    exp = explain_change(_inputs(act), ModelSettings(), events, ANCHOR, quantity, label="us")
    assert list(exp.parts) == list(PARTS)
    assert sum(exp.parts.values()) == pytest.approx(exp.total, rel=1e-9, abs=1e-6)
    assert exp.total != 0
    assert exp.series.change.sum() == pytest.approx(exp.total, rel=1e-9) if quantity == "total_4w" else True
    if quantity == "event_peak":
        assert exp.event == "black_friday" and exp.window[0] == pd.Timestamp("2025-11-28T05:00Z")
        # black_friday has no past occurrence in six weeks and no prior lift: its multiplier is 1 in both runs
        assert "event:black_friday" in set(exp.detail.component) and exp.parts["events"] == pytest.approx(0.0)
    assert exp.parts["outlier exclusions"] != 0  # the excluded spike no longer pulls the level
    detail = exp.detail.groupby("part").contribution.sum()
    for part in ("trend", "seasonality", "events", "new data"):
        assert exp.parts[part] == pytest.approx(detail.get(part, 0.0), rel=1e-12, abs=1e-9)
    assert "sum of parts" in exp.text()
    print(exp.text())


def test_same_exclusions_give_no_outlier_part_and_published_numbers_are_honoured(fleet):
    act, events = fleet
    one = [s for s in _inputs(act, flagged=False) if s.key[0] == "search"]
    exp = explain_change(one, ModelSettings(), events, ANCHOR, "total_4w")
    assert exp.parts["outlier exclusions"] == 0.0 and exp.label == "search/us/requests"
    published = (exp.value_a * 1.01, exp.value_b)
    pub = explain_change(one, ModelSettings(), events, ANCHOR, "total_4w", published=published)
    assert pub.total == pytest.approx(published[0] - published[1])
    assert sum(pub.parts.values()) == pytest.approx(pub.total, rel=1e-9)
    assert pub.parts[PUBLISHED] == pytest.approx(0.01 * exp.value_a, rel=1e-6) and "reconciliation" not in pub.parts
    base = (exp.value_a * 1.004, exp.value_b)  # the models' own means; reconciliation moved A by a further 0.6%
    rec = explain_change(one, ModelSettings(), events, ANCHOR, "total_4w", published=published, base=base)
    assert rec.parts["reconciliation"] == pytest.approx(0.006 * exp.value_a, rel=1e-6)
    assert rec.parts[PUBLISHED] == pytest.approx(0.004 * exp.value_a, rel=1e-6)
    assert sum(rec.parts.values()) == pytest.approx(rec.total, rel=1e-9)


def test_bad_requests_say_what_to_do(fleet):
    act, events = fleet
    with pytest.raises(InputError, match="quantity must be one of total_4w, event_peak"):
        explain_change(_inputs(act), ModelSettings(), events, ANCHOR, "peak")
    with pytest.raises(InputError, match="unknown event 'xmas'; known events: .*black_friday"):
        explain_change(_inputs(act), ModelSettings(), events, ANCHOR, "event_peak", event="xmas")
