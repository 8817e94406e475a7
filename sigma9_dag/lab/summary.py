"""Headline figures of an out-of-sample evaluation, for asset metadata and the command line."""

from __future__ import annotations

import math
from typing import Any

from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest

METRICS = (
    "precision_at_budget",
    "actionable_precision_at_budget",
    "median_lead_time_min",
    "tail_loss_p95",
    "utility_score",
)

RATIOS = {"precision_at_budget": "precision", "actionable_precision_at_budget": "actionable precision"}
"""Metrics whose model / baseline ratio the tables show, with their label."""


def _ratio(a: float | None, b: float | None) -> float | None:
    """a / b; infinite when only the baseline's is zero, None when either is undefined or both are zero."""
    if a is None or b is None or (a == 0 and b == 0):
        return None
    return math.inf if b == 0 else a / b


def precision_ratios(performance: dict[str, Any], metric: str = "precision_at_budget") -> dict[str, float | None]:
    """The model's ``metric`` over each baseline's (inf when only the baseline's is 0; None when undefined)."""
    model = performance["metrics"].get(metric)
    return {name: _ratio(model, metrics.get(metric)) for name, metrics in performance.get("baselines", {}).items()}


def _cell(value: float | None) -> str:
    if value is None:
        return "—"
    return "inf" if math.isinf(value) else f"{value:.3f}"


def _times(ratio: float | None) -> str:
    """``1.234x``, ``inf`` or ``—``."""
    if ratio is None:
        return "—"
    return "inf" if math.isinf(ratio) else f"{ratio:.3f}x"


def performance_table(performance: dict[str, Any]) -> str:
    """Markdown table: one row per metric, the model and each baseline side by side, then the precision ratios."""
    names = ["model", *performance.get("baselines", {})]
    columns = [performance["metrics"], *performance.get("baselines", {}).values()]
    lines = ["| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for metric in METRICS:
        lines.append(f"| {metric} | " + " | ".join(_cell(c.get(metric)) for c in columns) + " |")
    for metric, label in RATIOS.items():
        ratios = precision_ratios(performance, metric)
        lines.append(
            f"| {label} ratio (model / baseline) | — | " + " | ".join(_cell(r) for r in ratios.values()) + " |"
        )
    return "\n".join(lines)


def performance_text(performance: dict[str, Any]) -> str:
    """Plain-text table of :func:`performance_table` for a terminal."""
    names = ["model", *performance.get("baselines", {})]
    columns = [performance["metrics"], *performance.get("baselines", {}).values()]
    width = max(len(n) for n in names) + 2
    out = [f"{'':<34}" + "".join(f"{n:>{width}}" for n in names)]
    for metric in METRICS:
        out.append(f"{metric:<34}" + "".join(f"{_cell(c.get(metric)):>{width}}" for c in columns))
    for metric, label in RATIOS.items():
        ratios = precision_ratios(performance, metric)
        out.append(
            f"{label + ', model / baseline':<34}"
            + f"{'':>{width}}"
            + "".join(f"{_times(r):>{width}}" for r in ratios.values())
        )
    return "\n".join(out)


def curve_table(curves: dict[str, list[dict[str, Any]]]) -> str:
    """Markdown table of matched precision-budget curves (``{name: [SweepPoint.as_dict(), ...]}``, ``model``
    first): per model threshold, alerts a day and each stream's precision / actionable precision."""
    names = list(curves)
    lines = [
        "| threshold | alerts / day | " + " | ".join(f"{n} precision / actionable" for n in names) + " |",
        "|---" * (len(names) + 2) + "|",
    ]
    for row in zip(*curves.values(), strict=True):
        model = row[0]
        cells = [f"{_cell(p['precision'])} / {_cell(p['actionable_precision'])}" for p in row]
        lines.append(f"| {model['threshold']:.3f} | {model['alerts_per_day']:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def manifest_table(manifest: ArtifactManifest) -> str:
    """Markdown table of what a published manifest says: ids and hashes, data, thresholds and how they were
    tuned, payload digests and what the runtime must provide (the out-of-sample metrics have their own table)."""
    tuning = manifest.model.threshold_tuning
    dataset = manifest.dataset_ref
    window = dataset.labeling.pre_window
    rows = [
        ("artifact", f"`{manifest.id}`, created {manifest.created_at.isoformat(timespec='seconds')}"),
        ("producer", f"{manifest.producer.system} at git `{manifest.producer.git_commit}`"),
        ("feature spec", f"`{manifest.feature_spec_ref.id}`, `{manifest.feature_spec_ref.schema_hash}`"),
        ("data", f"{dataset.universe}; {dataset.time_range.start} .. {dataset.time_range.end}"),
        (
            "labels",
            f"first cross of previous close +{dataset.labeling.anchor_param:.0%}, pre-window "
            f"{window.start_offset_min} .. {window.end_offset_min} min; negatives {', '.join(dataset.negatives.type)} "
            f"x{dataset.negatives.ratio:g}",
        ),
        (
            "out of sample",
            f"train to {manifest.performance_oos.split.train_end}, test "
            f"{manifest.performance_oos.split.test_start} .. {manifest.performance_oos.split.test_end}",
        ),
        ("model", f"{manifest.model.type}: {manifest.model.objective}"),
        ("global threshold", f"{manifest.model.thresholds.global_score_min:.4f}"),
        (
            "per-cluster thresholds",
            ", ".join(f"{c} {v:.4f}" for c, v in manifest.model.thresholds.per_cluster_min.items()) or "none",
        ),
    ]
    if tuning is not None:
        folds = "; ".join(
            f"train {f.train_start}..{f.train_end} ({f.train_days} d) → {f.validation_start}..{f.validation_end}"
            for f in tuning.folds
        )
        rows.append(
            ("tuning", f"{tuning.metric}, purge {tuning.purge_days} d, embargo {tuning.embargo_days} d: {folds}")
        )
    rows += [(f"payload `{f.name}`", f"sha256 `{f.sha256[:16]}…`") for f in manifest.payload.files]
    compatibility = manifest.compatibility
    rows.append(
        (
            "runtime",
            f"plugin `{compatibility.runtime_strategy_plugin}`, streams {', '.join(compatibility.required_streams)}",
        )
    )
    return "| field | value |\n|---|---|\n" + "\n".join(f"| {name} | {value} |" for name, value in rows)
