"""Massive (ex-Polygon) flat files: ``trades_v1``, ``minute_aggs_v1`` and ``day_aggs_v1`` (csv.gz).

Kinds are told apart by the header, and minute from day aggregates (same header) by the file
name (``minute_aggs``/``day_aggs``), else by the data (day aggregates start at New York midnight).

``trades_v1``
    ``ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,
    sip_timestamp,size,tape,trf_id,trf_timestamp``. Used: ticker, ``sip_timestamp`` (ns) -> ts,
    price, size, exchange, ``sequence_number`` -> sequence, correction (empty = 0), conditions
    (a quoted comma-separated list, may be empty). Every trade is kept, corrected and cancelled ones
    included; ``correction != 0`` makes it ineligible for bars (the lake's bar rule).
``minute_aggs_v1`` / ``day_aggs_v1``
    ``ticker,volume,open,close,high,low,window_start,transactions`` (``window_start`` ns, the
    interval start; a day aggregate's date is the New York date of ``window_start``). No vwap:
    :func:`~sigma9_dag.lake.importers.finish.finish_import` takes it from the same import's trades,
    else approximates it.

Sanity: a file named by its date (Massive names them ``2025-01-02.csv.gz``) must hold only
timestamps of that New York date; any file only timestamps that are nanoseconds between 1990 and
2100 (milliseconds or seconds written instead are named as such).

Bad input: a missing column, a value that does not parse, a byte that is not UTF-8 text, a
timestamp that fails the sanity check, a file without rows (empty, header only) or a
corrupt/truncated gzip raise :class:`~sigma9_runtime.errors.DataError` naming the file (and the
line); bad rows are quarantined.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from sigma9_dag.lake.importers.batch import ImportBatch
from sigma9_dag.lake.importers.common import ImportSummary, check_timestamps, no_rows, session_ordinals, with_rows
from sigma9_dag.lake.importers.finish import import_files
from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.errors import DataError

SOURCE = "massive-flat"
FlatKind = Literal["trades", "minute_aggs", "day_aggs"]

TRADE_COLUMNS: dict[str, pa.DataType] = {
    "ticker": pa.string(),
    "conditions": pa.string(),
    "correction": pa.int32(),
    "exchange": pa.int32(),
    "price": pa.float64(),
    "sequence_number": pa.int64(),
    "sip_timestamp": pa.int64(),
    "size": pa.float64(),
}
"""Columns of ``trades_v1`` the importer reads (the others are not needed)."""
AGG_COLUMNS: dict[str, pa.DataType] = {
    "ticker": pa.string(),
    "volume": pa.float64(),
    "open": pa.float64(),
    "close": pa.float64(),
    "high": pa.float64(),
    "low": pa.float64(),
    "window_start": pa.int64(),
    "transactions": pa.int64(),
}
"""Columns of ``minute_aggs_v1`` and ``day_aggs_v1``."""
_GZIP_MAGIC = b"\x1f\x8b"
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NAMED_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _header(path: Path, gz: bool) -> list[str]:
    try:
        with gzip.open(path, "rb") if gz else open(path, "rb") as f:
            line = f.readline()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated gzip ({e})") from e
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}:1: header is not UTF-8 text") from e
    # CSV rules (a quoted header is legal CSV, e.g. as pyarrow or pandas write it).
    return [name.strip() for name in next(csv.reader([text.strip()]), [])]


def detect_kind(path: Path, header: Sequence[str]) -> FlatKind | None:
    """``trades``, ``minute_aggs``, ``day_aggs``, or None when the header cannot tell minute from day."""
    names = set(header)
    if "sip_timestamp" in names or "trades_v1" in path.name or "conditions" in names:
        return "trades"
    if "day_aggs" in path.name:
        return "day_aggs"
    if "minute_aggs" in path.name:
        return "minute_aggs"
    if "window_start" in names:
        return None
    raise DataError(f"{path}:1: not a Massive flat file (header: {','.join(header)})")


def _read_csv(path: Path, gz: bool, columns: dict[str, pa.DataType]) -> pa.Table:
    compression = "gzip" if gz else None
    convert = pa_csv.ConvertOptions(column_types=columns, include_columns=list(columns))
    try:
        with pa.input_stream(path, compression=compression) as stream:
            return pa_csv.read_csv(stream, convert_options=convert)
    except pa.ArrowInvalid as e:
        if "conversion error" in str(e):
            _raise_bad_value(path, gz, columns, e)
        _raise_bad_row(path, gz, e)
        raise  # unreachable: both helpers raise
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated gzip ({e})") from e


def _raise_bad_row(path: Path, gz: bool, error: Exception) -> None:
    """Raise a DataError naming the file and line of a row that is not CSV of the header's shape."""
    rows: list[pa_csv.InvalidRow] = []

    def remember(row: pa_csv.InvalidRow) -> str:
        rows.append(row)
        return "error"

    parse = pa_csv.ParseOptions(invalid_row_handler=remember)
    read = pa_csv.ReadOptions(use_threads=False)  # single-threaded reading knows line numbers
    try:
        with pa.input_stream(path, compression="gzip" if gz else None) as stream:
            pa_csv.read_csv(stream, parse_options=parse, read_options=read)
    except (pa.ArrowInvalid, OSError):
        pass
    if rows and rows[0].number is not None:
        row = rows[0]
        raise DataError(
            f"{path}:{row.number}: expected {row.expected_columns} columns, got {row.actual_columns}"
        ) from error
    raise DataError(f"{path}: cannot read as CSV ({error})") from error


