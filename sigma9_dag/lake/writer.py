"""Writing the lake: row validation with quarantine reports, and all-or-nothing transactions.

Everything a generator or importer writes goes through a :class:`LakeTransaction`: one writer at
a time (an OS lock), files written (merged with what the lake already holds) into a hidden staging
directory under the root, and on :meth:`LakeTransaction.commit` made visible all at once through a
journal (:mod:`sigma9_dag.lake.commit`). A kill at any instant leaves the lake as it was before or
as it is after the commit; the next writer (or reader) finishes or removes what was left.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sigma9_dag.lake.commit import STAGING_PREFIX, TRASH_PREFIX, CommitJournal, WriterLock, commit_staged
from sigma9_runtime.atomic import atomic_path, atomic_write_text
from sigma9_runtime.bounds import MAX_BAR_VOLUME, MAX_PRICE, MAX_TRADE_SIZE
from sigma9_runtime.errors import DataError, LakeError
from sigma9_runtime.lake.layout import BarKind, LakeLayout
from sigma9_runtime.lake.tables import (
    BARS_SCHEMA,
    DAILY_SCHEMA,
    EVENTS_SCHEMA,
    HARD_NEGATIVES_SCHEMA,
    SPLITS_SCHEMA,
    TRADES_SCHEMA,
    read_table,
)

MAX_SAMPLES = 5
ROW_COLUMN = "__row"

# --- quarantine ---------------------------------------------------------------------------------


@dataclass
class QuarantineReport:
    """Rows left out of the lake, counted per reason, with a few samples (file and row number)."""

    counts: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: Counter[str] = field(default_factory=Counter)

    def add(self, reason: str, source: str, rows: np.ndarray, table: pa.Table) -> None:
        """Record ``rows`` (positions in ``table``, as read from ``source``) under ``reason``.

        The sample's ``row`` is the 0-based data row in ``source`` (column ``__row`` when the table
        carries it, see :func:`conform`); in a CSV file with a header that is line ``row + 2``.
        """
        if rows.size == 0:
            return
        self.counts[reason] += int(rows.size)
        bucket = self.samples.setdefault(reason, [])
        for row in rows[: max(0, MAX_SAMPLES - len(bucket))]:
            values = table.slice(int(row), 1).to_pylist()[0]
            original = values.pop(ROW_COLUMN, int(row))
            values = {k: _jsonable(v) for k, v in values.items()}
            bucket.append({"source": source, "row": int(original), "values": values})

    def note(self, what: str, count: int = 1) -> None:
        """Count something worth reporting that is not a dropped row (re-sorted files, flagged days)."""
        if count:
            self.notes[what] += count

    def merge(self, other: QuarantineReport) -> None:
        """Add ``other``'s counts and samples to this report."""
        self.counts.update(other.counts)
        self.notes.update(other.notes)
        for reason, rows in other.samples.items():
            bucket = self.samples.setdefault(reason, [])
            bucket.extend(rows[: max(0, MAX_SAMPLES - len(bucket))])

    @property
    def total(self) -> int:
        """Rows quarantined in all."""
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "quarantined": dict(self.counts),
            "total_quarantined": self.total,
            "notes": dict(self.notes),
            "samples": self.samples,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value


# --- validation ---------------------------------------------------------------------------------


