"""Ingest end to end on real Spark and Delta: quarantine by reason, counts that add up, idempotent reruns."""
import json

import pandas as pd
import pytest

from cloudtune.errors import InputError
from cloudtune.spark.ingest import ingest_file
from cloudtune.spark.tables import create_tables

pytestmark = pytest.mark.spark

HEADER = "service,region,metric,ts,value"
GOOD = [f"checkout,us,requests,2025-01-01T00:{m:02d}:00Z,{10 + m}" for m in range(40)]
BAD = {  # one line per quarantine reason, each a realistic mistake
    "missing_key": ",us,requests,2025-01-01T01:00:00Z,5",
    "unparsable_timestamp": "checkout,us,requests,yesterday,5",
    "off_grain_timestamp": "checkout,us,requests,2025-01-01T01:01:30Z,5",
    "missing_value": "checkout,us,requests,2025-01-01T01:02:00Z,",
    "non_numeric_value": "checkout,us,requests,2025-01-01T01:03:00Z,lots",
    "nan_value": "checkout,us,requests,2025-01-01T01:04:00Z,NaN",
    "infinite_value": "checkout,us,requests,2025-01-01T01:05:00Z,inf",
    "negative_value": "checkout,us,requests,2025-01-01T01:06:00Z,-3",
    "malformed_row": "checkout,us,requests,2025-01-01T01:07:00Z,5,surplus",
}
CONFLICT = ["cart,us,requests,2025-01-01T00:00:00Z,1", "cart,us,requests,2025-01-01T00:00:00Z,2"]
IDENTICAL = ["cart,uk,requests,2025-01-01T00:00:00Z,4", "cart,uk,requests,2025-01-01T00:00:00Z,4"]


@pytest.fixture()
def db(spark, spark_config, request):
    import dataclasses
    import re

    name = "ingest_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[-40:].strip("_")
    config = dataclasses.replace(spark_config, database=name)
    spark.sql(f"DROP DATABASE IF EXISTS {config.database} CASCADE")
    create_tables(spark, config.database)
    return config


def write(path, lines):
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def test_bad_rows_are_quarantined_with_reason_line_and_text(spark, db, tmp_path):
    src = write(tmp_path / "a.csv", GOOD + list(BAD.values()) + CONFLICT + IDENTICAL)
    report = ingest_file(spark, db, src)
    assert report.adds_up()
    assert report.rows_read == 40 + len(BAD) + 4
    assert report.accepted == 41 and report.identical_duplicates == 1
    assert report.quarantined == len(BAD) + 2
    q = spark.table(f"{db.database}.quarantine").toPandas()
    by_reason = q.groupby("reason")["raw"].apply(list).to_dict()
    for reason, line in BAD.items():
        assert by_reason[reason] == [line], reason
    assert sorted(by_reason["conflicting_duplicate"]) == sorted(CONFLICT)
    # line numbers count the header as line 1
    row = q[q.reason == "negative_value"].iloc[0]
    assert row.line_number == 1 + 40 + list(BAD).index("negative_value") + 1
    assert row.source_file == str(src.resolve())
    assert "value must be >= 0" in row.detail
    actuals = spark.table(f"{db.database}.actuals").toPandas()
    assert len(actuals) == 41 and (actuals.value >= 0).all()


def test_reingest_changes_nothing_and_a_correction_updates_in_place(spark, db, tmp_path):
    src = write(tmp_path / "b.csv", GOOD[:10] + [BAD["nan_value"]])
    first = ingest_file(spark, db, src)
    again = ingest_file(spark, db, src)
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (10, 0, 0, 10)
    assert spark.table(f"{db.database}.actuals").count() == 10
    assert spark.table(f"{db.database}.quarantine").count() == 1
    fixed = write(tmp_path / "c.csv", [GOOD[0].replace(",10", ",99")])
    report = ingest_file(spark, db, fixed)
    assert (report.inserted, report.updated) == (0, 1)
    values = spark.table(f"{db.database}.actuals").where("ts = '2025-01-01 00:00:00'").toPandas()
    assert values.value.tolist() == [99.0] and spark.table(f"{db.database}.actuals").count() == 10
    runs = spark.table(f"{db.database}.ingest_runs").toPandas()
    assert len(runs) == 3 and (runs.rows_read == runs.accepted + runs.quarantined + runs.identical_duplicates).all()


