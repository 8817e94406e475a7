"""``sigma9 lake synth``: the synthetic market, written into the lake like any import.

Per ticker (one worker task each), day after day: simulate the trades on the split-adjusted
previous close, write them, build 1 s / 1 m bars and the daily bar by the one bar rule, and
measure the ground truth from the trades themselves with the event rule of
:mod:`sigma9_dag.lake.events` (first eligible trade at or above previous close +10%).

``tables`` chooses which market tables are written (``trades``, ``1s``, ``1m``, ``daily``; the daily table
and one intraday table at least). The trades are simulated either way, so a seed gives the same market
and the same ground truth whatever is written: a ``daily,1m`` lake is what a user of minute and day
aggregates holds, and its events can be compared with the trade-based truth.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sigma9_dag.lake.events import DEFAULT_ANCHOR
from sigma9_dag.lake.object_commit import writable_lake
from sigma9_dag.lake.synth.day import simulate_day
from sigma9_dag.lake.synth.plan import DayPlan, MarketPlan, make_plan
from sigma9_dag.lake.synth.universe import TickerProfile, daily_history, make_universe
from sigma9_dag.lake.writer import LakeTransaction, write_parquet
from sigma9_dag.parallel import days_label, map_tickers
from sigma9_runtime.bars import bars_from_trades
from sigma9_runtime.calendar import iter_trading_days, previous_trading_day, session_bounds
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import (
    BARS_SCHEMA,
    DAILY_SCHEMA,
    EVENTS_SCHEMA,
    HARD_NEGATIVES_SCHEMA,
    SPLITS_SCHEMA,
    eligible_trades_mask,
)
from sigma9_runtime.streams import LAKE_TABLES, LakeTable
from sigma9_runtime.units import MINUTE_NS, SECOND_NS

DAILY_FIELDS = ("open", "high", "low", "close", "volume", "vwap", "transactions")


@dataclass
class SynthSummary:
    """What one generation wrote."""

    root: str
    tickers: int
    days: int
    first_day: str
    last_day: str
    history_days: int
    warmup_days: int
    trades: int = 0
    bars_1s: int = 0
    bars_1m: int = 0
    daily: int = 0
    events: Counter[str] = field(default_factory=Counter)
    hard_negatives: int = 0
    splits: int = 0
    seconds: float = 0.0
    tables: list[str] = field(default_factory=lambda: list(LAKE_TABLES))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**self.__dict__, "events": dict(self.events)}

    def __str__(self) -> str:
        per = ", ".join(f"{k} {v}" for k, v in sorted(self.events.items()))
        counts = {"trades": f"{self.trades:,} trades", "1s": f"{self.bars_1s:,} 1s bars"}
        counts |= {"1m": f"{self.bars_1m:,} 1m bars", "daily": f"{self.daily:,} daily bars"}
        written = ", ".join(counts[t] for t in LAKE_TABLES if t in self.tables)
        return (
            f"{self.tickers} tickers x {self.days} days ({self.first_day}..{self.last_day}), "
            f"{written}; events {sum(self.events.values())} ({per}), "
            f"hard negatives {self.hard_negatives}, splits {self.splits}; {self.seconds:.1f} s"
        )


@dataclass
class TickerTask:
    """Everything a worker needs to simulate one ticker."""

    profile: TickerProfile
    days: list[dt.date]
    plans: dict[int, DayPlan]
    splits: dict[int, tuple[float, float]]
    seed: int
    anchor: float
    trade_paths: list[Path] | None
    """Where to write each day's trades (None: simulated, not written)."""
    bars_1s_path: Path | None
    bars_1m_path: Path | None

    @property
    def label(self) -> str:
        """The ticker and days, as a failure names the task."""
        return days_label(self.profile.ticker, self.days)


@dataclass
class TickerResult:
    """What a worker hands back: small tables and counts (trades and bars are already on disk)."""

    ticker: str
    daily: list[dict[str, Any]]
    events: list[dict[str, Any]]
    hard_negatives: list[dict[str, Any]]
    trades: int
    bars_1s: int
    bars_1m: int


def _bars(ticker: str, parts: list[dict[str, np.ndarray]]) -> pa.Table:
    if not parts:
        return BARS_SCHEMA.empty_table()
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    count = columns["ts"].size
    return pa.table({"ticker": pa.array([ticker] * count, pa.string()), **columns}, schema=BARS_SCHEMA)