def conform(table: pa.Table, schema: pa.Schema, source: str) -> pa.Table:
    """Select and cast ``table``'s columns to ``schema`` plus a ``__row`` column of original row numbers;
    raise :class:`DataError` naming ``source`` and the column when one is missing or cannot be cast."""
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)} (has: {', '.join(table.column_names)})")
    columns = []
    for f in schema:
        column = table.column(f.name)
        if column.type != f.type:
            try:
                column = column.cast(f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise DataError(f"{source}: column {f.name!r} has type {column.type}, expected {f.type} ({e})") from e
        columns.append(column)
    rows = table.column(ROW_COLUMN) if ROW_COLUMN in table.column_names else pa.array(np.arange(table.num_rows))
    return pa.Table.from_arrays([*columns, rows], schema=schema.append(pa.field(ROW_COLUMN, pa.int64())))


def _finish(table: pa.Table) -> pa.Table:
    return table.drop_columns([ROW_COLUMN])


def quarantine_rows(table: pa.Table, bad: np.ndarray, reason: str, source: str, report: QuarantineReport) -> pa.Table:
    """``table`` without the rows where ``bad`` holds; those are recorded in ``report`` under ``reason``."""
    rows = np.flatnonzero(bad)
    if rows.size == 0:
        return table
    report.add(reason, source, rows, table)
    return table.filter(pa.array(~bad))


def _as_float(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)


def _nulls(table: pa.Table, names: list[str]) -> np.ndarray:
    bad = np.zeros(table.num_rows, dtype=bool)
    for name in names:
        bad |= table.column(name).is_null().to_numpy(zero_copy_only=False)
    return bad


def _outside(values: np.ndarray, high: float) -> np.ndarray:
    """Where ``values`` are NaN, infinite, non-positive or above ``high``."""
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(values) | (values <= 0) | (values > high)


def clean_trades(table: pa.Table, source: str, report: QuarantineReport) -> pa.Table:
    """Conform trades, quarantine bad rows, sort by (ts, sequence).

    Quarantined: null ticker/ts/price/size; price NaN, infinite, non-positive or above
    :data:`MAX_PRICE` (``bad_price``); size NaN, infinite, non-positive or above
    :data:`MAX_TRADE_SIZE` (``bad_size``); exact duplicates of (ticker, ts, sequence, price, size).
    """
    table = conform(table, TRADES_SCHEMA, source)
    table = quarantine_rows(table, _nulls(table, ["ticker", "ts", "price", "size"]), "null_field", source, report)
    table = quarantine_rows(table, _outside(_as_float(table, "price"), MAX_PRICE), "bad_price", source, report)
    table = quarantine_rows(table, _outside(_as_float(table, "size"), MAX_TRADE_SIZE), "bad_size", source, report)
    table = quarantine_rows(
        table, _duplicated(table, ["ticker", "ts", "sequence", "price", "size"]), "duplicate_trade", source, report
    )
    return _finish(_sorted(table, ["ticker", "ts", "sequence"], source, report))


def clean_bars(
    table: pa.Table, source: str, report: QuarantineReport, *, key: str = "ts", schema: pa.Schema = BARS_SCHEMA
) -> pa.Table:
    """Conform bars (or daily bars with ``key="date"``), quarantine bad rows, sort.

    Quarantined: null keys or prices; open, high, low, close or a known vwap NaN, infinite,
    non-positive or above :data:`MAX_PRICE` (``bad_price``; a NaN vwap means unknown and is kept);
    high < low; open or close outside [low, high]; volume negative, non-finite or above
    :data:`MAX_BAR_VOLUME` (``bad_volume``); duplicate (ticker, key) rows after the first.
    """
    table = conform(table, schema, source)
    prices = ["open", "high", "low", "close"]
    table = quarantine_rows(table, _nulls(table, ["ticker", key, *prices]), "null_field", source, report)
    bad_price = np.zeros(table.num_rows, dtype=bool)
    for name in prices:
        bad_price |= _outside(_as_float(table, name), MAX_PRICE)
    vwap = _as_float(table, "vwap")  # null or NaN: unknown, filled by the importer
    bad_price |= ~np.isnan(vwap) & _outside(vwap, MAX_PRICE)
    table = quarantine_rows(table, bad_price, "bad_price", source, report)
    o, h, l, c = (_as_float(table, n) for n in prices)
    table = quarantine_rows(table, h < l, "high_below_low", source, report)
    o, h, l, c = (_as_float(table, n) for n in prices)
    outside = (o < l) | (o > h) | (c < l) | (c > h)
    table = quarantine_rows(table, outside, "open_close_outside_range", source, report)
    volume = _as_float(table, "volume")
    with np.errstate(invalid="ignore"):
        bad_volume = ~np.isfinite(volume) | (volume < 0) | (volume > MAX_BAR_VOLUME)
    table = quarantine_rows(table, bad_volume, "bad_volume", source, report)
    table = quarantine_rows(table, _duplicated(table, ["ticker", key]), "duplicate_bar", source, report)
    return _finish(_sorted(table, ["ticker", key], source, report))


def clean_daily(table: pa.Table, source: str, report: QuarantineReport) -> pa.Table:
    """:func:`clean_bars` for daily bars (keyed by date)."""
    return clean_bars(table, source, report, key="date", schema=DAILY_SCHEMA)


def clean_splits(table: pa.Table, source: str, report: QuarantineReport) -> pa.Table:
    """Conform splits, quarantine repeated rows, sort by (ticker, execution_date) (no ``re-sorted`` note).

    The reader has already refused bad values (:mod:`sigma9_dag.lake.importers.splits`); here a row
    equal to an earlier one (same ticker, date and ratio) is quarantined as ``duplicate_split``, and
    two rows of one ticker and date with different ratios raise :class:`DataError` naming both rows.
    """
    table = conform(table, SPLITS_SCHEMA, source)
    keys = ["ticker", "execution_date"]
    table = quarantine_rows(
        table, _duplicated(table, [*keys, "split_from", "split_to"]), "duplicate_split", source, report
    )
    conflict = np.flatnonzero(_duplicated(table, keys))
    if conflict.size:
        _raise_conflicting_split(table, int(conflict[0]), source)
    # Reference rows have no time order to keep: sorted without a note.
    return _finish(table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys])))


