"""Rolling-origin backtests of one model on many series, against seasonal naive on the same windows.

For each series and each origin (the last `n_origins` multiples of `every` before the end, leaving `horizon`
after it), fit on everything before the origin, forecast `horizon`, and score against the actuals. Each row holds
MASE (in-sample seasonal-naive scaled), sMAPE, P90/P99 coverage, and the seasonal naive's MASE on the same window,
so `relative` = model MAE / seasonal naive MAE.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cloudtune.backtest.metrics import coverage, mase, naive_scale, season_steps, smape
from cloudtune.models.grain import regular_series
from cloudtune.models.naive import SeasonalNaiveModel
from cloudtune.models.selection import build_spec
from cloudtune.models.settings import ModelSettings

KEYS = ["service", "region", "metric"]


def backtest(actuals: pd.DataFrame, horizon="1d", n_origins: int = 3, every="1d", settings: ModelSettings | None = None,
             model: str | None = None, events=None, min_train="7d") -> pd.DataFrame:
    """One row per (series, origin): service, region, metric, origin, model, mase, smape, cov90, cov99,
    naive_mase, relative."""
    settings = settings or ModelSettings()
    name = model or settings.default
    horizon, every, min_train = pd.Timedelta(horizon), pd.Timedelta(every), pd.Timedelta(min_train)
    rows = []
    for key, g in actuals.groupby(KEYS, sort=True):
        y, step = regular_series(g["ts"], g["value"], what="/".join(key))
        end = y.index[-1] + step
        last_origin = (end - horizon).floor(every) if every <= pd.Timedelta("1d") else end - horizon
        for k in range(n_origins):
            origin = last_origin - k * every
            if origin - y.index[0] < min_train:
                break
            train, test = y[y.index < origin], y[(y.index >= origin) & (y.index < origin + horizon)]
            ok = test.notna().to_numpy()
            if ok.sum() == 0:
                continue
            hist = train.dropna()
            spec = build_spec(name, settings)
            ev = None
            if events is not None and name == "cloudtune":
                from cloudtune.events import events_for_region
                ev = events_for_region(events, key[1])
            fitted = spec.fit(hist, events=ev, key="/".join(key))
            fc = fitted.forecast(len(test), quantiles=(0.5, 0.9, 0.99), events=ev)
            naive = SeasonalNaiveModel().fit(hist).forecast(len(test), quantiles=(0.5,))
            a = test.to_numpy()[ok]
            p = fc["mean"].to_numpy()[ok]
            n = naive["mean"].to_numpy()[ok]
            scale = naive_scale(train.to_numpy(), season_steps(step, len(train)))
            rows.append(dict(service=key[0], region=key[1], metric=key[2], origin=origin, model=name,
                             mase=mase(a, p, scale), smape=smape(a, p), cov90=coverage(a, fc["p90"].to_numpy()[ok]),
                             cov99=coverage(a, fc["p99"].to_numpy()[ok]), naive_mase=mase(a, n, scale),
                             relative=float(np.mean(np.abs(a - p)) / max(np.mean(np.abs(a - n)), 1e-12))))
    return pd.DataFrame(rows)


def summarize(results: pd.DataFrame) -> dict:
    """Means over windows: mase, naive_mase, smape, cov90, cov99, relative; and the improvement over naive (%)."""
    m = results[["mase", "naive_mase", "smape", "cov90", "cov99", "relative"]].mean().to_dict()
    m["windows"] = len(results)
    m["improvement_pct"] = 100 * (1 - m["mase"] / m["naive_mase"]) if m["naive_mase"] > 0 else float("nan")
    return m
