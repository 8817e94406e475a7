"""Databento DBN files (``.dbn`` or zstd-compressed ``.dbn.zst``): trades, ohlcv-1s, ohlcv-1m.

Decoded with the ``databento_dbn`` package (:class:`databento_dbn.DBNDecoder`); a zstd file (told by
its magic bytes) is decompressed by pyarrow first, which detects a truncated stream.

Symbols: ``instrument_id`` -> ticker from the metadata's symbology mappings (the side of each
mapping that is a number is the instrument id; intervals are UTC dates, end exclusive) and from
``SymbolMappingMsg`` records (``stype_out_symbol``, else ``stype_in_symbol``; ``start_ts``..``end_ts``).
A record whose instrument has no mapping at its ``ts_event`` is quarantined as ``unmapped_instrument``.

- ``TradeMsg`` (trades, rtype ``mbp-0``) -> trades: ts = ``ts_event`` (ns), price = fixed-point
  ``price`` / 1e9 (``UNDEF_PRICE`` -> quarantined as ``bad_price``), size, exchange =
  ``publisher_id``, sequence = ``sequence``, conditions empty, correction 0. Databento's trades
  schema carries no sale conditions, so every trade is eligible for bars. No flag marks a trade
  print as bad: ``F_BAD_TS_RECV`` concerns ``ts_recv``, which is not used, and ``F_MAYBE_BAD_BOOK``
  concerns book state.
- ``OHLCVMsg`` with rtype ``ohlcv-1s`` / ``ohlcv-1m`` -> 1 s / 1 m bars (Databento stamps them at
  the interval start). They have no vwap or trade count: both come from the bar rebuilt from the
  same import's trades, else vwap = (h + l + c) / 3 and transactions = 0 (counted in the report).
- Other records (other OHLCV intervals, status, errors, ...) are counted in the report's notes as
  ``skipped_record:<type>``. A file whose metadata names another schema is refused.

Samples name the file and the 0-based record index (after the metadata) as ``row``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sigma9_dag.lake.importers.common import ImportBatch, ImportSummary, import_files, with_rows
from sigma9_dag.lake.writer import MAX_SAMPLES
from sigma9_runtime.errors import DataError

SOURCE = "databento"
SCHEMAS = ("trades", "ohlcv-1s", "ohlcv-1m")
"""DBN schemas this importer reads (a file without a schema, e.g. live data, may mix them)."""
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 20
_DAY_NS = 86_400 * 1_000_000_000


def _chunks(path: Path) -> Iterator[bytes]:
    """Raw DBN bytes of ``path`` (zstd decompressed), in chunks."""
    with open(path, "rb") as f:
        zstd = f.read(4) == _ZSTD_MAGIC
    try:
        with pa.input_stream(path, compression="zstd" if zstd else None) as stream:
            while chunk := stream.read(_CHUNK):
                yield chunk
    except (OSError, pa.ArrowInvalid) as e:
        raise DataError(f"{path}: corrupt or truncated zstd stream ({e})") from e


@dataclass
class _Symbology:
    """instrument_id -> [(start_ns, end_ns, ticker)]."""

    intervals: dict[int, list[tuple[int, int, str]]] = field(default_factory=dict)

    def add(self, instrument_id: int, start_ns: int, end_ns: int, ticker: str) -> None:
        self.intervals.setdefault(instrument_id, []).append((start_ns, end_ns, ticker))

    def add_metadata(self, mappings: dict[str, list[dict[str, Any]]]) -> None:
        for key, intervals in mappings.items():
            for interval in intervals:
                symbol = str(interval["symbol"])
                if symbol.isdigit():
                    instrument_id, ticker = int(symbol), key
                elif key.isdigit():
                    instrument_id, ticker = int(key), symbol
                else:
                    continue
                self.add(instrument_id, _date_ns(interval["start_date"]), _date_ns(interval["end_date"]), ticker)

    def resolve(self, instrument_ids: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Ticker of each record (object array, None where unmapped); per instrument, vectorized."""
        out = np.full(instrument_ids.size, None, dtype=object)
        order = np.argsort(instrument_ids, kind="stable")
        ordered = instrument_ids[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if ordered.size else np.empty(0, int)
        ends = np.r_[starts[1:], ordered.size]
        for start, end in zip(starts.tolist(), ends.tolist()):
            index = order[start:end]
            stamps = ts[index]
            tickers = np.full(index.size, None, dtype=object)
            open_ = np.ones(index.size, dtype=bool)
            # Latest added interval wins (in-stream mappings come after the metadata's).
            for first, last, ticker in reversed(self.intervals.get(int(ordered[start]), ())):
                hit = open_ & (stamps >= first) & (stamps < last)
                tickers[hit] = ticker
                open_ &= ~hit
            out[index] = tickers
        return out


def _date_ns(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * _DAY_NS


def _timestamps(values: Sequence[int]) -> np.ndarray:
    """ns timestamps as int64; ``UNDEF_TIMESTAMP`` (and anything beyond int64) becomes 0 (then quarantined)."""
    stamps = np.array(values, dtype=np.uint64)
    stamps[stamps > np.uint64(2**63 - 1)] = 0
    return stamps.astype(np.int64)


def _int64(values: Sequence[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _float64(values: Sequence[int]) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def _int32(values: Sequence[int]) -> np.ndarray:
    return np.array(values, dtype=np.int32)


@dataclass
class _Columns:
    """Fields of the records of one kind, gathered as tuples and compacted into numpy blocks (a
    Python tuple per record would hold a large file several times over in memory)."""

    converters: tuple[Any, ...]
    pending: list[tuple[int, ...]] = field(default_factory=list)
    pending_rows: list[int] = field(default_factory=list)
    blocks: list[list[np.ndarray]] = field(default_factory=list)

    def append(self, values: tuple[int, ...], row: int) -> None:
        self.pending.append(values)
        self.pending_rows.append(row)

    def compact(self) -> None:
        if self.pending:
            columns = zip(*self.pending)
            block = [convert(column) for convert, column in zip(self.converters, columns)]
            self.blocks.append([*block, np.array(self.pending_rows, dtype=np.int64)])
            self.pending, self.pending_rows = [], []

    def arrays(self) -> list[np.ndarray]:
        """One array per field, then the record indices."""
        self.compact()
        return [np.concatenate(parts) for parts in zip(*self.blocks)]

    def __bool__(self) -> bool:
        return bool(self.pending or self.blocks)


def _trade_columns() -> _Columns:
    # instrument_id, ts_event, price, size, publisher_id, sequence
    return _Columns((_int64, _timestamps, _int64, _float64, _int32, _int64))


def _bar_columns() -> _Columns:
    # instrument_id, ts_event, open, high, low, close, volume
    return _Columns((_int64, _timestamps, _int64, _int64, _int64, _int64, _float64))


def read_dbn(path: Path, batch: ImportBatch) -> None:
    """Decode one DBN file into ``batch``."""
    import databento_dbn as dbn

    ohlcv_kinds = {dbn.RType.OHLCV_1S: "1s", dbn.RType.OHLCV_1M: "1m"}
    decoder = dbn.DBNDecoder()
    symbology = _Symbology()
    trades = _trade_columns()
    bars = {"1s": _bar_columns(), "1m": _bar_columns()}
    metadata = None
    index = 0
    try:
        for chunk in _chunks(path):
            for record in decoder.write_and_decode(chunk):
                if metadata is None:
                    if not isinstance(record, dbn.Metadata):
                        raise DataError(f"{path}: DBN data without metadata")
                    metadata = record
                    schema = getattr(metadata.schema, "value", metadata.schema)
                    if schema is not None and schema not in SCHEMAS:
                        raise DataError(
                            f"{path}: unsupported DBN schema {schema!r} (expected one of {', '.join(SCHEMAS)})"
                        )
                    symbology.add_metadata(metadata.mappings)
                    continue
                if isinstance(record, dbn.TradeMsg):
                    trades.append(
                        (record.instrument_id, record.ts_event, record.price, record.size,
                         record.publisher_id, record.sequence),
                        index,
                    )  # fmt: skip
                elif isinstance(record, dbn.OHLCVMsg) and record.rtype in ohlcv_kinds:
                    bars[ohlcv_kinds[record.rtype]].append(
                        (record.instrument_id, record.ts_event, record.open, record.high, record.low,
                         record.close, record.volume),
                        index,
                    )  # fmt: skip
                elif isinstance(record, dbn.SymbolMappingMsg):
                    ticker = record.stype_out_symbol
                    if not ticker or ticker.isdigit():
                        ticker = record.stype_in_symbol
                    symbology.add(record.instrument_id, record.start_ts, record.end_ts, ticker)
                else:
                    batch.report.note(f"skipped_record:{type(record).__name__}")
                index += 1
            for columns in (trades, *bars.values()):
                columns.compact()
    except dbn.DBNError as e:
        raise DataError(f"{path}: corrupt DBN data after record {index} ({e})") from e
    if metadata is None:
        raise DataError(f"{path}: not a DBN file (no metadata)")
    if decoder.buffer():
        raise DataError(f"{path}: truncated DBN data ({len(decoder.buffer())} bytes of a partial record)")
    source = str(path)
    if trades:
        batch.add_trades(_trades_table(trades, symbology, batch, source), source)
    for kind in ("1s", "1m"):
        if bars[kind]:
            batch.add_bars(kind, _bars_table(bars[kind], symbology, batch, source), source)  # type: ignore[arg-type]


def _price(fixed: np.ndarray) -> np.ndarray:
    import databento_dbn as dbn

    prices = fixed.astype(np.float64) / dbn.FIXED_PRICE_SCALE
    prices[fixed == dbn.UNDEF_PRICE] = math.nan
    return prices


def _tickers(
    instrument_ids: np.ndarray, ts: np.ndarray, rows: np.ndarray, symbology: _Symbology, batch: ImportBatch, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """Tickers of the records and the mask of those that resolve; unresolved ones are quarantined."""
    tickers = symbology.resolve(instrument_ids, ts)
    known = tickers != None  # noqa: E711 - elementwise over an object array
    unmapped = np.flatnonzero(~known)
    for i in unmapped[:MAX_SAMPLES].tolist():
        values = {"instrument_id": int(instrument_ids[i]), "ts_event": int(ts[i])}
        batch.add_dropped("unmapped_instrument", source, int(rows[i]), values)
    if unmapped.size > MAX_SAMPLES:
        batch.report.counts["unmapped_instrument"] += int(unmapped.size - MAX_SAMPLES)
    return tickers, known


def _trades_table(columns: _Columns, symbology: _Symbology, batch: ImportBatch, source: str) -> pa.Table:
    instrument_ids, stamps, price, size, publisher, sequence, rows = columns.arrays()
    tickers, known = _tickers(instrument_ids, stamps, rows, symbology, batch, source)
    n = len(tickers)
    table = pa.table(
        {
            "ticker": pa.array(tickers, pa.string()),
            "ts": pa.array(stamps, pa.int64()),
            "price": pa.array(_price(price), pa.float64()),
            "size": pa.array(size, pa.float64()),
            "exchange": pa.array(publisher, pa.int32()),
            "conditions": pa.array([[]] * n, pa.list_(pa.int32())),
            "sequence": pa.array(sequence, pa.int64()),
            "correction": pa.array(np.zeros(n, dtype=np.int32)),
        }
    )
    return with_rows(table, rows).filter(pa.array(known))


def _bars_table(columns: _Columns, symbology: _Symbology, batch: ImportBatch, source: str) -> pa.Table:
    instrument_ids, stamps, open_, high, low, close, volume, rows = columns.arrays()
    tickers, known = _tickers(instrument_ids, stamps, rows, symbology, batch, source)
    n = len(tickers)
    prices = {"open": open_, "high": high, "low": low, "close": close}
    table = pa.table(
        {
            "ticker": pa.array(tickers, pa.string()),
            "ts": pa.array(stamps, pa.int64()),
            **{name: pa.array(_price(values), pa.float64()) for name, values in prices.items()},
            "volume": pa.array(volume, pa.float64()),
            "vwap": pa.array(np.full(n, math.nan)),
            "transactions": pa.nulls(n, pa.int64()),
        }
    )
    return with_rows(table, rows).filter(pa.array(known))


def import_databento(root: str | Path, paths: Sequence[str | Path], *, progress: bool = False) -> ImportSummary:
    """Import Databento DBN files into the lake at ``root`` (all files together, or nothing).

    Parameters
    ----------
    root
        Lake root.
    paths
        DBN files of schema trades, ohlcv-1s or ohlcv-1m (``.dbn`` or ``.dbn.zst``).
    progress
        Show progress bars on stderr.

    Returns
    -------
    ImportSummary
        What was written, with the report path.

    Raises
    ------
    DataError
        A file is not DBN, is truncated or corrupt, or holds another schema; nothing is written then.

    Examples
    --------
    >>> import_databento("data", ["xnas-trades-20250102.dbn.zst"])  # doctest: +SKIP
    """
    return import_files(root, paths, SOURCE, read_dbn, progress=progress)
