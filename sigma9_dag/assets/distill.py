"""Distill stage: cluster classifier, per-cluster thresholds, rule summary, and the candidate artifact."""

import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from sigma9_dag.assets.config import stage_config
from sigma9_dag.assets.dataset import DatasetOutput
from sigma9_dag.assets.discovery import DiscoveryOutput
from sigma9_dag.assets.metadata import number
from sigma9_dag.assets.validation import ValidationOutput
from sigma9_dag.evaluation import EvaluationSettings, LakePrices, run_evaluation
from sigma9_dag.export import build_payload, publish_artifact
from sigma9_dag.io_manager import LAB_STORE
from sigma9_dag.lab.distill import (
    DistillSettings,
    assign_clusters,
    cluster_ids,
    fit_cluster_classifier,
    passes_threshold,
    rule_summary,
    tune_cluster_thresholds,
)
from sigma9_dag.lab.manifest import manifest_body
from sigma9_dag.lab.store import StageOutput
from sigma9_dag.lab.summary import performance_table, precision_ratios
from sigma9_dag.lab.validation import before_cross
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import LakeResource, SpecCatalogResource
from sigma9_dag.run_tags import tag_run
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.gates import MLGate

STAGE = "distill"
CANDIDATE_STORE = "candidate_store"
"""Artifact store (under the stage's directory) holding the one candidate the backtest and export read."""
PARITY_ROWS = 5_000

DistillConfig = stage_config(DistillSettings, "DistillConfig")
"""Cluster tree, per-cluster tuning and rule knobs: the fields, defaults and constraints of :class:`DistillSettings`."""


def candidate_id(spec_id: str) -> str:
    """Id of the staged candidate artifact of ``spec_id`` (the export stage publishes it under a new id)."""
    return f"ART_candidate_{spec_id}"


class DistillOutput(StageOutput):
    """The candidate artifact of one FeatureSpec, staged in its lab store, with the cluster classifier.

    Fields (beside :class:`StageOutput`'s)
    --------------------------------------
    candidate_id
        The staged candidate's artifact id in :meth:`candidate_store`.
    """

    candidate_id: str

    def candidate_store(self) -> Path:
        """The artifact store holding the one candidate (``publish_artifact``'s layout; the registry loads it)."""
        return self.path(CANDIDATE_STORE)

    def cluster_model(self) -> Any:
        """The cluster classifier distilled from HDBSCAN (kept inside the lab; the runtime gets ONNX)."""
        return self.model("cluster_model")

    def candidates(self) -> pd.DataFrame:
        """The validation and test candidates with their cluster id (symbol, ts_ns, part, cluster_id)."""
        return self.table("candidates")

    def summary(self) -> dict[str, Any]:
        """Cluster agreement, thresholds and trials, test performance, rule fidelity, ONNX parity."""
        return self.document("summary")  # type: ignore[no-any-return]