def test_parquet_and_json_lines_are_validated_the_same_way(spark, db, tmp_path):
    frame = pd.DataFrame({
        "service": ["home", "home", ""], "region": ["in"] * 3, "metric": ["orders"] * 3,
        "ts": pd.to_datetime(["2025-03-01 00:00:00", "2025-03-01 00:01:30", "2025-03-01 00:02:00"], utc=True),
        "value": [1.0, 2.0, 3.0],
    })
    pq = tmp_path / "x.parquet"
    frame.to_parquet(pq)
    report = ingest_file(spark, db, pq)
    assert (report.accepted, report.quarantined) == (1, 2)
    jl = tmp_path / "x.jsonl"
    jl.write_text("\n".join([
        json.dumps({"service": "home", "region": "uk", "metric": "orders", "ts": "2025-03-01T00:00:00Z", "value": 5}),
        json.dumps({"service": "home", "region": "uk", "metric": "orders", "ts": "2025-03-01T00:01:00Z", "value": "x"}),
        "{not json",
    ]) + "\n")
    report = ingest_file(spark, db, jl)
    assert (report.rows_read, report.accepted, report.quarantined) == (3, 1, 2)
    assert report.quarantine_reasons == {"non_numeric_value": 1, "malformed_row": 1}


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    ("", "file is empty"),
    ("service,region,ts,value\nx,y,2025-01-01T00:00:00Z,1\n", "missing required column(s) metric"),
])
def test_unusable_files_get_a_one_line_error(spark, db, tmp_path, content, message):
    src = tmp_path / "in.csv"
    if content is not None:
        src.write_text(content)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        ingest_file(spark, db, src)
    assert "\n" not in str(err.value) and "in.csv" in str(err.value)


def test_a_sample_file_with_ten_percent_mixed_bad_rows(spark, db, tmp_path):
    from cloudtune.simulate import simulate_fleet

    fleet = simulate_fleet(services=["checkout"], regions=["us"], metrics=["requests"], days=2, seed=3,
                           outliers=False, missing=False)
    paths = fleet.write(tmp_path, fmt="csv", components=False)
    lines = paths["actuals"].read_text().splitlines()
    header, rows = lines[0], [line.replace('"', "").split(",") for line in lines[1:]]
    corruptions = [  # each takes [service, region, metric, ts, value] and breaks one thing
        lambda f: f[:4] + ["-" + f[4]], lambda f: f[:4] + ["NaN"], lambda f: f[:4] + ["n/a"],
        lambda f: f[:3] + [f[3].replace(":00Z", ":17Z")] + f[4:], lambda f: [""] + f[1:],
        lambda f: f[:3] + [f[3].replace("T", " at ")] + f[4:],
    ]
    broken = set(range(0, len(rows), 10))  # every 10th row, six kinds in turn
    rows = [",".join(corruptions[(i // 10) % 6](f) if i in broken else f) for i, f in enumerate(rows)]
    src = tmp_path / "mixed.csv"
    src.write_text("\n".join([header, *rows]) + "\n")
    report = ingest_file(spark, db, src)
    assert report.adds_up() and report.rows_read == len(rows)
    assert report.quarantined == len(broken) and report.accepted == len(rows) - len(broken)
    assert len(report.quarantine_reasons) == 6
    before = spark.table(f"{db.database}.actuals").count(), spark.table(f"{db.database}.quarantine").count()
    again = ingest_file(spark, db, src)
    after = spark.table(f"{db.database}.actuals").count(), spark.table(f"{db.database}.quarantine").count()
    assert before == after == (report.accepted, report.quarantined)
    assert (again.inserted, again.updated) == (0, 0)


def test_a_daily_drop_reusing_one_path_keeps_every_days_bad_rows(spark, db, tmp_path):
    src = tmp_path / "today.csv"
    write(src, GOOD[:3] + ["a,us,requests,2025-01-01T00:03:00Z,-1"])
    ingest_file(spark, db, src)
    write(src, GOOD[3:6] + ["b,us,requests,2025-01-02T00:03:00Z,-7"])  # same line, same reason, another row
    report = ingest_file(spark, db, src)
    assert report.quarantined == 1 and report.adds_up()
    raws = sorted(spark.table(f"{db.database}.quarantine").toPandas().raw)
    assert raws == ["a,us,requests,2025-01-01T00:03:00Z,-1", "b,us,requests,2025-01-02T00:03:00Z,-7"]


def test_fractions_of_a_second_are_off_the_grain(spark, db, tmp_path):
    src = write(tmp_path / "frac.csv", ["home,us,requests,2025-01-01T00:01:00.500Z,3",
                                        "home,us,requests,2025-01-01T00:02:00.000Z,4"])
    report = ingest_file(spark, db, src)
    assert report.quarantine_reasons == {"off_grain_timestamp": 1} and report.accepted == 1
