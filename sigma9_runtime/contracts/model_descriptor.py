"""ModelDescriptor: the ``model.json`` of an artifact's payload, telling the runtime how to run it.

The ArtifactManifest says *which* files an artifact has and their digests; the descriptor says
what they are: the model's input names in order, which ONNX input and output to use, which
column of the scorer's output is the score, which cluster id each label of the cluster model
stands for, and the explanation method with its parameters. Written by the lab's export stage
(``sigma9_dag.export``), read by :class:`~sigma9_runtime.inference.MLInference`. The file holds
one top-level key ``model_descriptor``; it is JSON only. See ``docs/artifacts.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    FiniteFloat,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    StringConstraints,
    ValidationError,
    model_validator,
)

from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.base import ContractModel, FieldPathError, PlainFileName, require_unique
from sigma9_runtime.contracts.io import parse_json_text, validation_error_to_spec_error
from sigma9_runtime.errors import SpecError

DESCRIPTOR_KEY = "model_descriptor"
"""Top-level key of a ``model.json`` file."""

DESCRIPTOR_FORMAT_VERSION = 1

ClusterId = Annotated[str, StringConstraints(pattern=r"^C\d+$")]
"""A cluster id as the manifest's per-cluster thresholds name it (``C01``)."""

OnnxName = Annotated[str, Field(min_length=1)]


def _onnx_file(name: str) -> str:
    if not name.endswith(".onnx"):
        raise ValueError(f"{name!r} must be an .onnx file")
    return name


class ScorerSpec(ContractModel):
    """The scorer: a binary classifier whose probability of the positive class is the score."""

    file: PlainFileName
    """Payload file of the ONNX model (``scorer.onnx``)."""
    input: OnnxName = "features"
    """Name of the ONNX input, float32 ``[N, F]`` in ``feature_names`` order."""
    output: OnnxName = "probabilities"
    """Name of the ONNX output holding class probabilities ``[N, classes]``."""
    column: NonNegativeInt = 1
    """Column of ``output`` that is the score, P(positive)."""

    @model_validator(mode="after")
    def _onnx(self) -> ScorerSpec:
        try:
            _onnx_file(self.file)
        except ValueError as e:
            raise FieldPathError(("file",), str(e)) from e
        return self


class ClusterClass(ContractModel):
    """One label the cluster model can output and the cluster it stands for."""

    label: int
    """Class label as the ONNX ``label`` output gives it (HDBSCAN's cluster index; ``-1`` is noise)."""
    cluster_id: ClusterId | None
    """Cluster id (``C01``), or null for a label that is no cluster (noise)."""


class ClusterSpec(ContractModel):
    """The cluster-membership model: a classifier distilled from the discovery clustering."""

    file: PlainFileName
    """Payload file of the ONNX model (``cluster.onnx``)."""
    input: OnnxName = "features"
    """Name of the ONNX input, float32 ``[N, F]`` in ``feature_names`` order (NaN allowed: the model imputes)."""
    output: OnnxName = "label"
    """Name of the ONNX output holding the int64 class label ``[N]``."""
    classes: Annotated[list[ClusterClass], Field(min_length=1)]
    """Every label the model can output, with its cluster id."""

    @model_validator(mode="after")
    def _checks(self) -> ClusterSpec:
        try:
            _onnx_file(self.file)
        except ValueError as e:
            raise FieldPathError(("file",), str(e)) from e
        require_unique([c.label for c in self.classes], "label", ("classes",))
        require_unique([c.cluster_id for c in self.classes if c.cluster_id is not None], "cluster id", ("classes",))
        return self

    def cluster_ids(self) -> list[str]:
        """The cluster ids, in label order."""
        return [c.cluster_id for c in sorted(self.classes, key=lambda c: c.label) if c.cluster_id is not None]


class SurrogateFit(ContractModel):
    """How well the surrogate follows the scorer on the rows it was fitted on."""

    rows: PositiveInt
    """Training rows used."""
    r2: float
    """Coefficient of determination of the surrogate's logit against the scorer's logit."""
    l2: NonNegativeFloat
    """Ridge penalty (on standardized columns)."""


class LinearSurrogate(ContractModel):
    """Explanation by a linear surrogate of the scorer's logit.

    ``logit(score) ≈ intercept + Σ_i coefficients[i] · (x_i − centers[i])``, a NaN value counting
    as its center. The contribution of feature ``i`` to a row is ``coefficients[i] · (x_i −
    centers[i])`` (0 when ``x_i`` is NaN), in logit units; the explanation of a row is its
    ``top_k`` non-zero contributions by absolute value.
    """

    method: Literal["linear_surrogate_logit"] = "linear_surrogate_logit"
    """Explanation method."""
    top_k: PositiveInt
    """Contributions reported per row (at most the number of features)."""
    intercept: FiniteFloat
    """Surrogate logit at the centers."""
    coefficients: Annotated[list[FiniteFloat], Field(min_length=1)]
    """Slope per input column, in ``feature_names`` order."""
    centers: Annotated[list[FiniteFloat], Field(min_length=1)]
    """Reference value per input column (the training mean of its finite values)."""
    fit: SurrogateFit
    """Fit quality."""

    @model_validator(mode="after")
    def _lengths(self) -> LinearSurrogate:
        if len(self.centers) != len(self.coefficients):
            raise FieldPathError(
                ("centers",), f"has {len(self.centers)} values, coefficients has {len(self.coefficients)}"
            )
        return self