def simulate_ticker(task: TickerTask) -> TickerResult:
    """Simulate, write and label every day of one ticker (runs in a worker process)."""
    profile = task.profile
    prev_close = profile.price
    result = TickerResult(profile.ticker, [], [], [], 0, 0, 0)
    seconds: list[dict[str, np.ndarray]] = []
    minutes: list[dict[str, np.ndarray]] = []
    for index, day in enumerate(task.days):
        split = task.splits.get(index)
        if split is not None:
            prev_close *= split[0] / split[1]
        plan = task.plans.get(index)
        simulated = simulate_day(profile, day, index, prev_close, plan, task.seed)
        trades = simulated.trades
        if task.trade_paths is not None:
            write_parquet(task.trade_paths[index], trades)
            result.trades += trades.num_rows
        keep = eligible_trades_mask(trades)
        ts = trades.column("ts").to_numpy()[keep]
        price = trades.column("price").to_numpy()[keep]
        size = trades.column("size").to_numpy()[keep]
        if task.bars_1s_path is not None:
            seconds.append(bars_from_trades(ts, price, size, SECOND_NS))
        if task.bars_1m_path is not None:
            minutes.append(bars_from_trades(ts, price, size, MINUTE_NS))
        _label(task, day, plan, simulated.onset_ns, prev_close, ts, price, result)
        start, end = session_bounds(day).regular
        regular = (ts >= start) & (ts < end)
        if regular.any():
            bar = bars_from_trades(ts[regular], price[regular], size[regular], 1 << 62)
            result.daily.append({"ticker": profile.ticker, "date": day, **{k: bar[k][0].item() for k in DAILY_FIELDS}})
            prev_close = float(bar["close"][0])
    if task.bars_1s_path is not None:
        one_second = _bars(profile.ticker, seconds)
        write_parquet(task.bars_1s_path, one_second)
        result.bars_1s = one_second.num_rows
    if task.bars_1m_path is not None:
        one_minute = _bars(profile.ticker, minutes)
        write_parquet(task.bars_1m_path, one_minute)
        result.bars_1m = one_minute.num_rows
    return result


def _label(
    task: TickerTask,
    day: dt.date,
    plan: DayPlan | None,
    onset_ns: int | None,
    prev_close: float,
    ts: np.ndarray,
    price: np.ndarray,
    result: TickerResult,
) -> None:
    """Ground truth measured from the eligible trades; a day that contradicts its plan is a bug."""
    ticker = task.profile.ticker
    threshold = prev_close * (1.0 + task.anchor)
    hits = np.flatnonzero(price >= threshold)
    where = f"synthetic market: {ticker} on {day} ({plan.kind + ' ' + plan.archetype if plan else 'quiet'})"
    if plan is not None and plan.kind == "event":
        if hits.size == 0:
            raise RuntimeError(f"{where}: the planted surge never reached +{task.anchor:.0%}")
        t0 = int(ts[hits[0]])
        onset = t0 if plan.archetype == "shock" else int(onset_ns or t0)
        if t0 < onset:
            raise RuntimeError(f"{where}: crossed +{task.anchor:.0%} before the footprint began")
        result.events.append(
            {
                "ticker": ticker,
                "date": day,
                "t0_ns": t0,
                "archetype": plan.archetype,
                "prev_close": prev_close,
                "onset_ns": onset,
            }
        )
        return
    if hits.size:
        raise RuntimeError(f"{where}: crossed +{task.anchor:.0%} without a planted event")
    if plan is not None and onset_ns is not None:
        after = np.flatnonzero(ts >= onset_ns)
        if after.size:
            peak = after[int(np.argmax(price[after]))]
            result.hard_negatives.append(
                {
                    "ticker": ticker,
                    "date": day,
                    "archetype": plan.archetype,
                    "prev_close": prev_close,
                    "onset_ns": int(onset_ns),
                    "peak_ns": int(ts[peak]),
                    "peak_pct": float(price[peak] / prev_close - 1.0),
                }
            )


def _check_arguments(tickers: int, days: int, history_days: int, workers: int) -> None:
    for name, value in (("tickers", tickers), ("days", days), ("history-days", history_days), ("workers", workers)):
        if value < 1:
            raise LakeError(f"synthetic market: --{name} must be at least 1, got {value}")


def check_tables(tables: Iterable[str]) -> list[LakeTable]:
    """The market tables to write, in :data:`~sigma9_runtime.streams.LAKE_TABLES` order; :class:`LakeError` for
    an unknown name, a list without ``daily`` (previous closes come from it) or without an intraday table."""
    names = [t.strip() for t in (tables.split(",") if isinstance(tables, str) else tables) if t.strip()]
    unknown = [t for t in names if t not in LAKE_TABLES]
    if unknown:
        raise LakeError(
            f"synthetic market: --tables: unknown table {', '.join(unknown)}; expected some of {','.join(LAKE_TABLES)}"
        )
    if "daily" not in names:
        raise LakeError("synthetic market: --tables must include daily (previous closes come from it)")
    if not set(names) & {"trades", "1s", "1m"}:
        raise LakeError("synthetic market: --tables must include an intraday table (trades, 1s or 1m)")
    return [t for t in LAKE_TABLES if t in names]


def _history_days(first: dt.date, count: int) -> list[dt.date]:
    out = [previous_trading_day(first)]
    while len(out) < count:
        out.append(previous_trading_day(out[-1]))
    return out[::-1]


