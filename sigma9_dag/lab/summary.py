"""Headline figures of an out-of-sample evaluation, for asset metadata and the command line."""

from __future__ import annotations

import math
from typing import Any

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