class ParityRecord(ContractModel):
    """The export's check that ONNX reproduces the native models (recorded, not re-run by the runtime)."""

    rows: PositiveInt
    """Rows compared."""
    tolerance: PositiveFloat
    """Largest absolute difference of probabilities allowed."""
    scorer_max_abs_diff: NonNegativeFloat
    """Largest absolute difference of the scorer's probabilities, ONNX vs native."""
    cluster_max_abs_diff: NonNegativeFloat | None = None
    """The same for the cluster model (null without one)."""


class ModelDescriptor(ContractModel):
    """What the payload's models are and how to run them (``model.json``)."""

    format_version: Literal[1] = DESCRIPTOR_FORMAT_VERSION
    """Version of this descriptor format."""
    feature_names: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    """Model input columns in order; must equal ``feature_names(spec)`` of the runtime's FeatureSpec."""
    scorer: ScorerSpec
    """The scorer."""
    cluster: ClusterSpec | None = None
    """The cluster-membership model, when the artifact has one."""
    explanation: LinearSurrogate | None = None
    """The explanation method, when the artifact explains its scores."""
    parity: ParityRecord
    """The export's ONNX-vs-native check."""

    @model_validator(mode="after")
    def _checks(self) -> ModelDescriptor:
        require_unique(self.feature_names, "feature name", ("feature_names",))
        if self.explanation is not None:
            width = len(self.feature_names)
            if len(self.explanation.coefficients) != width:
                raise FieldPathError(
                    ("explanation", "coefficients"),
                    f"has {len(self.explanation.coefficients)} values for {width} feature names",
                )
            if self.explanation.top_k > width:
                raise FieldPathError(("explanation", "top_k"), f"must be at most {width} (the number of features)")
        if self.cluster is not None and self.cluster.file == self.scorer.file:
            raise FieldPathError(("cluster", "file"), f"must differ from scorer.file ({self.scorer.file!r})")
        return self

    def model_files(self) -> list[str]:
        """Payload files the descriptor refers to."""
        return [self.scorer.file] + ([self.cluster.file] if self.cluster is not None else [])


def manifest_mismatches(descriptor: ModelDescriptor, manifest: ArtifactManifest) -> list[str]:
    """Where ``manifest`` promises what ``descriptor`` does not deliver (empty when they agree).

    The manifest's ``model.outputs`` ``cluster_id`` needs a cluster model and ``explain_topk`` an
    explanation; every cluster of ``model.thresholds.per_cluster_min`` must be one the cluster model outputs.
    """
    problems = []
    model = manifest.model
    if "cluster_id" in model.outputs and descriptor.cluster is None:
        problems.append("model.outputs has cluster_id but the payload has no cluster model")
    if "explain_topk" in model.outputs and descriptor.explanation is None:
        problems.append("model.outputs has explain_topk but the payload has no explanation")
    known = set(descriptor.cluster.cluster_ids()) if descriptor.cluster is not None else set()
    unknown = sorted(set(model.thresholds.per_cluster_min) - known)
    if unknown:
        problems.append(
            f"model.thresholds.per_cluster_min names cluster(s) {', '.join(unknown)} that the cluster model does not"
            f" output (known: {', '.join(sorted(known)) or 'none'})"
        )
    return problems


def dumps_model_descriptor(descriptor: ModelDescriptor) -> bytes:
    """The ``model.json`` bytes of ``descriptor`` (indented JSON, NaN refused)."""
    document = {DESCRIPTOR_KEY: descriptor.model_dump(mode="json")}
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def parse_model_descriptor(data: bytes, *, file: str | Path) -> ModelDescriptor:
    """Parse ``model.json`` bytes; raise :class:`SpecError` naming ``file`` and the field when invalid."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=file) from e
    document = parse_json_text(text, file, allow_nan=False)  # duplicate keys, nesting and NaN refused
    if not isinstance(document, dict) or list(document) != [DESCRIPTOR_KEY]:
        raise SpecError(f"expected one top-level key {DESCRIPTOR_KEY!r}", file=file, line=1)
    body = document[DESCRIPTOR_KEY]
    try:
        return ModelDescriptor.model_validate(body)
    except ValidationError as e:
        raise validation_error_to_spec_error(e, body, file=file, text=text, prefix=(DESCRIPTOR_KEY,)) from e
