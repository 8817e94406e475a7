"""Databento DBN files (``.dbn`` or zstd-compressed ``.dbn.zst``): trades, ohlcv-1s, ohlcv-1m.

Decoded with the ``databento_dbn`` package (:class:`databento_dbn.DBNDecoder`); a zstd file (told by
its magic bytes) is decompressed by pyarrow first, which detects a truncated stream.

Symbols: ``instrument_id`` -> ticker from the metadata's symbology mappings (the side of each
mapping that is a number is the instrument id; intervals are UTC dates, end exclusive) and from
``SymbolMappingMsg`` records (``stype_out_symbol``, else ``stype_in_symbol``; ``start_ts``..``end_ts``).
An undefined ``start_ts`` / ``end_ts`` (``UNDEF_TIMESTAMP``, as live data sends them) leaves the
interval open on that side. A record whose instrument has no mapping at its ``ts_event`` is
quarantined as ``unmapped_instrument``; a file in which no record maps to a ticker is refused.

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

Only US equities are imported: a file whose metadata names a dataset outside
:data:`US_EQUITY_DATASETS` (e.g. ``GLBX.MDP3`` futures, ``OPRA.PILLAR`` options), or that holds an
``InstrumentDefMsg`` whose ``instrument_class`` is not ``STOCK``, is refused. So is a file without
trade or OHLCV records (metadata only), a symbol that is not UTF-8 text, and a ``ts_event`` that is
not nanoseconds between 1990 and 2100.

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

from sigma9_dag.lake.importers.batch import ImportBatch
from sigma9_dag.lake.importers.common import ImportSummary, check_timestamps, no_rows, with_rows
from sigma9_dag.lake.importers.finish import import_files
from sigma9_dag.lake.writer import MAX_SAMPLES
from sigma9_runtime.errors import DataError

SOURCE = "databento"
SCHEMAS = ("trades", "ohlcv-1s", "ohlcv-1m")
"""DBN schemas this importer reads (a file without a schema, e.g. live data, may mix them)."""
US_EQUITY_DATASETS = frozenset(
    {
        # Nasdaq venues
        "XNAS.ITCH", "XNAS.BASIC", "XNAS.NLS", "XNAS.QBBO", "XBOS.ITCH", "XPSX.ITCH",
        # NYSE venues
        "XNYS.PILLAR", "XNYS.BBO", "XNYS.TRADES", "XNYS.TRADESBBO", "ARCX.PILLAR", "XASE.PILLAR",
        "XCHI.PILLAR", "XCIS.PILLAR", "XCIS.BBO", "XCIS.TRADES", "XCIS.TRADESBBO",
        # Cboe, IEX, MEMX, MIAX Pearl, Blue Ocean ATS
        "BATS.PITCH", "BATY.PITCH", "EDGA.PITCH", "EDGX.PITCH", "IEXG.TOPS", "MEMX.MEMOIR", "EPRL.DOM",
        "OCEA.MEMOIR",
        # FINRA trade reporting facilities
        "FINN.NLS", "FINY.TRADES",
        # Databento's consolidated US equities
        "DBEQ.BASIC", "EQUS.PLUS", "EQUS.ALL", "EQUS.MINI", "EQUS.SUMMARY",
    }
)  # fmt: skip
"""Databento datasets of US equities (https://databento.com/docs/venues-and-datasets): a file of any
other dataset (futures, options, other countries) is refused. Add a new US equities dataset here."""
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_CHUNK = 1 << 20
_DAY_NS = 86_400 * 1_000_000_000
_UNDEF_TIMESTAMP = 2**64 - 1  # databento_dbn.UNDEF_TIMESTAMP
_OPEN_END = 2**63 - 1  # beyond every int64 ns timestamp


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
        """Map ``instrument_id`` to ``ticker`` over [start_ns, end_ns); ``UNDEF_TIMESTAMP`` leaves a side open."""
        start_ns = 0 if start_ns == _UNDEF_TIMESTAMP else start_ns
        end_ns = _OPEN_END if end_ns == _UNDEF_TIMESTAMP else min(end_ns, _OPEN_END)
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
class _Mapped:
    """How many records of one file resolve to a ticker, and the instrument ids that do not."""

    records: int = 0
    mapped: int = 0
    unmapped_ids: set[int] = field(default_factory=set)


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


_TRADE_RECORD = np.dtype(
    [
        ("length", "u1"), ("rtype", "u1"), ("publisher_id", "<u2"), ("instrument_id", "<u4"), ("ts_event", "<u8"),
        ("price", "<i8"), ("size", "<u4"), ("action", "u1"), ("side", "u1"), ("flags", "u1"), ("depth", "u1"),
        ("ts_recv", "<u8"), ("ts_in_delta", "<i4"), ("sequence", "<u4"),
    ]
)  # fmt: skip
"""A DBN ``TradeMsg`` (rtype ``mbp-0``, 48 bytes, little-endian; ``length`` counts 4-byte words)."""
_TRADE_WORDS = _TRADE_RECORD.itemsize // 4
_MBP_0 = 0x00


def read_dbn(path: Path, batch: ImportBatch) -> None:
    """Decode one DBN file into ``batch``.

    The metadata and every record other than a trade go through :class:`databento_dbn.DBNDecoder`; runs of
    consecutive ``TradeMsg`` records (the bulk of a trades file) are read as one numpy structured array,
    field for field what the decoder's objects hold.
    """
    import databento_dbn as dbn

    ohlcv_kinds = {dbn.RType.OHLCV_1S: "1s", dbn.RType.OHLCV_1M: "1m"}
    decoder = dbn.DBNDecoder()
    symbology = _Symbology()
    trades = _trade_columns()
    bars = {"1s": _bar_columns(), "1m": _bar_columns()}
    metadata = None
    index = size = 0
    header = b""  # the DBN header and metadata, until they are decoded
    pending = b""  # record bytes after the metadata not yet read (a partial record at a chunk's end)

    def take(record: Any) -> None:
        nonlocal metadata, index
        if metadata is None:
            if not isinstance(record, dbn.Metadata):
                raise DataError(f"{path}: DBN data without metadata")
            metadata = record
            _check_metadata(path, metadata)
            symbology.add_metadata(metadata.mappings)
            return
        if isinstance(record, dbn.TradeMsg):
            trades.append(
                (record.instrument_id, record.ts_event, record.price, record.size, record.publisher_id,
                 record.sequence),
                index,
            )  # fmt: skip
        elif isinstance(record, dbn.OHLCVMsg) and record.rtype in ohlcv_kinds:
            bars[ohlcv_kinds[record.rtype]].append(
                (record.instrument_id, record.ts_event, record.open, record.high, record.low, record.close,
                 record.volume),
                index,
            )  # fmt: skip
        elif isinstance(record, dbn.SymbolMappingMsg):
            ticker = _mapped_symbol(path, index, record)
            symbology.add(record.instrument_id, record.start_ts, record.end_ts, ticker)
        else:
            if isinstance(record, dbn.InstrumentDefMsg):
                _check_instrument(path, index, metadata.dataset, record)
            batch.report.note(f"skipped_record:{type(record).__name__}")
        index += 1

    def read_records(data: bytes) -> bytes:
        """Read the complete records of ``data``; returns the bytes of a partial last record."""
        nonlocal index
        view, at = memoryview(data), 0
        while len(data) - at >= 2:
            words, rtype = data[at], data[at + 1]
            if words == _TRADE_WORDS and rtype == _MBP_0 and len(data) - at >= _TRADE_RECORD.itemsize:
                run = np.frombuffer(view[at : at + (len(data) - at) // _TRADE_RECORD.itemsize * _TRADE_RECORD.itemsize],
                                    dtype=_TRADE_RECORD)  # fmt: skip
                fits = (run["length"] == _TRADE_WORDS) & (run["rtype"] == _MBP_0)
                count = int(fits.size if fits.all() else np.argmin(fits))
                run = run[:count]
                trades.compact()  # keep record order: the objects read so far go first
                trades.blocks.append(
                    [_int64(run["instrument_id"]), _timestamps(run["ts_event"]), _int64(run["price"]),
                     _float64(run["size"]), _int32(run["publisher_id"]), _int64(run["sequence"]),
                     np.arange(index, index + count, dtype=np.int64)]
                )  # fmt: skip
                index += count
                at += count * _TRADE_RECORD.itemsize
                continue
            length = words * 4
            if length == 0 or len(data) - at < length:
                break  # corrupt (the decoder says so) or a partial record: handed to the decoder below / later
            for record in decoder.write_and_decode(bytes(view[at : at + length])):
                take(record)
            at += length
        return bytes(view[at:])

    try:
        for chunk in _chunks(path):
            size += len(chunk)
            if metadata is None:
                header += chunk
                if len(header) < 8:
                    continue
                if header[:3] != b"DBN":  # not DBN: the decoder names the problem
                    for record in decoder.write_and_decode(header):
                        take(record)
                    header = b""
                    continue
                metadata_end = 8 + int.from_bytes(header[4:8], "little")
                if len(header) < metadata_end:
                    continue
                for record in decoder.write_and_decode(header[:metadata_end]):
                    take(record)
                pending, header = header[metadata_end:], b""
                if metadata is None:
                    continue
            else:
                pending += chunk
            pending = read_records(pending)
            if pending and pending[0] == 0:  # a record of length 0: let the decoder refuse it
                for record in decoder.write_and_decode(pending):
                    take(record)
                pending = b""
            for columns in (trades, *bars.values()):
                columns.compact()
        if header or pending:
            decoder.write(header or pending)  # a partial record (or metadata): reported as truncated below
    except dbn.DBNError as e:
        raise DataError(f"{path}: corrupt DBN data after record {index} ({e})") from e
    if size == 0:
        raise no_rows(path, "empty after zstd decompression, not even metadata")
    if metadata is None:
        raise DataError(f"{path}: not a DBN file (no metadata)")
    if decoder.buffer():
        raise DataError(f"{path}: truncated DBN data ({len(decoder.buffer())} bytes of a partial record)")
    if not (trades or bars["1s"] or bars["1m"]):
        raise no_rows(path, f"metadata and {index} record(s), none of them a trade or ohlcv-1s/1m bar")
    source = str(path)
    mapped = _Mapped()
    tables: list[tuple[str, pa.Table]] = []
    if trades:
        tables.append(("trades", _trades_table(trades, symbology, batch, source, mapped)))
    for kind in ("1s", "1m"):
        if bars[kind]:
            tables.append((kind, _bars_table(bars[kind], symbology, batch, source, mapped)))
    if mapped.mapped == 0:
        ids = ", ".join(str(i) for i in sorted(mapped.unmapped_ids)[:10])
        raise DataError(
            f"{path}: none of its {mapped.records} record(s) maps to a ticker (no symbol mapping for instrument "
            f"id(s) {ids} at their ts_event; a live capture must keep its SymbolMappingMsg records)"
        )
    for kind, table in tables:
        if kind == "trades":
            batch.add_trades(table, source)
        else:
            batch.add_bars(kind, table, source)  # type: ignore[arg-type]


def _check_metadata(path: Path, metadata: Any) -> None:
    """Refuse a file whose dataset is not one of :data:`US_EQUITY_DATASETS` or whose schema is not one
    of :data:`SCHEMAS` (a file without a schema, e.g. live data, may mix them)."""
    if metadata.dataset not in US_EQUITY_DATASETS:
        raise DataError(
            f"{path}: dataset {metadata.dataset!r} is not a US equities dataset (e.g. XNAS.ITCH, EQUS.MINI); "
            "only US stocks are imported"
        )
    schema = getattr(metadata.schema, "value", metadata.schema)
    if schema is not None and schema not in SCHEMAS:
        raise DataError(f"{path}: unsupported DBN schema {schema!r} (expected one of {', '.join(SCHEMAS)})")


def _check_instrument(path: Path, index: int, dataset: str, record: Any) -> None:
    """Refuse a file defining an instrument that is not a stock (a future, an option, ...)."""
    import databento_dbn as dbn

    kind = record.instrument_class  # an InstrumentClass, or its raw character when unknown to the package
    if getattr(kind, "value", kind) != dbn.InstrumentClass.STOCK.value:
        name = getattr(kind, "name", repr(kind))
        raise DataError(
            f"{path}: record {index}: instrument {record.raw_symbol!r} of dataset {dataset} has instrument_class "
            f"{name}, not STOCK; only US stocks are imported"
        )


def _mapped_symbol(path: Path, index: int, record: Any) -> str:
    """The ticker of a ``SymbolMappingMsg``: ``stype_out_symbol``, else ``stype_in_symbol`` when the
    output is the numeric instrument id; a symbol that is not UTF-8 text raises DataError."""
    import databento_dbn as dbn

    try:
        ticker: str = record.stype_out_symbol
        if not ticker or ticker.isdigit():
            ticker = record.stype_in_symbol
    except dbn.DBNError as e:
        raise DataError(
            f"{path}: record {index}: symbol mapping of instrument {record.instrument_id}: symbol is not UTF-8 text"
        ) from e
    return ticker


def _price(fixed: np.ndarray) -> np.ndarray:
    import databento_dbn as dbn

    prices = fixed.astype(np.float64) / dbn.FIXED_PRICE_SCALE
    prices[fixed == dbn.UNDEF_PRICE] = math.nan
    return prices


def _tickers(
    instrument_ids: np.ndarray,
    ts: np.ndarray,
    rows: np.ndarray,
    symbology: _Symbology,
    batch: ImportBatch,
    source: str,
    mapped: _Mapped,
) -> tuple[np.ndarray, np.ndarray]:
    """Tickers of the records and the mask of those that resolve; unresolved ones are quarantined.

    Also checks the records' ``ts_event`` (nanoseconds of a plausible time; undefined ones are
    left to the cleaners) and counts the records that resolve in ``mapped``.
    """
    defined = ts != 0
    check_timestamps(ts[defined], rows[defined], "nanoseconds", lambda row: f"{source}: record {row}: field 'ts_event'")
    tickers = symbology.resolve(instrument_ids, ts)
    known = tickers != None  # noqa: E711 - elementwise over an object array
    unmapped = np.flatnonzero(~known)
    mapped.records += int(known.size)
    mapped.mapped += int(known.sum())
    mapped.unmapped_ids.update(int(i) for i in np.unique(instrument_ids[unmapped]))
    for i in unmapped[:MAX_SAMPLES].tolist():
        values = {"instrument_id": int(instrument_ids[i]), "ts_event": int(ts[i])}
        batch.add_dropped("unmapped_instrument", source, int(rows[i]), values)
    if unmapped.size > MAX_SAMPLES:
        batch.report.counts["unmapped_instrument"] += int(unmapped.size - MAX_SAMPLES)
    return tickers, known


def _trades_table(
    columns: _Columns, symbology: _Symbology, batch: ImportBatch, source: str, mapped: _Mapped
) -> pa.Table:
    instrument_ids, stamps, price, size, publisher, sequence, rows = columns.arrays()
    tickers, known = _tickers(instrument_ids, stamps, rows, symbology, batch, source, mapped)
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


def _bars_table(columns: _Columns, symbology: _Symbology, batch: ImportBatch, source: str, mapped: _Mapped) -> pa.Table:
    instrument_ids, stamps, open_, high, low, close, volume, rows = columns.arrays()
    tickers, known = _tickers(instrument_ids, stamps, rows, symbology, batch, source, mapped)
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


def import_databento(
    root: str | Path, paths: Sequence[str | Path], *, progress: bool = False, workers: int = 1
) -> ImportSummary:
    """Import Databento DBN files into the lake at ``root`` (all files together, or nothing).

    Parameters
    ----------
    root
        Lake root.
    paths
        DBN files of schema trades, ohlcv-1s or ohlcv-1m (``.dbn`` or ``.dbn.zst``).
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
        A file is not DBN, is truncated or corrupt, holds another schema, is not US equities, holds
        no trade or bar record, or no record of it maps to a ticker; nothing is written then.

    Examples
    --------
    >>> import_databento("data", ["xnas-trades-20250102.dbn.zst"])  # doctest: +SKIP
    """
    return import_files(root, paths, SOURCE, read_dbn, progress=progress, workers=workers)
