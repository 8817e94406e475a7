"""What the lab's blocking asset checks verify, as plain functions returning the problems found.

- :func:`leakage_problems` (dataset): every sample sits in the part its date belongs to, no training
  date is on or after the first validation/test date or within the purge before it, no feature row
  reads a grid step after its sample time, no positive lies outside its event's pre-window.
- :func:`artifact_problems` (distill's candidate, export's artifact): the artifact loads through the
  runtime's own registry (payload digests, the snapshot's schema hash equal to the manifest's) and
  the snapshot's schema hash equals the FeatureSpec's in the catalog.
- :func:`parity_problems`: the artifact's ONNX through the runtime's :class:`MLInference` agrees with the
  native lab models on the given rows within the payload's tolerance (scores) and exactly (clusters).

And what the non-blocking verdict checks judge: :func:`quality_verdicts` (export's artifact) — each quality
target met or missed on the published out-of-sample figures, a warning when missed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sigma9_dag.lab.summary import precision_ratios
from sigma9_runtime.contracts.base import STREAM_CHANNELS
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.contracts.io import load_feature_spec
from sigma9_runtime.errors import Sigma9Error
from sigma9_runtime.inference import MLInference
from sigma9_runtime.registry import open_registry
from sigma9_runtime.registry.base import LoadedArtifact
from sigma9_runtime.registry.layout import ArtifactStoreLayout
from sigma9_runtime.schema_hash import schema_hash
from sigma9_runtime.units import NANOS_PER_MINUTE


def _dates(values: Any) -> pd.Series:
    return pd.to_datetime(pd.Series(values)).dt.date


def leakage_problems(samples: pd.DataFrame, events: pd.DataFrame, split: dict[str, Any]) -> list[str]:
    """Leaks in the dataset's samples (empty list: none). ``split`` is the dataset stage's ``split.json``."""
    problems: list[str] = []
    parts = {name: (dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for name, (a, b) in split["parts"].items()}
    dates = _dates(samples["date"])
    for name, (first, last) in parts.items():
        rows = samples["part"] == name
        outside = rows & ((dates < first) | (dates > last))
        if outside.any():
            problems.append(f"{int(outside.sum())} {name} sample(s) dated outside {first}..{last}")
    later = min(parts["validation"][0], parts["test"][0])
    train = samples["part"] == "train"
    late = train & (dates >= later)
    if late.any():
        problems.append(f"{int(late.sum())} training sample(s) dated on or after the first held-out day {later}")
    order = [parts["train"], parts["validation"], parts["test"]]
    for (_, end), (start, _) in itertools.pairwise(order):
        if not end < start:
            problems.append(f"split parts overlap or touch: {end} is not before {start}")
    future = samples["step_ns"].to_numpy(np.int64) > samples["ts_ns"].to_numpy(np.int64)
    if future.any():
        problems.append(f"{int(future.sum())} sample(s) read features at a grid step after their sample time")
    pre_start, pre_end = split["settings"]["pre_window_min"]
    positives = samples[samples["label"] == 1].merge(
        events[["ticker", "date", "t0_ns"]], on=["ticker", "date"], how="left"
    )
    offset = (positives["ts_ns"] - positives["t0_ns"]) / NANOS_PER_MINUTE
    stray = positives["t0_ns"].isna() | (offset < pre_start) | (offset > pre_end)
    if stray.any():
        problems.append(f"{int(stray.sum())} positive(s) outside their event's pre-window [{pre_start}, {pre_end}] min")
    return problems


def load_artifact(store_root: Path | str, artifact_id: str, spec: FeatureSpec) -> LoadedArtifact:
    """The artifact loaded and verified by the runtime's registry (every stream subscribed); ``store_root`` a
    directory or object storage by URL."""
    registry = open_registry(store_root)
    return registry.load(artifact_id, spec, subscribed_streams=STREAM_CHANNELS)


def artifact_problems(store_root: Path | str, artifact_id: str, spec: FeatureSpec) -> list[str]:
    """Why the runtime would refuse the artifact, or why its snapshot is not the spec (empty list: neither)."""
    registry = open_registry(store_root)
    try:
        artifact = registry.load(artifact_id, spec, subscribed_streams=STREAM_CHANNELS)
    except Sigma9Error as e:
        return [f"the runtime's registry refuses {artifact_id}: {e}"]
    ref = artifact.manifest.feature_spec_ref
    layout: ArtifactStoreLayout = registry.layout  # type: ignore[attr-defined]  # a store on disk or its copy
    snapshot = layout.resolve(ref.snapshot_path, named_by=artifact_id)
    expected = schema_hash(spec)
    actual = schema_hash(load_feature_spec(snapshot))
    if actual != expected:
        return [f"snapshot {snapshot} has schema hash {actual}, the FeatureSpec {spec.id} has {expected}"]
    return []


def parity_problems(
    store_root: Path, artifact_id: str, spec: FeatureSpec, scorer: Any, cluster_model: Any | None, rows: np.ndarray
) -> tuple[list[str], dict[str, float]]:
    """(problems, figures) of the ONNX payload against the native models on ``rows``."""
    try:
        artifact = load_artifact(store_root, artifact_id, spec)
    except Sigma9Error as e:
        return [f"the runtime's registry refuses {artifact_id}: {e}"], {}
    batch = MLInference(artifact).score(rows, explain=False)
    # the runtime feeds float32: the native model sees the same values (a training row can sit exactly on a split)
    native = scorer.predict_proba(rows.astype(np.float32).astype(np.float64))[:, 1]
    diff = float(np.max(np.abs(batch.scores - native))) if len(rows) else 0.0
    tolerance = artifact.descriptor.parity.tolerance
    problems = [] if diff <= tolerance else [f"ONNX scores differ from LightGBM by up to {diff:.3g} > {tolerance:g}"]
    figures = {"rows": float(len(rows)), "scorer_max_abs_diff": diff, "tolerance": tolerance}
    if cluster_model is not None and artifact.descriptor.cluster is not None:
        mapping = {c.label: c.cluster_id for c in artifact.descriptor.cluster.classes}
        expected = [mapping[int(label)] for label in cluster_model.predict(rows)]
        disagree = sum(a != b for a, b in zip(batch.cluster_ids, expected, strict=True))
        figures["cluster_disagreements"] = float(disagree)
        if disagree:
            problems.append(f"ONNX cluster ids differ from the native classifier on {disagree} of {len(rows)} rows")
    return problems, figures


@dataclass(frozen=True)
class QualityVerdict:
    """One quality target judged on a published artifact's out-of-sample figures."""

    name: str
    passed: bool
    description: str
    figures: dict[str, float | None]


