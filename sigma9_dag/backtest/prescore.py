"""A backtest day scored ahead, in batch: the steps at which the gate can decide, and the scores the host records.

At a step where no row reaches its threshold, every row is suppressed as ``below_threshold`` without touching
the gate's state (:meth:`~sigma9_runtime.strategies.base.ScoringStrategy._gate_rows`): no alert, then or
later, depends on that step's rows. The :class:`~sigma9_dag.backtest.strategy.ScoringHost` therefore steps
the runtime online only at the steps this batch marks ``reached`` and passes over the others
(:meth:`~sigma9_runtime.strategies.base.ScoringStrategy.pass_step`), taking the baseline candidates' scores
from the batch.

The batch is the lab's offline path (:func:`~sigma9_dag.features.batch.features_at`, equal to the online
builder bit for bit: ``tests/dag/features/test_parity.py``) scored by the same plugin instance
(``score_rows`` is row-independent: a row's score does not depend on the rows scored with it). At every step
the host does score online, each candidate's score is checked against the batch's, bit for bit
(:meth:`DayScores.check`): a difference stops the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sigma9_dag.features.batch import features_at
from sigma9_dag.lake.coverage import LakeCoverage, lake_coverage
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.strategies.base import ScoringStrategy
from sigma9_runtime.strategies.candidates import ScoredCandidate
from sigma9_runtime.units import SECOND_NS

TICKERS_PER_BATCH = 16
"""Tickers whose day of feature rows is held at once (a day of one ticker is ~26 MB of rows)."""


class ScoreMismatch(RuntimeError):
    """The online runtime and the batch scored one row differently (a bug in one of them)."""


@dataclass(frozen=True)
class DayScores:
    """One day's batch scores over the host's symbols (columns) at the day's scored steps (rows)."""

    steps_ns: np.ndarray
    reached: np.ndarray
    """Per step: some row reaches its threshold, or some symbol has no batch row (the host scores it online)."""
    score: np.ndarray
    """steps x symbols: each row's score (NaN where the batch has none)."""
    kept: np.ndarray
    """Per step: the row of ``base_score`` and ``cluster_id`` holding it (-1: not kept, no baseline record)."""
    base_score: np.ndarray
    cluster_id: np.ndarray

    def check(self, step: int, candidates: Sequence[ScoredCandidate], index: dict[str, int]) -> None:
        """Raise :class:`ScoreMismatch` unless every candidate of step number ``step`` scored as in the batch."""
        for candidate in candidates:
            expected = float(self.score[step, index[candidate.symbol]])
            if not (expected == candidate.score or (np.isnan(expected) and np.isnan(candidate.score))):
                raise ScoreMismatch(
                    f"{candidate.symbol} at {candidate.ts_ns}: online score {candidate.score!r}, batch {expected!r}"
                )


class DayScorer:
    """Scores a backtest day ahead for a :class:`~sigma9_dag.backtest.strategy.ScoringHost`.

    Parameters
    ----------
    layout, spec
        The lake and FeatureSpec of the run (the feature-stats store filled for the scored days).
    plugin
        The runtime's strategy (its ``score_rows``).
    symbols
        The host's symbols, in its order (the columns of :class:`DayScores`).
    keep_every_s
        Keep base scores and clusters at the steps a multiple of this many seconds (the host's baseline
        candidates; 0 keeps none).
    workers
        Processes computing feature rows.
    """

    def __init__(
        self,
        layout: LakeLayout,
        spec: FeatureSpec,
        plugin: ScoringStrategy,
        symbols: Sequence[str],
        *,
        keep_every_s: int,
        workers: int = 1,
    ) -> None:
        self.layout = layout
        self.spec = spec
        self.plugin = plugin
        self.symbols = list(symbols)
        self.keep_every_s = keep_every_s
        self.workers = workers
        self._coverage: LakeCoverage | None = None

    def __call__(self, day: dt.date, steps_ns: np.ndarray) -> DayScores:
        """The batch scores of ``day`` at ``steps_ns`` (the host's scored steps, ascending)."""
        steps = np.asarray(steps_ns, dtype=np.int64)
        n_steps, n_symbols = steps.size, len(self.symbols)
        if self.keep_every_s:
            kept_steps = (steps // SECOND_NS) % self.keep_every_s == 0
        else:
            kept_steps = np.zeros(n_steps, bool)
        kept = np.where(kept_steps, np.cumsum(kept_steps) - 1, -1)
        n_kept = int(kept_steps.sum())
        score = np.full((n_steps, n_symbols), np.nan)
        base_score = np.full((n_kept, n_symbols), np.nan)
        cluster_id = np.full((n_kept, n_symbols), None, dtype=object)
        reached = np.zeros(n_steps, bool)
        if self._coverage is None:
            self._coverage = lake_coverage(self.layout)
        for first in range(0, n_symbols, TICKERS_PER_BATCH):
            chunk = self.symbols[first : first + TICKERS_PER_BATCH]
            requests = {ticker: {day: steps} for ticker in chunk}
            found = features_at(self.layout, self.spec, requests, workers=self.workers, coverage=self._coverage)
            for column, ticker in enumerate(chunk, start=first):
                result = found.pop((ticker, day), None)
                if result is None or not np.array_equal(result[0], steps):
                    reached[:] = True  # a row the batch does not hold: every step is scored online
                    continue
                rows = self.plugin.score_rows(result[1])
                score[:, column] = rows.score
                with np.errstate(invalid="ignore"):
                    reached |= rows.score >= rows.threshold
                base_score[:, column] = rows.base_score[kept_steps]
                cluster_id[:, column] = np.array(rows.cluster_ids, dtype=object)[kept_steps]
        return DayScores(steps, reached, score, kept, base_score, cluster_id)
