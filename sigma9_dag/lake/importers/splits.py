"""Massive (ex-Polygon) splits reference: the JSON body of the splits endpoint, or a CSV of the same fields.

JSON
    The body of Massive's ``GET /stocks/v1/splits`` (or the deprecated ``GET /v3/reference/splits``),
    saved as received: ``{"results": [{"ticker": "ABC", "execution_date": "2025-01-03",
    "split_from": 10, "split_to": 1, "id": "..."}], "status": "OK", "request_id": "...",
    "next_url": "..."}``; or a bare JSON list of such objects. Other fields (``id``,
    ``adjustment_type``, ``historical_adjustment_factor``, ...) are ignored. A body with a
    ``next_url`` is one page of several: the report notes it (``more_pages: FILE``) so the other
    pages can be saved and imported too.
CSV
    A header with ``ticker,execution_date,split_from,split_to`` (other columns ignored), one split
    per line.

``split_from`` / ``split_to`` are the shares before / after: a 2-for-1 split is 1 / 2, a 1-for-10
reverse split 10 / 1 (Massive's convention). The lake multiplies a close before the execution date
by ``split_from / split_to`` (:mod:`sigma9_runtime.lake.closes`), so 10 / 1 multiplies it by 10.
The execution date is the first session that trades on the new basis.

Rows merge into ``reference/splits.parquet`` by (ticker, execution_date), new rows winning, through
:func:`~sigma9_dag.lake.importers.finish.finish_import` (one transaction, with a report). A row
repeated exactly is quarantined as ``duplicate_split``; the same ticker and date with two different
ratios is refused.

Bad input raises :class:`~sigma9_runtime.errors.DataError` naming the file, the row (``results[3]``
in JSON, the line in CSV) and the field: a file that is not JSON (``.json``) or not UTF-8 text, a
missing column or field, a ticker that is not a plain symbol, a date that is not ``YYYY-MM-DD``, a
``split_from`` or ``split_to`` that is not a finite number > 0, a file without rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sigma9_dag.lake.importers.batch import ImportBatch
from sigma9_dag.lake.importers.common import ImportSummary, no_rows, with_rows
from sigma9_dag.lake.importers.finish import import_files
from sigma9_runtime.errors import DataError
from sigma9_runtime.lake.layout import TICKER_PATTERN

SOURCE = "splits"
FIELDS = ("ticker", "execution_date", "split_from", "split_to")
"""Fields of a split this importer reads (the JSON object's keys, the CSV's columns)."""
_GZIP_MAGIC = b"\x1f\x8b"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class _Split:
    """One checked split with the 0-based row it came from."""

    row: int
    ticker: str
    execution_date: dt.date
    split_from: float
    split_to: float


def _text(path: Path) -> str:
    """The file's text (gzip decompressed); DataError when it is not UTF-8."""
    data = path.read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt or truncated gzip ({e})") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not UTF-8 text") from e