@dg.asset(
    partitions_def=feature_spec_partitions,
    group_name="distill",
    kinds={"sklearn", "onnx"},
    io_manager_key=LAB_STORE,
)
def distill(
    context: dg.AssetExecutionContext,
    config: DistillConfig,
    dataset: DatasetOutput,
    discovery: DiscoveryOutput,
    validation: ValidationOutput,
    lake: LakeResource,
    specs: SpecCatalogResource,
) -> dg.MaterializeResult[DistillOutput]:
    """Cluster classifier distilled from HDBSCAN, thresholds tuned on validation days, rules, candidate artifact."""
    spec_id = context.partition_key
    tag_run(context, specs)
    spec, run = specs.spec(spec_id), specs.run_config(spec_id)
    settings = config.settings(DistillSettings)
    names = feature_names(spec)
    store = lake.lab(spec_id)
    samples = dataset.samples()
    members = discovery.members()
    candidates = validation.candidates()
    summary = validation.summary()
    scorer = validation.scorer()

    # 1. cluster membership -> a small exportable classifier: each positive row carries its event's cluster
    positives = members.merge(samples, on=["ticker", "date", "ts_ns"], how="left", validate="one_to_one")
    cluster_model, agreement = fit_cluster_classifier(
        positives[names].to_numpy(np.float64), positives["cluster"].to_numpy(), settings
    )
    events = dataset.events()
    prices = LakePrices.for_spec(lake.layout(), spec, events=events)
    scan = before_cross(dataset.scan(), events, prices.bar_ns)
    if len(scan) != len(candidates) or not np.array_equal(scan["ts_ns"].to_numpy(), candidates["ts_ns"].to_numpy()):
        raise RuntimeError(
            f"{store.root}: validation candidates do not match the dataset's scan; rematerialize validation"
        )
    scan_rows = scan[names].to_numpy(np.float64)
    del scan
    candidates["cluster_id"] = assign_clusters(cluster_model, scan_rows)

    # 2. thresholds on validation days only, then the test days once
    gate = MLGate.from_feature_spec(spec, run)
    evaluation = EvaluationSettings.from_run_config(run)
    is_val = (candidates["part"] == "validation").to_numpy()
    val, test = candidates[is_val], candidates[~is_val]
    thresholds, trials = tune_cluster_thresholds(
        val,
        summary["threshold"],
        gate=gate,
        prices=prices,
        evaluation=evaluation,
        settings=settings,
        metric=summary.get("tune_metric", "precision_at_budget"),
    )
    result = run_evaluation(
        test, thresholds=thresholds, gate=gate, prices=prices, settings=evaluation, baselines=run.evaluation.baselines
    )
    performance = result.performance()

    # 3. a person's reading of what alerts
    rules, fidelity = rule_summary(
        scan_rows[is_val],
        passes_threshold(val, thresholds),
        names,
        scan_rows[~is_val],
        passes_threshold(test, thresholds),
        settings,
    )
    profiles = discovery.summary()["profiles"]
    rules_md = _rules_markdown(rules, fidelity, thresholds.model_dump(), profiles)

    # 4. the candidate artifact (ONNX checked against the native models), staged for backtest and export
    train = samples[samples["part"] == "train"][names].to_numpy(np.float64)
    rng = np.random.default_rng(settings.seed)
    # test rows: no scorer trained on them. A training row can sit exactly on a split, where float32 inputs and
    # ONNX's float32 thresholds may take the other branch than LightGBM's doubles (the runtime feeds float32).
    held_out = scan_rows[~is_val]
    parity = held_out[rng.choice(len(held_out), size=min(PARITY_ROWS, len(held_out)), replace=False)]
    payload = build_payload(
        scorer,
        names,
        train,
        cluster_model=cluster_model,
        cluster_ids=cluster_ids(cluster_model.classes_),
        parity_rows=parity,
    )
    split = dataset.split()
    body = manifest_body(
        artifact_id=candidate_id(spec_id),
        spec=spec,
        run=run,
        split=split,
        universe=f"lake {lake.resolved_root()}: {candidates['symbol'].nunique()} tickers scanned",
        thresholds=thresholds,
        performance=performance,
        tuning=summary.get("tuning"),
    )
    staging = store.path(STAGE, CANDIDATE_STORE)
    shutil.rmtree(staging, ignore_errors=True)
    manifest = publish_artifact(staging, body, payload.files, specs.path(spec_id))

    store.write_model(STAGE, "cluster_model", cluster_model)
    store.write_table(STAGE, "candidates", candidates[["symbol", "ts_ns", "part", "cluster_id"]])
    store.write_json(
        STAGE,
        "summary",
        {
            "cluster_agreement": agreement,
            "thresholds": thresholds.model_dump(),
            "trials": trials,
            "performance": performance,
            "rule_fidelity": fidelity,
            "parity": payload.descriptor.parity.model_dump(),
            "candidate": manifest.id,
        },
    )
    store.write_bytes(STAGE, "rules.md", rules_md.encode())
    ratios = precision_ratios(performance)
    parity_record = payload.descriptor.parity
    return dg.MaterializeResult(
        value=DistillOutput(
            store=store.root,
            stage=STAGE,
            tables=("candidates",),
            documents=("summary",),
            models=("cluster_model",),
            files=(CANDIDATE_STORE, "rules.md"),
            candidate_id=manifest.id,
        ),
        metadata={
            "cluster_agreement": number(agreement),
            "global_threshold": number(thresholds.global_score_min),
            "per_cluster_thresholds": dg.MetadataValue.json(
                {c: round(v, 4) for c, v in thresholds.per_cluster_min.items()}
            ),
            "test_events_hit": result.model.events_hit,
            "test_events_hit_actionable": result.model.events_hit_actionable,
            "test_events_in_scope": result.events_in_scope,
            "precision_vs_seismograph": number(ratios.get("seismograph_only")),
            "precision_vs_random": number(ratios.get("random_budget_matched")),
            "onnx_scorer_max_abs_diff": parity_record.scorer_max_abs_diff,
            "onnx_cluster_max_abs_diff": parity_record.cluster_max_abs_diff or 0.0,
            "performance_test": dg.MetadataValue.md(performance_table(performance)),
            "rules": dg.MetadataValue.md(rules_md),
            "candidate": dg.MetadataValue.path(str(staging)),
        },
    )


def _rules_markdown(rules: str, fidelity: float | None, thresholds: dict, profiles: list[dict]) -> str:
    lines = ["# What the model alerts on", "", f"Thresholds: `{thresholds}`", ""]
    lines += ["## Clusters (discovery profiles)", ""]
    lines += [f"- **{p['cluster']}** ({p['size']} events): {'; '.join(p['distinctive'])}" for p in profiles]
    fid = "undefined" if fidelity is None else f"{fidelity:.1%}"
    lines += ["", f"## Rules (a depth-limited tree mimicking the gate's threshold; test fidelity {fid})", ""]
    lines += ["```", rules.rstrip(), "```", ""]
    return "\n".join(lines)
