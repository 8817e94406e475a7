"""The ``seismograph_ml`` plugin: the seismograph base score plus the artifact's ML overlay.

Per step, for every watched row (``params`` come from ``run_config.strategy.params``):

* ``base_score``: the seismograph heuristic (:mod:`.seismograph`), always computed and reported;
* ``ml_score`` and ``cluster_id``: the verified artifact's ONNX scorer and cluster model
  (:class:`~sigma9_runtime.inference.MLInference`);
* with ``use_ml_overlay: true`` (the default) the gated score is
  ``ml_weight * ml_score + (1 - ml_weight) * base_score`` (``ml_weight`` 1.0: the model's score, as the
  lab evaluates it) against the manifest's threshold for the row's cluster (``per_cluster_min``, else
  ``global_score_min``); the explanation is the artifact's top-k linear-surrogate contributions
  (logit units), the cluster is in ``cluster_id``;
* with ``use_ml_overlay: false`` the plugin behaves as ``seismograph`` (its threshold and explanation)
  and reports the model's score beside it when an artifact is loaded (shadow mode).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sigma9_runtime.strategies.base import StrategyParams
from sigma9_runtime.strategies.candidates import RowScores
from sigma9_runtime.strategies.plugins.seismograph import SeismographStrategy, SeismographStrategyParams


class SeismographMLParams(SeismographStrategyParams):
    """The heuristic's parameters plus the overlay's (see the module docstring)."""

    use_ml_overlay: bool = True
    """Gate the model's score (true) or the heuristic's (false, the model's is still reported)."""
    ml_weight: float = Field(default=1.0, ge=0.0, le=1.0)
    """Weight of the model's score in the gated score when the overlay is on."""
    score_version: str = "v3"
    """Label of the base score's version, recorded with the run (the heuristic has one version)."""


def gated_score(ml_score: np.ndarray, base_score: np.ndarray, ml_weight: float) -> np.ndarray:
    """The overlay's gated score: ``ml_weight * ml_score + (1 - ml_weight) * base_score`` (the model's
    score itself at weight 1.0). The lab scores its candidates with this same function."""
    if ml_weight == 1.0:
        return ml_score
    return ml_weight * ml_score + (1.0 - ml_weight) * base_score


class SeismographMLStrategy(SeismographStrategy):
    """Seismograph base score with the artifact's ML overlay (see the module docstring)."""

    name = "seismograph_ml"
    Params = SeismographMLParams
    uses_artifact = True

    @classmethod
    def needs_artifact(cls, params: StrategyParams) -> bool:
        return bool(getattr(params, "use_ml_overlay", True))

    def score_rows(self, values: np.ndarray) -> RowScores:
        base = self.base_scores(values)
        n = base.size
        inference = self.inference  # one artifact per step, even if a reload swaps it afterwards
        if inference is None:
            ml, clusters = np.full(n, np.nan), (None,) * n
        else:
            batch = inference.score(values, explain=False)
            ml, clusters = batch.scores, batch.cluster_ids
        params: SeismographMLParams = self.params  # type: ignore[assignment]
        if not params.use_ml_overlay:
            return RowScores(
                score=base,
                base_score=base,
                ml_score=ml,
                threshold=np.full(n, params.threshold),
                cluster_ids=clusters,
                explain=lambda i: self.explain_base(values[i]),
                artifact_id=None if inference is None else inference.manifest.id,
            )
        assert inference is not None
        score = gated_score(ml, base, params.ml_weight)
        thresholds = np.array([inference.threshold_for(c) for c in clusters], dtype=np.float64)
        k = params.explain_top_k

        cache: dict[int, tuple[tuple[str, float], ...]] = {}

        def explain(i: int) -> tuple[tuple[str, float], ...]:
            if i not in cache:
                # one batch for every row that reached its threshold (the rows the gate explains)
                with np.errstate(invalid="ignore"):
                    wanted = sorted({i, *np.flatnonzero(score >= thresholds).tolist()} - cache.keys())
                batch = inference.score(values[wanted], explain=True)
                for j, top in zip(wanted, batch.explanations, strict=True):
                    cache[j] = tuple((c.feature, c.contribution) for c in top[:k])
            return cache[i]

        return RowScores(
            score=score,
            base_score=base,
            ml_score=ml,
            threshold=thresholds,
            cluster_ids=clusters,
            explain=explain,
            artifact_id=inference.manifest.id,
        )
