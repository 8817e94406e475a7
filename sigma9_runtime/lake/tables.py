"""Arrow schemas of the lake tables and their readers (needs pyarrow).

Readers check every file against its schema and raise :class:`~sigma9_runtime.errors.LakeError`
naming the file when a column is missing or mistyped, or the file is not readable Parquet.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sigma9_runtime.bars import EXCLUDED_CONDITIONS, bars_from_trades
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import (
    BAR_COLUMNS,
    DAILY_COLUMNS,
    EVENT_COLUMNS,
    HARD_NEGATIVE_COLUMNS,
    SPLIT_COLUMNS,
    TRADE_COLUMNS,
    BarKind,
    LakeLayout,
)

_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "date32": pa.date32(),
    "list<int32>": pa.list_(pa.int32()),
}


def arrow_schema(columns: dict[str, str]) -> pa.Schema:
    """Arrow schema of a column spec from :mod:`sigma9_runtime.lake.layout`."""
    return pa.schema([pa.field(name, _TYPES[kind]) for name, kind in columns.items()])


TRADES_SCHEMA = arrow_schema(TRADE_COLUMNS)
BARS_SCHEMA = arrow_schema(BAR_COLUMNS)
DAILY_SCHEMA = arrow_schema(DAILY_COLUMNS)
SPLITS_SCHEMA = arrow_schema(SPLIT_COLUMNS)
EVENTS_SCHEMA = arrow_schema(EVENT_COLUMNS)
HARD_NEGATIVES_SCHEMA = arrow_schema(HARD_NEGATIVE_COLUMNS)


def read_table(path: Path, schema: pa.Schema, *, filters: list[tuple[str, str, object]] | None = None) -> pa.Table:
    """Read ``path`` and check it has ``schema``'s columns and types (extra columns are dropped)."""
    try:
        table = pq.read_table(path, columns=schema.names, filters=filters)
    except FileNotFoundError as e:
        raise LakeError(f"{path}: not found") from e
    except (pa.ArrowInvalid, pa.ArrowException, OSError, KeyError) as e:
        raise LakeError(f"{path}: cannot read as a lake table ({e})") from e
    for field in schema:
        actual = table.schema.field(field.name).type
        if actual != field.type:
            raise LakeError(f"{path}: column {field.name!r} has type {actual}, expected {field.type}")
    return table.select(schema.names)


def read_daily(layout: LakeLayout, tickers: list[str] | None = None) -> pa.Table:
    """Daily bars (all tickers, or ``tickers``), sorted by ticker and date as stored."""
    filters = [("ticker", "in", tickers)] if tickers else None
    return read_table(layout.daily, DAILY_SCHEMA, filters=filters)


def read_bars(
    layout: LakeLayout, kind: BarKind, ticker: str, start_ns: int | None = None, end_ns: int | None = None
) -> pa.Table:
    """Bars of ``ticker`` with ``start_ns <= ts < end_ns`` (bounds optional)."""
    filters: list[tuple[str, str, object]] = []
    if start_ns is not None:
        filters.append(("ts", ">=", start_ns))
    if end_ns is not None:
        filters.append(("ts", "<", end_ns))
    return read_table(layout.bars(kind, ticker), BARS_SCHEMA, filters=filters or None)


def read_trades(layout: LakeLayout, ticker: str, day: dt.date) -> pa.Table:
    """Trades of ``ticker`` on ``day`` in arrival order (an empty table when there is no file)."""
    path = layout.trades(ticker, day)
    if not path.exists():
        return TRADES_SCHEMA.empty_table()
    return read_table(path, TRADES_SCHEMA)


def read_splits(layout: LakeLayout) -> pa.Table:
    """Splits table (empty when the lake has none)."""
    if not layout.splits.exists():
        return SPLITS_SCHEMA.empty_table()
    return read_table(layout.splits, SPLITS_SCHEMA)


def read_events(layout: LakeLayout) -> pa.Table:
    """Ground-truth events (empty when the lake has none)."""
    if not layout.events.exists():
        return EVENTS_SCHEMA.empty_table()
    return read_table(layout.events, EVENTS_SCHEMA)


def read_hard_negatives(layout: LakeLayout) -> pa.Table:
    """Ground-truth hard negatives (empty when the lake has none)."""
    if not layout.hard_negatives.exists():
        return HARD_NEGATIVES_SCHEMA.empty_table()
    return read_table(layout.hard_negatives, HARD_NEGATIVES_SCHEMA)


def eligible_trades_mask(trades: pa.Table) -> np.ndarray:
    """Rule 1 of :mod:`sigma9_runtime.bars` over a trades table: correction 0 and no excluded condition."""
    import pyarrow.compute as pc

    correction = trades.column("correction").fill_null(0).to_numpy(zero_copy_only=False)
    mask = correction == 0
    conditions = trades.column("conditions").combine_chunks()
    flat = pc.list_flatten(conditions)
    if len(flat):
        parents = pc.list_parent_indices(conditions).to_numpy(zero_copy_only=False)
        hit = pc.is_in(flat, value_set=pa.array(sorted(EXCLUDED_CONDITIONS), pa.int32())).to_numpy(zero_copy_only=False)
        mask[np.unique(parents[hit])] = False
    return mask


def bars_table_from_trades(trades: pa.Table, interval_ns: int) -> pa.Table:
    """Bars (lake schema) of one ticker's trades table by the one documented rule."""
    if trades.num_rows == 0:
        return BARS_SCHEMA.empty_table()
    tickers = trades.column("ticker").unique()
    if len(tickers) != 1:
        raise ValueError(f"bars_table_from_trades takes one ticker's trades, got {len(tickers)} tickers")
    keep = eligible_trades_mask(trades)
    ts = trades.column("ts").to_numpy(zero_copy_only=False)[keep]
    price = trades.column("price").to_numpy(zero_copy_only=False)[keep]
    size = trades.column("size").to_numpy(zero_copy_only=False)[keep]
    bars = bars_from_trades(ts, price, size, interval_ns)
    columns = {"ticker": pa.array([tickers[0].as_py()] * len(bars["ts"]), pa.string()), **bars}
    return pa.table(columns, schema=BARS_SCHEMA)


def daily_bar_from_trades(trades: pa.Table, day: dt.date) -> dict[str, object] | None:
    """The daily bar of one ticker's trades on ``day``: eligible **regular-session** trades only
    (09:30-16:00 New York, 13:00 on early closes), by the same rule as every bar. None when the
    regular session had no eligible trade."""
    from sigma9_runtime.calendar import session_bounds

    if trades.num_rows == 0:
        return None
    start, end = session_bounds(day).regular
    ts = trades.column("ts").to_numpy(zero_copy_only=False)
    keep = eligible_trades_mask(trades) & (ts >= start) & (ts < end)
    if not keep.any():
        return None
    price = trades.column("price").to_numpy(zero_copy_only=False)[keep]
    size = trades.column("size").to_numpy(zero_copy_only=False)[keep]
    # One interval longer than any timestamp: every kept trade falls into a single bar.
    bar = bars_from_trades(ts[keep], price, size, 1 << 62)
    return {
        "ticker": trades.column("ticker")[0].as_py(),
        "date": day,
        **{k: bar[k][0].item() for k in ("open", "high", "low", "close", "volume", "vwap", "transactions")},
    }
