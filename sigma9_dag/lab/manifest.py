"""The ArtifactManifest body of a lab candidate, from the stage outputs (section 3.2.2 of the design).

:func:`manifest_body` gives everything but ``payload`` and the spec snapshot path, which
:func:`sigma9_dag.export.publish_artifact` computes when it writes the artifact.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sigma9_dag.export import producer_section
from sigma9_runtime.contracts.artifact_manifest import Thresholds
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.streams import spec_streams

PLUGIN = "seismograph_ml"


def min_bar_history(spec: FeatureSpec) -> dict[str, str]:
    """Bars the runtime needs before a symbol scores: the longest window per bar size, and daily bars for the
    normalization lookback."""
    plan = FeaturePlan.from_spec(spec)
    seconds = max(plan.max_length["s"], 1)
    minutes = max(plan.max_length["m"], 1)
    lookback = spec.normalization.lookback
    return {"bar_1s": f"{seconds}s", "bar_1m": f"{minutes}m", "daily": str(lookback) if lookback else "1d"}


def manifest_body(
    *,
    artifact_id: str,
    spec: FeatureSpec,
    run: BacktestRunConfig,
    split: dict[str, Any],
    universe: str,
    thresholds: Thresholds,
    performance: dict[str, Any],
    tuning: dict[str, Any] | None = None,
    created_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The manifest body (without ``payload`` / ``feature_spec_ref``) of a lab candidate.

    ``split`` is the dataset stage's ``split.json`` (``parts`` bounds and ``settings``); the OOS split
    is train_end = the last validation day (everything fitted or tuned saw at most that), test = the
    test days. ``performance`` is ``{"metrics", "baselines"}`` of the test evaluation; ``tuning`` the
    validation stage's walk-forward record (the manifest's ``model.threshold_tuning``).
    """
    parts, settings = split["parts"], split["settings"]
    start, end = parts["train"][0], parts["test"][1]
    pre_start, pre_end = settings["pre_window_min"]
    metric = tuning["metric"] if tuning else "precision_at_budget"
    how = f"walk-forward on {len(tuning['folds'])} purged folds" if tuning else "on validation days"
    model: dict[str, Any] = {
        "type": "hybrid",
        "objective": f"binary_logloss; thresholds tuned for {metric} {how}",
        "outputs": ["score", "explain_topk", "cluster_id"],
        "thresholds": thresholds.model_dump(mode="json"),
    }
    if tuning:
        model["threshold_tuning"] = tuning
    return {
        "id": artifact_id,
        "created_at": (created_at or dt.datetime.now(dt.UTC)).isoformat(),
        "producer": producer_section().model_dump(mode="json"),
        "dataset_ref": {
            "universe": universe,
            "time_range": {"start": start, "end": end},
            "labeling": {
                "anchor": "first_cross_prevclose_pct",
                "anchor_param": settings["anchor"],
                "pre_window": {"start_offset_min": pre_start, "end_offset_min": pre_end},
            },
            "negatives": {"type": list(settings["negatives"]), "ratio": settings["negative_ratio"]},
        },
        "model": model,
        "performance_oos": {
            "split": {"train_end": parts["validation"][1], "test_start": parts["test"][0], "test_end": end},
            "alert_budget": {"max_alerts_per_day": run.evaluation.alert_budget.max_alerts_per_day},
            **performance,
        },
        "compatibility": {
            "runtime_strategy_plugin": PLUGIN,
            "required_streams": spec_streams(spec),
            "min_bar_history": min_bar_history(spec),
        },
    }
