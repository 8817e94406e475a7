"""Build an artifact's payload: ONNX models checked against the native ones, and their ``model.json``.

One call for the export stage: convert the scorer (and the cluster model), check parity on the
given rows, fit the explanation surrogate on the training rows, and describe it all in a
:class:`~sigma9_runtime.contracts.model_descriptor.ModelDescriptor`. The result goes to
:func:`~sigma9_dag.export.publish.publish_artifact`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigma9_dag.export.convert import INPUT_NAME, lightgbm_to_onnx, sklearn_to_onnx
from sigma9_dag.export.parity import DEFAULT_TOLERANCE, check_parity
from sigma9_dag.export.surrogate import DEFAULT_L2, DEFAULT_TOP_K, fit_linear_surrogate, scorer_logit
from sigma9_runtime.contracts.model_descriptor import (
    ClusterClass,
    ClusterSpec,
    ModelDescriptor,
    ParityRecord,
    ScorerSpec,
    dumps_model_descriptor,
)
from sigma9_runtime.errors import ArtifactError
from sigma9_runtime.registry.layout import CLUSTER_NAME, DESCRIPTOR_NAME, SCORER_NAME


@dataclass(frozen=True)
class ExportedPayload:
    """Payload files ready to publish, and what they say."""

    files: dict[str, bytes]
    """File name -> bytes: ``model.json``, ``scorer.onnx`` and, with a cluster model, ``cluster.onnx``."""
    descriptor: ModelDescriptor
    """The parsed ``model.json`` (parity figures, surrogate fit)."""


def default_cluster_ids(labels: Sequence[int]) -> dict[int, str | None]:
    """Cluster ids for a cluster model's labels: ``-1`` (HDBSCAN noise) -> None, labels 0, 1, ... -> C01, C02, ...

    Examples
    --------
    >>> default_cluster_ids([-1, 0, 1])
    {-1: None, 0: 'C01', 1: 'C02'}
    """
    return {int(label): (None if label < 0 else f"C{int(label) + 1:02d}") for label in sorted(labels)}


def build_payload(
    scorer: Any,
    feature_names: Sequence[str],
    train_rows: np.ndarray,
    *,
    cluster_model: Any | None = None,
    cluster_ids: Mapping[int, str | None] | None = None,
    parity_rows: np.ndarray | None = None,
    positive_label: Any = 1,
    top_k: int = DEFAULT_TOP_K,
    l2: float = DEFAULT_L2,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ExportedPayload:
    """Convert, check and describe the models of one artifact.

    Parameters
    ----------
    scorer
        Fitted binary ``lightgbm.LGBMClassifier``; the score is P(``positive_label``).
    feature_names
        Input columns in order, ``feature_names(spec)`` of the FeatureSpec the rows were built with.
    train_rows
        Training rows, float ``[N, F]`` with NaN where missing; the surrogate is fitted on them.
    cluster_model
        Optional fitted scikit-learn classifier/Pipeline predicting the cluster label (it must
        impute NaN itself, e.g. ``SimpleImputer`` first).
    cluster_ids
        Label -> cluster id (``C01``) or None (noise); default :func:`default_cluster_ids`.
    parity_rows
        Rows for the ONNX-vs-native check (default ``train_rows``).
    top_k, l2
        Explanation size and surrogate ridge penalty.
    tolerance
        Largest absolute probability difference ONNX vs native allowed.

    Raises
    ------
    ParityError
        An ONNX model does not reproduce its native model within ``tolerance``.
    ArtifactError
        A model cannot be converted, or ``cluster_ids`` does not cover the cluster model's labels.
    """
    names = list(feature_names)
    train = np.asarray(train_rows, dtype=np.float64)
    if train.ndim != 2 or train.shape[1] != len(names):
        raise ArtifactError(f"train_rows must have shape [N, {len(names)}] (one column per feature), got {train.shape}")
    check = train if parity_rows is None else np.asarray(parity_rows, dtype=np.float64)
    width = len(names)

    classes = list(scorer.classes_)
    if positive_label not in classes:
        raise ArtifactError(f"positive label {positive_label!r} is not a class of the scorer ({classes})")
    scorer_bytes = lightgbm_to_onnx(scorer, width)
    scorer_diff = check_parity(scorer_bytes, scorer, check, tolerance=tolerance, what="scorer")
    files = {SCORER_NAME: scorer_bytes}

    cluster_spec = None
    cluster_diff = None
    if cluster_model is not None:
        labels = [int(label) for label in cluster_model.classes_]
        mapping = default_cluster_ids(labels) if cluster_ids is None else {int(k): v for k, v in cluster_ids.items()}
        if set(mapping) != set(labels):
            raise ArtifactError(
                f"cluster_ids covers labels {sorted(mapping)}, the cluster model outputs {sorted(labels)}"
            )
        cluster_bytes = sklearn_to_onnx(cluster_model, width)
        cluster_diff = check_parity(cluster_bytes, cluster_model, check, tolerance=tolerance, what="cluster model")
        files[CLUSTER_NAME] = cluster_bytes
        cluster_spec = ClusterSpec(
            file=CLUSTER_NAME,
            input=INPUT_NAME,
            output="label",
            classes=[ClusterClass(label=label, cluster_id=mapping[label]) for label in sorted(mapping)],
        )

    column = classes.index(positive_label)
    logit = scorer_logit(scorer, train)  # LightGBM's raw score is the logit of classes_[1]
    descriptor = ModelDescriptor(
        feature_names=names,
        scorer=ScorerSpec(file=SCORER_NAME, input=INPUT_NAME, output="probabilities", column=column),
        cluster=cluster_spec,
        explanation=fit_linear_surrogate(train, logit if column == 1 else -logit, top_k=top_k, l2=l2),
        parity=ParityRecord(
            rows=len(check), tolerance=tolerance, scorer_max_abs_diff=scorer_diff, cluster_max_abs_diff=cluster_diff
        ),
    )
    files[DESCRIPTOR_NAME] = dumps_model_descriptor(descriptor)
    return ExportedPayload(files, descriptor)
