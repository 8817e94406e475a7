"""Per-ticker batch work over the lake: each ticker's bars read once, tickers spread over processes.

:func:`features_at` computes final feature rows at chosen times of many symbol-days — what the
lab's dataset needs — per ticker through :func:`~sigma9_dag.parallel.map_tickers`, with the same
offline path as everything else
(:func:`~sigma9_dag.features.offline.symbol_day_features`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sigma9_dag.features.offline import symbol_day_features
from sigma9_dag.lake.coverage import LakeCoverage, intraday_tables, lake_coverage
from sigma9_dag.parallel import map_tickers
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.normalization import DailyStats
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.stats_store import FeatureStatsStore
from sigma9_runtime.features.warmup import Warmup, add_baselines, minute_bars
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import BARS_SCHEMA, read_bars


def ticker_bars(layout: LakeLayout, ticker: str) -> dict[str, object]:
    """The ticker's whole 1 s and 1 m bar tables (empty tables where the lake has none)."""
    tables: dict[str, object] = {}
    for kind in ("1s", "1m"):
        path = layout.bars(kind, ticker)  # type: ignore[arg-type]
        tables[kind] = read_bars(layout, kind, ticker) if path.exists() else BARS_SCHEMA.empty_table()  # type: ignore[arg-type]
    return tables


def day_bars(tables: dict[str, object], day: dt.date) -> dict[str, object]:
    """The rows of ``tables`` inside ``day``'s sessions."""
    import pyarrow.compute as pc

    bounds = session_bounds(day)
    out = {}
    for kind, table in tables.items():
        ts = table.column("ts")  # type: ignore[attr-defined]
        out[kind] = table.filter(pc.and_(pc.greater_equal(ts, bounds.start), pc.less(ts, bounds.end)))  # type: ignore[attr-defined]
    return out


def day_warmup(
    plan: FeaturePlan,
    store: FeatureStatsStore,
    ticker: str,
    day: dt.date,
    bars_1m: object,
    held: dict[dt.date, DailyStats] | None = None,
) -> Warmup:
    """Warm-up of one symbol-day: baselines from its 1-minute bars (a lake table or the ticker's
    :func:`~sigma9_runtime.features.warmup.minute_bars`), normalization from the stats store (``held``: the
    ticker's stored days, read once for many days)."""
    warmup = Warmup(day)
    add_baselines(warmup, plan, ticker, bars_1m)
    warmup.norm = store.params_for(day, [ticker], None if held is None else {ticker: held})
    return warmup


@dataclass(frozen=True)
class _FeatureTask:
    root: str
    spec: FeatureSpec
    ticker: str
    steps: tuple[tuple[dt.date, np.ndarray], ...]


def _ticker_features(task: _FeatureTask) -> tuple[str, dict[dt.date, tuple[np.ndarray, np.ndarray]]]:
    layout = LakeLayout(Path(task.root))
    plan = FeaturePlan.from_spec(task.spec)
    store = FeatureStatsStore(layout, plan)
    tables = ticker_bars(layout, task.ticker)
    minutes = minute_bars(tables["1m"])
    held = store.read(task.ticker)
    out = {}
    for day, steps in task.steps:
        warmup = day_warmup(plan, store, task.ticker, day, minutes, held)
        out[day] = symbol_day_features(layout, plan, warmup, task.ticker, day, steps, day_bars(tables, day))
    return task.ticker, out


def features_at(
    layout: LakeLayout,
    spec: FeatureSpec,
    requests: dict[str, dict[dt.date, np.ndarray]],
    *,
    workers: int = 2,
    progress: str | None = None,
    coverage: LakeCoverage | None = None,
) -> dict[tuple[str, dt.date], tuple[np.ndarray, np.ndarray]]:
    """Final feature rows at grid steps: ``requests[ticker][day]`` = steps (ns, on the day's grid).

    Returns ``(ticker, day) -> (steps kept, rows)`` (columns = ``feature_names(spec)``); a (ticker, day)
    that does not hold every intraday table the spec reads (``coverage``) is left out, and under
    ``treat_halts_as: drop`` halted steps have no row. Normalization comes from the feature-stats
    store (fill it first: :func:`~sigma9_dag.features.stats.ensure_stats`).
    """
    coverage = coverage if coverage is not None else lake_coverage(layout)
    held = coverage.pairs(intraday_tables(spec))
    tasks = []
    for ticker, days in sorted(requests.items()):
        wanted = tuple(sorted((day, steps) for day, steps in days.items() if (ticker, day) in held))
        if wanted:
            tasks.append(_FeatureTask(str(layout.root), spec, ticker, wanted))
    out: dict[tuple[str, dt.date], tuple[np.ndarray, np.ndarray]] = {}
    for ticker, days in map_tickers(_ticker_features, tasks, workers=workers, progress=progress):
        for day, result in days.items():
            out[(ticker, day)] = result
    return out