def _raise_bad_value(path: Path, gz: bool, columns: dict[str, pa.DataType], error: Exception) -> None:
    """Raise a DataError naming the file, line and column of the first value that is not UTF-8 text
    or does not parse."""
    raw = {name: pa.binary() for name in columns}
    convert = pa_csv.ConvertOptions(column_types=raw, include_columns=list(columns), strings_can_be_null=True)
    with pa.input_stream(path, compression="gzip" if gz else None) as stream:
        table = pa_csv.read_csv(stream, convert_options=convert)
    for name, kind in columns.items():
        column = table.column(name).combine_chunks()
        row = _first_bad(column, pa.string())
        if row is not None:
            value = column[row].as_py()
            raise DataError(f"{path}:{row + 2}: column {name!r}: {value!r} is not UTF-8 text") from error
        row = _first_bad(column.cast(pa.string()), kind)
        if row is not None:
            value = column[row].as_py().decode()
            raise DataError(f"{path}:{row + 2}: column {name!r}: cannot read {value!r} as {kind}") from error
    raise DataError(f"{path}: {error}") from error


def _first_bad(column: pa.Array, kind: pa.DataType) -> int | None:
    """Index of the first value of ``column`` that does not cast to ``kind`` (bisection)."""
    start, length = 0, len(column)
    try:
        column.cast(kind)
        return None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    while length > 1:
        half = length // 2
        try:
            column.slice(start, half).cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            length = half
        else:
            start, length = start + half, length - half
    return start


def _check_columns(path: Path, header: Sequence[str], columns: dict[str, pa.DataType]) -> None:
    missing = [name for name in columns if name not in header]
    if missing:
        raise DataError(f"{path}:1: missing column(s) {', '.join(missing)} (header: {','.join(header)})")


