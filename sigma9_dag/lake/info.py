"""What a lake holds: tickers, dates, rows and coverage per table, ground-truth counts (``sigma9 lake info``)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from sigma9_dag.lake.coverage import TableCoverage, lake_coverage
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_daily, read_events, read_hard_negatives, read_splits
from sigma9_runtime.streams import LAKE_TABLES


@dataclass(frozen=True)
class LakeInfo:
    """Summary of one lake.

    ``coverage`` holds, per market table (``trades``, ``1s``, ``1m``, ``daily``), the ticker-days, tickers
    and days it covers and its first and last date (ISO, None when empty):
    :meth:`~sigma9_dag.lake.coverage.LakeCoverage.summary`.
    """

    root: str
    source: str | None
    tickers: int
    trade_days: int
    first_trade_day: str | None
    last_trade_day: str | None
    daily_first: str | None
    daily_last: str | None
    rows: dict[str, int]
    splits: int
    events: dict[str, int] = field(default_factory=dict)
    hard_negatives: int = 0
    coverage: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return self.__dict__.copy()

    def render(self) -> str:
        """Human-readable lines."""
        lines = [
            f"lake        {self.root}  (source: {self.source or 'unknown'})",
            f"tickers     {self.tickers}",
            f"trade days  {self.trade_days}"
            + (f"  ({self.first_trade_day} .. {self.last_trade_day})" if self.trade_days else "  (no trades)"),
            f"daily       {self.daily_first} .. {self.daily_last}",
        ]
        lines += [f"rows        {name:<8} {count:>14,}" for name, count in self.rows.items()]
        for name, cover in self.coverage.items():
            span = f"{cover['first']}..{cover['last']}" if cover["first"] else "-"
            lines.append(
                f"coverage    {name:<8} {cover['ticker_days']:>9,} ticker-days {cover['tickers']:>6,} tickers "
                f"{cover['days']:>5,} days  {span}"
            )
        lines.append(f"splits      {self.splits}")
        if self.events or self.hard_negatives:
            per = ", ".join(f"{k} {v}" for k, v in sorted(self.events.items()))
            lines.append(
                f"truth       events {sum(self.events.values())} ({per}); hard negatives {self.hard_negatives}"
            )
        return "\n".join(lines)


def _rows(paths: list) -> int:  # type: ignore[type-arg]
    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)


def lake_info(layout: LakeLayout) -> LakeInfo:
    """Summarize the lake at ``layout``; raise :class:`LakeError` when there is none."""
    if not layout.daily.exists() and not layout.meta.exists():
        raise LakeError(f"{layout.root}: no lake here (no {layout.daily_path} and no {layout.meta_path})")
    meta = json.loads(layout.meta.read_text()) if layout.meta.exists() else {}
    history = meta.get("history") or [{}]
    trade_files = layout.trade_files()
    days = sorted({d for _, d, _ in trade_files})
    daily = read_daily(layout) if layout.daily.exists() else None
    daily_dates = daily.column("date").to_pylist() if daily is not None else []
    coverage = lake_coverage(layout)
    rows = {
        "daily": daily.num_rows if daily is not None else 0,
        "1m": _rows([layout.bars("1m", t) for t in layout.bar_tickers("1m")]),
        "1s": _rows([layout.bars("1s", t) for t in layout.bar_tickers("1s")]),
        "trades": _rows([p for _, _, p in trade_files]),
    }
    events = read_events(layout)
    return LakeInfo(
        root=layout.location,
        source=history[-1].get("source"),
        tickers=int(coverage.frame["ticker"].nunique()),
        trade_days=len(days),
        first_trade_day=days[0].isoformat() if days else None,
        last_trade_day=days[-1].isoformat() if days else None,
        daily_first=min(daily_dates).isoformat() if daily_dates else None,
        daily_last=max(daily_dates).isoformat() if daily_dates else None,
        rows=rows,
        splits=read_splits(layout).num_rows,
        events=dict(Counter(events.column("archetype").to_pylist())),
        hard_negatives=read_hard_negatives(layout).num_rows,
        coverage={name: _coverage(coverage.summary(name)) for name in LAKE_TABLES},
    )


def _coverage(summary: TableCoverage) -> dict[str, Any]:
    return {
        "ticker_days": summary.ticker_days,
        "tickers": summary.tickers,
        "days": summary.days,
        "first": summary.first.isoformat() if summary.first is not None else None,
        "last": summary.last.isoformat() if summary.last is not None else None,
    }
