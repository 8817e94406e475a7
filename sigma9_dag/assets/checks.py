"""Blocking asset checks of the lab chain: no leakage, a verifiable artifact, ONNX parity.

Each wraps a function of :mod:`sigma9_dag.lab.checks`; a failing check stops the downstream stages of
its run (the candidate is neither backtested nor exported).
"""

import dagster as dg
import numpy as np

from sigma9_dag.assets.dataset import STAGE as DATASET
from sigma9_dag.assets.dataset import dataset
from sigma9_dag.assets.distill import CANDIDATE_STORE, candidate_id, distill
from sigma9_dag.assets.distill import STAGE as DISTILL
from sigma9_dag.assets.export import STAGE as EXPORT
from sigma9_dag.assets.export import export
from sigma9_dag.assets.validation import STAGE as VALIDATION
from sigma9_dag.lab.checks import artifact_problems, leakage_problems, parity_problems
from sigma9_dag.resources import ArtifactStoreResource, LakeResource, SpecCatalogResource
from sigma9_runtime.features.names import feature_names

PARITY_ROWS = 2_000


def _partition(context: dg.AssetCheckExecutionContext) -> str:
    """The FeatureSpec id of the run the check executes in (the checked asset's partition).

    Checks run in the same run as their asset (they carry no ``partitions_def`` of their own, a preview
    feature in Dagster 1.13), so the run's partition is the asset's.
    """
    return context.op_execution_context.partition_key


def _result(problems: list[str], passed: str, **metadata: float) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems) if problems else passed,
        metadata={"problems": dg.MetadataValue.json(problems), **metadata},
    )


@dg.asset_check(asset=dataset, blocking=True)
def dataset_has_no_leakage(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> dg.AssetCheckResult:
    """No training sample on a held-out date, no feature read after its sample time, positives in their pre-window."""
    store = lake.lab(_partition(context))
    problems = leakage_problems(
        store.read_table(DATASET, "samples"), store.read_table(DATASET, "events"), store.read_json(DATASET, "split")
    )
    return _result(problems, "no leakage found")


@dg.asset_check(asset=distill, blocking=True)
def candidate_artifact_verifies(
    context: dg.AssetCheckExecutionContext, lake: LakeResource, specs: SpecCatalogResource
) -> dg.AssetCheckResult:
    """The runtime's registry loads the candidate and its spec snapshot has the FeatureSpec's schema hash."""
    spec_id = _partition(context)
    staging = lake.lab(spec_id).path(DISTILL, CANDIDATE_STORE)
    return _result(artifact_problems(staging, candidate_id(spec_id), specs.spec(spec_id)), "the runtime loads it")


@dg.asset_check(asset=distill, blocking=True)
def candidate_onnx_parity(
    context: dg.AssetCheckExecutionContext, lake: LakeResource, specs: SpecCatalogResource
) -> dg.AssetCheckResult:
    """The candidate's ONNX payload through the runtime's inference equals the native LightGBM and cluster models."""
    spec_id = _partition(context)
    spec = specs.spec(spec_id)
    store = lake.lab(spec_id)
    samples = store.read_table(DATASET, "samples")
    held_out = samples[samples["part"] != "train"]
    rows = held_out[feature_names(spec)].to_numpy(np.float64)[:PARITY_ROWS]
    problems, figures = parity_problems(
        store.path(DISTILL, CANDIDATE_STORE),
        candidate_id(spec_id),
        spec,
        store.read_model(VALIDATION, "scorer"),
        store.read_model(DISTILL, "cluster_model"),
        rows,
    )
    return _result(problems, "ONNX equals the native models", **figures)


@dg.asset_check(asset=export, blocking=True)
def exported_artifact_verifies(
    context: dg.AssetCheckExecutionContext,
    lake: LakeResource,
    specs: SpecCatalogResource,
    artifacts: ArtifactStoreResource,
) -> dg.AssetCheckResult:
    """The published artifact loads through the runtime's registry; its snapshot has the spec's schema hash."""
    spec_id = _partition(context)
    published = lake.lab(spec_id).read_json(EXPORT, "published")
    problems = artifact_problems(artifacts.path(), published["artifact_id"], specs.spec(spec_id))
    return _result(problems, f"the runtime loads {published['artifact_id']}")


CHECKS = [dataset_has_no_leakage, candidate_artifact_verifies, candidate_onnx_parity, exported_artifact_verifies]