def _raise_conflicting_split(table: pa.Table, row: int, source: str) -> None:
    """Raise a DataError naming the two rows of one ticker and date with different ratios."""
    rows = table.to_pylist()
    second = rows[row]
    first = next(r for r in rows if (r["ticker"], r["execution_date"]) == (second["ticker"], second["execution_date"]))

    def ratio(r: dict[str, Any]) -> str:
        return f"{r['split_from']:g}:{r['split_to']:g} (row {r[ROW_COLUMN]})"

    raise DataError(
        f"{source}: two splits of {second['ticker']} on {second['execution_date']} with different ratios: "
        f"{ratio(first)} and {ratio(second)} (split_from:split_to)"
    )


def _duplicated(table: pa.Table, keys: list[str]) -> np.ndarray:
    if table.num_rows == 0:
        return np.zeros(0, dtype=bool)
    indexed = table.select(keys).append_column("__row", pa.array(np.arange(table.num_rows)))
    first = indexed.group_by(keys, use_threads=False).aggregate([("__row", "min")]).column("__row_min")
    keep = np.zeros(table.num_rows, dtype=bool)
    keep[first.to_numpy()] = True
    return ~keep


def _sorted(table: pa.Table, keys: list[str], source: str, report: QuarantineReport) -> pa.Table:
    order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys]).to_numpy()
    if order.size and np.any(order != np.arange(order.size)):
        report.note(f"re-sorted: {source}")
        return table.take(pa.array(order))
    return table


# --- writing ------------------------------------------------------------------------------------


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write ``table`` to ``path`` atomically (zstd-compressed Parquet)."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _merge(existing: pa.Table | None, new: pa.Table, keys: list[str]) -> pa.Table:
    """Rows of ``new`` replace rows of ``existing`` with the same keys; result sorted by keys."""
    if existing is None or existing.num_rows == 0:
        merged = new
    else:
        combined = pa.concat_tables([new, existing])
        merged = combined.filter(pa.array(~_duplicated(combined, keys)))
    order = pc.sort_indices(merged, sort_keys=[(k, "ascending") for k in keys])
    return merged.take(order)


