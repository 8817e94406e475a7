"""Per-ticker batch work over the lake: each ticker's bars read once, tickers spread over processes.

:func:`batch_rows` computes final feature rows at chosen times of many symbol-days, and the statistics of
the days the feature-stats store lacks, in one pass per ticker (each day's arrays and baselines built once;
the statistics' whole-minute raw rows reused for the wanted steps among them) — what the lab's dataset
needs — through :func:`~sigma9_dag.parallel.map_tickers`, with the same offline path as everything else
(:func:`~sigma9_dag.features.offline.arrays_features`, :func:`~sigma9_dag.features.offline.arrays_stats`).
:func:`features_at` is its rows alone.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigma9_dag.features.offline import arrays_features, arrays_stats, day_arrays
from sigma9_dag.lake.coverage import LakeCoverage, intraday_tables, lake_coverage
from sigma9_dag.parallel import days_label, map_tickers
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.normalization import DailyStats
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.stats_store import FeatureStatsStore
from sigma9_runtime.features.warmup import Warmup, add_baselines, minute_bars
from sigma9_runtime.lake.layout import LakeLayout, open_lake
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
class _TickerTask:
    lake: str
    """The lake's location (:attr:`LakeLayout.location`): every worker opens the same version."""
    spec: FeatureSpec
    ticker: str
    steps: tuple[tuple[dt.date, np.ndarray], ...]
    stats_days: tuple[dt.date, ...] = ()

    @property
    def label(self) -> str:
        """The ticker and days, as a failure names the task."""
        return days_label(self.ticker, {d for d, _ in self.steps} | set(self.stats_days))

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (for a worker process or a Dask worker) with each day's steps packed (:func:`_pack_steps`): a
        scan's steps are a regular grid, and a task is sent whole."""
        return {**self.__dict__, "steps": tuple((day, _pack_steps(steps)) for day, steps in self.steps)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["steps"] = tuple((day, _unpack_steps(steps)) for day, steps in state["steps"])
        for name, value in state.items():
            object.__setattr__(self, name, value)


def _pack_steps(steps: np.ndarray) -> np.ndarray | tuple[int, int, int] | tuple[int, bytes]:
    """Int64 steps as (first, stride, count) when evenly spaced, else as (first, the zlib-compressed differences);
    :func:`_unpack_steps` gives the same values back. A task's steps are mostly a regular grid."""
    if steps.dtype != np.int64 or steps.ndim != 1 or steps.size < 3:
        return steps
    differences = np.diff(steps)
    stride = int(differences[0])
    if stride > 0 and bool(np.all(differences == stride)):
        return int(steps[0]), stride, int(steps.size)
    return int(steps[0]), zlib.compress(differences.tobytes(), 1)


def _unpack_steps(steps: np.ndarray | tuple[int, int, int] | tuple[int, bytes]) -> np.ndarray:
    if not isinstance(steps, tuple):
        return steps
    if len(steps) == 3:
        first, stride, count = steps
        return first + stride * np.arange(count, dtype=np.int64)
    first, packed = steps
    differences = np.frombuffer(zlib.decompress(packed), dtype=np.int64)
    out = np.empty(differences.size + 1, dtype=np.int64)
    out[0] = first
    np.cumsum(differences, out=out[1:])
    out[1:] += first
    return out


def _ticker_rows(
    task: _TickerTask,
) -> tuple[str, dict[dt.date, tuple[np.ndarray, np.ndarray]], dict[dt.date, DailyStats]]:
    """One ticker's feature rows at the wanted steps and statistics of ``stats_days``, day by day in date order
    with each day's arrays and baselines built once: a day's normalization reads the statistics of the earlier
    days, stored or computed just before (per-symbol normalization only), and the statistics' whole-minute raw
    rows serve the wanted steps among them."""
    layout = open_lake(task.lake)
    plan = FeaturePlan.from_spec(task.spec)
    store = FeatureStatsStore(layout, plan)
    tables = ticker_bars(layout, task.ticker)
    minutes = minute_bars(tables["1m"])
    known = store.read(task.ticker)
    wanted = dict(task.steps)
    stats_days = set(task.stats_days)
    rows: dict[dt.date, tuple[np.ndarray, np.ndarray]] = {}
    stats: dict[dt.date, DailyStats] = {}
    for day in sorted(stats_days | wanted.keys()):
        arrays = day_arrays(layout, plan, task.ticker, day, day_bars(tables, day))
        warmup = day_warmup(plan, store, task.ticker, day, minutes, known)  # normalized by earlier days only
        whole_minutes = None
        if day in stats_days:
            stats[day], whole_minutes = arrays_stats(plan, arrays, warmup, task.ticker)
            known[day] = stats[day]
        if day in wanted:
            rows[day] = arrays_features(plan, arrays, warmup, task.ticker, wanted[day], whole_minutes)
    return task.ticker, rows, stats


def batch_rows(
    layout: LakeLayout,
    spec: FeatureSpec,
    requests: dict[str, dict[dt.date, np.ndarray]],
    stats_days: dict[str, tuple[dt.date, ...]] | None = None,
    *,
    workers: int = 2,
    progress: str | None = None,
    coverage: LakeCoverage | None = None,
) -> tuple[dict[tuple[str, dt.date], tuple[np.ndarray, np.ndarray]], int]:
    """Final feature rows at grid steps (``requests[ticker][day]`` = steps), and the statistics of
    ``stats_days[ticker]`` written to the feature-stats store, in one pass per ticker (:func:`_ticker_rows`).

    Returns ``((ticker, day) -> (steps kept, rows), statistics written)``; a (ticker, day) that does not hold
    every intraday table the spec reads (``coverage``) is left out. Statistics computed here normalize the
    later days' rows of the same pass; under ``normalization.mode: global`` (pooled over every ticker) they
    are written first and the rows computed after.
    """
    stats_days = stats_days or {}
    if stats_days and spec.normalization.mode == "global" and requests:
        _, written = batch_rows(layout, spec, {}, stats_days, workers=workers, progress=progress, coverage=coverage)
        found, _ = batch_rows(layout, spec, requests, workers=workers, progress=progress, coverage=coverage)
        return found, written
    coverage = coverage if coverage is not None else lake_coverage(layout)
    held = coverage.pairs(intraday_tables(spec))
    tasks = []
    for ticker in sorted(set(requests) | set(stats_days)):
        days = requests.get(ticker, {})
        wanted = tuple(sorted((day, steps) for day, steps in days.items() if (ticker, day) in held))
        stats = tuple(sorted(day for day in stats_days.get(ticker, ()) if (ticker, day) in held))
        if wanted or stats:
            tasks.append(_TickerTask(layout.location, spec, ticker, wanted, stats))
    store = FeatureStatsStore(layout, FeaturePlan.from_spec(spec))
    out: dict[tuple[str, dt.date], tuple[np.ndarray, np.ndarray]] = {}
    written = 0
    for ticker, days, stats in map_tickers(_ticker_rows, tasks, workers=workers, progress=progress):
        for day, result in days.items():
            out[(ticker, day)] = result
        if stats:
            store.write(ticker, stats)
            written += len(stats)
    return out, written


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
    store (fill it first: :func:`~sigma9_dag.features.stats.ensure_stats`, or in the same pass:
    :func:`batch_rows`).
    """
    return batch_rows(layout, spec, requests, workers=workers, progress=progress, coverage=coverage)[0]
