"""MLInference: scores, cluster ids and explanations from one verified artifact.

Built only from a :class:`~sigma9_runtime.registry.LoadedArtifact` (what an
:class:`~sigma9_runtime.registry.ArtifactRegistry` returns once every check passed). Runs the
payload's ONNX models with onnxruntime and the explanation in numpy; never imports the lab's
training packages, never loads a pickle.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.errors import ArtifactError, DataError, IncompatibleArtifact
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.inference.explain import Contribution, LinearExplainer
from sigma9_runtime.inference.sessions import make_session, output_width, require_io
from sigma9_runtime.registry.base import LoadedArtifact
from sigma9_runtime.registry.layout import DESCRIPTOR_NAME


@dataclass(frozen=True)
class Score:
    """The model's verdict on one row."""

    score: float
    """P(positive) from the scorer."""
    cluster_id: str | None
    """Cluster id (``C01``), or None without a cluster model or for a row in no cluster."""
    top: tuple[Contribution, ...]
    """Largest contributions, empty when not explained."""


@dataclass(frozen=True)
class ScoreBatch:
    """The model's verdicts on ``N`` rows, column by column."""

    scores: np.ndarray
    """P(positive), float64 ``[N]``."""
    cluster_ids: tuple[str | None, ...]
    """Cluster id per row (all None without a cluster model)."""
    explanations: tuple[tuple[Contribution, ...], ...]
    """Top-k contributions per row (empty tuples when not explained)."""

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: int) -> Score:
        return Score(float(self.scores[index]), self.cluster_ids[index], self.explanations[index])

    def __iter__(self) -> Iterator[Score]:
        return (self[i] for i in range(len(self)))


