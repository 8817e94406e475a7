"""Validation stage: the LightGBM scorer, its threshold tuned walk-forward and judged out of sample as an alerter."""

from typing import Any

import dagster as dg
import pandas as pd

from sigma9_dag.assets.config import stage_config
from sigma9_dag.assets.dataset import DatasetOutput
from sigma9_dag.assets.discovery import discovery
from sigma9_dag.assets.metadata import image, number
from sigma9_dag.evaluation import EvaluationSettings, LakePrices, run_evaluation
from sigma9_dag.io_manager import LAB_STORE
from sigma9_dag.lab.dataset import part_days
from sigma9_dag.lab.folds import walk_forward_folds
from sigma9_dag.lab.store import StageOutput
from sigma9_dag.lab.summary import curve_table, performance_table, precision_ratios
from sigma9_dag.lab.validation import (
    ValidationSettings,
    lead_times,
    learned_samples,
    matched_curves,
    ml_weight_of,
    on_days,
    part_auc,
    pick_threshold,
    plots_png,
    quantile_thresholds,
    score_candidates,
    score_folds,
    sweep,
    train_scorer,
)
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import LakeResource, SpecCatalogResource
from sigma9_dag.run_tags import tag_run
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.gates import MLGate

STAGE = "validation"

ValidationConfig = stage_config(ValidationSettings, "ValidationConfig")
"""LightGBM and threshold-tuning knobs: the fields, defaults and constraints of :class:`ValidationSettings`."""


class ValidationOutput(StageOutput):
    """The scorer of one FeatureSpec and its scored candidates, in its lab store."""

    def scorer(self) -> Any:
        """The fitted LightGBM classifier (kept inside the lab; the runtime gets ONNX)."""
        return self.model("scorer")

    def candidates(self) -> pd.DataFrame:
        """The dataset's scan candidates before their cross, scored, with their tradeability inputs."""
        return self.table("candidates")

    def summary(self) -> dict[str, Any]:
        """AUCs, the tuned threshold, the sweeps, the test performance and the feature importance."""
        return self.document("summary")  # type: ignore[no-any-return]


