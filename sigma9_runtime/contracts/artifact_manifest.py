"""ArtifactManifest: the output contract the lab publishes and the runtime loads.

A manifest file (``artifacts/manifests/ART_*.json``) holds one top-level key
``artifact_manifest``. From the manifest alone the runtime can check the FeatureSpec schema hash,
the integrity of every payload file, and which strategy plugin to run (design section 3.2.3).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, PositiveFloat, PositiveInt, StringConstraints, model_validator

from sigma9_runtime.contracts.base import (
    ArtifactId,
    ContractModel,
    FeatureSpecId,
    FieldPathError,
    GitCommit,
    PlainFileName,
    PluginRef,
    Probability,
    SchemaHash,
    Sha256Hex,
    StreamChannel,
    require_ordered,
    require_unique,
)
from sigma9_runtime.contracts.duration import AnyDuration


class Producer(ContractModel):
    """Who built the artifact."""

    system: Annotated[str, Field(min_length=1)]
    """Producing system (``sigma9_dag``)."""
    git_commit: GitCommit
    """Commit of the producing code, or ``unknown``."""
    python: Annotated[str, Field(min_length=1)]
    """Python version (``3.11.7``)."""
    os: Annotated[str, Field(min_length=1)]
    """Operating system (``linux``)."""


class FeatureSpecRef(ContractModel):
    """The FeatureSpec the model was trained on."""

    id: FeatureSpecId
    """FeatureSpec id."""
    schema_hash: SchemaHash
    """Schema hash of that spec; the runtime refuses the artifact if its own spec hashes differently."""
    snapshot_path: Annotated[str, Field(min_length=1)]
    """Snapshot of the spec as trained, relative to the artifact store root."""


class DateRange(ContractModel):
    """An inclusive range of dates."""

    start: dt.date
    """First date."""
    end: dt.date
    """Last date."""

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        require_ordered(self.start, self.end, ("end",), "start", "end", strict=False)
        return self


class PreWindow(ContractModel):
    """Positive samples' window relative to T0, in minutes."""

    start_offset_min: int
    """Start of the window (``-30``)."""
    end_offset_min: int
    """End of the window (``-5``); must be after the start and not after T0."""

    @model_validator(mode="after")
    def _ordered(self) -> PreWindow:
        if self.start_offset_min >= self.end_offset_min:
            raise FieldPathError(
                ("start_offset_min",),
                f"start_offset_min ({self.start_offset_min}) must be below end_offset_min ({self.end_offset_min})",
            )
        if self.end_offset_min > 0:
            raise FieldPathError(("end_offset_min",), f"must be <= 0 (before T0), got {self.end_offset_min}")
        return self


class Labeling(ContractModel):
    """How events (T0) are found."""

    anchor: Literal["first_cross_prevclose_pct"]
    """T0 is the first time the traded price reaches previous close x (1 + anchor_param)."""
    anchor_param: PositiveFloat
    """Fractional move from the previous close (``0.10`` = +10%)."""
    pre_window: PreWindow
    """Where positive samples are taken."""


NegativeType = Literal["hard_negative", "same_symbol_other_days", "time_of_day_matched"]


class Negatives(ContractModel):
    """Negative sampling."""

    type: Annotated[list[NegativeType], Field(min_length=1)]
    """Negative kinds drawn."""
    ratio: PositiveFloat
    """Negatives per positive."""

    @model_validator(mode="after")
    def _unique(self) -> Negatives:
        require_unique(self.type, "negative type", ("type",))
        return self


class DatasetRef(ContractModel):
    """What the model was trained and evaluated on."""

    universe: Annotated[str, Field(min_length=1)]
    """Universe name (``us_equities_filtered``, ``synthetic``)."""
    time_range: DateRange
    """Dates covered."""
    labeling: Labeling
    """Event definition."""
    negatives: Negatives
    """Negative sampling."""


class Thresholds(ContractModel):
    """Score thresholds an alert must reach."""

    global_score_min: Probability
    """Threshold for every cluster without its own."""
    per_cluster_min: dict[Annotated[str, StringConstraints(pattern=r"^C\d+$")], Probability] = {}
    """Thresholds per cluster id (``C01``)."""


ModelOutput = Literal["score", "explain_topk", "cluster_id"]
TuningMetric = Literal["precision_at_budget", "actionable_precision_at_budget"]


class TuningFold(ContractModel):
    """One walk-forward fold: the days its scorer trained on and the block it validated."""

    train_start: dt.date
    """First training day."""
    train_end: dt.date
    """Last training day (before the purge)."""
    train_days: PositiveInt
    """Training days (purged and embargoed days left out)."""
    validation_start: dt.date
    """First day of the validated block."""
    validation_end: dt.date
    """Last day of the validated block."""
    validation_days: PositiveInt
    """Days in the block."""

    @model_validator(mode="after")
    def _ordered(self) -> TuningFold:
        require_ordered(
            self.train_end, self.validation_start, ("validation_start",), "train_end", "validation_start", strict=True
        )
        require_ordered(
            self.validation_start,
            self.validation_end,
            ("validation_end",),
            "validation_start",
            "validation_end",
            strict=False,
        )
        return self


