"""Fill the feature-stats store: per symbol-day normalization statistics of a FeatureSpec.

Work is per ticker (its 1 s and 1 m bars read once), in worker processes; the result does not
depend on the number of workers. Only (ticker, day) pairs missing from the store are computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sigma9_dag.features.batch import batch_rows
from sigma9_dag.lake.coverage import LakeCoverage, intraday_tables, lake_coverage
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.stats_store import FeatureStatsStore
from sigma9_runtime.lake.layout import LakeLayout


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


def missing_stats(
    layout: LakeLayout, spec: FeatureSpec, tickers: list[str], days: list[dt.date], coverage: LakeCoverage | None = None
) -> dict[str, tuple[dt.date, ...]]:
    """Per ticker, the ``days`` whose statistics the store lacks among those holding the spec's intraday tables."""
    store = FeatureStatsStore(layout, FeaturePlan.from_spec(spec))
    coverage = coverage if coverage is not None else lake_coverage(layout)
    held = coverage.pairs(intraday_tables(spec))
    missing = {}
    for ticker in tickers:
        have = store.read(ticker)
        wanted = tuple(d for d in days if d not in have and (ticker, d) in held)
        if wanted:
            missing[ticker] = wanted
    return missing


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
    intraday tables (:func:`missing_stats`; one pass per ticker, :func:`~sigma9_dag.features.batch.batch_rows`);
    returns how many."""
    coverage = coverage if coverage is not None else lake_coverage(layout)
    missing = missing_stats(layout, spec, tickers, days, coverage)
    label = "feature stats" if progress else None
    return batch_rows(layout, spec, {}, missing, workers=workers, progress=label, coverage=coverage)[1]