def _conditions(path: Path, column: pa.ChunkedArray) -> pa.Array:
    """Comma-separated condition strings -> list<int32> (empty or null -> [])."""
    text = column.combine_chunks()
    text = pc.if_else(pc.equal(pc.utf8_trim_whitespace(text), ""), pa.scalar(None, pa.string()), text)
    parts = pc.split_pattern(text, ",")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    try:
        codes = flat.cast(pa.int32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        bad = _first_bad(flat, pa.int32())
        parents = pc.list_parent_indices(parts).to_numpy(zero_copy_only=False)
        row = int(parents[bad]) if bad is not None else 0
        raise DataError(
            f"{path}:{row + 2}: column 'conditions': cannot read {column[row].as_py()!r} as a list of int32"
        ) from e
    # Null entries (no conditions) span no values, so they become empty lists.
    return pa.ListArray.from_arrays(parts.offsets, codes)


def read_trades(path: Path, gz: bool) -> pa.Table:
    """A ``trades_v1`` file as a lake trades table with ``__row`` (0-based data row)."""
    raw = _read_csv(path, gz, TRADE_COLUMNS)
    table = pa.table(
        {
            "ticker": raw.column("ticker"),
            "ts": raw.column("sip_timestamp"),
            "price": raw.column("price"),
            "size": raw.column("size"),
            "exchange": raw.column("exchange").fill_null(0),
            "conditions": _conditions(path, raw.column("conditions")),
            "sequence": raw.column("sequence_number"),
            "correction": raw.column("correction").fill_null(0),
        }
    )
    return with_rows(table)


def read_aggs(path: Path, gz: bool) -> pa.Table:
    """An aggregates file as a bars table (vwap unknown = NaN) with ``__row``."""
    raw = _read_csv(path, gz, AGG_COLUMNS)
    n = raw.num_rows
    table = pa.table(
        {
            "ticker": raw.column("ticker"),
            "ts": raw.column("window_start"),
            **{name: raw.column(name) for name in ("open", "high", "low", "close", "volume")},
            "vwap": pa.array(np.full(n, np.nan)),
            "transactions": raw.column("transactions"),
        }
    )
    return with_rows(table)


def _starts_at_midnight(ts: np.ndarray) -> bool:
    """Whether every timestamp is New York midnight of its day (day aggregates; minute bars never are)."""
    ts = ts[ts > 0]
    if ts.size == 0:
        return False
    ordinals = session_ordinals(ts)
    for ordinal in np.unique(ordinals).tolist():
        midnight = local_to_ns(dt.date.fromordinal(ordinal), dt.time(0, 0))
        if np.any(ts[ordinals == ordinal] != midnight):
            return False
    return True


def daily_from_aggs(bars: pa.Table) -> pa.Table:
    """Day aggregates (bars table stamped at ``window_start``) -> daily rows dated by New York date."""
    ts = bars.column("ts").fill_null(0).to_numpy(zero_copy_only=False)
    ordinals = session_ordinals(ts)
    epoch = np.where(ordinals > 0, ordinals - _EPOCH_ORDINAL, 0).astype(np.int32)
    date = pa.array(epoch, pa.int32()).cast(pa.date32())
    date = pc.if_else(bars.column("ts").is_null(), pa.scalar(None, pa.date32()), date)
    columns = {"ticker": bars.column("ticker"), "date": date}
    columns |= {name: bars.column(name) for name in ("open", "high", "low", "close", "volume", "vwap", "transactions")}
    columns["__row"] = bars.column("__row")
    return pa.table(columns)


def import_massive_flat(
    root: str | Path, paths: Sequence[str | Path], *, progress: bool = False, workers: int = 1
) -> ImportSummary:
    """Import Massive flat files into the lake at ``root`` (all files together, or nothing).

    Parameters
    ----------
    root
        Lake root.
    paths
        ``trades_v1``, ``minute_aggs_v1`` and ``day_aggs_v1`` files (``.csv.gz`` or plain ``.csv``).
    progress
        Show progress bars on stderr.
    workers
        Processes reading the files (1: this one; one file per task, the lake the same either way).

    Returns
    -------
    ImportSummary
        What was written, with the report path.

    Raises
    ------
    DataError
        A file is not readable as one of the three kinds (missing column, value that does not
        parse, corrupt gzip); nothing is written then.

    Examples
    --------
    >>> import_massive_flat("data", ["2025-01-02.trades_v1.csv.gz"])  # doctest: +SKIP
    """
    return import_files(root, paths, SOURCE, _read_flat_file, progress=progress, workers=workers)


def named_day(path: Path) -> dt.date | None:
    """The date a file is named for (``2025-01-02.csv.gz``, ``2025-01-02.trades_v1.csv.gz``), if any."""
    match = _NAMED_DAY.search(path.name)
    if match is None:
        return None
    try:
        return dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def _check_rows(path: Path, table: pa.Table, column: str, header_only: bool) -> None:
    """Refuse a file without rows, or with timestamps (``ts``, read from ``column``) that are not
    nanoseconds of a plausible time, or not of the date the file is named for."""
    if header_only:
        raise no_rows(path, "header only")
    ts = table.column("ts")
    valid = ts.is_valid()
    check_timestamps(
        ts.filter(valid).to_numpy(),
        table.column("__row").filter(valid).to_numpy(),
        "nanoseconds",
        lambda row: f"{path}:{row + 2}: column {column!r}",
        day=named_day(path),
    )


def _read_flat_file(path: Path, batch: ImportBatch) -> None:
    """Add one flat file (trades, minute or day aggregates, told by name or header) to ``batch``."""
    source = str(path)
    gz = _is_gzip(path)
    header = _header(path, gz)
    if not header:
        raise no_rows(path, "empty, not even a header")
    kind = detect_kind(path, header)
    if kind == "trades":
        _check_columns(path, header, TRADE_COLUMNS)
        trades = read_trades(path, gz)
        _check_rows(path, trades, "sip_timestamp", trades.num_rows == 0)
        batch.add_trades(trades, source)
        return
    _check_columns(path, header, AGG_COLUMNS)
    bars = read_aggs(path, gz)
    _check_rows(path, bars, "window_start", bars.num_rows == 0)
    if kind is None:
        kind = "day_aggs" if _starts_at_midnight(bars.column("ts").fill_null(0).to_numpy()) else "minute_aggs"
    if kind == "minute_aggs":
        batch.add_bars("1m", bars, source)
    else:
        batch.add_daily(daily_from_aggs(bars), source)
