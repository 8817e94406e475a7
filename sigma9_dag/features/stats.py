"""Fill the feature-stats store: per symbol-day normalization statistics of a FeatureSpec.

Work is per ticker (its 1 s and 1 m bars read once), in worker processes; the result does not
depend on the number of workers. Only (ticker, day) pairs missing from the store are computed.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from sigma9_dag.features.offline import symbol_day_stats
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.normalization import DailyStats
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.stats_store import FeatureStatsStore
from sigma9_runtime.features.warmup import Warmup, add_baselines
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import BARS_SCHEMA, read_bars


@dataclass(frozen=True)
class _Task:
    root: str
    spec: FeatureSpec
    ticker: str
    days: tuple[dt.date, ...]


def _slice(table: object, day: dt.date) -> object:
    import pyarrow.compute as pc

    bounds = session_bounds(day)
    ts = table.column("ts")  # type: ignore[attr-defined]
    mask = pc.and_(pc.greater_equal(ts, bounds.start), pc.less(ts, bounds.end))
    return table.filter(mask)  # type: ignore[attr-defined]


def _ticker_stats(task: _Task) -> tuple[str, dict[dt.date, DailyStats]]:
    layout = LakeLayout(Path(task.root))
    plan = FeaturePlan.from_spec(task.spec)
    tables = {}
    for kind in ("1s", "1m"):
        path = layout.bars(kind, task.ticker)  # type: ignore[arg-type]
        tables[kind] = read_bars(layout, kind, task.ticker) if path.exists() else BARS_SCHEMA.empty_table()  # type: ignore[arg-type]
    out = {}
    for day in task.days:
        warmup = Warmup(day)
        add_baselines(warmup, plan, task.ticker, tables["1m"])
        bars = {kind: _slice(table, day) for kind, table in tables.items()}
        out[day] = symbol_day_stats(layout, plan, warmup, task.ticker, day, bars)
    return task.ticker, out


def ensure_stats(
    layout: LakeLayout,
    spec: FeatureSpec,
    tickers: list[str],
    days: list[dt.date],
    *,
    workers: int = 2,
    progress: bool = False,
) -> int:
    """Compute and store the statistics of every (ticker, day) not in the store yet; returns how many."""
    plan = FeaturePlan.from_spec(spec)
    store = FeatureStatsStore(layout, plan)
    tasks = []
    for ticker in tickers:
        have = store.read(ticker)
        missing = tuple(d for d in days if d not in have and layout.trades(ticker, d).exists())
        if missing:
            tasks.append(_Task(str(layout.root), spec, ticker, missing))
    if not tasks:
        return 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), unit="ticker", desc="feature stats")
    done = 0
    try:
        if workers <= 1:
            results = (_ticker_stats(task) for task in tasks)
            for ticker, stats in results:
                store.write(ticker, stats)
                done += len(stats)
                if bar is not None:
                    bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                for future in as_completed([pool.submit(_ticker_stats, task) for task in tasks]):
                    ticker, stats = future.result()
                    store.write(ticker, stats)
                    done += len(stats)
                    if bar is not None:
                        bar.update()
    finally:
        if bar is not None:
            bar.close()
    return done
