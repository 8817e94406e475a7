"""Massive WebSocket captures: text files (optionally gzip) of JSON lines, one raw frame per line.

Each line is one frame exactly as received (a JSON array of ``T``/``A``/``AM``/``status``
messages), parsed by the runtime's parser :func:`sigma9_runtime.feeds.massive_ws.parse_frame_columnar`,
so the lab and the live container read the feed the same way.

- ``T`` -> trades: ts = ``t`` (ms -> ns), exchange = ``x``, sequence = ``q``, conditions = ``c``,
  correction 0 (the stream sends corrections as separate messages this importer does not see).
- ``A`` -> 1 s bars, ``AM`` -> 1 m bars, stamped at ``s`` (the interval start), kept as given;
  transactions = round(v / z) (``z`` is the average trade size).
- Ticker-days with trades but without ``A`` (or ``AM``) bars get them rebuilt from the trades.

Messages the parser drops are counted per reason in the report, with samples naming the file and
the 0-based line (``row``; the line number is ``row + 1``); they are never fatal. A file that is not
gzip or UTF-8 text (its first line), or whose lines are none of them JSON, raises
:class:`~sigma9_runtime.errors.DataError` naming the file.

Sanity: ``t`` and ``s`` must be milliseconds between 1990 and 2100; values that look like seconds,
microseconds or nanoseconds (the parser drops the last two as ``bad_timestamp``) raise a
``DataError`` naming the file, line and unit. A capture without frames, with only status
messages, or in which no message became a row, holds no rows: ``DataError`` too.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa

from sigma9_dag.lake.importers.batch import ImportBatch
from sigma9_dag.lake.importers.common import ImportSummary, check_timestamps, no_rows, time_unit, with_rows
from sigma9_dag.lake.importers.finish import import_files
from sigma9_runtime.errors import DataError
from sigma9_runtime.feeds.events import AggBatch, TradeBatch
from sigma9_runtime.feeds.massive_ws import parse_frame_columnar

SOURCE = "massive-ws"
_GZIP_MAGIC = b"\x1f\x8b"
_SNIPPET = 200
_NS_PER_MS = 1_000_000
_TIME_FIELDS = {"T": "t", "A": "s", "AM": "s"}
"""The field each message is stamped with (milliseconds on the wire)."""


def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as f:
        gz = f.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line) of non-blank lines; gzip errors become DataError."""
    try:
        with _open(path) as f:
            for number, line in enumerate(f, start=1):
                if line.strip():
                    yield number, line
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: corrupt or truncated gzip ({e})") from e


def _trades_table(batch: TradeBatch, rows: np.ndarray) -> pa.Table:
    n = len(batch)
    table = pa.table(
        {
            "ticker": pa.array(batch.symbols.tolist(), pa.string()),
            "ts": pa.array(batch.ts_ns, pa.int64()),
            "price": pa.array(batch.price, pa.float64()),
            "size": pa.array(batch.size, pa.float64()),
            "exchange": pa.array(batch.exchange, pa.int32()),
            "conditions": pa.array(list(batch.conditions), pa.list_(pa.int32())),
            "sequence": pa.array(batch.sequence, pa.int64()),
            "correction": pa.array(np.zeros(n, dtype=np.int32)),
        }
    )
    return with_rows(table, rows)


def _bars_table(batch: AggBatch, rows: np.ndarray) -> pa.Table:
    table = pa.table(
        {
            "ticker": pa.array(batch.symbols.tolist(), pa.string()),
            "ts": pa.array(batch.start_ns, pa.int64()),
            **{name: pa.array(getattr(batch, name), pa.float64()) for name in ("open", "high", "low", "close")},
            "volume": pa.array(batch.volume, pa.float64()),
            "vwap": pa.array(batch.vwap, pa.float64()),
            "transactions": pa.array(batch.transactions, pa.int64()),
        }
    )
    return with_rows(table, rows)


def _field_at(path: Path, name: str) -> Callable[[int], str]:
    """Where field ``name`` of a 0-based line is, as :func:`check_timestamps` names it."""
    return lambda row: f"{path}:{row + 1}: field {name!r}"


