"""Champion / challenger per team: keep the configured model unless another backtested model is clearly better.

A team owns services by fnmatch pattern (the `outliers.teams` section of the pipeline config names them); without
teams, each service is its own team. For each team, the series-level node rows of the whole horizon are summed per
model (so the figure covers every series and origin of the team), and:
  champion   = the model the config answers with for the team's series (`model.default` / `model.overrides`),
  challenger = the best other backtested model on `champion_metric` (lower is better),
  switch     = the challenger is better by at least `min_improvement_pct` percent of the champion's value.
The reason states both figures, the improvement, the P90 under-forecast rates and seasonal naive's figure.
"""
from __future__ import annotations

import fnmatch
from collections import Counter

import numpy as np
import pandas as pd

from cloudtune.backtest.folds import ALL, KEYS
from cloudtune.backtest.metrics import SUM_COLUMNS, metrics_from_sums
from cloudtune.backtest.settings import BacktestSettings
from cloudtune.models.selection import model_for
from cloudtune.models.settings import ModelSettings

DECISION_COLUMNS = ["team", "pattern", "metric_name", "champion_model", "challenger_model", "champion_value",
                    "challenger_value", "seasonal_naive_value", "improvement_pct", "winner", "switch", "series",
                    "windows", "reason"]


def team_patterns(nodes: pd.DataFrame, teams: dict[str, list[str]] | None) -> dict[str, list[str]]:
    if teams:
        return {name: list(patterns) for name, patterns in teams.items()}
    return {s: [s] for s in sorted(nodes["service"].unique())}


def champion_challenger(nodes: pd.DataFrame, settings: BacktestSettings, model: ModelSettings,
                        teams: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """nodes: node-scope rows (with SUM_COLUMNS). One decision row per team with series (DECISION_COLUMNS)."""
    metric = settings.champion_metric
    series = nodes[(nodes["level"] == "series") & (nodes["horizon_bucket"] == ALL)]
    rows = []
    for team, patterns in team_patterns(series, teams).items():
        mine = series[series["service"].map(lambda s: any(fnmatch.fnmatchcase(s, p) for p in patterns))]
        if mine.empty:
            continue
        per_model = mine.groupby("model")[["windows", *SUM_COLUMNS]].sum()
        scores = pd.concat([per_model, metrics_from_sums(per_model)], axis=1)
        keys = mine[KEYS].drop_duplicates().itertuples(index=False, name=None)
        champion = Counter(model_for(k, model) for k in keys).most_common(1)[0][0]
        rows.append(_decide(team, ", ".join(patterns), metric, champion, scores, settings,
                            n_series=len(mine[KEYS].drop_duplicates())))
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def _value(scores: pd.DataFrame, name: str, col: str) -> float:
    return float(scores.at[name, col]) if name in scores.index else float("nan")


def _decide(team, pattern, metric, champion, scores, settings, n_series) -> dict:
    others = scores.drop(index=[champion], errors="ignore")[metric].dropna()
    challenger = str(others.idxmin()) if len(others) else None
    champ_v = _value(scores, champion, metric)
    chall_v = _value(scores, challenger, metric) if challenger else float("nan")
    naive_v = _value(scores, "seasonal_naive", metric)
    row = dict(team=team, pattern=pattern, metric_name=metric, champion_model=champion, challenger_model=challenger,
               champion_value=champ_v, challenger_value=chall_v, seasonal_naive_value=naive_v,
               series=n_series, windows=int(scores["windows"].max()))
    if champion not in scores.index or not np.isfinite(champ_v):
        row.update(improvement_pct=float("nan"), winner=challenger, switch=challenger is not None,
                   reason=f"champion {champion} has no {metric} in this backtest (not in backtest.models, or every "
                          f"window failed); {challenger or 'no model'} is the only measured choice")
        return row
    if challenger is None:
        row.update(improvement_pct=float("nan"), winner=champion, switch=False,
                   reason=f"no challenger was measured; keep {champion} ({metric} {champ_v:.4g})")
        return row
    gain = 100 * (champ_v - chall_v) / champ_v if champ_v > 0 else float("nan")
    switch = bool(np.isfinite(gain) and gain >= settings.min_improvement_pct)
    winner = challenger if switch else champion
    under = ", ".join(f"{m} {_value(scores, m, 'under_forecast_rate_p90'):.3f}" for m in (champion, challenger))
    if switch:
        verdict = f"{challenger} is {gain:.1f}% better (>= {settings.min_improvement_pct:g}% needed): switch"
    elif gain >= 0:
        verdict = f"{challenger} is {gain:.1f}% better (< {settings.min_improvement_pct:g}% needed): keep {champion}"
    else:
        verdict = f"{challenger} is {-gain:.1f}% worse: keep {champion}"
    naive = ""
    if np.isfinite(naive_v):  # a configured model that loses to seasonal naive is a bug (DESIGN.md), so say so
        naive = f"; seasonal naive {naive_v:.4g}"
        if champion != "seasonal_naive" and not champ_v < naive_v:
            naive += f" - champion {champion} does NOT beat seasonal naive"
    row.update(improvement_pct=gain, winner=winner, switch=switch,
               reason=f"{metric}: {champion} {champ_v:.4g} vs {challenger} {chall_v:.4g} over {n_series} series x "
                      f"{row['windows']} windows; {verdict}; P90 under-forecast rate {under}{naive}")
    return row
