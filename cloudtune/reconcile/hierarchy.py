"""The hierarchy as data: the nodes of every configured level and the summing matrix S, built from the series keys.

A level is the set of key columns it keeps from (service, region); the dropped ones read '*':

    series   (service, region)   the forecast series themselves, the bottom level (always present)
    region   (region)            service '*': a region's total
    service  (service)           region '*': a service across all regions
    global   ()                  service and region '*'

A metric's series are never summed with another metric's, so there is one hierarchy per metric, or one per
(metric, region) when every level keeps the region (partition "region"). Nodes are ordered coarse to fine: the
aggregate levels first (fewest kept columns first), the bottom series last, each sorted by (region, service), so
S = [C; I] with the identity on the bottom rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from cloudtune.errors import ConfigError, InputError, shorten

LEVELS: dict[str, tuple[str, ...]] = {
    "series": ("service", "region"),
    "region": ("region",),
    "service": ("service",),
    "global": (),
}
BOTTOM = "series"
SUM_ORDER_SLACK = 1 - 1e-9  # the same volumes summed in another order may differ in the last bits
ALL = "*"
KEY = ["service", "region", "metric"]
NODE_COLUMNS = ["service", "region", "metric", "level"]
PARTITIONS = {"metric": ["metric"], "region": ["metric", "region"]}


def check_levels(levels, partition: str = "metric") -> list[str]:
    """The configured levels in hierarchy order (coarse to fine); raises naming the bad value and the allowed ones."""
    levels = list(levels)
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise ConfigError(f"reconcile.levels: unknown level {unknown[0]!r}; allowed levels are "
                          f"{', '.join(LEVELS)} (a level keeps service, region, both or neither)")
    dupes = sorted({lv for lv in levels if levels.count(lv) > 1})
    if dupes:
        raise ConfigError(f"reconcile.levels: {dupes[0]!r} is listed twice")
    if BOTTOM not in levels:
        raise ConfigError(f"reconcile.levels must include {BOTTOM!r} (the forecast series, the bottom level), "
                          f"got {levels}")
    if partition not in PARTITIONS:
        raise ConfigError(f"reconcile.partition must be one of {', '.join(PARTITIONS)}, got {partition!r}")
    if partition == "region":
        across = [lv for lv in levels if "region" not in LEVELS[lv]]
        if across:
            raise ConfigError(f"reconcile.partition 'region' needs every level to keep the region, but "
                              f"{', '.join(across)} sums across regions; drop it from levels or use partition: metric")
    order = list(LEVELS)
    return sorted(levels, key=lambda lv: (len(LEVELS[lv]), order.index(lv)))


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """One metric's (or one metric-and-region's) hierarchy: `nodes` row i is S row i; the last m rows are the bottom."""

    unit: tuple[str, ...]
    nodes: pd.DataFrame  # service, region, metric, level
    S: np.ndarray  # n_nodes x n_bottom, 0/1

    @property
    def n_bottom(self) -> int:
        return self.S.shape[1]

    @property
    def bottom_slice(self) -> slice:
        return slice(len(self.nodes) - self.n_bottom, len(self.nodes))

    @cached_property
    def bottom_is_identity(self) -> bool:
        """S's last m rows are the identity (as `build_hierarchies` makes it): a node vector is then its parents'
        sums over the bottom values themselves."""
        return bool(np.array_equal(self.S[self.bottom_slice], np.eye(self.n_bottom)))

    @property
    def label(self) -> str:
        return "/".join(self.unit)

    def node_labels(self) -> list[str]:
        n = self.nodes
        return (n.level + ":" + n.service + "/" + n.region + "/" + n.metric).tolist()


def build_hierarchies(keys: pd.DataFrame, levels, partition: str = "metric") -> dict[tuple, Hierarchy]:
    """One Hierarchy per metric (or per metric and region) from the bottom series keys.

    `keys` has columns service, region, metric; when it also has `level`, only its 'series' rows are used, so the
    distinct node keys of a base-forecast table can be passed as they are.
    """
    ordered = check_levels(levels, partition)
    _require(keys, KEY, "keys")
    bottom = keys[keys["level"] == BOTTOM] if "level" in keys.columns else keys
    bottom = bottom[KEY].drop_duplicates()
    if bottom.empty:
        raise InputError("no bottom-level (level 'series') keys to build the hierarchy from")
    nulls = bottom[bottom.isna().any(axis=1)]
    if len(nulls):
        raise InputError(f"series keys must not be null; found {shorten(nulls.astype(str).agg('/'.join, axis=1))}")
    starred = bottom[(bottom.service == ALL) | (bottom.region == ALL)]
    if len(starred):
        raise InputError(f"level 'series' rows must name a service and a region, not '*': "
                         f"{shorten(starred.agg('/'.join, axis=1))}; mark aggregate rows with their level")
    bottom = bottom.astype(str).sort_values(["metric", "region", "service"], ignore_index=True)
    unit_cols = PARTITIONS[partition]
    return {_unit(u): _one(_unit(u), rows.reset_index(drop=True), ordered)
            for u, rows in bottom.groupby(unit_cols, sort=True)}


def _unit(u) -> tuple[str, ...]:
    return tuple(u) if isinstance(u, tuple) else (u,)


def _one(unit: tuple, bottom: pd.DataFrame, ordered: list[str]) -> Hierarchy:
    blocks, s_blocks = [], []
    for level in ordered:
        kept = list(LEVELS[level])
        if level == BOTTOM:
            nodes = bottom.assign(level=BOTTOM)
            s_blocks.append(np.eye(len(bottom)))
        else:
            nodes = (bottom[kept + ["metric"]].drop_duplicates().sort_values(kept[::-1] or ["metric"])
                     .reset_index(drop=True))
            for col in ("service", "region"):
                if col not in kept:
                    nodes[col] = ALL
            nodes["level"] = level
            # Each bottom series sums into the one node of this level that shares its kept keys.
            parent = bottom[kept].merge(nodes[kept].reset_index(), on=kept, how="left")["index"].to_numpy() \
                if kept else np.zeros(len(bottom), dtype=int)
            block = np.zeros((len(nodes), len(bottom)))
            block[parent, np.arange(len(bottom))] = 1.0
            s_blocks.append(block)
        blocks.append(nodes[NODE_COLUMNS])
    return Hierarchy(unit, pd.concat(blocks, ignore_index=True), np.vstack(s_blocks))


def aggregate_levels(actuals: pd.DataFrame, levels, include_bottom: bool = True,
                     min_share: float = 0.99) -> pd.DataFrame:
    """Actuals of every configured level: the sum of `value` per ts over the series under each aggregate node.

    Returns columns service, region, metric, level, ts, value ('*' for dropped keys). A total keeps a ts only where
    the series reporting there carry at least `min_share` of the total's volume that UTC day (each series counted
    at its own mean absolute value that day). Otherwise a big series' missing minute would be a dip of every total
    above it, which the model would learn; a quiet series' absent minutes (often: no requests, no row) and a series
    retired on an earlier day do not hold the totals back.
    """
    ordered = check_levels(levels)
    _require(actuals, KEY + ["ts", "value"], "actuals")
    parts = []
    weighted = None
    for level in ordered:
        kept = list(LEVELS[level])
        if level == BOTTOM:
            if include_bottom:
                parts.append(actuals[KEY + ["ts", "value"]].assign(level=BOTTOM))
            continue
        if weighted is None:
            weighted = _with_day_means(actuals)
        by = ["metric", *kept]
        agg = (weighted.groupby([*by, "ts"], sort=True, observed=True)
               .agg(value=("value", "sum"), present=("_day_mean", "sum"), day=("_day", "first")).reset_index())
        expected = (weighted.drop_duplicates([*KEY, "_day"]).groupby([*by, "_day"], observed=True)["_day_mean"]
                    .sum().rename("_expected"))
        agg = agg.join(expected, on=[*by, "day"])
        agg = agg[agg["present"] >= min_share * SUM_ORDER_SLACK * agg["_expected"]]
        for col in ("service", "region"):
            if col not in kept:
                agg[col] = ALL
        parts.append(agg.assign(level=level))
    columns = NODE_COLUMNS + ["ts", "value"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat([p[columns] for p in parts], ignore_index=True)


def _with_day_means(actuals: pd.DataFrame) -> pd.DataFrame:
    """The rows with a value, each with its UTC day and its series' mean absolute value that day (its volume;
    absolute so that signed inputs such as residuals aggregate the same way)."""
    rows = actuals[KEY + ["ts", "value"]].dropna(subset=["value"])
    rows = rows.assign(_day=pd.to_datetime(rows["ts"], utc=True).dt.floor("D"))
    volume = rows["value"].abs().groupby([rows[k] for k in [*KEY, "_day"]], observed=True).transform("mean")
    return rows.assign(_day_mean=volume)


def _require(df: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what} is missing column(s) {', '.join(missing)}; it has {shorten(df.columns)}")


def check_nodes(present: pd.DataFrame, hierarchies: dict[tuple, Hierarchy], levels) -> None:
    """Base forecasts must cover exactly the hierarchies' nodes: each configured level, no stray rows."""
    present = present[NODE_COLUMNS].astype(str).drop_duplicates()
    stray_levels = sorted(set(present.level) - set(levels))
    if stray_levels:
        raise InputError(f"base forecasts have level {stray_levels[0]!r}, which is not in reconcile.levels "
                         f"{list(levels)}; add it to levels or drop those rows")
    expected = pd.concat([h.nodes for h in hierarchies.values()], ignore_index=True)
    both = expected.merge(present, on=NODE_COLUMNS, how="outer", indicator=True)
    label = both.level + ":" + both.service + "/" + both.region + "/" + both.metric
    missing = label[both._merge == "left_only"]
    if len(missing):
        raise InputError(f"base forecasts are missing node(s) {shorten(missing, 5)}; every level in "
                         f"reconcile.levels needs a base forecast for each of its nodes")
    extra = label[both._merge == "right_only"]
    if len(extra):
        raise InputError(f"base forecasts have node(s) {shorten(extra, 5)} that no series sums into; check their "
                         f"keys ('*' for a dropped key) and level")