class MLInference:
    """Score feature rows with a verified artifact.

    Parameters
    ----------
    artifact
        From :meth:`ArtifactRegistry.load` / :meth:`~ArtifactRegistry.load_latest`.
    intra_op_threads
        Threads onnxruntime may use inside one call (default 1).
    top_k
        Contributions per explained row; defaults to the artifact's ``explanation.top_k``.

    Raises
    ------
    IncompatibleArtifact
        The descriptor's feature names differ from ``feature_names(spec)``, or an ONNX model does not
        have the descriptor's inputs and outputs (or onnxruntime cannot load it).

    Examples
    --------
    >>> inference = MLInference(registry.load_latest(spec, subscribed_streams=streams))  # doctest: +SKIP
    >>> result = inference.score_one(row)  # doctest: +SKIP
    >>> result.score >= inference.threshold_for(result.cluster_id)  # doctest: +SKIP
    True
    """

    def __init__(self, artifact: LoadedArtifact, *, intra_op_threads: int = 1, top_k: int | None = None) -> None:
        if not isinstance(artifact, LoadedArtifact):
            raise TypeError(
                f"MLInference needs a LoadedArtifact from an ArtifactRegistry, got {type(artifact).__name__}"
            )
        self.artifact = artifact
        descriptor = artifact.descriptor
        descriptor_file = f"{artifact.manifest.payload.base_path.rstrip('/')}/{DESCRIPTOR_NAME}"
        self._check_feature_names(descriptor.feature_names, descriptor_file)
        self.feature_names: tuple[str, ...] = tuple(descriptor.feature_names)
        width = len(self.feature_names)

        scorer = descriptor.scorer
        self._scorer = make_session(artifact.files[scorer.file], intra_op_threads=intra_op_threads, file=scorer.file)
        require_io(self._scorer, input_name=scorer.input, output_name=scorer.output, width=width, file=scorer.file)
        columns = output_width(self._scorer, scorer.output)
        if columns is not None and scorer.column >= columns:
            raise IncompatibleArtifact(
                f"scorer.column {scorer.column} is outside output {scorer.output!r} of {columns} columns",
                file=descriptor_file,
            )

        self._cluster = None
        self._cluster_by_label: dict[int, str | None] = {}
        if descriptor.cluster is not None:
            cluster = descriptor.cluster
            self._cluster = make_session(
                artifact.files[cluster.file], intra_op_threads=intra_op_threads, file=cluster.file
            )
            require_io(
                self._cluster, input_name=cluster.input, output_name=cluster.output, width=width, file=cluster.file
            )
            self._cluster_by_label = {c.label: c.cluster_id for c in cluster.classes}

        self._explainer = (
            LinearExplainer(descriptor.explanation, self.feature_names) if descriptor.explanation is not None else None
        )
        default_k = descriptor.explanation.top_k if descriptor.explanation is not None else 0
        self.top_k = default_k if top_k is None else top_k
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0, got {self.top_k}")

    # --- checks ---------------------------------------------------------------------------------

    def _check_feature_names(self, names: list[str], descriptor_file: str) -> None:
        expected = feature_names(self.artifact.spec)
        if names != expected:
            at = next((i for i, (a, b) in enumerate(zip(names, expected)) if a != b), min(len(names), len(expected)))
            got = names[at] if at < len(names) else "(end)"
            want = expected[at] if at < len(expected) else "(end)"
            raise IncompatibleArtifact(
                f"feature_names differ from feature_names({self.artifact.spec.id}) at column {at}: "
                f"{got!r} instead of {want!r} ({len(names)} vs {len(expected)} columns)",
                file=descriptor_file,
            )

    # --- public API -----------------------------------------------------------------------------

    @property
    def manifest(self) -> ArtifactManifest:
        """The artifact's manifest."""
        return self.artifact.manifest

    @property
    def has_clusters(self) -> bool:
        """Whether the artifact has a cluster-membership model."""
        return self._cluster is not None

    def score(self, rows: np.ndarray, *, explain: bool = True) -> ScoreBatch:
        """Score ``rows``, float ``[N, F]`` in :attr:`feature_names` order (NaN where missing).

        Raises
        ------
        DataError
            ``rows`` is not numeric 2-D with ``F`` columns.
        """
        x = self._as_matrix(rows)
        n = x.shape[0]
        if n == 0:
            return ScoreBatch(np.empty(0, dtype=np.float64), (), ())
        scorer = self.artifact.descriptor.scorer
        probabilities = self._scorer.run([scorer.output], {scorer.input: x})[0]
        scores = np.asarray(probabilities[:, scorer.column], dtype=np.float64)

        if self._cluster is not None:
            cluster = self.artifact.descriptor.cluster
            assert cluster is not None
            labels = self._cluster.run([cluster.output], {cluster.input: x})[0]
            cluster_ids = tuple(self._cluster_id(int(label)) for label in np.asarray(labels).reshape(-1))
        else:
            cluster_ids = (None,) * n

        if explain and self._explainer is not None and self.top_k > 0:
            explanations = tuple(self._explainer.top_k(x, self.top_k))
        else:
            explanations = ((),) * n
        return ScoreBatch(scores, cluster_ids, explanations)

    def score_one(self, row: np.ndarray, *, explain: bool = True) -> Score:
        """Score one row, float ``[F]``."""
        vector = np.asarray(row)
        if vector.ndim != 1:
            raise DataError(f"score_one takes one row of shape [{len(self.feature_names)}], got shape {vector.shape}")
        return self.score(vector.reshape(1, -1), explain=explain)[0]

    def threshold_for(self, cluster_id: str | None) -> float:
        """The alert threshold of a row in ``cluster_id``: its own, else the global one.

        Raises
        ------
        KeyError
            ``cluster_id`` is not a cluster of this artifact.
        """
        thresholds = self.manifest.model.thresholds
        if cluster_id is None:
            return thresholds.global_score_min
        if cluster_id not in self._cluster_by_label.values():
            raise KeyError(f"{cluster_id!r} is not a cluster of artifact {self.manifest.id}")
        return thresholds.per_cluster_min.get(cluster_id, thresholds.global_score_min)

    # --- helpers --------------------------------------------------------------------------------

    def _as_matrix(self, rows: np.ndarray) -> np.ndarray:
        array = np.asarray(rows)
        width = len(self.feature_names)
        if array.ndim != 2 or array.shape[1] != width:
            raise DataError(f"rows must have shape [N, {width}] ({self.manifest.id}), got {array.shape}")
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise DataError(f"rows must be numeric, got dtype {array.dtype}")
        return np.ascontiguousarray(array, dtype=np.float32)

    def _cluster_id(self, label: int) -> str | None:
        try:
            return self._cluster_by_label[label]
        except KeyError:
            raise ArtifactError(
                f"cluster model of {self.manifest.id} output label {label}, which model.json does not list"
            ) from None
