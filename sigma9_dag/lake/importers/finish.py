"""Finishing an import: bar and daily completion from trades, one transaction, the report.

An importer reads its files into an :class:`~sigma9_dag.lake.importers.batch.ImportBatch` (trades, bars,
daily rows and splits, each cleaned per file by :mod:`sigma9_dag.lake.writer` with rows quarantined and
counted), then calls :func:`finish_import`, which

1. merges what several files hold (duplicates across files quarantined) and groups trades by
   (ticker, New York session day); rows of days that are not trading days (``not_a_trading_day``)
   and tickers that are not plain symbols (``bad_ticker``) were quarantined on reading;
2. completes the missing: for each ticker-day of imported trades, rebuilds 1 s and 1 m bars with
   :func:`~sigma9_runtime.lake.tables.bars_table_from_trades` when the source gave no bars of that
   kind for that ticker-day, and the daily bar with
   :func:`~sigma9_runtime.lake.tables.daily_bar_from_trades` when it gave no daily row; fills an
   unknown vwap (NaN) or trade count (null) of a source bar from the bar rebuilt from the same
   import's trades, else vwap = (high + low + close) / 3 (counted as ``vwap_approximated``) and
   transactions = 0 (counted as ``transactions_unknown``);
3. writes everything in one :class:`~sigma9_dag.lake.writer.LakeTransaction` (all or nothing) with
   a report ``reports/import-<source>-<UTC time>.json``: quarantine counts and samples, re-sorted
   files, approximations, and the ticker-days that look like a split no splits row explains.

What an import holds replaces what the lake held, per ticker-day: the trades file of each
ticker-day, the 1 s / 1 m bars of each ticker-day it writes bars for (so stored bars never mix two
imports), daily rows by (ticker, date) and splits by (ticker, execution_date). Other ticker-days are
left as they were. :func:`import_files` is the importers' one driver: it refuses a 0-byte file, reads every
file into one batch and finishes it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sigma9_dag.lake.importers.batch import ImportBatch
from sigma9_dag.lake.importers.common import ImportSummary, no_rows, progress_iter, session_ordinals
from sigma9_dag.lake.object_commit import writable_lake
from sigma9_dag.lake.writer import (
    LakeTransaction,
    QuarantineReport,
    quarantine_rows,
    write_parquet,
)
from sigma9_dag.parallel import map_tickers
from sigma9_runtime.lake.closes import close_table
from sigma9_runtime.lake.layout import BarKind, LakeLayout
from sigma9_runtime.lake.tables import (
    BARS_SCHEMA,
    DAILY_SCHEMA,
    SPLITS_SCHEMA,
    TRADES_SCHEMA,
    bars_table_from_trades,
    daily_bar_from_trades,
    read_table,
)
from sigma9_runtime.registry.object_store import object_store_name
from sigma9_runtime.units import MINUTE_NS, SECOND_NS

INTERVALS: dict[BarKind, int] = {"1s": SECOND_NS, "1m": MINUTE_NS}
ACROSS_FILES = "(across files)"
"""Source named in samples of duplicates found between two files of one import."""


def _merge_across_files(
    tables: list[pa.Table], sort_keys: list[str], keys: list[str], reason: str, report: QuarantineReport
) -> pa.Table:
    """One table of several files' cleaned tables, stable-sorted by ``sort_keys``; rows repeating the
    ``keys`` of an earlier row (a duplicate across files) are quarantined under ``reason``."""
    if len(tables) == 1:
        return tables[0]
    merged = pa.concat_tables(tables)
    if merged.num_rows == 0:
        return merged
    merged = merged.take(pc.sort_indices(merged, sort_keys=[(k, "ascending") for k in sort_keys]))
    indexed = merged.select(keys).append_column("__i", pa.array(np.arange(merged.num_rows)))
    first = indexed.group_by(keys, use_threads=False).aggregate([("__i", "min")]).column("__i_min").to_numpy()
    duplicate = np.ones(merged.num_rows, dtype=bool)
    duplicate[first] = False
    return quarantine_rows(merged, duplicate, reason, ACROSS_FILES, report)


# --- finishing ----------------------------------------------------------------------------------


@dataclass
class _Groups:
    """Rows of a table sorted by ticker then time, as contiguous (ticker, day) runs."""

    table: pa.Table
    runs: dict[tuple[str, int], tuple[int, int]]

    @classmethod
    def of(cls, table: pa.Table, ordinals: np.ndarray) -> _Groups:
        runs: dict[tuple[str, int], tuple[int, int]] = {}
        if table.num_rows:
            codes = table.column("ticker").combine_chunks().dictionary_encode()
            index = codes.indices.to_numpy(zero_copy_only=False)
            names = codes.dictionary.to_pylist()
            change = np.r_[True, (index[1:] != index[:-1]) | (ordinals[1:] != ordinals[:-1])]
            starts = np.flatnonzero(change)
            ends = np.r_[starts[1:], table.num_rows]
            for start, end in zip(starts.tolist(), ends.tolist()):
                runs[(names[index[start]], int(ordinals[start]))] = (start, end)
        return cls(table, runs)

    def get(self, key: tuple[str, int]) -> pa.Table:
        start, end = self.runs[key]
        return self.table.slice(start, end - start)


def _bar_ordinals(table: pa.Table) -> np.ndarray:
    return session_ordinals(table.column("ts").to_numpy(zero_copy_only=False))


def _daily_ordinals(table: pa.Table) -> np.ndarray:
    days = table.column("date").cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    return days + dt.date(1970, 1, 1).toordinal()


def _fill_unknown(
    table: pa.Table,
    reference: pa.Table | None,
    key: str,
    notes: Counter[str],
) -> pa.Table:
    """Fill NaN vwap / null transactions of ``table`` (one ticker-day) from ``reference`` rows with
    the same ``key`` (bars rebuilt from this import's trades), else approximate."""
    vwap = table.column("vwap").to_numpy(zero_copy_only=False).astype(np.float64)
    tx_column = table.column("transactions")
    tx_known = tx_column.is_valid().to_numpy(zero_copy_only=False)
    unknown_vwap = np.isnan(vwap)
    if not unknown_vwap.any() and tx_known.all():
        return table
    transactions = tx_column.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    found = np.zeros(table.num_rows, dtype=bool)
    if reference is not None and reference.num_rows:
        ref_keys = reference.column(key).to_numpy(zero_copy_only=False)
        keys = table.column(key).to_numpy(zero_copy_only=False)
        position = {k: i for i, k in enumerate(ref_keys.tolist())}
        ref_vwap = reference.column("vwap").to_numpy(zero_copy_only=False)
        ref_tx = reference.column("transactions").to_numpy(zero_copy_only=False)
        for i, k in enumerate(keys.tolist()):
            j = position.get(k)
            if j is None:
                continue
            found[i] = True
            if unknown_vwap[i]:
                vwap[i] = ref_vwap[j]
            if not tx_known[i]:
                transactions[i] = ref_tx[j]
    approximate = unknown_vwap & ~found
    if approximate.any():
        high, low, close = (table.column(n).to_numpy(zero_copy_only=False) for n in ("high", "low", "close"))
        vwap[approximate] = (high[approximate] + low[approximate] + close[approximate]) / 3.0
        notes["vwap_approximated"] += int(approximate.sum())
    notes["vwap_from_trades"] += int((unknown_vwap & found).sum())
    notes["transactions_unknown"] += int((~tx_known & ~found).sum())
    table = table.set_column(table.schema.get_field_index("vwap"), "vwap", pa.array(vwap, pa.float64()))
    index = table.schema.get_field_index("transactions")
    return table.set_column(index, "transactions", pa.array(transactions, pa.int64()))


def _replace_bar_days(txn: LakeTransaction, kind: BarKind, ticker: str, tables: list[pa.Table], days: set[int]) -> int:
    """Stage the bar file of ``ticker`` with the bars of session ``days`` replaced by ``tables``
    (so a ticker-day's bars always come from one import); returns the rows written."""
    final = txn.layout.bars(kind, ticker)
    parts = list(tables)
    if final.exists():
        existing = read_table(final, BARS_SCHEMA)
        keep = ~np.isin(_bar_ordinals(existing), np.array(sorted(days), dtype=np.int64))
        parts.insert(0, existing.filter(pa.array(keep)))
    elif not parts:
        return 0
    table = pa.concat_tables(parts) if parts else BARS_SCHEMA.empty_table()
    table = table.take(pc.sort_indices(table, sort_keys=[("ts", "ascending")]))
    write_parquet(txn.staged_path(final), table)
    return sum(t.num_rows for t in tables)


def _report_name(layout: LakeLayout, source: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name, n = f"import-{source}-{stamp}", 1
    while (layout.reports / f"{name}.json").exists():
        n += 1
        name = f"import-{source}-{stamp}-{n}"
    return name


def _staged_or_lake(txn: LakeTransaction, staged: Path, final: Path, schema: pa.Schema) -> pa.Table | None:
    """The table this transaction staged, else the lake's, else None."""
    if staged.exists():
        return read_table(staged, schema)
    if final.exists():
        return read_table(final, schema)
    return None


def _split_suspects(txn: LakeTransaction, touched: set[tuple[str, dt.date]]) -> list[dict[str, Any]]:
    """Ticker-days of (or right after) this import's daily rows whose overnight move looks like a split that no
    splits row explains, with the split guard's evidence (:func:`sigma9_runtime.lake.closes.close_table`)."""
    daily = _staged_or_lake(txn, txn.staged.daily, txn.layout.daily, DAILY_SCHEMA)
    if daily is None:
        return []
    splits = _staged_or_lake(txn, txn.staged.splits, txn.layout.splits, SPLITS_SCHEMA)
    tickers = sorted({t for t, _ in touched})
    daily = daily.filter(pc.is_in(daily.column("ticker"), pa.array(tickers, pa.string())))
    if daily.num_rows < 2:
        return []
    table = close_table(daily, splits if splits is not None else SPLITS_SCHEMA.empty_table())
    suspects = []
    for i in np.flatnonzero(table.status == "split_suspect"):
        ticker, day, prev_date = table.ticker[i], table.date[i], table.prev_date[i]
        if (ticker, day) in touched or (ticker, prev_date) in touched:
            suspects.append(
                {
                    "ticker": ticker,
                    "date": day.isoformat(),
                    "prev_date": prev_date.isoformat(),
                    "prev_close": float(table.prev_close_raw[i]),
                    "ratio": table.split_ratio[i],
                    "price_ratio": _finite_or_none(table.price_ratio[i]),
                    "share_volume_ratio": _finite_or_none(table.share_volume_ratio[i]),
                    "dollar_volume_ratio": _finite_or_none(table.dollar_volume_ratio[i]),
                    "prior_move": _finite_or_none(table.prior_move[i]),
                    "reason": table.split_reason[i],
                }
            )
    return suspects


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def finish_import(layout: LakeLayout, batch: ImportBatch, *, progress: bool = False) -> ImportSummary:
    """Complete bars and daily rows from trades, write everything in one transaction with a report.

    See the module docstring for the rules. Returns the :class:`ImportSummary`.
    """
    report = batch.report
    notes: Counter[str] = Counter()

    trades = _merge_across_files(
        batch.trades or [TRADES_SCHEMA.empty_table()],
        ["ticker", "ts", "sequence"],
        ["ticker", "ts", "sequence", "price", "size"],
        "duplicate_trade",
        report,
    )
    trade_groups = _Groups.of(trades, session_ordinals(trades.column("ts").to_numpy(zero_copy_only=False)))

    provided: dict[BarKind, _Groups] = {}
    for kind in ("1s", "1m"):
        bar_keys = ["ticker", "ts"]
        bars = _merge_across_files(
            batch.bars[kind] or [BARS_SCHEMA.empty_table()], bar_keys, bar_keys, "duplicate_bar", report
        )
        provided[kind] = _Groups.of(bars, _bar_ordinals(bars))
    daily_keys = ["ticker", "date"]
    daily_rows = _merge_across_files(
        batch.daily or [DAILY_SCHEMA.empty_table()], daily_keys, daily_keys, "duplicate_bar", report
    )
    provided_daily = _Groups.of(daily_rows, _daily_ordinals(daily_rows))
    split_keys = ["ticker", "execution_date", "split_from", "split_to"]
    splits = _merge_across_files(
        batch.splits or [SPLITS_SCHEMA.empty_table()], split_keys, split_keys, "duplicate_split", report
    )

    out_bars: dict[BarKind, dict[str, list[pa.Table]]] = {"1s": defaultdict(list), "1m": defaultdict(list)}
    bar_days: dict[BarKind, dict[str, set[int]]] = {"1s": defaultdict(set), "1m": defaultdict(set)}
    out_daily: list[pa.Table] = []
    rebuilt_cache: dict[tuple[BarKind, str, int], pa.Table] = {}

    def rebuilt(kind: BarKind, key: tuple[str, int]) -> pa.Table | None:
        if key not in trade_groups.runs:
            return None
        cache_key = (kind, *key)
        if cache_key not in rebuilt_cache:
            rebuilt_cache[cache_key] = bars_table_from_trades(trade_groups.get(key), INTERVALS[kind])
        return rebuilt_cache[cache_key]

    keys = sorted(
        set(trade_groups.runs) | set(provided["1s"].runs) | set(provided["1m"].runs) | set(provided_daily.runs)
    )
    for key in progress_iter(keys, enabled=progress, total=len(keys), desc=f"import {batch.source}"):
        ticker, ordinal = key
        day = dt.date.fromordinal(ordinal)
        for kind in ("1s", "1m"):
            if key in provided[kind].runs:
                table = _fill_unknown(provided[kind].get(key), rebuilt(kind, key), "ts", notes)
            else:
                table = rebuilt(kind, key)
            if table is not None:
                bar_days[kind][ticker].add(ordinal)
                if table.num_rows:
                    out_bars[kind][ticker].append(table)
            rebuilt_cache.pop((kind, *key), None)
        if key in provided_daily.runs:
            reference = None
            if key in trade_groups.runs:
                bar = daily_bar_from_trades(trade_groups.get(key), day)
                reference = pa.Table.from_pylist([bar], schema=DAILY_SCHEMA) if bar is not None else None
            out_daily.append(_fill_unknown(provided_daily.get(key), reference, "date", notes))
        elif key in trade_groups.runs:
            bar = daily_bar_from_trades(trade_groups.get(key), day)
            if bar is not None:
                out_daily.append(pa.Table.from_pylist([bar], schema=DAILY_SCHEMA))

    summary = ImportSummary(source=batch.source, files=len(batch.files))
    touched_days = {(t, dt.date.fromordinal(o)) for t, o in keys}
    summary.tickers = len({t for t, _ in touched_days} | set(splits.column("ticker").to_pylist()))
    summary.days = len({d for _, d in touched_days})
    for name, count in notes.items():
        report.note(name, count)

    with LakeTransaction(layout) as txn:
        for key, (start, end) in trade_groups.runs.items():
            txn.write_trades_day(key[0], dt.date.fromordinal(key[1]), trades.slice(start, end - start))
            summary.trades += end - start
        for kind in ("1s", "1m"):
            for ticker, days in bar_days[kind].items():
                written = _replace_bar_days(txn, kind, ticker, out_bars[kind].get(ticker, []), days)
                setattr(summary, f"bars_{kind}", getattr(summary, f"bars_{kind}") + written)
        if out_daily:
            daily = pa.concat_tables(out_daily)
            txn.write_daily(daily)
            summary.daily = daily.num_rows
        if splits.num_rows:
            txn.write_splits(splits)
            summary.splits = splits.num_rows
        daily_days = {(t, dt.date.fromordinal(o)) for t, o in keys if (t, o) in provided_daily.runs}
        daily_days |= {(t, d) for t, d in touched_days if (t, d.toordinal()) in trade_groups.runs}
        suspects = _split_suspects(txn, daily_days)
        summary.quarantined = report.total
        document = {
            "source": batch.source,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": batch.files,
            "summary": {k: v for k, v in summary.__dict__.items() if k not in ("source", "report")},
            **report.to_dict(),
            "re_sorted": sorted(n.removeprefix("re-sorted: ") for n in report.notes if n.startswith("re-sorted: ")),
            "vwap_approximated": int(notes["vwap_approximated"]),
            "split_suspects": suspects,
            **batch.extra,
        }
        summary.report = txn.write_report(_report_name(layout, batch.source), document)
        txn.commit(
            meta={
                "source": f"import:{batch.source}",
                "files": batch.files,
                "report": summary.report.relative_to(layout.root).as_posix(),
            }
        )
    return summary


@dataclass(frozen=True)
class _FileRead:
    """One input file read into a batch of its own (a task of :func:`import_files`)."""

    index: int
    path: Path
    source: str
    read_file: Callable[[Path, ImportBatch], None]

    @property
    def label(self) -> str:
        """The file, as a failure names the task."""
        return str(self.path)


def _read_file(task: _FileRead) -> tuple[int, ImportBatch]:
    batch = ImportBatch(task.source)
    task.read_file(task.path, batch)
    batch.files.append(str(task.path))
    return task.index, batch


def import_files(
    root: str | Path,
    paths: Sequence[str | Path],
    source: str,
    read_file: Callable[[Path, ImportBatch], None],
    *,
    progress: bool = False,
    workers: int = 1,
) -> ImportSummary:
    """Read every file of ``paths`` into one :class:`ImportBatch` (``read_file(path, batch)``), then write
    them all together with :func:`finish_import` — all files or nothing. The importers' one driver.

    Files are read one per task on the active executor (:mod:`sigma9_dag.parallel`: ``workers`` local
    processes, 1 = in this process, or a Dask cluster), each into a batch of its own, merged in the order
    of ``paths`` (:meth:`ImportBatch.merge`): the lake is the same whatever reads them. ``read_file`` must
    be a module-level function. A 0-byte file raises :class:`~sigma9_runtime.errors.DataError` (it holds no
    rows) before any is read.
    """
    files = [Path(p) for p in paths]
    for path in files:
        if path.stat().st_size == 0:
            raise no_rows(path, "empty file, 0 bytes")
    tasks = [_FileRead(i, path, source, read_file) for i, path in enumerate(files)]
    read = dict(map_tickers(_read_file, tasks, workers=workers, progress="reading" if progress else None))
    batch = ImportBatch(source)
    for i in range(len(tasks)):
        batch.merge(read.pop(i))
    with writable_lake(root) as layout:
        summary = finish_import(layout, batch, progress=progress)
        if layout.source is not None and summary.report is not None:  # the working copy goes: name it in the lake
            summary.report = f"{object_store_name(layout.source)}/{summary.report.relative_to(layout.root).as_posix()}"
    return summary
