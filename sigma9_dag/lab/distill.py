"""Distill: what the runtime needs from the lab's models, small and checkable.

- **Cluster classifier.** Discovery clusters whole events by their pre-window trajectory, but the
  runtime has only the current feature row, and HDBSCAN cannot score a new one by itself: every
  training positive carries its event's cluster (discovery's members), and that row -> cluster map
  is distilled into a shallow decision tree (NaN imputed as 0, the typical normalized value) over
  the full feature row; exportable through skl2onnx. Agreement = its cross-validated accuracy
  against the members' clusters (noise included); a row early in the pre-window shows less of its
  event's shape than the trajectory did, so it is lower than a per-row clustering would score.
- **Thresholds.** Global: the validation stage's. Per cluster: one pass over the clusters (largest
  first) trying the global threshold shifted by ``per_cluster_steps``; a shift is kept when it raises
  the validation stage's ``tune_metric`` (actionable precision by default) on the pooled walk-forward
  folds' out-of-fold scores, the alerter still raises ``min_alerts_per_day`` and it hits no fewer
  validation events (a precision bought by dropping events is a fit to a few days' noise). Tuned on
  validation days only; the test days are evaluated once afterwards.
- **Rule summary.** A depth-``rule_depth`` decision tree that mimics "the gate's threshold is met"
  on the validation candidates, printed as if/else rules with its fidelity on the test candidates:
  a person's reading of what the model alerts on, not what the runtime runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sigma9_dag.evaluation import EvaluationSettings, LakePrices
from sigma9_dag.lab.discovery import NOISE, cluster_id
from sigma9_dag.lab.validation import alerter_point
from sigma9_runtime.contracts.artifact_manifest import Thresholds, TuningMetric
from sigma9_runtime.gates import MLGate


class DistillSettings(BaseModel):
    """Cluster tree, per-cluster tuning and rule summary knobs; each field's docstring says what it means (the
    launchpad shows them)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    cluster_depth: Annotated[int, Field(ge=1)] = 5
    """Depth of the decision tree distilled from the HDBSCAN clusters."""
    cluster_min_leaf: Annotated[int, Field(ge=1)] = 10
    """Its minimum samples per leaf."""
    per_cluster_steps: tuple[float, ...] = (-0.1, -0.05, 0.05, 0.1)
    """Shifts of the global threshold tried for each cluster on validation days."""
    min_alerts_per_day: Annotated[float, Field(ge=0)] = 5.0
    """A cluster's threshold is kept only with at least this many alerts a validation day."""
    rule_depth: Annotated[int, Field(ge=1, le=6)] = 3
    """Depth of the rule tree mimicking the gate's threshold."""
    seed: int = 7
    """Random seed of the trees and the parity rows."""


def fit_cluster_classifier(rows: np.ndarray, labels: np.ndarray, settings: DistillSettings) -> tuple[Any, float | None]:
    """(pipeline, cross-validated agreement with ``labels``); None agreement when a label has < 2 rows."""
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeClassifier

    def build() -> Any:
        return make_pipeline(
            SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
            DecisionTreeClassifier(
                max_depth=settings.cluster_depth, min_samples_leaf=settings.cluster_min_leaf, random_state=settings.seed
            ),
        )

    _, counts = np.unique(labels, return_counts=True)
    folds = int(min(5, counts.min()))
    agreement = float(cross_val_score(build(), rows, labels, cv=folds).mean()) if folds >= 2 else None
    return build().fit(rows, labels), agreement


def cluster_ids(labels: Sequence[int]) -> dict[int, str | None]:
    """HDBSCAN label -> manifest cluster id (noise: None)."""
    return {int(label): (None if int(label) == NOISE else cluster_id(int(label))) for label in labels}


def assign_clusters(model: Any, rows: np.ndarray) -> list[str | None]:
    """Cluster id of each row by the distilled classifier."""
    if not len(rows):
        return []
    mapping = cluster_ids(model.classes_)
    return [mapping[int(label)] for label in model.predict(rows)]


def tune_cluster_thresholds(
    candidates: pd.DataFrame,
    global_threshold: float,
    *,
    gate: MLGate,
    prices: LakePrices,
    evaluation: EvaluationSettings,
    settings: DistillSettings,
    metric: TuningMetric = "actionable_precision_at_budget",
) -> tuple[Thresholds, list[dict[str, Any]]]:
    """Per-cluster thresholds on validation ``candidates`` (with ``cluster_id``) maximizing ``metric``; the
    trials as a log. A trial must hit no fewer events (actionable ones for an actionable metric)."""

    thresholds = Thresholds(global_score_min=global_threshold)
    start = alerter_point(candidates, thresholds, gate=gate, prices=prices, settings=evaluation)
    best, events = start.value(metric) or 0.0, start.events(metric)
    log: list[dict[str, Any]] = [
        {
            "cluster": None,
            "threshold": global_threshold,
            metric: best,
            "per_day": start.alerts_per_day,
            "events_hit": events,
        }
    ]
    sizes = candidates["cluster_id"].dropna().value_counts()
    for cluster in sizes.index:
        for step in settings.per_cluster_steps:
            value = float(np.clip(global_threshold + step, 0.0, 1.0))
            trial = Thresholds(
                global_score_min=global_threshold, per_cluster_min={**thresholds.per_cluster_min, cluster: value}
            )
            point = alerter_point(candidates, trial, gate=gate, prices=prices, settings=evaluation)
            score, per_day, hit = point.value(metric) or 0.0, point.alerts_per_day, point.events(metric)
            log.append({"cluster": cluster, "threshold": value, metric: score, "per_day": per_day, "events_hit": hit})
            if score > best and per_day >= settings.min_alerts_per_day and hit >= events:
                best, thresholds, events = score, trial, hit
    return thresholds, log


def rule_summary(
    rows: np.ndarray,
    passed: np.ndarray,
    names: Sequence[str],
    test_rows: np.ndarray,
    test_passed: np.ndarray,
    settings: DistillSettings,
) -> tuple[str, float | None]:
    """(if/else rules of a shallow tree mimicking ``passed``, its fidelity on the test rows)."""
    from sklearn.tree import DecisionTreeClassifier, export_text

    if np.unique(passed).size < 2:
        return "(no rule: every validation candidate is on the same side of the threshold)", None
    tree = DecisionTreeClassifier(
        max_depth=settings.rule_depth, class_weight="balanced", min_samples_leaf=20, random_state=settings.seed
    )
    tree.fit(np.nan_to_num(rows, nan=0.0), passed)
    text = export_text(tree, feature_names=[n.replace(":", "_") for n in names], class_names=["quiet", "ALERT"])
    fidelity = (
        float((tree.predict(np.nan_to_num(test_rows, nan=0.0)) == test_passed).mean()) if len(test_rows) else None
    )
    return text, fidelity


def passes_threshold(candidates: pd.DataFrame, thresholds: Thresholds) -> np.ndarray:
    """Whether each candidate's score meets its cluster's threshold (gate check 1)."""
    limits = np.array(
        [
            thresholds.per_cluster_min.get(c, thresholds.global_score_min) if c else thresholds.global_score_min
            for c in candidates["cluster_id"]
        ],
        dtype=np.float64,
    )
    return candidates["score"].to_numpy(np.float64) >= limits
