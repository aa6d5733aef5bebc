"""The current fleet: service, region, zone, instance_type, instances (a CSV file or a table's rows)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from cloudtune.capacity.config import Catalog
from cloudtune.errors import InputError

FLEET_COLUMNS = ["service", "region", "zone", "instance_type", "instances"]


def empty_fleet() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "instances" else "object") for c in FLEET_COLUMNS})


def load_fleet(path: str | Path, catalog: Catalog) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"current fleet file not found: {path}; pass --fleet FILE, or set current_fleet: null in "
                         f"conf/capacity/planning.yaml to plan from an empty fleet")
    return check_fleet(pd.read_csv(path, dtype=str, keep_default_na=False), catalog, str(path), first_line=2)


def check_fleet(fleet: pd.DataFrame, catalog: Catalog, source: str = "fleet", first_line: int = 1) -> pd.DataFrame:
    """Validate rows (line numbers count from `first_line`; a CSV's header is line 1) and sum duplicates."""
    missing = [c for c in FLEET_COLUMNS if c not in fleet.columns]
    if missing:
        raise InputError(f"{source}: the current fleet needs columns {', '.join(FLEET_COLUMNS)}; "
                         f"missing {', '.join(missing)}")
    out = fleet[FLEET_COLUMNS].copy()
    counts = pd.to_numeric(out["instances"], errors="coerce")
    for i, row in enumerate(out.itertuples(index=False)):
        line = f"{source}: line {i + first_line}"
        n = counts.iloc[i]
        if pd.isna(n) or n < 0 or n != int(n):
            raise InputError(f"{line}: instances must be a whole number >= 0, got {row.instances!r}")
        if row.instance_type not in catalog.instance_types:
            raise InputError(f"{line}: instance_type {row.instance_type!r} is not in {catalog.source}")
        if row.region not in catalog.regions or row.zone not in catalog.regions[row.region]:
            raise InputError(f"{line}: zone {row.zone!r} is not a zone of region {row.region!r} in {catalog.source}")
    out["instances"] = counts.astype("int64")
    for col in FLEET_COLUMNS[:-1]:
        out[col] = out[col].astype(str)
    return out.groupby(FLEET_COLUMNS[:-1], as_index=False)["instances"].sum()
