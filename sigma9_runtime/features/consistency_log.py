"""The consistency log: the feature rows a runtime scored, for comparison with the offline batch.

A :class:`~sigma9_runtime.strategies.base.ScoringStrategy` given a :class:`FeatureLog` records the
rows of every step it scores (the watched symbols' final feature vectors, exactly what the plugin
saw). :meth:`FeatureLog.close` writes them as one Parquet file, atomically
(:mod:`sigma9_runtime.atomic`): a reader sees the whole log or none. Columns::

    symbol   string   ticker
    ts_ns    int64    the step (ns UTC)
    <name>   float64  one column per feature name of the FeatureSpec, in order (NaN kept)

The file's metadata holds ``sigma9.feature_spec_id`` and ``sigma9.schema_hash``, so
``sigma9 features consistency`` refuses a log of another spec. Memory: the rows stay in memory until
``close`` (about 100 bytes per row for the shipped spec); a live container closes (rotates) the log
daily. Needs pyarrow, imported when the log is written or read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sigma9_runtime.atomic import atomic_path
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.schema_hash import schema_hash

SPEC_ID_KEY = b"sigma9.feature_spec_id"
SCHEMA_HASH_KEY = b"sigma9.schema_hash"


class FeatureLog:
    """Collects scored feature rows and writes them to ``path`` on :meth:`close`.

    Examples
    --------
    >>> log = FeatureLog(tmp / "features.parquet", spec)  # doctest: +SKIP
    >>> log.record(t_ns, ["ABCD"], rows)  # doctest: +SKIP
    >>> log.close()  # doctest: +SKIP
    """

    def __init__(self, path: str | Path, spec: FeatureSpec) -> None:
        self.path = Path(path)
        self.spec = spec
        self.names = feature_names(spec)
        self._symbols: list[str] = []
        self._ts: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self.rows = 0
        self.closed = False

    def record(self, ts_ns: int, symbols: list[str], values: np.ndarray) -> None:
        """Add the rows of one step (``values[i]`` belongs to ``symbols[i]``)."""
        if not symbols:
            return
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(symbols), len(self.names)):
            raise ValueError(f"feature log: rows of shape {values.shape}, expected ({len(symbols)}, {len(self.names)})")
        self._symbols.extend(symbols)
        self._ts.append(np.full(len(symbols), ts_ns, dtype=np.int64))
        self._values.append(values.copy())
        self.rows += len(symbols)

    def table(self) -> Any:
        """The rows so far as a pyarrow Table."""
        import pyarrow as pa

        values = np.concatenate(self._values) if self._values else np.empty((0, len(self.names)))
        columns: dict[str, Any] = {
            "symbol": pa.array(self._symbols, type=pa.string()),
            "ts_ns": pa.array(np.concatenate(self._ts) if self._ts else np.empty(0, np.int64), type=pa.int64()),
        }
        for j, name in enumerate(self.names):
            columns[name] = pa.array(values[:, j], type=pa.float64())
        metadata = {SPEC_ID_KEY: self.spec.id.encode(), SCHEMA_HASH_KEY: schema_hash(self.spec).encode()}
        return pa.table(columns).replace_schema_metadata(metadata)

    def close(self) -> Path:
        """Write the log (atomically) and return its path; later calls rewrite it with any new rows."""
        import pyarrow.parquet as pq

        with atomic_path(self.path) as tmp:
            pq.write_table(self.table(), tmp)
        self.closed = True
        return self.path


def read_feature_log(path: str | Path) -> tuple[dict[str, str], Any]:
    """(metadata ``{"feature_spec_id", "schema_hash"}``, table) of a log written by :class:`FeatureLog`."""
    import pyarrow.parquet as pq

    from sigma9_runtime.errors import DataError

    try:
        table = pq.read_table(path)
    except Exception as e:
        raise DataError(f"{path}: not a readable feature log ({e})") from e
    meta = table.schema.metadata or {}
    if SPEC_ID_KEY not in meta or SCHEMA_HASH_KEY not in meta or not {"symbol", "ts_ns"} <= set(table.column_names):
        raise DataError(f"{path}: not a feature log (no symbol/ts_ns columns or sigma9 metadata)")
    return {"feature_spec_id": meta[SPEC_ID_KEY].decode(), "schema_hash": meta[SCHEMA_HASH_KEY].decode()}, table
