"""Loaders for the real public series in shared/data into the actuals contract (service, region, metric, ts, value).

The data root is an argument; by default the CLOUDTUNE_DATA environment variable, else the `shared/data` folder next
to the repository (Path(repo)/../shared/data). Each loader cites its source (see each folder's SOURCE.md).
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cloudtune.errors import InputError

COLUMNS = ["service", "region", "metric", "ts", "value"]


def data_root(root: str | Path | None = None) -> Path:
    if root is not None:
        return Path(root)
    env = os.environ.get("CLOUDTUNE_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _read(path: Path, **kw) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"real data file not found: {path}; set CLOUDTUNE_DATA or pass root=")
    return pd.read_csv(path, **kw)


def _contract(df: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Floor ts to the grain and average duplicates (documented per loader)."""
    df = df.copy()
    df["ts"] = pd.to_datetime(df["ts"], utc=True).dt.floor(grain)
    df = df.groupby(["service", "region", "metric", "ts"], as_index=False)["value"].mean()
    return df[COLUMNS].sort_values(["service", "region", "metric", "ts"]).reset_index(drop=True)


def twitter(root=None) -> pd.DataFrame:
    """Twitter AnomalyDetection `raw_data.rda` (github.com/twitter/AnomalyDetection @1f5deaa, GPL-3): one
    production count per minute, 10 days in 1980 (shifted timestamps), with real spikes."""
    df = _read(data_root(root) / "twitter-anomalydetection" / "raw_data_minutely.csv")
    df = df.rename(columns={"timestamp": "ts", "count": "value"}).assign(service="twitter", region="global",
                                                                        metric="count")
    return _contract(df, "1min")


def nab_cloudwatch(root=None) -> pd.DataFrame:
    """NAB realAWSCloudwatch (github.com/numenta/NAB @ea702d7, MIT; Ahmad et al. 2017): 17 CloudWatch metrics at
    5 minutes. Timestamps sit at e.g. :04, :09, so they are floored to the 5-minute grain; the 11 duplicate
    timestamps in two files are averaged. service = file name."""
    folder = data_root(root) / "nab-aws-cloudwatch"
    frames = []
    for f in sorted(folder.glob("*.csv")):
        df = _read(f).rename(columns={"timestamp": "ts"})
        frames.append(df.assign(service=f.stem, region="aws", metric="value"))
    if not frames:
        raise InputError(f"no NAB csv files in {folder}")
    return _contract(pd.concat(frames, ignore_index=True), "5min")


def pedestrian(root=None) -> pd.DataFrame:
    """City of Melbourne pedestrian counts, hourly, 4 sensors, 2015-2016 (tsibble `pedestrian`, GPL-3). ts is the
    UTC hour; missing hours stay absent (gaps)."""
    df = _read(data_root(root) / "melbourne-pedestrian" / "pedestrian_hourly.csv")
    df = pd.DataFrame(dict(service=df["Sensor"], region="melbourne", metric="pedestrians",
                           ts=df["Date_Time_UTC"], value=df["Count"].astype(float)))
    return _contract(df, "1h")


def bike(root=None, metric: str = "cnt") -> pd.DataFrame:
    """UCI Bike Sharing hourly rentals, Washington DC 2011-2012 (Fanaee-T & Gama 2013, doi:10.1007/s13748-013-0040-3).
    ts = dteday + hr as given (local time labelled UTC, so the daily cycle stays aligned); 165 missing hours are
    gaps. metric: cnt, casual or registered."""
    df = _read(data_root(root) / "uci-bike-sharing" / "hour.csv")
    ts = pd.to_datetime(df["dteday"]) + pd.to_timedelta(df["hr"], unit="h")
    out = pd.DataFrame(dict(service="capital-bikeshare", region="dc", metric=metric, ts=ts,
                            value=df[metric].astype(float)))
    return _contract(out, "1h")


def bike_holidays(root=None) -> pd.DataFrame:
    """The holiday days flagged in the UCI bike data as an events DataFrame (name, region, start, end)."""
    df = _read(data_root(root) / "uci-bike-sharing" / "day.csv")
    days = pd.to_datetime(df.loc[df["holiday"] == 1, "dteday"], utc=True)
    return pd.DataFrame(dict(name="holiday", region="dc", kind="holiday", start=days, end=days + pd.Timedelta("1d")))


def electricity(root=None) -> pd.DataFrame:
    """Half-hourly electricity demand, England and Wales, June-August 2000 (Taylor 2003, JORS 54:799-805; timetk
    `taylor_30_min`, GPL >= 3)."""
    df = _read(data_root(root) / "timetk-samples" / "taylor_30_min.csv")
    df = df.rename(columns={"date": "ts"}).assign(service="electricity", region="england-wales", metric="demand_mw")
    return _contract(df, "30min")


DATASETS = {"twitter": twitter, "nab": nab_cloudwatch, "pedestrian": pedestrian, "bike": bike,
            "electricity": electricity}
