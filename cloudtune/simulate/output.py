"""Write simulated tables as CSV or Parquet through pyarrow (pandas' to_csv takes minutes on 10^7 rows)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from cloudtune.errors import InputError

FORMATS = ("csv", "parquet")


def write_table(df: pd.DataFrame, path: Path, fmt: str) -> Path:
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    else:
        pa_csv.write_csv(_csv_ready(df), path, pa_csv.WriteOptions(quoting_style="needed"))
    return path


def _csv_ready(df: pd.DataFrame) -> pa.Table:
    """Timestamps as ISO 8601 UTC ('2025-07-08T07:00:00Z', what ingest reads); formatted once per distinct value."""
    columns = {}
    for name in df.columns:
        col = df[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            codes, uniques = pd.factorize(col)
            naive = uniques.tz_convert("UTC").tz_localize(None).to_numpy()
            text = np.char.add(np.datetime_as_string(naive, unit="s"), "Z")
            columns[name] = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(text))
        else:
            columns[name] = pa.array(col.to_numpy(), from_pandas=True)  # NaN -> empty field
    return pa.table(columns)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt
