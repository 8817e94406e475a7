"""Discovery stage: UMAP embedding and HDBSCAN clusters of the training pre-surge windows."""

from typing import Any

import dagster as dg
import pandas as pd

from sigma9_dag.assets.config import stage_config
from sigma9_dag.assets.dataset import DatasetOutput
from sigma9_dag.assets.metadata import image, number
from sigma9_dag.io_manager import LAB_STORE
from sigma9_dag.lab.discovery import DiscoverySettings, discover, scatter_png
from sigma9_dag.lab.store import StageOutput
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import LakeResource, SpecCatalogResource
from sigma9_runtime.features.names import value_names

STAGE = "discovery"
NO_LABELS = "undefined (no planted labels)"

DiscoveryConfig = stage_config(DiscoverySettings, "DiscoveryConfig")
"""UMAP / HDBSCAN knobs: the fields, defaults and constraints of :class:`DiscoverySettings`."""


class DiscoveryOutput(StageOutput):
    """The clusters of one FeatureSpec's training positives in its lab store."""

    def members(self) -> pd.DataFrame:
        """One row per training positive: ticker, date, ts_ns, archetype, x, y, cluster, outlier_score."""
        return self.table("members")

    def summary(self) -> dict[str, Any]:
        """Cluster profiles, adjusted Rand indices, noise fraction and the value features embedded."""
        return self.document("summary")  # type: ignore[no-any-return]


@dg.asset(
    partitions_def=feature_spec_partitions,
    group_name="discovery",
    kinds={"umap", "hdbscan"},
    io_manager_key=LAB_STORE,
)
def discovery(
    context: dg.AssetExecutionContext,
    config: DiscoveryConfig,
    dataset: DatasetOutput,
    lake: LakeResource,
    specs: SpecCatalogResource,
) -> dg.MaterializeResult[DiscoveryOutput]:
    """Clusters, anomaly scores and cluster profiles of the training positives' feature rows."""
    spec_id = context.partition_key
    names = value_names(specs.spec(spec_id))
    store = lake.lab(spec_id)
    samples = dataset.samples()
    positives = samples[(samples["part"] == "train") & (samples["label"] == 1)]
    found = discover(positives, names, config.settings(DiscoverySettings))
    store.write_table(STAGE, "members", found.members)
    summary = {
        "profiles": found.profiles,
        "ari": found.ari,
        "ari_with_noise": found.ari_with_noise,
        "noise_fraction": found.noise_fraction,
        "features": names,
    }
    store.write_json(STAGE, "summary", summary)
    png = scatter_png(found.members)
    store.write_bytes(STAGE, "scatter.png", png)
    table = "| cluster | size | what sets it apart |\n|---|---|---|\n" + "\n".join(
        f"| {p['cluster']} | {p['size']} | {'; '.join(p['distinctive'])} |"
        for p in found.profiles  # type: ignore[arg-type]
    )
    return dg.MaterializeResult(
        value=DiscoveryOutput(
            store=store.root, stage=STAGE, tables=("members",), documents=("summary",), files=("scatter.png",)
        ),
        metadata={
            "positives": len(positives),
            "clusters": len(found.profiles),
            "noise_fraction": round(found.noise_fraction, 4),
            "ari_vs_planted_archetypes": number(found.ari, undefined=NO_LABELS),
            "ari_with_noise": number(found.ari_with_noise, undefined=NO_LABELS),
            "profiles": dg.MetadataValue.md(table),
            "scatter": image(png, "scatter"),
        },
    )