def generate_synthetic_lake(
    root: Path | str,
    *,
    tickers: int = 100,
    days: int = 80,
    seed: int = 7,
    start: dt.date = dt.date(2025, 1, 2),
    history_days: int = 70,
    workers: int = 2,
    progress: bool = False,
    force: bool = False,
    anchor: float = DEFAULT_ANCHOR,
    tables: Iterable[str] = LAKE_TABLES,
) -> SynthSummary:
    """Generate a synthetic market into the lake at ``root`` (see ``docs/lake.md``).

    Parameters
    ----------
    root
        Lake root; it must not hold a lake unless ``force`` (which replaces it as one commit).
    tickers, days
        Universe size and number of trading days with intraday data, from the first trading day on
        or after ``start``.
    seed
        The market is a pure function of (seed, tickers, days, start, history_days).
    history_days
        Trading days of daily bars (no trades) before the intraday range.
    workers
        Worker processes (the result does not depend on it).
    progress
        Show a progress bar on stderr.
    tables
        The market tables to write (default all four; ``daily`` and an intraday table at least). The trades
        are simulated either way: the market and the ground truth do not depend on it.
    """
    began = time.perf_counter()
    _check_arguments(tickers, days, history_days, workers)
    written = check_tables(tables)
    with writable_lake(root) as layout:
        if (layout.meta.exists() or layout.daily.exists()) and not force:
            raise LakeError(f"{layout.location}: a lake is already there; pass --force to replace it")
        intraday = list(iter_trading_days(start, days))
        history = _history_days(intraday[0], history_days)
        universe = make_universe(seed, tickers)
        plan = make_plan(seed, tickers, days)
        summary = SynthSummary(
            root=layout.location,
            tickers=tickers,
            days=days,
            first_day=intraday[0].isoformat(),
            last_day=intraday[-1].isoformat(),
            history_days=history_days,
            warmup_days=plan.warmup_days,
            tables=list(written),
        )
        with LakeTransaction(layout, replace=force) as txn:
            tasks = [_task(txn, layout, profile, intraday, plan, seed, anchor, written) for profile in universe]
            results = _run(tasks, workers, progress)
            daily_rows = [row for p in universe for row in _history_rows(p, history, seed)]
            for result in results:
                daily_rows.extend(result.daily)
                summary.trades += result.trades
                summary.bars_1s += result.bars_1s
                summary.bars_1m += result.bars_1m
            events = sorted((e for r in results for e in r.events), key=lambda e: (e["t0_ns"], e["ticker"]))
            negatives = sorted(
                (h for r in results for h in r.hard_negatives), key=lambda h: (h["onset_ns"], h["ticker"])
            )
            splits = [
                {"ticker": universe[t].ticker, "execution_date": intraday[d], "split_from": f, "split_to": to}
                for (t, d), (f, to) in sorted(plan.splits.items())
            ]
            txn.write_daily(pa.Table.from_pylist(daily_rows, schema=DAILY_SCHEMA))
            txn.write_splits(pa.Table.from_pylist(splits, schema=SPLITS_SCHEMA))
            txn.write_events(pa.Table.from_pylist(events, schema=EVENTS_SCHEMA))
            txn.write_hard_negatives(pa.Table.from_pylist(negatives, schema=HARD_NEGATIVES_SCHEMA))
            summary.daily = len(daily_rows)
            summary.events = Counter(e["archetype"] for e in events)
            summary.hard_negatives = len(negatives)
            summary.splits = len(splits)
            summary.seconds = time.perf_counter() - began
            generator = {
                "seed": seed,
                "tickers": tickers,
                "days": days,
                "start": intraday[0].isoformat(),
                "history_days": history_days,
                "warmup_days": plan.warmup_days,
                "anchor": anchor,
                "tables": list(written),
            }
            txn.write_report("synth", {"generator": generator, "summary": summary.to_dict()})
            txn.commit(meta={"source": "synthetic", "generator": generator})
    return summary


def _history_rows(profile: TickerProfile, history: list[dt.date], seed: int) -> list[dict[str, Any]]:
    columns = daily_history(profile, history, seed)
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def _task(
    txn: LakeTransaction,
    layout: LakeLayout,
    profile: TickerProfile,
    days: list[dt.date],
    plan: MarketPlan,
    seed: int,
    anchor: float,
    tables: list[LakeTable],
) -> TickerTask:
    return TickerTask(
        profile=profile,
        days=days,
        plans={d: p for (t, d), p in plan.days.items() if t == profile.index},
        splits={d: s for (t, d), s in plan.splits.items() if t == profile.index},
        seed=seed,
        anchor=anchor,
        trade_paths=[txn.staged_path(layout.trades(profile.ticker, day)) for day in days]
        if "trades" in tables
        else None,
        bars_1s_path=txn.staged_path(layout.bars("1s", profile.ticker)) if "1s" in tables else None,
        bars_1m_path=txn.staged_path(layout.bars("1m", profile.ticker)) if "1m" in tables else None,
    )


def _run(tasks: list[TickerTask], workers: int, progress: bool) -> list[TickerResult]:
    label = "synthetic market" if progress else None
    results = list(map_tickers(simulate_ticker, tasks, workers=workers, progress=label))
    order = {task.profile.ticker: i for i, task in enumerate(tasks)}
    return sorted(results, key=lambda r: order[r.ticker])
