"""Candidate rows of an alert simulation: their columns, their check and their one processing order.

A candidate is one scored (symbol, time) row, as a ``pandas.DataFrame`` row with columns:

=================== ========= ==========================================================================
column              type      meaning
=================== ========= ==========================================================================
symbol              str       ticker
ts_ns               int64     time of the feature row (ns UTC); the alert time if it passes
score               float64   the model's score (NaN: below any threshold)
dollar_volume_1m    float64   dollar volume of the last minute (``sigma9_runtime.gates.tradeability``)
spread_pct          float64   spread estimate in percent (same module)
cluster_id          optional  cluster of the row (``"C01"`` or an integer); selects a per-cluster threshold
seismograph_score   optional  the base heuristic's score (needed by the ``seismograph_only`` baseline)
=================== ========= ==========================================================================

:func:`sigma9_dag.evaluation.prices.attach_tradeability` fills the two tradeability columns from the lake.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sigma9_runtime.errors import DataError

REQUIRED_COLUMNS: tuple[str, ...] = ("symbol", "ts_ns", "score", "dollar_volume_1m", "spread_pct")
OPTIONAL_COLUMNS: tuple[str, ...] = ("cluster_id", "seismograph_score")
NY = "America/New_York"


def check_candidates(candidates: pd.DataFrame, *, what: str = "candidates") -> pd.DataFrame:
    """A copy of ``candidates`` with typed columns and ``cluster_id`` present; raise :class:`DataError`
    naming the column when one is missing or of the wrong kind."""
    missing = [c for c in REQUIRED_COLUMNS if c not in candidates.columns]
    if missing:
        raise DataError(f"{what}: missing column(s) {', '.join(missing)} (required: {', '.join(REQUIRED_COLUMNS)})")
    frame = candidates.reset_index(drop=True).copy()
    if not pd.api.types.is_integer_dtype(frame["ts_ns"]):
        raise DataError(f"{what}: column 'ts_ns' must be int64 nanoseconds UTC, got {frame['ts_ns'].dtype}")
    frame["ts_ns"] = frame["ts_ns"].astype(np.int64)
    if frame["symbol"].isna().any():
        raise DataError(f"{what}: column 'symbol' has missing values (row {int(frame['symbol'].isna().idxmax())})")
    frame["symbol"] = frame["symbol"].astype(str)
    for column in ("score", "dollar_volume_1m", "spread_pct", "seismograph_score"):
        if column in frame.columns:
            try:
                frame[column] = frame[column].astype(np.float64)
            except (TypeError, ValueError) as e:
                raise DataError(f"{what}: column {column!r} must be numeric ({e})") from e
    if "cluster_id" not in frame.columns:
        frame["cluster_id"] = None
    return frame


def processing_order(frame: pd.DataFrame, score_column: str = "score") -> np.ndarray:
    """Row positions in the order candidates meet the gate: time ascending; at equal times the higher
    score first (NaN last), then the symbol alphabetically, then the input order."""
    keyed = pd.DataFrame(
        {"ts": frame["ts_ns"].to_numpy(), "score": frame[score_column].to_numpy(), "symbol": frame["symbol"].to_numpy()}
    )
    ordered = keyed.sort_values(
        ["ts", "score", "symbol"], ascending=[True, False, True], na_position="last", kind="stable"
    )
    return ordered.index.to_numpy()


def ny_dates(ts_ns: np.ndarray | pd.Series) -> np.ndarray:
    """New York calendar date of each timestamp (``datetime64[D]``), the day an alert budget counts against."""
    index = pd.DatetimeIndex(np.asarray(ts_ns, dtype=np.int64).view("datetime64[ns]"), tz="UTC")
    return index.tz_convert(NY).tz_localize(None).to_numpy().astype("datetime64[D]")


def normalize_events(events: pd.DataFrame) -> pd.DataFrame:
    """Events as (symbol, t0_ns) sorted; accepts a ``ticker`` or ``symbol`` column (the lake's ground
    truth, or ``sigma9_dag.lake.events.find_events(...).events``)."""
    name = "symbol" if "symbol" in events.columns else "ticker"
    if name not in events.columns or "t0_ns" not in events.columns:
        raise DataError(f"events: need columns 'ticker' (or 'symbol') and 't0_ns', got {', '.join(events.columns)}")
    out = pd.DataFrame({"symbol": events[name].astype(str), "t0_ns": events["t0_ns"].astype(np.int64)})
    return out.sort_values(["symbol", "t0_ns"], kind="stable").reset_index(drop=True)