@dg.asset(
    partitions_def=feature_spec_partitions,
    group_name="validation",
    kinds={"lightgbm"},
    deps=[discovery],  # after the clusters, which it does not read: the chain runs in the design's order
    io_manager_key=LAB_STORE,
)
def validation(
    context: dg.AssetExecutionContext,
    config: ValidationConfig,
    dataset: DatasetOutput,
    lake: LakeResource,
    specs: SpecCatalogResource,
) -> dg.MaterializeResult[ValidationOutput]:
    """LightGBM scorer, its threshold tuned on walk-forward folds and its alerts on test days against the baselines."""
    spec_id = context.partition_key
    tag_run(context, specs)
    spec, run = specs.spec(spec_id), specs.run_config(spec_id)
    settings = config.settings(ValidationSettings)
    names = feature_names(spec)
    store = lake.lab(spec_id)
    samples = dataset.samples()
    scan = dataset.scan()
    events = dataset.events()

    split = dataset.split()
    purge_days = int(split["settings"]["purge_days"])
    days = part_days(split, samples, scan)
    folds = walk_forward_folds(
        days["train"] + days["validation"],
        days["validation"],
        folds=settings.folds,
        purge_days=purge_days,
        embargo_days=settings.embargo_days,
        max_train_days=settings.max_train_days,
    )
    prices = LakePrices.for_spec(lake.layout(), spec, events=events)
    weight = ml_weight_of(run)
    lead_band = (float(run.evaluation.lead_time.target_min), float(run.evaluation.lead_time.target_max))
    learned = learned_samples(samples, lead_band if settings.positives_from == "lead_time_target" else None)
    oof = score_folds(
        folds,
        samples=learned,
        scan=scan,
        events=events,
        names=names,
        ml_weight=weight,
        prices=prices,
        settings=settings,
    )
    context.log.info(f"walk-forward: {len(folds)} folds, out-of-fold AUC {oof.auc}: {oof.folds}")
    model = train_scorer(
        learned, names, settings, days["train"] + (days["validation"] if settings.refit_on_validation else [])
    )
    test_scan = on_days(scan, days["test"])
    del scan
    test = score_candidates(test_scan, events, model, names, weight, prices, settings.prediction_threads)
    val = oof.candidates
    candidates = pd.concat([val, test], ignore_index=True)
    auc = {"validation": oof.auc, "test": part_auc(model, learned, names, "test")}  # on the samples as learned
    gate = MLGate.from_feature_spec(spec, run)
    evaluation = EvaluationSettings.from_run_config(run)

    grid = quantile_thresholds(val["score"].to_numpy(), settings.threshold_quantiles)
    val_curve = sweep(val, grid, gate=gate, prices=prices, settings=evaluation)
    chosen = pick_threshold(val_curve, settings.min_alerts_per_day, settings.tune_metric)
    context.log.info(f"threshold {chosen.threshold:.4f} tuned on the pooled folds: {chosen.as_dict()}")
    # the test days at every threshold of the grid, with the run's baselines matched: the curve, and the tuned one
    evaluations = {
        threshold: run_evaluation(
            test,
            thresholds=threshold,
            gate=gate,
            prices=prices,
            settings=evaluation,
            baselines=run.evaluation.baselines,
        )
        for threshold in grid
    }
    result = evaluations[chosen.threshold]
    performance = result.performance()
    test_curves = matched_curves(evaluations, test)
    leads = lead_times(result.model)
    png = plots_png(
        {"model (pooled folds)": val_curve, **{f"{name} (test)": curve for name, curve in test_curves.items()}},
        leads,
        lead_band,
    )
    tuning = {
        "metric": settings.tune_metric,
        "purge_days": purge_days,
        "embargo_days": settings.embargo_days,
        "folds": [{k: v for k, v in fold.items() if k != "auc"} for fold in oof.folds],
    }

    store.write_model(STAGE, "scorer", model)
    store.write_table(STAGE, "candidates", candidates)
    summary = {
        "auc": auc,
        "ml_weight": weight,
        "threshold": chosen.threshold,
        "tune_metric": settings.tune_metric,
        "tuning": tuning,
        "fold_auc": [fold["auc"] for fold in oof.folds],
        "validation_sweep": [p.as_dict() for p in val_curve],
        "test_curves": {name: [p.as_dict() for p in curve] for name, curve in test_curves.items()},
        "performance": performance,
        "events_in_scope": result.events_in_scope,
        "events_hit": result.model.events_hit,
        "events_hit_actionable": result.model.events_hit_actionable,
        "test_days": int(test["date"].nunique()),
        "suppressed": {str(k): v for k, v in result.model.suppressed.items()},
        "feature_importance": dict(zip(names, model.booster_.feature_importance("gain").round(3).tolist())),
    }
    store.write_json(STAGE, "summary", summary)
    store.write_bytes(STAGE, "plots.png", png)
    ratios = precision_ratios(performance)
    actionable = precision_ratios(performance, "actionable_precision_at_budget")
    return dg.MaterializeResult(
        value=ValidationOutput(
            store=store.root,
            stage=STAGE,
            tables=("candidates",),
            documents=("summary",),
            models=("scorer",),
            files=("plots.png",),
        ),
        metadata={
            "auc_validation": number(auc["validation"]),
            "auc_test": number(auc["test"]),
            "ml_weight": weight,
            "threshold": number(chosen.threshold),
            "test_alerts": len(result.model.alerts),
            "walk_forward_folds": len(folds),
            "tune_metric": settings.tune_metric,
            "test_events_hit": result.model.events_hit,
            "test_events_hit_actionable": result.model.events_hit_actionable,
            "test_events_in_scope": result.events_in_scope,
            "median_lead_time_min": number(performance["metrics"]["median_lead_time_min"]),
            "precision_vs_seismograph": number(ratios.get("seismograph_only")),
            "precision_vs_random": number(ratios.get("random_budget_matched")),
            "actionable_precision_vs_seismograph": number(actionable.get("seismograph_only")),
            "actionable_precision_vs_random": number(actionable.get("random_budget_matched")),
            "performance_test": dg.MetadataValue.md(performance_table(performance)),
            "precision_budget_curve_test": dg.MetadataValue.md(curve_table(summary["test_curves"])),
            "plots": image(png, "plots"),
        },
    )
