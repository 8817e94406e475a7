"""The collected batch of one import: every file's trades, bars, daily rows and splits, conformed, quarantined
(tickers that are not plain symbols, rows of days that are not trading days) and cleaned per file by
:mod:`sigma9_dag.lake.writer`; :func:`~sigma9_dag.lake.importers.finish.finish_import` writes it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sigma9_dag.lake.importers.common import session_ordinals, trading_ordinals
from sigma9_dag.lake.writer import (
    MAX_SAMPLES,
    QuarantineReport,
    clean_bars,
    clean_daily,
    clean_splits,
    clean_trades,
    conform,
    quarantine_rows,
)
from sigma9_runtime.errors import DataError
from sigma9_runtime.lake.layout import TICKER_PATTERN, BarKind
from sigma9_runtime.lake.tables import (
    BARS_SCHEMA,
    DAILY_SCHEMA,
    TRADES_SCHEMA,
)


def _prefilter(table: pa.Table, source: str, report: QuarantineReport, *, ts: str | None, date: str | None) -> pa.Table:
    """Quarantine tickers that are not plain symbols (``bad_ticker``) and rows whose session day is
    not a trading day (``not_a_trading_day``); null fields are left to the writer's cleaners."""
    ticker = table.column("ticker")
    bad = pc.invert(pc.match_substring_regex(ticker, TICKER_PATTERN.pattern)).fill_null(False)
    table = quarantine_rows(table, bad.to_numpy(zero_copy_only=False), "bad_ticker", source, report)
    if ts is not None:
        column = table.column(ts)
        known = column.is_valid().to_numpy(zero_copy_only=False)
        ordinals = session_ordinals(column.fill_null(0).to_numpy(zero_copy_only=False))
    else:
        column = table.column(date)  # type: ignore[arg-type]
        known = column.is_valid().to_numpy(zero_copy_only=False)
        epoch_days = column.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        ordinals = epoch_days + dt.date(1970, 1, 1).toordinal()
    return quarantine_rows(table, known & ~trading_ordinals(ordinals), "not_a_trading_day", source, report)


def _group_by_ticker(table: pa.Table) -> pa.Table:
    """Rows grouped by ticker, arrival order kept within each ticker.

    A stream (WebSocket, DBN) interleaves tickers; that is not disorder. Only rows out of time
    order within one ticker make the writer's cleaners note a file as re-sorted.
    """
    if table.num_rows < 2:
        return table
    position = pa.array(np.arange(table.num_rows, dtype=np.int64))
    order = pc.sort_indices(
        pa.table({"ticker": table.column("ticker"), "position": position}),
        sort_keys=[("ticker", "ascending"), ("position", "ascending")],
    )
    return table.take(order)


# --- the collected batch ------------------------------------------------------------------------


@dataclass
class ImportBatch:
    """Everything the files of one import hold, cleaned per file.

    Bars and daily rows may carry an unknown vwap (NaN) or trade count (null); :func:`finish_import`
    fills them. Tables passed to the ``add_*`` methods may carry a ``__row`` column with the original
    row numbers that samples report (0-based data rows when absent).
    """

    source: str
    report: QuarantineReport = field(default_factory=QuarantineReport)
    files: list[str] = field(default_factory=list)
    trades: list[pa.Table] = field(default_factory=list)
    bars: dict[BarKind, list[pa.Table]] = field(default_factory=lambda: {"1s": [], "1m": []})
    daily: list[pa.Table] = field(default_factory=list)
    splits: list[pa.Table] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    _split_ratios: dict[tuple[str, dt.date], tuple[float, float, str]] = field(
        default_factory=dict, init=False, repr=False
    )  # (ticker, date) -> (split_from, split_to, file) of the splits added so far

    def add_trades(self, table: pa.Table, source: str) -> None:
        """Conform, quarantine and sort the trades read from ``source``."""
        table = _group_by_ticker(conform(table, TRADES_SCHEMA, source))
        table = _prefilter(table, source, self.report, ts="ts", date=None)
        self.trades.append(clean_trades(table, source, self.report))

    def add_bars(self, kind: BarKind, table: pa.Table, source: str) -> None:
        """Conform, quarantine and sort the ``kind`` bars read from ``source``."""
        table = _group_by_ticker(conform(table, BARS_SCHEMA, source))
        table = _prefilter(table, source, self.report, ts="ts", date=None)
        self.bars[kind].append(clean_bars(table, source, self.report))

    def add_daily(self, table: pa.Table, source: str) -> None:
        """Conform, quarantine and sort the daily bars read from ``source``."""
        table = _group_by_ticker(conform(table, DAILY_SCHEMA, source))
        table = _prefilter(table, source, self.report, ts=None, date="date")
        self.daily.append(clean_daily(table, source, self.report))

    def add_splits(self, table: pa.Table, source: str) -> None:
        """Conform the splits read from ``source`` (values already checked), quarantine repeated rows.

        A ticker and date given two different ratios, in one file or in two files of the import,
        raise :class:`~sigma9_runtime.errors.DataError`.
        """
        table = clean_splits(table, source, self.report)
        for ticker, day, split_from, split_to in zip(
            *(table.column(n).to_pylist() for n in ("ticker", "execution_date", "split_from", "split_to"))
        ):
            self._note_split(ticker, day, split_from, split_to, source)
        self.splits.append(table)

    def _note_split(self, ticker: str, day: dt.date, split_from: float, split_to: float, source: str) -> None:
        """Remember the ratio ``source`` gives a split; a ticker and date given another ratio raise."""
        known = self._split_ratios.setdefault((ticker, day), (split_from, split_to, source))
        if known[:2] != (split_from, split_to):
            raise DataError(
                f"{source}: split of {ticker} on {day} is {split_from:g}:{split_to:g} (split_from:split_to), "
                f"but {known[2]} gives {known[0]:g}:{known[1]:g}"
            )

    def merge(self, later: ImportBatch) -> None:
        """Add ``later``, the batch of files read after this one's, as if they had been read into this batch:
        tables and files in order, reports merged (samples kept first-come), a split given another ratio
        refused as :meth:`add_splits` refuses it."""
        self.report.merge(later.report)
        self.files.extend(later.files)
        self.trades.extend(later.trades)
        for kind, tables in later.bars.items():
            self.bars[kind].extend(tables)
        self.daily.extend(later.daily)
        for (ticker, day), (split_from, split_to, source) in later._split_ratios.items():
            self._note_split(ticker, day, split_from, split_to, source)
        self.splits.extend(later.splits)
        for key, value in later.extra.items():
            if isinstance(value, dict) and isinstance(self.extra.get(key), dict):
                self.extra[key].update(value)
            else:
                self.extra[key] = value

    def add_dropped(self, reason: str, source: str, row: int, values: dict[str, Any], count: int = 1) -> None:
        """Count ``count`` inputs dropped before they became rows (e.g. WebSocket messages)."""
        self.report.counts[reason] += count
        bucket = self.report.samples.setdefault(reason, [])
        if len(bucket) < MAX_SAMPLES:
            bucket.append({"source": source, "row": int(row), "values": values})