class ThresholdTuning(ContractModel):
    """How the thresholds were tuned: walk-forward folds over the days before the test period."""

    metric: TuningMetric
    """Metric maximized on the pooled folds (at the minimum alerts a day)."""
    purge_days: Annotated[int, Field(ge=0)]
    """Trade days before each block left out of its fold's training."""
    embargo_days: Annotated[int, Field(ge=0)]
    """Trade days after each block left out of later folds' training."""
    folds: Annotated[list[TuningFold], Field(min_length=1)]
    """The folds, in date order."""


class ModelSpec(ContractModel):
    """The model and how to read its outputs."""

    type: Literal["lightgbm", "xgboost", "cluster_membership", "hybrid"]
    """Model family: a gradient-boosted scorer, a cluster-membership classifier, or both."""
    objective: Annotated[str, Field(min_length=1)]
    """What the model selection optimized (``alert_utility_max``)."""
    outputs: Annotated[list[ModelOutput], Field(min_length=1)]
    """Outputs the runtime can read."""
    thresholds: Thresholds
    """Alert thresholds."""
    threshold_tuning: ThresholdTuning | None = None
    """How the thresholds were tuned (absent from manifests written before walk-forward tuning)."""

    @model_validator(mode="after")
    def _outputs(self) -> ModelSpec:
        require_unique(self.outputs, "output", ("outputs",))
        if "score" not in self.outputs:
            raise FieldPathError(("outputs",), "must include 'score'")
        return self


class Split(ContractModel):
    """Out-of-sample split."""

    train_end: dt.date
    """Last training date."""
    test_start: dt.date
    """First test date (after train_end)."""
    test_end: dt.date
    """Last test date."""

    @model_validator(mode="after")
    def _ordered(self) -> Split:
        require_ordered(self.train_end, self.test_start, ("test_start",), "train_end", "test_start", strict=True)
        require_ordered(self.test_start, self.test_end, ("test_end",), "test_start", "test_end", strict=False)
        return self


class ManifestAlertBudget(ContractModel):
    """Budget the metrics were measured under."""

    max_alerts_per_day: PositiveInt
    """Alerts per session day."""


class Metrics(ContractModel):
    """Alert metrics (definitions in ``docs/metrics.md``); null where undefined (no alerts, no hits)."""

    precision_at_budget: Probability | None
    """Hits over alerts under the daily budget and cooldown."""
    actionable_precision_at_budget: Probability | None = None
    """Actionable hits (``target_min <= T0 - t <= target_max``, the run's lead-time target) over alerts;
    absent from manifests written before it was measured."""
    median_lead_time_min: float | None
    """Median minutes from the first hit alert to T0."""
    tail_loss_p95: float | None
    """Tail of per-alert trade returns after costs at 95% (negative = loss); see docs/metrics.md."""
    utility_score: float | None
    """Utility per the run's costs."""


class PerformanceOOS(ContractModel):
    """Out-of-sample performance."""

    split: Split
    """Split the metrics come from."""
    alert_budget: ManifestAlertBudget
    """Budget applied."""
    metrics: Metrics
    """Metrics of this artifact."""
    baselines: dict[Literal["seismograph_only", "random_budget_matched"], Metrics] = {}
    """The same metrics for the baselines on the same days."""


class PayloadFile(ContractModel):
    """One payload file and its digest."""

    name: PlainFileName
    """Plain file name inside the payload directory."""
    sha256: Sha256Hex
    """sha256 of the file's bytes."""


class Payload(ContractModel):
    """Where the payload files are and their digests."""

    base_path: Annotated[str, Field(min_length=1)]
    """Payload directory, relative to the artifact store root."""
    files: Annotated[list[PayloadFile], Field(min_length=1)]
    """Files the runtime verifies before loading anything."""

    @model_validator(mode="after")
    def _unique(self) -> Payload:
        require_unique([f.name for f in self.files], "payload file", ("files",))
        return self


class MinBarHistory(ContractModel):
    """History the runtime needs before scoring a symbol."""

    bar_1s: AnyDuration
    """One-second bars (``60s``)."""
    bar_1m: AnyDuration
    """One-minute bars (``20m``)."""
    daily: AnyDuration
    """Daily bars (``60d``)."""


class Compatibility(ContractModel):
    """What the runtime must provide."""

    runtime_strategy_plugin: PluginRef
    """Strategy plugin to run (``seismograph_ml``)."""
    required_streams: Annotated[list[StreamChannel], Field(min_length=1)]
    """Channels the runtime must subscribe to; a subset of ``T.*``, ``A.*``, ``AM.*``."""
    min_bar_history: MinBarHistory
    """History needed per source."""

    @model_validator(mode="after")
    def _streams(self) -> Compatibility:
        require_unique(self.required_streams, "stream", ("required_streams",))
        return self


class ArtifactManifest(ContractModel):
    """An artifact manifest (design section 3.2.2)."""

    id: ArtifactId
    """Artifact id, ``ART_<...>``."""
    created_at: AwareDatetime
    """Creation time with UTC offset."""
    producer: Producer
    """Who built it."""
    feature_spec_ref: FeatureSpecRef
    """Spec and schema hash."""
    dataset_ref: DatasetRef
    """Training and evaluation data."""
    model: ModelSpec
    """Model and thresholds."""
    performance_oos: PerformanceOOS
    """Out-of-sample performance."""
    payload: Payload
    """Payload files."""
    compatibility: Compatibility
    """Runtime requirements."""
