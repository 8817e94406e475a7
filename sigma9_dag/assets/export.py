"""Export stage: the backtested candidate published to the artifact store the runtime reads."""

import datetime as dt
from pathlib import Path

import dagster as dg

from sigma9_dag.assets.backtest import BacktestOutput
from sigma9_dag.assets.distill import DistillOutput
from sigma9_dag.assets.metadata import number
from sigma9_dag.export import publish_artifact
from sigma9_dag.export.publish import manifest_location, taken_artifact_ids
from sigma9_dag.io_manager import LAB_STORE
from sigma9_dag.lab.checks import load_artifact
from sigma9_dag.lab.store import StageOutput
from sigma9_dag.lab.summary import manifest_table, performance_table, precision_ratios
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import ArtifactStoreResource, LakeResource, SpecCatalogResource
from sigma9_dag.run_tags import ARTIFACT_ID, tag_run
from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.io import load_artifact_manifest, parse_contract, parse_json_text
from sigma9_runtime.registry.object_store import is_object_store_url, read_object

STAGE = "export"


def next_artifact_id(store: Path | str, day: dt.date) -> str:
    """``ART_<day>_<NNN>``: the first sequence number of ``day`` with no manifest and no payload in ``store``."""
    taken = taken_artifact_ids(store)
    n = 1
    while f"ART_{day.isoformat()}_{n:03d}" in taken:
        n += 1
    return f"ART_{day.isoformat()}_{n:03d}"


class ExportOutput(StageOutput):
    """The artifact one FeatureSpec's chain published to the artifact store.

    Fields (beside :class:`StageOutput`'s)
    --------------------------------------
    artifact_id
        The published artifact's id (``ART_<UTC date>_<NNN>``).
    manifest
        Its manifest file in the artifact store.
    """

    artifact_id: str
    manifest: str

    def published_manifest(self) -> ArtifactManifest:
        """The published manifest, read from the artifact store (a directory or a bucket's URL)."""
        if is_object_store_url(self.manifest):
            text = read_object(self.manifest).decode()
            return parse_contract(ArtifactManifest, parse_json_text(text, self.manifest), file=self.manifest, text=text)
        return load_artifact_manifest(self.manifest)


@dg.asset(partitions_def=feature_spec_partitions, group_name="export", kinds={"onnx", "json"}, io_manager_key=LAB_STORE)
def export(
    context: dg.AssetExecutionContext,
    distill: DistillOutput,
    backtest: BacktestOutput,
    lake: LakeResource,
    specs: SpecCatalogResource,
    artifacts: ArtifactStoreResource,
) -> dg.MaterializeResult[ExportOutput]:
    """The candidate artifact (ONNX payloads + manifest) published atomically to the artifact store, manifest last."""
    spec_id = context.partition_key
    store = lake.lab(spec_id)
    # the candidate the backtest ran, read back through the runtime's registry (every digest verified)
    staged = load_artifact(distill.candidate_store(), distill.candidate_id, specs.spec(spec_id))
    target = artifacts.location()
    now = dt.datetime.now(dt.UTC)
    body = staged.manifest.model_dump(mode="json", exclude={"payload", "feature_spec_ref"})
    body["id"] = next_artifact_id(target, now.date())
    body["created_at"] = now.isoformat()
    manifest = publish_artifact(target, body, dict(staged.files), specs.path(spec_id))
    path = manifest_location(target, manifest.id)
    performance = manifest.performance_oos.model_dump(include={"metrics", "baselines"})
    backtested = backtest.summary()
    store.write_json(STAGE, "published", {"artifact_id": manifest.id, "manifest": path})
    ratios = precision_ratios(performance)
    actionable = precision_ratios(performance, "actionable_precision_at_budget")
    context.log.info(f"published {manifest.id}: {path}")
    tag_run(context, specs, **{ARTIFACT_ID: manifest.id})
    return dg.MaterializeResult(
        value=ExportOutput(
            store=store.root, stage=STAGE, documents=("published",), artifact_id=manifest.id, manifest=path
        ),
        metadata={
            "artifact_id": manifest.id,
            "manifest": dg.MetadataValue.path(path),
            "schema_hash": manifest.feature_spec_ref.schema_hash,
            "thresholds": dg.MetadataValue.json(manifest.model.thresholds.model_dump()),
            "manifest_content": dg.MetadataValue.md(manifest_table(manifest)),
            "precision_at_budget": number(performance["metrics"]["precision_at_budget"]),
            "actionable_precision_at_budget": number(performance["metrics"]["actionable_precision_at_budget"]),
            "precision_vs_seismograph": number(ratios.get("seismograph_only")),
            "precision_vs_random": number(ratios.get("random_budget_matched")),
            "actionable_precision_vs_seismograph": number(actionable.get("seismograph_only")),
            "actionable_precision_vs_random": number(actionable.get("random_budget_matched")),
            "performance_oos": dg.MetadataValue.md(performance_table(performance)),
            "backtest": dg.MetadataValue.md(
                f"Nautilus backtest, {', '.join(backtested['days'])}:\n\n"
                + performance_table(backtested["performance"])
            ),
        },
    )
