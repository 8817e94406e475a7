"""Headline figures of an out-of-sample evaluation, for asset metadata and the command line."""

from __future__ import annotations

from typing import Any

METRICS = ("precision_at_budget", "median_lead_time_min", "tail_loss_p95", "utility_score")


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


def precision_ratios(performance: dict[str, Any]) -> dict[str, float | None]:
    """The model's precision_at_budget over each baseline's (None where undefined or zero)."""
    model = performance["metrics"].get("precision_at_budget")
    return {
        name: _ratio(model, metrics.get("precision_at_budget"))
        for name, metrics in performance.get("baselines", {}).items()
    }


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def performance_table(performance: dict[str, Any]) -> str:
    """Markdown table: one row per metric, the model and each baseline side by side, then the precision ratios."""
    names = ["model", *performance.get("baselines", {})]
    columns = [performance["metrics"], *performance.get("baselines", {}).values()]
    lines = ["| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for metric in METRICS:
        lines.append(f"| {metric} | " + " | ".join(_cell(c.get(metric)) for c in columns) + " |")
    ratios = precision_ratios(performance)
    lines.append("| precision ratio (model / baseline) | — | " + " | ".join(_cell(r) for r in ratios.values()) + " |")
    return "\n".join(lines)


def performance_text(performance: dict[str, Any]) -> str:
    """Plain-text table of :func:`performance_table` for a terminal."""
    names = ["model", *performance.get("baselines", {})]
    columns = [performance["metrics"], *performance.get("baselines", {}).values()]
    width = max(len(n) for n in names) + 2
    out = [f"{'':<34}" + "".join(f"{n:>{width}}" for n in names)]
    for metric in METRICS:
        out.append(f"{metric:<34}" + "".join(f"{_cell(c.get(metric)):>{width}}" for c in columns))
    ratios = precision_ratios(performance)
    out.append(
        f"{'precision, model / baseline':<34}"
        + f"{'':>{width}}"
        + "".join(f"{(_cell(r) + 'x') if r is not None else '—':>{width}}" for r in ratios.values())
    )
    return "\n".join(out)