class LakeTransaction:
    """Stage writes to a lake and make them visible all at once on :meth:`commit`.

    With ``replace`` the transaction builds a whole new lake: nothing is merged with the lake's
    tables, and the commit swaps the lake's own tables for the staged ones.

    Opening one takes the lake's writer lock (waiting up to ``SIGMA9_LAKE_LOCK_TIMEOUT`` seconds for
    another writer) and rolls forward or removes what a killed writer left; the lock is held until
    the transaction ends, so merges read what the previous writer committed. The commit protocol
    (journal, commit window, recovery) is :mod:`sigma9_dag.lake.commit`.

    Examples
    --------
    >>> with LakeTransaction(layout) as txn:  # doctest: +SKIP
    ...     txn.write_trades_day("ABCD", day, trades)
    ...     txn.write_bars("1s", "ABCD", bars)
    ...     txn.commit(meta={"source": "synthetic"})
    """

    def __init__(self, layout: LakeLayout, *, replace: bool = False, lock_timeout: float | None = None) -> None:
        self.layout = layout
        self.replace = replace
        self._lock = WriterLock(layout.root, lock_timeout).acquire()
        self.staging_root = layout.root / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        self.staged = LakeLayout(self.staging_root, **layout.templates())
        self._files: dict[Path, None] = {}  # relative paths staged, in staging order (a dict: O(1) membership)
        self._ended = False

    def __enter__(self) -> LakeTransaction:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._ended:
            self.rollback()

    def _stage(self, final: Path, table: pa.Table, merge_keys: list[str] | None, schema: pa.Schema) -> None:
        relative = final.relative_to(self.layout.root)
        staged = self.staging_root / relative
        if merge_keys is not None:
            previous = staged if staged.exists() else (final if final.exists() and not self.replace else None)
            existing = read_table(previous, schema) if previous is not None else None
            table = _merge(existing, table, merge_keys)
        write_parquet(staged, table)
        self._files[relative] = None

    def staged_path(self, final: Path) -> Path:
        """Register ``final`` (a path under the lake root) and return where to stage it.

        For writers that produce files themselves (e.g. worker processes); the caller writes the
        complete file at the returned path (atomically, e.g. with :func:`write_parquet`) before commit.
        """
        relative = final.relative_to(self.layout.root)
        self._files[relative] = None
        return self.staging_root / relative

    def write_trades_day(self, ticker: str, day: dt.date, table: pa.Table) -> None:
        """Replace the trades of ``ticker`` on ``day`` (already cleaned, in arrival order)."""
        self._stage(self.layout.trades(ticker, day), table.cast(TRADES_SCHEMA), None, TRADES_SCHEMA)

    def write_bars(self, kind: BarKind, ticker: str, table: pa.Table) -> None:
        """Merge bars of ``ticker`` into its file (new rows win on equal ts)."""
        self._stage(self.layout.bars(kind, ticker), table.cast(BARS_SCHEMA), ["ts"], BARS_SCHEMA)

    def write_daily(self, table: pa.Table) -> None:
        """Merge daily bars into the daily table (new rows win on equal ticker and date)."""
        self._stage(self.layout.daily, table.cast(DAILY_SCHEMA), ["ticker", "date"], DAILY_SCHEMA)

    def write_splits(self, table: pa.Table) -> None:
        """Merge splits into the splits table."""
        self._stage(self.layout.splits, table.cast(SPLITS_SCHEMA), ["ticker", "execution_date"], SPLITS_SCHEMA)

    def write_events(self, table: pa.Table) -> None:
        """Replace the ground-truth events."""
        self._stage(self.layout.events, table.cast(EVENTS_SCHEMA), None, EVENTS_SCHEMA)

    def write_hard_negatives(self, table: pa.Table) -> None:
        """Replace the ground-truth hard negatives."""
        self._stage(self.layout.hard_negatives, table.cast(HARD_NEGATIVES_SCHEMA), None, HARD_NEGATIVES_SCHEMA)

    def write_report(self, name: str, report: dict[str, Any]) -> Path:
        """Stage a JSON report ``reports/<name>.json``; returns its final path."""
        final = self.layout.reports / f"{name}.json"
        staged = self.staging_root / final.relative_to(self.layout.root)
        atomic_write_text(staged, json.dumps(report, indent=2, default=_jsonable) + "\n")
        self._files[final.relative_to(self.layout.root)] = None
        return final

    def commit(self, meta: dict[str, Any] | None) -> None:
        """Make every staged file visible at once, with ``lake.json`` (its history extended by ``meta``; None:
        as staged, for a copy of another lake) last.

        A replacing transaction moves the lake's own tables (every top-level entry the layout owns)
        aside in the same commit and deletes them after it, so the lake holds exactly what this
        transaction staged; a kill at any instant leaves the old lake or the new one, never neither.
        """
        replace = self.replace
        meta_relative = self.layout.meta.relative_to(self.layout.root)
        if meta is not None:
            previous = json.loads(self.layout.meta.read_text()) if self.layout.meta.exists() and not replace else {}
            history = previous.get("history", [])
            history.append({"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **meta})
            atomic_write_text(
                self.staging_root / meta_relative,
                json.dumps({"format": 1, "history": history}, indent=2, default=_jsonable) + "\n",
            )
        elif not (self.staging_root / meta_relative).is_file():
            raise LakeError(f"{self.layout.root}: a commit without its {meta_relative} staged")
        files = [f for f in self._files if f != meta_relative]
        journal = CommitJournal(
            staging=self.staging_root.name,
            install=[f.as_posix() for f in [*files, meta_relative]],
            trash=f"{TRASH_PREFIX}{uuid.uuid4().hex[:12]}" if replace else None,
            set_aside=self.layout.owned_entries() if replace else [],
        )
        try:
            commit_staged(self.layout.root, journal)
        finally:
            self._end()

    def rollback(self) -> None:
        """Discard everything staged and let the next writer in."""
        shutil.rmtree(self.staging_root, ignore_errors=True)
        self._end()

    def _end(self) -> None:
        self._ended = True
        self._lock.release()


def iter_batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in consecutive chunks of ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
