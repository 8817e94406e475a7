"""Tests of the lake importers; helpers shared by the three importer test modules."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

from sigma9_runtime.calendar import local_to_ns, session_bounds
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import (
    bars_table_from_trades,
    daily_bar_from_trades,
    read_bars,
    read_daily,
    read_trades,
)
from sigma9_runtime.units import MINUTE_NS, SECOND_NS

DAY = dt.date(2025, 1, 2)  # Thursday
NEXT_DAY = dt.date(2025, 1, 3)
HOLIDAY = dt.date(2025, 1, 1)
AGGS_HEADER = "ticker,volume,open,close,high,low,window_start,transactions"
"""Header of Massive's minute_aggs_v1 and day_aggs_v1 flat files."""


def agg_line(ticker: str, ts: int, o: float, h: float, l: float, c: float, volume: float = 1000, tx: int = 7) -> str:
    """One line of a Massive aggregates flat file."""
    return f"{ticker},{volume},{o},{c},{h},{l},{ts},{tx}"


def write_csv_gz(path: Path, header: str, lines: list[str]) -> Path:
    """A gzip CSV file of ``header`` and ``lines``."""
    path.write_bytes(gzip.compress(("\n".join([header, *lines]) + "\n").encode()))
    return path


def at(day: dt.date, clock: str) -> int:
    """ns UTC of New York wall-clock ``clock`` ("HH:MM[:SS[.ffffff]]") on ``day``."""
    return local_to_ns(day, dt.time.fromisoformat(clock))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def report_of(summary: Any) -> dict[str, Any]:
    """The JSON report an import wrote."""
    return json.loads(Path(summary.report).read_text())


def assert_bars_rebuilt_from_trades(layout: LakeLayout, ticker: str, day: dt.date) -> None:
    """The lake's 1 s and 1 m bars of the ticker-day equal the bar rule over its stored trades."""
    trades = read_trades(layout, ticker, day)
    start, end = session_bounds(day).start - 4 * 3600 * SECOND_NS, session_bounds(day).end + 4 * 3600 * SECOND_NS
    for kind, interval in (("1s", SECOND_NS), ("1m", MINUTE_NS)):
        assert read_bars(layout, kind, ticker, start, end).equals(bars_table_from_trades(trades, interval)), kind


def daily_row(layout: LakeLayout, ticker: str, day: dt.date) -> dict[str, Any]:
    """The lake's daily row of ``ticker`` on ``day``."""
    rows = [r for r in read_daily(layout).to_pylist() if r["ticker"] == ticker and r["date"] == day]
    assert len(rows) == 1, rows
    return rows[0]


def expected_daily(layout: LakeLayout, ticker: str, day: dt.date) -> dict[str, Any] | None:
    """The daily bar the bar rule gives for the stored trades of the ticker-day."""
    return daily_bar_from_trades(read_trades(layout, ticker, day), day)