def _check_accepted_times(path: Path, key: str, ts_ns: np.ndarray, rows: np.ndarray) -> None:
    """Refuse accepted ``key`` messages whose time is not plausible milliseconds (e.g. seconds)."""
    check_timestamps(ts_ns // _NS_PER_MS, rows, "milliseconds", _field_at(path, _TIME_FIELDS[key]))


def _check_dropped_times(path: Path, number: int, line: bytes) -> None:
    """Refuse a line whose messages the parser dropped for a timestamp in another unit (µs, ns)."""
    try:
        messages = json.loads(line)
    except ValueError:
        return
    for message in messages if isinstance(messages, list) else [messages]:
        if not isinstance(message, dict) or message.get("ev") not in _TIME_FIELDS:
            continue
        name = _TIME_FIELDS[message["ev"]]
        value = message.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and time_unit(value) not in (None, "milliseconds"):
            row = np.array([number - 1], dtype=np.int64)
            check_timestamps(np.array([value], dtype=np.int64), row, "milliseconds", _field_at(path, name))


def read_capture(path: Path, batch: ImportBatch) -> None:
    """Parse one capture file into ``batch`` (trades, 1 s and 1 m bars, parser drops)."""
    source = str(path)
    trades: list[TradeBatch] = []
    seconds: list[AggBatch] = []
    minutes: list[AggBatch] = []
    rows: dict[str, list[np.ndarray]] = {"T": [], "A": [], "AM": []}
    dropped: Counter[str] = Counter()
    status = lines = malformed = 0
    for number, line in _lines(path):
        if lines == 0:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"{path}:{number}: not UTF-8 text (not a WebSocket capture?)") from e
        lines += 1
        frame = parse_frame_columnar(line)
        for key, parsed, sink in (
            ("T", frame.trades, trades),
            ("A", frame.seconds, seconds),
            ("AM", frame.minutes, minutes),
        ):
            if len(parsed):
                sink.append(parsed)  # type: ignore[arg-type]
                rows[key].append(np.full(len(parsed), number - 1, dtype=np.int64))
        status += frame.status
        malformed += frame.dropped.get("malformed_json", 0)
        if frame.dropped.get("bad_timestamp"):
            _check_dropped_times(path, number, line)
        for reason, count in frame.dropped.items():
            dropped[reason] += count
            snippet = line[:_SNIPPET].decode("utf-8", errors="replace").rstrip()
            batch.add_dropped(reason, source, number - 1, {"line": number, "frame": snippet}, count)
    if lines == 0:
        raise no_rows(path, "no frames")
    if malformed == lines:
        raise DataError(f"{path}: no line is a JSON frame (not a Massive WebSocket capture?)")
    if not (trades or seconds or minutes):
        if not dropped:
            raise no_rows(path, f"{lines} frame(s) of status messages only")
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(dropped.items()))
        raise no_rows(path, f"every message was dropped: {reasons}")
    batch.extra.setdefault("websocket", {})[source] = {
        "lines": lines,
        "status_messages": status,
        "dropped": dict(dropped),
    }

    def concat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    for key, parsed in (("T", trades), ("A", seconds), ("AM", minutes)):
        if parsed:
            stamps = np.concatenate([b.ts_ns if key == "T" else b.start_ns for b in parsed])  # type: ignore[union-attr]
            _check_accepted_times(path, key, stamps, concat(rows[key]))

    batch.add_trades(_trades_table(TradeBatch.concat(trades), concat(rows["T"])), source)
    if seconds:
        batch.add_bars("1s", _bars_table(AggBatch.concat("A", seconds), concat(rows["A"])), source)
    if minutes:
        batch.add_bars("1m", _bars_table(AggBatch.concat("AM", minutes), concat(rows["AM"])), source)


def import_massive_ws(
    root: str | Path, paths: Sequence[str | Path], *, progress: bool = False, workers: int = 1
) -> ImportSummary:
    """Import Massive WebSocket captures into the lake at ``root`` (all files together, or nothing).

    Parameters
    ----------
    root
        Lake root.
    paths
        Capture files: one raw frame per line, plain text or gzip.
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
        A file is not a capture at all (corrupt gzip, not UTF-8 text, no JSON line); nothing is
        written then. Bad frames and messages are counted, never fatal.

    Examples
    --------
    >>> import_massive_ws("data", ["capture-2025-01-02.jsonl.gz"])  # doctest: +SKIP
    """
    return import_files(root, paths, SOURCE, read_capture, progress=progress, workers=workers)
