"""Warm-up sufficiency: per symbol-day, the history a FeatureSpec needs against what the lake holds.

A day's features read earlier days twice (``docs/features.md``):

* **normalization** (``normalization.lookback``, e.g. 60 trading days): the feature-stats store pools the
  symbol's statistics of earlier days that hold the spec's intraday tables (``per_symbol_rolling``; every
  symbol's for ``global``); with fewer than
  :data:`~sigma9_runtime.features.normalization.NORMALIZATION_MIN_DAYS` (5) pooled days the parameters are
  NaN and **every** feature of the day is NaN;
* **time-of-day baselines** (``zscore``'s ``<n>d_tod``, ``rvol_tod``'s ``lookback_days``): the symbol's last
  n trading days with 1-minute bars (whatever tables the spec reads); with fewer than
  :data:`~sigma9_runtime.features.baselines.BASELINE_MIN_DAYS` (5) the features that need one are NaN. They
  are NaN too while no pooled normalization day had its own baseline: such a feature has no statistics yet.

:func:`history_sufficiency` answers this from the lake's coverage alone (no feature is computed), for the
symbol-days a command processes; :class:`HistoryReport` prints it as one summary line and the worst
symbol-days. Replay, backtest, feature parity and the lab's dataset print it; their ``--strict`` refuses a
run in which a symbol-day's features would be NaN for lack of history.

The normalization count is of the days the commands fill the store with (the spec's ``lookback`` last lake
days before the day, :func:`~sigma9_dag.features.stats.normalization_days`): a store that also holds older
days of a symbol with gaps in that window may pool more of them, never fewer, so a symbol-day reported as
defined is defined.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from sigma9_dag.lake.coverage import TABLE_NAMES, LakeCoverage, intraday_tables, lake_coverage
from sigma9_runtime.calendar import is_trading_day
from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import DataError
from sigma9_runtime.features.baselines import BASELINE_MIN_DAYS
from sigma9_runtime.features.normalization import NORMALIZATION_MIN_DAYS
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.streams import enabled_sources

WORST_SHOWN = 5
"""Symbol-days a command prints under the summary line."""


@dataclass(frozen=True)
class SymbolDayHistory:
    """The history of one (ticker, day) against the spec's needs.

    Attributes
    ----------
    ticker, day
        The symbol-day.
    normalization_have
        Earlier days pooled for normalization (per symbol; every symbol's for ``global``).
    baseline_have
        Earlier trading days with 1-minute bars the baselines read, up to the longest baseline (0 when the spec
        has none).
    nan_features
        Features that are NaN all day for lack of history (all of them below 5 normalization days).
    """

    ticker: str
    day: dt.date
    normalization_have: int
    baseline_have: int
    nan_features: int


COLUMNS = ("ticker", "date", "normalization_have", "baseline_have", "nan_features")
"""Columns of :attr:`HistoryReport.frame` (the fields of :class:`SymbolDayHistory`)."""


@dataclass(frozen=True, eq=False)
class HistoryReport:
    """Warm-up sufficiency of the symbol-days a command processes (:func:`history_sufficiency`).

    Attributes
    ----------
    spec_id
        The FeatureSpec.
    features
        Its number of features.
    normalization_need
        Days of a full normalization lookback (the spec's ``normalization.lookback``, or the artifact's
        ``min_bar_history.daily`` when longer; 5 for ``global`` without a lookback).
    baseline_need
        Days of the longest time-of-day baseline (0 without baselines).
    frame
        One row per processed symbol-day, by date then ticker: ``ticker``, ``date``, ``normalization_have``,
        ``baseline_have``, ``nan_features`` (:class:`SymbolDayHistory`'s fields; columnar, so a lake of
        thousands of symbols over months stays cheap).
    """

    spec_id: str
    features: int
    normalization_need: int
    baseline_need: int
    frame: pd.DataFrame = field(repr=False)

    # --- classification -------------------------------------------------------------------------

    def is_full(self, row: SymbolDayHistory) -> bool:
        """Whether ``row`` has every day the spec asks for and no feature NaN for lack of history."""
        return (
            row.nan_features == 0
            and row.normalization_have >= self.normalization_need
            and row.baseline_have >= self.baseline_need
        )

    @cached_property
    def _short(self) -> pd.DataFrame:
        """The rows short of full history, worst first (most NaN features, then fewest days)."""
        frame = self.frame
        full = (
            (frame["nan_features"] == 0)
            & (frame["normalization_have"] >= self.normalization_need)
            & (frame["baseline_have"] >= self.baseline_need)
        )
        order = ["nan_features", "normalization_have", "baseline_have", "ticker", "date"]
        return frame[~full].sort_values(order, ascending=[False, True, True, True, True], kind="stable")

    @staticmethod
    def _objects(frame: pd.DataFrame) -> list[SymbolDayHistory]:
        return [SymbolDayHistory(*values) for values in frame[list(COLUMNS)].itertuples(index=False, name=None)]

    @cached_property
    def rows(self) -> tuple[SymbolDayHistory, ...]:
        """Every processed symbol-day, by date then ticker."""
        return tuple(self._objects(self.frame))

    @cached_property
    def short(self) -> list[SymbolDayHistory]:
        """Symbol-days with less history than the spec asks for (worst first)."""
        return self._objects(self._short)

    @cached_property
    def insufficient(self) -> list[SymbolDayHistory]:
        """Symbol-days with a feature NaN all day for lack of history (worst first)."""
        return self._objects(self._short[self._short["nan_features"] > 0])

    # --- text -------------------------------------------------------------------------------------

    def _needs(self) -> str:
        parts = [f"{self.normalization_need} normalization days"]
        if self.baseline_need:
            parts.append(f"{self.baseline_need} baseline days")
        return ", ".join(parts)

    def summary(self) -> str:
        """One line, e.g. ``warm-up (FS_x; needs 60 normalization days, 20 baseline days): 298 of 300 symbol-days
        have full history; 2 short: 2 with every feature NaN (under 5 normalization days)``."""
        total, short = len(self.frame), len(self._short)
        text = (
            f"warm-up ({self.spec_id}; needs {self._needs()}): {total - short:,} of {total:,} symbol-days have full "
            "history"
        )
        if not short:
            return text
        nan = self._short["nan_features"]
        all_nan, some_nan = int((nan == self.features).sum()), int(((nan > 0) & (nan < self.features)).sum())
        parts = [
            f"{all_nan:,} with every feature NaN (under {NORMALIZATION_MIN_DAYS} normalization days)"
            if all_nan
            else "",
            f"{some_nan:,} with their baseline features NaN" if some_nan else "",
            f"{short - all_nan - some_nan:,} with features from fewer days" if short > all_nan + some_nan else "",
        ]
        return f"{text}; {short:,} short: {', '.join(p for p in parts if p)}"

    def line(self, row: SymbolDayHistory) -> str:
        """``VXRT 2020-03-17: 0/60 normalization days, 0/20 baseline days — features NaN``."""
        text = f"{row.ticker} {row.day}: {row.normalization_have}/{self.normalization_need} normalization days"
        if self.baseline_need:
            text += f", {row.baseline_have}/{self.baseline_need} baseline days"
        if row.nan_features == self.features:
            return f"{text} — features NaN"
        if row.nan_features:
            return f"{text} — {row.nan_features} of {self.features} features NaN"
        return f"{text} — features from fewer days"

    def worst(self, n: int = WORST_SHOWN) -> list[str]:
        """Lines of the ``n`` symbol-days with the least history (most NaN features first)."""
        return [self.line(r) for r in self._objects(self._short.head(n))]

    def lines(self, n: int = WORST_SHOWN) -> list[str]:
        """What a command prints: the summary and the worst ``n`` symbol-days (nothing when all are full)."""
        if not len(self._short):
            return []
        return [self.summary(), *(f"  {line}" for line in self.worst(n))]

    def check(self, *, strict: bool) -> None:
        """``--strict``: raise :meth:`refusal` as a :class:`~sigma9_runtime.errors.DataError` when a symbol-day's
        features would be NaN for lack of history (nothing when ``strict`` is False)."""
        if strict and self.insufficient:
            raise DataError(self.refusal())

    def refusal(self) -> str:
        """The one-line refusal of ``--strict``."""
        bad = self._short[self._short["nan_features"] > 0]
        first = self.line(self._objects(bad.head(1))[0]) if len(bad) else ""
        return (
            f"--strict: {len(bad):,} of {len(self.frame):,} symbol-days lack the history {self.spec_id} needs "
            f"(features NaN), e.g. {first}; import earlier days or score later ones"
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: needs, counts, the summary and every short symbol-day (worst first)."""
        short = self._short
        return {
            "feature_spec": self.spec_id,
            "normalization_need": self.normalization_need,
            "baseline_need": self.baseline_need,
            "min_days": {"normalization": NORMALIZATION_MIN_DAYS, "baseline": BASELINE_MIN_DAYS},
            "symbol_days": len(self.frame),
            "full": len(self.frame) - len(short),
            "short": len(short),
            "insufficient": int((short["nan_features"] > 0).sum()),
            "summary": self.summary(),
            "short_symbol_days": [
                {
                    "ticker": ticker,
                    "date": day.isoformat(),
                    "normalization_days": int(norm),
                    "baseline_days": int(base),
                    "nan_features": int(nan),
                }
                for ticker, day, norm, base, nan in short[list(COLUMNS)].itertuples(index=False, name=None)
            ],
        }


# --- the computation ----------------------------------------------------------------------------------


def manifest_history_days(manifest: ArtifactManifest) -> int | None:
    """Daily history an artifact asks for (``compatibility.min_bar_history.daily``, in days), if in days."""
    daily = manifest.compatibility.min_bar_history.daily
    return None if daily.is_intraday else daily.days


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _ordinals(days: Iterable[dt.date]) -> np.ndarray:
    """Sorted distinct day ordinals of ``days``."""
    values = pd.to_datetime(pd.Series(list(days), dtype=object)).to_numpy(dtype="datetime64[D]")
    return np.unique(values.astype(np.int64) + _EPOCH_ORDINAL)


def _per_ticker(tickers: pd.Series, ordinals: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Per ticker: the sorted day ordinals of the rows in ``mask``."""
    picked = ordinals[mask]
    return {ticker: np.unique(picked[index]) for ticker, index in tickers[mask].groupby(tickers[mask]).indices.items()}


@dataclass(frozen=True)
class _Lake:
    """The coverage as sorted day ordinals: lake days of the spec, and per ticker its held and 1-minute days."""

    days: np.ndarray
    held: dict[str, np.ndarray]
    minute: dict[str, np.ndarray]

    @classmethod
    def of(cls, coverage: LakeCoverage, spec: FeatureSpec) -> _Lake:
        frame = coverage.frame
        held = np.ones(len(frame), dtype=bool)
        for table in intraday_tables(spec):
            held &= frame[table].to_numpy(dtype=bool)
        ordinals = np.empty(0, np.int64)
        if len(frame):
            days, inverse = np.unique(frame["date"].to_numpy(), return_inverse=True)
            ordinals = np.array([d.toordinal() for d in days], dtype=np.int64)[inverse]
            trading = np.array([is_trading_day(d) for d in days], dtype=bool)[inverse]
        else:
            trading = np.empty(0, dtype=bool)
        minute = frame["1m"].to_numpy(dtype=bool) & trading  # baselines walk trading days only
        tickers = frame["ticker"].reset_index(drop=True)
        return cls(
            np.unique(ordinals[held]), _per_ticker(tickers, ordinals, held), _per_ticker(tickers, ordinals, minute)
        )

    def minute_days_before(self, ticker: str, days: np.ndarray) -> np.ndarray:
        """Per day (ordinals): trading days with 1-minute bars of ``ticker`` before it."""
        minute = self.minute.get(ticker, np.empty(0, np.int64))
        return np.searchsorted(minute, days)

    def pooled(self, ticker: str, days: np.ndarray, lookback: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Per day (ordinals): how many of ``ticker``'s held days fall among the ``lookback`` lake days before it,
        and the last of them (-1 when none)."""
        held = self.held.get(ticker, np.empty(0, np.int64))
        end = np.searchsorted(self.days, days)
        if lookback is None or not self.days.size:
            start = np.full(days.shape, np.iinfo(np.int64).min)
        else:
            start = self.days[np.maximum(end - lookback, 0)]
        lo, hi = np.searchsorted(held, start), np.searchsorted(held, days)
        last = np.where(hi > lo, held[np.maximum(hi - 1, 0)] if held.size else -1, -1)
        return np.maximum(hi - lo, 0), last


def _baseline_groups(plan: FeaturePlan) -> list[tuple[int, int]]:
    """Per distinct baseline set of the features: (features using it, its shortest lookback). A day's baselines of a
    set are defined from ``BASELINE_MIN_DAYS`` days with 1-minute bars on, if the shortest lookback reaches that."""
    groups = Counter(feature.baselines for feature in plan.features if feature.baselines)
    return [(count, min(key.lookback_days for key in keys)) for keys, count in groups.items()]


def _baselines_defined(minute_days: np.ndarray, shortest: int) -> np.ndarray:
    """``tod_baseline``'s rule: fewer than ``BASELINE_MIN_DAYS`` days (of at most ``shortest``) give NaN."""
    return np.minimum(minute_days, shortest) >= BASELINE_MIN_DAYS


def _nan_features(plan: FeaturePlan, pooled: np.ndarray, today: np.ndarray, had_stats: list[np.ndarray]) -> np.ndarray:
    """Per day: features NaN all day. All of them below the normalization minimum; else those whose baselines
    are undefined today (``today[g]``) or were on every pooled day (``had_stats[g]`` false: no statistics of
    them yet, their pooled mean is NaN)."""
    nan = np.zeros(pooled.shape, dtype=np.int64)
    for (count, _), ok, had in zip(_baseline_groups(plan), today, had_stats, strict=True):
        nan += np.where(ok & had, 0, count)
    return np.where(pooled < NORMALIZATION_MIN_DAYS, len(plan.features), nan)


def history_sufficiency(
    lake: LakeLayout | LakeCoverage,
    spec: FeatureSpec,
    days: Iterable[dt.date] | None = None,
    tickers: Iterable[str] | None = None,
    *,
    min_history_days: int | None = None,
    held_only: bool = True,
) -> HistoryReport:
    """The history each processed symbol-day has against what ``spec`` needs.

    Parameters
    ----------
    lake
        The lake (its coverage is read) or its :class:`~sigma9_dag.lake.coverage.LakeCoverage`.
    spec
        The FeatureSpec.
    days
        The days processed (default: every day holding the spec's intraday tables).
    tickers
        The symbols processed (default: all). Only the symbol-days holding every intraday table the spec reads
        are reported: the others produce no feature row at all.
    min_history_days
        An artifact's daily history (:func:`manifest_history_days`); raises the normalization need when longer.
    held_only
        False: report every asked (ticker, day), held or not, e.g. a WebSocket capture of a day the lake lacks
        (its warm-up still comes from the lake's earlier days).

    Returns
    -------
    HistoryReport
        Per symbol-day: normalization and baseline days had, and the features NaN for lack of history.

    Examples
    --------
    >>> report = history_sufficiency(LakeLayout(Path("data")), spec, [dt.date(2025, 4, 29)])  # doctest: +SKIP
    >>> print("\\n".join(report.lines()))  # doctest: +SKIP
    """
    coverage = lake if isinstance(lake, LakeCoverage) else lake_coverage(lake)
    plan = FeaturePlan.from_spec(spec)
    held = _Lake.of(coverage, spec)
    lookback = spec.normalization.lookback.days if spec.normalization.lookback is not None else None
    norm_need = max(lookback or NORMALIZATION_MIN_DAYS, min_history_days or 0)
    baseline_need = max((key.lookback_days for key in plan.baselines), default=0)
    asked = _ordinals(days) if days is not None else held.days
    groups = _baseline_groups(plan)
    pooled_everyone = None
    if spec.normalization.mode == "global":  # every symbol's days pool into one set of parameters
        pooled_everyone = np.zeros(asked.shape, dtype=np.int64)
        had_everyone = [np.zeros(asked.shape, dtype=bool) for _ in groups]
        for ticker in held.held:
            count, last = held.pooled(ticker, asked, lookback)
            pooled_everyone += count
            before_last = held.minute_days_before(ticker, last)
            for had, (_, shortest) in zip(had_everyone, groups, strict=True):
                had |= (last >= 0) & _baselines_defined(before_last, shortest)
    parts: list[tuple[str, tuple[np.ndarray, ...]]] = []
    wanted = sorted(held.held if tickers is None else set(tickers))
    if held_only:
        wanted = [t for t in wanted if t in held.held]
    for ticker in wanted:
        # only the days the symbol holds make feature rows (unless the frames come from elsewhere)
        on = asked[np.isin(asked, held.held[ticker])] if held_only else asked
        if not on.size:
            continue
        minute_days = held.minute_days_before(ticker, on)
        today = [_baselines_defined(minute_days, shortest) for _, shortest in groups]
        if pooled_everyone is None:
            pooled, last = held.pooled(ticker, on, lookback)
            before_last = held.minute_days_before(ticker, last)
            had_stats = [(last >= 0) & _baselines_defined(before_last, shortest) for _, shortest in groups]
        else:
            index = np.searchsorted(asked, on)
            pooled, had_stats = pooled_everyone[index], [had[index] for had in had_everyone]
        nan = _nan_features(plan, pooled, today, had_stats)
        parts.append((ticker, (on, pooled, np.minimum(minute_days, baseline_need), nan)))
    columns = [np.concatenate([p[1][i] for p in parts]) if parts else np.empty(0, np.int64) for i in range(4)]
    frame = pd.DataFrame(
        {
            "ticker": np.repeat(
                np.array([t for t, _ in parts], dtype=object), np.array([p[1][0].size for p in parts], dtype=np.int64)
            ),
            **{name: column.astype(np.int64) for name, column in zip(COLUMNS[1:], columns, strict=True)},
        }
    ).sort_values(["date", "ticker"], ignore_index=True)
    ordinals, inverse = np.unique(frame["date"].to_numpy(), return_inverse=True)
    frame["date"] = np.array([dt.date.fromordinal(int(d)) for d in ordinals] + [None], dtype=object)[:-1][inverse]
    return HistoryReport(spec.id, len(plan.features), norm_need, baseline_need, frame)


# --- which lake days a spec can use -------------------------------------------------------------------


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def usable_days_note(coverage: LakeCoverage, spec: FeatureSpec) -> str:
    """Which lake days count for ``spec`` and why the others do not, e.g. ``3 of 126 lake days are usable for
    FS_x (the days holding trades and 1-second bars, which its tick and bar_1s sources read; the other 123
    have no trades)``."""
    tables = intraday_tables(spec)
    frame = coverage.frame
    total = int(frame["date"].nunique()) if len(frame) else 0
    usable = set(coverage.days(tables))
    sources = [s for s in enabled_sources(spec) if s != "daily"]
    names = _and([TABLE_NAMES[t] for t in tables])
    text = (
        f"{len(usable)} of {total} lake days are usable for {spec.id} (the days holding {names}, "
        f"which its {_and(sources)} source{'s' if len(sources) > 1 else ''} read"
    )
    others = frame[~frame["date"].isin(usable)]
    if not len(others):
        return text + ")"
    per_day = others.groupby("date")[list(tables)].any()
    reasons = [f"{int((~per_day[t]).sum())} without {TABLE_NAMES[t]}" for t in tables if (~per_day[t]).any()]
    apart = int(per_day.all(axis=1).sum())
    if apart:
        reasons.append(f"{apart} with them on no one ticker")
    return text + f"; the other {len(per_day)}: {', '.join(reasons)})"
