"""The ``seismograph`` plugin: the transparent heuristic of :mod:`sigma9_runtime.strategies.seismograph`
behind the ScoringStrategy call points; the lab's ``seismograph_only`` baseline.

Score = the heuristic's score of the step's feature row; one global ``threshold``; the explanation is the
heuristic's per-feature contributions (weighted, clipped z values; they sum to the weighted average z).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sigma9_runtime.strategies import seismograph
from sigma9_runtime.strategies.base import ScoringStrategy, StrategyParams
from sigma9_runtime.strategies.candidates import RowScores


class SeismographStrategyParams(StrategyParams, seismograph.SeismographParams):
    """The heuristic's constants (:class:`~sigma9_runtime.strategies.seismograph.SeismographParams`) and
    the alert threshold."""

    threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    """Score a row must reach to be an alert candidate."""

    def heuristic(self) -> seismograph.SeismographParams:
        """The heuristic's own parameter model."""
        return seismograph.SeismographParams(weights=self.weights, clip=self.clip, center=self.center, slope=self.slope)


class SeismographStrategy(ScoringStrategy):
    """Seismograph heuristic scores, gated by one threshold (see the module docstring)."""

    name = "seismograph"
    Params = SeismographStrategyParams

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._heuristic = seismograph.Heuristic(self.names, self.params.heuristic())  # type: ignore[attr-defined]

    def base_scores(self, values: np.ndarray) -> np.ndarray:
        """The heuristic's scores of feature rows."""
        return self._heuristic.score(values)

    def explain_base(self, row: np.ndarray) -> tuple[tuple[str, float], ...]:
        """The heuristic's largest contributions to one row's score."""
        k = self.params.explain_top_k
        return tuple((n, c) for n, c in self._heuristic.explain(row).top(k) if c != 0.0)

    def score_rows(self, values: np.ndarray) -> RowScores:
        base = self.base_scores(values)
        n = base.size
        return RowScores(
            score=base,
            base_score=base,
            ml_score=np.full(n, np.nan),
            threshold=np.full(n, self.params.threshold),  # type: ignore[attr-defined]
            cluster_ids=(None,) * n,
            explain=lambda i: self.explain_base(values[i]),
        )
