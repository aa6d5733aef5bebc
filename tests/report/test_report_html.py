"""The report page: self-contained, its accuracy numbers are the accuracy table's, every section degrades."""
import numpy as np
import pandas as pd
import pytest

from cloudtune.explain.change import Explanation
from cloudtune.report import PlotData, ReportData, render_report
from html_parse import parse

RUN = dict(run_id="forecast-20251208-abc", run_date="2025-12-08", status="succeeded", series=4)


def _accuracy():
    rng = np.random.default_rng(1)
    rows = []
    for svc in ("checkout", "search", "cart"):
        for model in ("cloudtune", "seasonal_naive"):
            for horizon in ("1d", "7d"):
                rows.append(dict(service=svc, region="us", metric="requests", model=model, horizon=horizon,
                                 origin=pd.Timestamp("2025-12-01", tz="UTC"), mase=rng.uniform(0.3, 1.4),
                                 smape=rng.uniform(0.01, 0.3), coverage_p90=rng.uniform(0.7, 1.0),
                                 coverage_p99=rng.uniform(0.9, 1.0), points=int(rng.integers(100, 2000)),
                                 run_id=RUN["run_id"], run_date=pd.Timestamp("2025-12-08").date()))
    return pd.DataFrame(rows)


def _plot():
    ts = pd.date_range("2025-12-01", periods=14 * 24, freq="1h", tz="UTC")
    y = 100 + 30 * np.sin(np.arange(len(ts)) / 24 * 2 * np.pi)
    act = pd.DataFrame({"ts": ts[:7 * 24], "value": y[:7 * 24]})
    fc = pd.DataFrame({"ts": ts[7 * 24:], "mean": y[7 * 24:], "p90": y[7 * 24:] * 1.1, "p99": y[7 * 24:] * 1.3})
    comps = pd.concat([pd.DataFrame({"ts": ts[7 * 24:], "component": c, "value": v})
                       for c, v in (("trend", np.linspace(100, 104, 7 * 24)), ("daily", y[7 * 24:] / 100),
                                    ("event:black_friday", 1.0))])
    return PlotData("checkout/us/requests", act, fc, comps)


def _explanation():
    parts = {"trend": 5.0, "seasonality": -2.0, "events": 1.0, "regressors": 0.0, "outlier exclusions": 0.5,
             "new data": 0.5}
    return Explanation("checkout/us/requests", "total_4w", (pd.Timestamp("2025-12-08", tz="UTC"),
                       pd.Timestamp("2026-01-05", tz="UTC")), 105.0, 100.0, parts, pd.DataFrame(), pd.DataFrame(),
                       [], "A", "B")


def test_accuracy_numbers_in_the_report_match_the_table():
    acc = _accuracy()
    html = render_report(ReportData(run=RUN, accuracy=acc, plots=[_plot()]))
    doc = parse(html)
    got = doc.records("accuracy-summary")
    want = acc.groupby(["model", "horizon"])[["mase", "smape", "coverage_p90", "coverage_p99", "points"]].mean()
    assert len(got) == len(want) == 4
    for row in got:
        expected = want.loc[(row["model"]["text"], row["horizon"]["text"])]
        for metric in ("mase", "smape", "coverage_p90", "coverage_p99", "points"):
            assert float(row[metric]["value"]) == pytest.approx(expected[metric], rel=1e-12)
            assert float(row[metric]["text"].replace(",", "")) == pytest.approx(expected[metric], rel=5e-4)
        assert int(row["rows"]["text"]) == 3
    rows = doc.records("accuracy-rows")
    assert len(rows) == len(acc)
    assert sorted(float(r["mase"]["value"]) for r in rows) == pytest.approx(sorted(acc.mase))


def test_the_page_is_self_contained_with_its_plots():
    html = render_report(ReportData(run=RUN, accuracy=_accuracy(), plots=[_plot()], levels=["series"],
                                    explanations=[_explanation()], previous_run=dict(run_id="B", run_date="2025-12-01")))
    doc = parse(html)
    assert doc.tags.get("script", 0) == 0
    for tag, attrs in doc.attrs_seen:
        for name in ("src", "href"):
            assert not str(attrs.get(name, "")).startswith(("http", "//")), (tag, attrs)
    # forecast chart + 2 component charts + 4 accuracy histograms + 1 waterfall
    assert doc.tags["svg"] == 8 and doc.tags["polygon"] == 2 and doc.tags["polyline"] >= 4
    assert "series only: there are no region or global forecasts" in html.replace("level series only", "series only")
    assert "Constant over these days (not drawn): event:black_friday = 1." in html
    change = doc.records("change-0")
    assert float(change[-1]["change"]["value"]) == pytest.approx(5.0)
    assert sum(float(r["change"]["value"]) for r in change[:-1]) == pytest.approx(5.0)


def test_empty_sections_say_why():
    html = render_report(ReportData(run=RUN))
    for text in ("accuracy table has no rows", "No outliers were excluded", "No event peaks",
                 "No earlier succeeded run", "No series or region chosen"):
        assert text in html
    assert parse(html).tags.get("svg", 0) == 0
