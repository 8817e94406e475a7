"""A table written to a file a user names (``--out``): CSV or Parquet by the file's suffix, atomically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sigma9_runtime.atomic import atomic_path
from sigma9_runtime.errors import DataError

TABLE_FILE_FORMATS = (".csv", ".parquet")
"""The suffixes :func:`write_table_file` writes."""


def check_table_path(path: Path, noun: str) -> Path:
    """``path`` when its suffix names a format of :func:`write_table_file`, else :class:`DataError` saying that
    ``noun`` (``events``, ``splits``) cannot be written there. Callers check before the work, not after."""
    if Path(path).suffix.lower() not in TABLE_FILE_FORMATS:
        raise DataError(f"{path}: cannot write {noun} there; the file name must end in .csv or .parquet")
    return Path(path)


def write_table_file(path: Path, frame: pd.DataFrame, noun: str, table: pa.Table | None = None) -> Path:
    """Write ``frame`` to ``path`` atomically: CSV for ``.csv``; Parquet for ``.parquet``, of ``table`` when given
    (typed columns), else of ``frame``."""
    path = check_table_path(path, noun)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            pq.write_table(table if table is not None else pa.Table.from_pandas(frame, preserve_index=False), tmp)
    return path
