"""Asset checks of the lab chain: blocking ones (no leakage, a verifiable artifact, ONNX parity) and the
verdict on the published artifact's quality targets (non-blocking, a warning when one is missed).

Each wraps a function of :mod:`sigma9_dag.lab.checks` and takes the stage outputs it judges as inputs
(loaded by the lab's IO manager); a failing check stops the downstream stages of its run (the candidate is
neither backtested nor exported). The checks are partitioned like their assets, so each evaluation is
recorded for its FeatureSpec partition (``partitions_def`` on an asset check is a preview feature of
Dagster 1.13; its warning is silenced here, where it is used on purpose).
"""

import warnings

import dagster as dg
import numpy as np

from sigma9_dag.assets import dataset as dataset_stage
from sigma9_dag.assets import distill as distill_stage
from sigma9_dag.assets import export as export_stage
from sigma9_dag.assets.metadata import number
from sigma9_dag.assets.validation import ValidationOutput
from sigma9_dag.lab.checks import (
    QUALITY_TARGETS,
    artifact_problems,
    leakage_problems,
    parity_problems,
    quality_verdicts,
)
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import ArtifactStoreResource, SpecCatalogResource
from sigma9_runtime.features.names import feature_names

PARITY_ROWS = 2_000

warnings.filterwarnings("ignore", message=".*partitions_def on an AssetCheckSpec", category=dg.PreviewWarning)


def _result(problems: list[str], passed: str, **metadata: float) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems) if problems else passed,
        metadata={"problems": dg.MetadataValue.json(problems), **metadata},
    )


@dg.asset_check(asset=dataset_stage.dataset, blocking=True, partitions_def=feature_spec_partitions)
def dataset_has_no_leakage(dataset: dataset_stage.DatasetOutput) -> dg.AssetCheckResult:
    """No training sample on a held-out date, no feature read after its sample time, positives in their pre-window."""
    return _result(leakage_problems(dataset.samples(), dataset.events(), dataset.split()), "no leakage found")


@dg.asset_check(asset=distill_stage.distill, blocking=True, partitions_def=feature_spec_partitions)
def candidate_artifact_verifies(
    context: dg.AssetCheckExecutionContext, distill: distill_stage.DistillOutput, specs: SpecCatalogResource
) -> dg.AssetCheckResult:
    """The runtime's registry loads the candidate and its spec snapshot has the FeatureSpec's schema hash."""
    spec = specs.spec(context.partition_key)
    return _result(artifact_problems(distill.candidate_store(), distill.candidate_id, spec), "the runtime loads it")


@dg.asset_check(
    asset=distill_stage.distill,
    blocking=True,
    partitions_def=feature_spec_partitions,
    additional_ins={"dataset": dg.AssetIn("dataset"), "validation": dg.AssetIn("validation")},
)
def candidate_onnx_parity(
    context: dg.AssetCheckExecutionContext,
    distill: distill_stage.DistillOutput,
    dataset: dataset_stage.DatasetOutput,
    validation: ValidationOutput,
    specs: SpecCatalogResource,
) -> dg.AssetCheckResult:
    """The candidate's ONNX payload through the runtime's inference equals the native LightGBM and cluster models."""
    spec = specs.spec(context.partition_key)
    samples = dataset.samples()
    held_out = samples[samples["part"] == "test"]  # validation days train the shipped scorer too
    rows = held_out[feature_names(spec)].to_numpy(np.float64)[:PARITY_ROWS]
    problems, figures = parity_problems(
        distill.candidate_store(), distill.candidate_id, spec, validation.scorer(), distill.cluster_model(), rows
    )
    return _result(problems, "ONNX equals the native models", **figures)


@dg.asset_check(asset=export_stage.export, blocking=True, partitions_def=feature_spec_partitions)
def exported_artifact_verifies(
    context: dg.AssetCheckExecutionContext,
    export: export_stage.ExportOutput,
    specs: SpecCatalogResource,
    artifacts: ArtifactStoreResource,
) -> dg.AssetCheckResult:
    """The published artifact loads through the runtime's registry; its snapshot has the spec's schema hash."""
    problems = artifact_problems(artifacts.location(), export.artifact_id, specs.spec(context.partition_key))
    return _result(problems, f"the runtime loads {export.artifact_id}")


VERDICTS = {
    "precision_vs_random": f"Precision at least {QUALITY_TARGETS['precision_vs_random']:g}x random_budget_matched's.",
    "precision_vs_seismograph": (
        f"Precision at least {QUALITY_TARGETS['precision_vs_seismograph']:g}x seismograph_only's "
        "at a matched alert count."
    ),
    "actionable_precision_vs_seismograph": (
        f"Actionable precision (hits target_min to target_max minutes ahead) at least "
        f"{QUALITY_TARGETS['actionable_precision_vs_seismograph']:g}x seismograph_only's."
    ),
    "lead_time_in_target": "Median lead time inside the run config's lead-time target.",
}
"""The verdict checks on the published artifact, by name, with what each asks."""


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            name, asset=export_stage.export, description=text, blocking=False, partitions_def=feature_spec_partitions
        )
        for name, text in VERDICTS.items()
    ],
    ins={"export": dg.AssetIn("export")},
)
def quality_targets(
    context: dg.AssetCheckExecutionContext, export: export_stage.ExportOutput, specs: SpecCatalogResource
):  # type: ignore[no-untyped-def]
    """The published artifact's out-of-sample figures against the lab's quality targets: a warning for each missed."""
    manifest = export.published_manifest()
    lead = specs.run_config(context.partition_key).evaluation.lead_time
    performance = manifest.performance_oos.model_dump(include={"metrics", "baselines"})
    for verdict in quality_verdicts(performance, (float(lead.target_min), float(lead.target_max))):
        yield dg.AssetCheckResult(
            asset_key=export_stage.export.key,
            check_name=verdict.name,
            passed=verdict.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=verdict.description,
            metadata={name: number(value) for name, value in verdict.figures.items()},
        )


CHECKS = [
    dataset_has_no_leakage,
    candidate_artifact_verifies,
    candidate_onnx_parity,
    exported_artifact_verifies,
    quality_targets,
]