QUALITY_TARGETS: dict[str, float] = {
    "precision_vs_random": 3.0,
    "precision_vs_seismograph": 1.5,
    "actionable_precision_vs_seismograph": 2.0,
}
"""The lab's quality targets: the model's precision at least 3× ``random_budget_matched``'s and 1.5×
``seismograph_only``'s, its actionable precision at least 2× ``seismograph_only``'s (and its median lead time
inside the run's lead-time target: :func:`quality_verdicts`)."""


def _ratio_verdict(
    name: str, performance: dict[str, Any], metric: str, baseline: str, target: float, what: str
) -> QualityVerdict:
    ratio = precision_ratios(performance, metric).get(baseline)
    passed = ratio is not None and ratio >= target
    shown = "undefined" if ratio is None else ("inf" if math.isinf(ratio) else f"{ratio:.2f}x")
    figures = {
        "ratio": ratio,
        "target": target,
        "model": performance["metrics"].get(metric),
        "baseline": performance.get("baselines", {}).get(baseline, {}).get(metric),
    }
    return QualityVerdict(
        name, passed, f"{what}: {shown} (target >= {target:g}x) {'met' if passed else 'missed'}", figures
    )


def quality_verdicts(performance: dict[str, Any], lead_band: tuple[float, float]) -> list[QualityVerdict]:
    """Each quality target (:data:`QUALITY_TARGETS`, and the median lead time inside ``lead_band`` minutes) on
    ``performance`` (the manifest's ``{"metrics", "baselines"}``); a ratio is :func:`precision_ratios`'s, and an
    undefined figure misses its target."""
    precision, actionable = "precision_at_budget", "actionable_precision_at_budget"
    out = [
        _ratio_verdict(
            "precision_vs_random",
            performance,
            precision,
            "random_budget_matched",
            QUALITY_TARGETS["precision_vs_random"],
            "precision over random_budget_matched's",
        ),
        _ratio_verdict(
            "precision_vs_seismograph",
            performance,
            precision,
            "seismograph_only",
            QUALITY_TARGETS["precision_vs_seismograph"],
            "precision over seismograph_only's",
        ),
        _ratio_verdict(
            "actionable_precision_vs_seismograph",
            performance,
            actionable,
            "seismograph_only",
            QUALITY_TARGETS["actionable_precision_vs_seismograph"],
            "actionable precision over seismograph_only's",
        ),
    ]
    model = performance["metrics"]
    lead = model.get("median_lead_time_min")
    low, high = lead_band
    inside = lead is not None and low <= lead <= high
    shown = "undefined (no hit)" if lead is None else f"{lead:.1f} min"
    out.append(
        QualityVerdict(
            "lead_time_in_target",
            inside,
            f"median lead time {shown} (target {low:g}-{high:g} min) {'met' if inside else 'missed'}",
            {"median_lead_time_min": lead, "target_min": low, "target_max": high},
        )
    )
    return out
