"""Fill the feature-stats store: per symbol-day normalization statistics of a FeatureSpec.

Work is per ticker (its 1 s and 1 m bars read once), in worker processes; the result does not
depend on the number of workers. Only (ticker, day) pairs missing from the store are computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sigma9_dag.features.batch import day_bars, ticker_bars
from sigma9_dag.features.offline import symbol_day_stats
from sigma9_dag.lake.coverage import LakeCoverage, intraday_tables, lake_coverage
from sigma9_dag.parallel import map_tickers
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.normalization import DailyStats
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.stats_store import FeatureStatsStore
from sigma9_runtime.features.warmup import Warmup, add_baselines, minute_bars
from sigma9_runtime.lake.layout import LakeLayout


@dataclass(frozen=True)
class _Task:
    root: str
    spec: FeatureSpec
    ticker: str
    days: tuple[dt.date, ...]


def _ticker_stats(task: _Task) -> tuple[str, dict[dt.date, DailyStats]]:
    layout = LakeLayout(Path(task.root))
    plan = FeaturePlan.from_spec(task.spec)
    tables = ticker_bars(layout, task.ticker)
    minutes = minute_bars(tables["1m"])
    out = {}
    for day in task.days:
        warmup = Warmup(day)
        add_baselines(warmup, plan, task.ticker, minutes)
        out[day] = symbol_day_stats(layout, plan, warmup, task.ticker, day, day_bars(tables, day))
    return task.ticker, out


def normalization_days(
    layout: LakeLayout, spec: FeatureSpec, day: dt.date, coverage: LakeCoverage | None = None
) -> list[dt.date]:
    """The lake days before ``day`` whose statistics normalize ``day``: the spec's
    ``normalization.lookback`` last ones (every earlier day without a lookback) among the days the lake
    holds the spec's intraday tables on.

    :meth:`FeatureStatsStore.params_for` reads the last ``lookback`` days *held in the store*, so
    whoever scores ``day`` (a replay, a backtest) fills these days first, and the store's earlier
    contents cannot change a score.
    """
    coverage = coverage if coverage is not None else lake_coverage(layout)
    earlier = [d for d in coverage.days(intraday_tables(spec)) if d < day]
    lookback = spec.normalization.lookback
    return earlier if lookback is None else earlier[-lookback.days :]


def ensure_day_stats(
    layout: LakeLayout,
    spec: FeatureSpec,
    tickers: list[str],
    days: Iterable[dt.date],
    *,
    also: Iterable[dt.date] = (),
    workers: int = 2,
    progress: bool = False,
    coverage: LakeCoverage | None = None,
) -> int:
    """Statistics of every day whose statistics normalize one of ``days`` (:func:`normalization_days`), and of
    the days ``also``, for ``tickers``: what a replay, a backtest or a parity check fills before it scores
    (:func:`ensure_stats`); returns how many (ticker, day) were computed."""
    coverage = coverage if coverage is not None else lake_coverage(layout)
    wanted = set(also)
    for day in days:
        wanted.update(normalization_days(layout, spec, day, coverage))
    if not wanted:
        return 0
    return ensure_stats(layout, spec, tickers, sorted(wanted), workers=workers, progress=progress, coverage=coverage)


def ensure_stats(
    layout: LakeLayout,
    spec: FeatureSpec,
    tickers: list[str],
    days: list[dt.date],
    *,
    workers: int = 2,
    progress: bool = False,
    coverage: LakeCoverage | None = None,
) -> int:
    """Compute and store the statistics of every (ticker, day) not in the store yet that holds the spec's
    intraday tables; returns how many."""
    plan = FeaturePlan.from_spec(spec)
    store = FeatureStatsStore(layout, plan)
    coverage = coverage if coverage is not None else lake_coverage(layout)
    held = coverage.pairs(intraday_tables(spec))
    tasks = []
    for ticker in tickers:
        have = store.read(ticker)
        missing = tuple(d for d in days if d not in have and (ticker, d) in held)
        if missing:
            tasks.append(_Task(str(layout.root), spec, ticker, missing))
    done = 0
    label = "feature stats" if progress else None
    for ticker, stats in map_tickers(_ticker_stats, tasks, workers=workers, progress=label):
        store.write(ticker, stats)
        done += len(stats)
    return done