def _ticker(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise DataError(f"{where}: field 'ticker': {value!r} is not a symbol")
    return value


def _date(where: str, value: Any) -> dt.date:
    if isinstance(value, str) and _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise DataError(f"{where}: field 'execution_date': {value!r} is not a date YYYY-MM-DD")


def _ratio(where: str, name: str, value: Any) -> float:
    number = math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
    if not (math.isfinite(number) and number > 0):
        raise DataError(f"{where}: field {name!r}: {value!r} is not a finite number > 0 (shares before/after)")
    return number


def _split(where: str, row: int, values: dict[str, Any], batch: ImportBatch, source: str) -> _Split | None:
    """The checked split of one row; None for a symbol that is not a plain one (a preferred share's ``BACpB``, a
    warrant's: not in the lake's universe), quarantined as ``bad_ticker`` like the market importers do."""
    missing = [name for name in FIELDS if name not in values]
    if missing:
        raise DataError(f"{where}: missing field(s) {', '.join(missing)}")
    if not TICKER_PATTERN.match(_ticker(where, values["ticker"])):
        batch.add_dropped("bad_ticker", source, row, {k: values[k] for k in FIELDS})
        return None
    return _Split(
        row=row,
        ticker=_ticker(where, values["ticker"]),
        execution_date=_date(where, values["execution_date"]),
        split_from=_ratio(where, "split_from", values["split_from"]),
        split_to=_ratio(where, "split_to", values["split_to"]),
    )


def _json_splits(path: Path, text: str, batch: ImportBatch) -> list[_Split]:
    """Splits of a splits-endpoint body (``{"results": [...]}``) or of a bare JSON list."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}:{e.lineno}: not JSON ({e.msg}, column {e.colno})") from e
    if isinstance(body, dict):
        if not isinstance(body.get("results"), list):
            status = body.get("status")
            detail = body.get("error") or body.get("message")
            if "results" not in body and status not in (None, "OK", "DELAYED"):
                raise DataError(f"{path}: the response has status {status!r} and no results ({detail})")
            raise DataError(f"{path}: not a splits response (no 'results' list; keys: {', '.join(map(str, body))})")
        if body.get("next_url"):
            batch.report.note(f"more_pages: {path}")
        items, label = body["results"], "results"
    elif isinstance(body, list):
        items, label = body, ""
    else:
        raise DataError(f"{path}: not a splits response (a JSON {type(body).__name__}, expected an object or a list)")
    if not items:
        raise no_rows(path, "no results" if label else "an empty list")
    splits = []
    for i, item in enumerate(items):
        where = f"{path}: {label}[{i}]"
        if not isinstance(item, dict):
            raise DataError(f"{where}: expected an object, got {type(item).__name__}")
        split = _split(where, i, item, batch, str(path))
        if split is not None:
            splits.append(split)
    return splits


def _csv_splits(path: Path, text: str, batch: ImportBatch) -> list[_Split]:
    """Splits of a CSV with (at least) the columns of :data:`FIELDS`."""
    reader = csv.reader(text.splitlines())
    header = [name.strip() for name in next(reader, [])]
    if not header:
        raise no_rows(path, "empty, not even a header")
    missing = [name for name in FIELDS if name not in header]
    if missing:
        raise DataError(f"{path}:1: missing column(s) {', '.join(missing)} (header: {','.join(header)})")
    splits = []
    seen = False
    for values in reader:
        line = reader.line_num
        if not values or values == [""]:
            continue
        if len(values) != len(header):
            raise DataError(f"{path}:{line}: expected {len(header)} columns, got {len(values)}")
        row = dict(zip(header, (v.strip() for v in values)))
        split = _split(f"{path}:{line}", line - 2, row, batch, str(path))
        if split is not None:
            splits.append(split)
        seen = True
    if not seen:
        raise no_rows(path, "header only")
    return splits


def read_splits_file(path: Path, batch: ImportBatch) -> None:
    """Read one splits file (JSON told by its first character or a ``.json`` name, else CSV) into ``batch``."""
    text = _text(path)
    start = text.lstrip()[:1]
    if not start:
        raise no_rows(path, "only blank lines")
    is_json = start in "[{" or path.name.removesuffix(".gz").endswith(".json")
    splits = _json_splits(path, text, batch) if is_json else _csv_splits(path, text, batch)
    if not splits:
        return
    table = pa.table(
        {
            "ticker": pa.array([s.ticker for s in splits], pa.string()),
            "execution_date": pa.array([s.execution_date for s in splits], pa.date32()),
            "split_from": pa.array([s.split_from for s in splits], pa.float64()),
            "split_to": pa.array([s.split_to for s in splits], pa.float64()),
        }
    )
    rows = np.array([s.row for s in splits], dtype=np.int64)
    batch.add_splits(with_rows(table, rows), str(path))


def import_splits(
    root: str | Path, paths: Sequence[str | Path], *, progress: bool = False, workers: int = 1
) -> ImportSummary:
    """Merge Massive's splits reference into the lake at ``root`` (all files together, or nothing).

    Parameters
    ----------
    root
        Lake root.
    paths
        JSON bodies of the splits endpoint (or bare JSON lists of splits) and CSV files with
        ``ticker,execution_date,split_from,split_to``; plain or gzip.
    progress
        Show progress bars on stderr.
    workers
        Processes reading the files (1: this one; one file per task, the lake the same either way).

    Returns
    -------
    ImportSummary
        What was written (``splits``), with the report path.

    Raises
    ------
    DataError
        A file or a row is bad (see the module docstring); nothing is written then.

    Examples
    --------
    >>> import_splits("data", ["splits-2025.json"])  # doctest: +SKIP
    """
    return import_files(root, paths, SOURCE, read_splits_file, progress=progress, workers=workers)
