"""Experiment stage: this lab run in the MLflow experiment history, beside every earlier run."""

import json
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg

from sigma9_dag.assets.backtest import BacktestOutput
from sigma9_dag.assets.discovery import DiscoveryOutput
from sigma9_dag.assets.distill import DistillOutput
from sigma9_dag.assets.export import ExportOutput
from sigma9_dag.assets.validation import ValidationOutput
from sigma9_dag.io_manager import LAB_STORE
from sigma9_dag.lab.store import StageOutput
from sigma9_dag.lab.summary import RATIOS, precision_ratios
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import ExperimentTrackerResource, LakeResource, SpecCatalogResource
from sigma9_dag.run_tags import ARTIFACT_ID, lab_run_tags, stored_run
from sigma9_dag.tracking import LabRunRecord, log_lab_run

STAGE = "experiment"


class ExperimentOutput(StageOutput):
    """Where this lab run was logged: the tracking URI and the MLflow run id."""

    def logged(self) -> dict[str, str]:
        """``{"tracking_uri": ..., "mlflow_run_id": ...}``."""
        return self.document("logged")  # type: ignore[no-any-return]


def _run_tags(context: dg.AssetExecutionContext, specs: SpecCatalogResource, artifact_id: str) -> dict[str, str]:
    """The lab run's tags (as :mod:`sigma9_dag.run_tags` sets them) and its Dagster run id."""
    tags = {**lab_run_tags(context.partition_key, specs), ARTIFACT_ID: artifact_id}
    run = stored_run(context)
    return tags if run is None else {**tags, "dagster/run_id": run.run_id}


def lab_run_record(
    name: str,
    tags: dict[str, str],
    *,
    manifest: Any,
    ml_weight: float,
    validation: dict[str, Any],
    discovery: dict[str, Any],
    distill: dict[str, Any],
    backtest: dict[str, Any],
    seeds: dict[str, int],
) -> LabRunRecord:
    """The record of one lab run from its published manifest and its stages' summaries."""
    thresholds = manifest.model.thresholds
    tuning = manifest.model.threshold_tuning
    record = LabRunRecord(
        name=name,
        tags=tags,
        params={
            "spec_id": manifest.feature_spec_ref.id,
            "schema_hash": manifest.feature_spec_ref.schema_hash,
            "artifact_id": manifest.id,
            "ml_weight": ml_weight,
            "global_threshold": round(thresholds.global_score_min, 6),
            "per_cluster_thresholds": json.dumps({c: round(v, 6) for c, v in thresholds.per_cluster_min.items()}),
            "tune_metric": tuning.metric if tuning else "precision_at_budget",
            "walk_forward_folds": len(tuning.folds) if tuning else 0,
            "test_start": manifest.performance_oos.split.test_start.isoformat(),
            "test_end": manifest.performance_oos.split.test_end.isoformat(),
            **{f"seed.{stage}": seed for stage, seed in seeds.items()},
        },
    )
    performance = manifest.performance_oos.model_dump(include={"metrics", "baselines"})
    record.add_metrics("oos.model", performance["metrics"])
    for baseline, metrics in performance["baselines"].items():
        record.add_metrics(f"oos.{baseline}", metrics)
    for metric in RATIOS:
        record.add_metrics(f"oos.{metric}_ratio", precision_ratios(performance, metric))
    record.add_metrics("validation.auc", validation.get("auc", {}))
    record.add_metrics(
        "validation", {"events_hit": validation.get("events_hit"), "events_in_scope": validation.get("events_in_scope")}
    )
    record.add_metrics(
        "discovery", {k: discovery.get(k) for k in ("ari", "ari_with_noise", "noise_fraction", "events")}
    )
    record.add_metrics("distill", {"cluster_agreement": distill.get("cluster_agreement")})
    backtested = backtest.get("performance", {})
    record.add_metrics("backtest.model", backtested.get("metrics", {}))
    for baseline, metrics in backtested.get("baselines", {}).items():
        record.add_metrics(f"backtest.{baseline}", metrics)
    return record


@dg.asset(partitions_def=feature_spec_partitions, group_name="experiment", kinds={"mlflow"}, io_manager_key=LAB_STORE)
def experiment(
    context: dg.AssetExecutionContext,
    discovery: DiscoveryOutput,
    validation: ValidationOutput,
    distill: DistillOutput,
    backtest: BacktestOutput,
    export: ExportOutput,
    lake: LakeResource,
    specs: SpecCatalogResource,
    tracker: ExperimentTrackerResource,
) -> dg.MaterializeResult[ExperimentOutput]:
    """This lab run in the experiment history (MLflow): its params, metrics, plots and manifest."""
    spec_id = context.partition_key
    manifest = export.published_manifest()
    summary = validation.summary()
    discovered = discovery.summary()
    seeds = {
        "run_config": specs.run_config(spec_id).seed,
        "discovery": int(discovered.get("settings", {}).get("seed", 0)),
    }
    tags = _run_tags(context, specs, manifest.id)
    record = lab_run_record(
        f"{spec_id} {manifest.id}",
        tags,
        manifest=manifest,
        ml_weight=float(summary.get("ml_weight", 1.0)),
        validation=summary,
        discovery=discovered,
        distill=distill.document("summary"),
        backtest=backtest.summary(),
        seeds=seeds,
    )
    with tempfile.TemporaryDirectory() as scratch:
        manifest_file = Path(scratch) / f"{manifest.id}.json"
        manifest_file.write_text(manifest.model_dump_json(indent=2))
        record.artifacts = [
            manifest_file,
            validation.path("plots.png"),
            discovery.path("scatter.png"),
            distill.path("rules.md"),
            *(backtest.path(name) for name in ("equity_curve.png", "metrics.png") if name in backtest.files),
        ]
        logged = log_lab_run(record, tracker.uri())
    store = lake.lab(spec_id)
    store.write_json(STAGE, "logged", {"tracking_uri": logged.tracking_uri, "mlflow_run_id": logged.run_id})
    context.log.info(f"logged to MLflow at {logged.tracking_uri}: {logged.ui_url}")
    return dg.MaterializeResult(
        value=ExperimentOutput(store=store.root, stage=STAGE, documents=("logged",)),
        metadata={
            "tracking_uri": logged.tracking_uri,
            "mlflow_run_id": logged.run_id,
            "mlflow_run": dg.MetadataValue.url(logged.ui_url),
            "params": len(record.params),
            "metrics": len(record.metrics),
            "artifacts": len(record.artifacts),
        },
    )
