"""Discovery stage: UMAP embedding and HDBSCAN clusters of the training pre-surge windows."""

import dagster as dg

from sigma9_dag.assets.dataset import STAGE as DATASET
from sigma9_dag.assets.dataset import dataset
from sigma9_dag.assets.metadata import image, number
from sigma9_dag.lab.discovery import DiscoverySettings, discover, scatter_png
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import LakeResource, SpecCatalogResource
from sigma9_runtime.features.names import value_names

STAGE = "discovery"
NO_LABELS = "undefined (no planted labels)"


class DiscoveryConfig(dg.Config):
    """UMAP / HDBSCAN knobs (see sigma9_dag/lab/discovery.py)."""

    n_neighbors: int = 30
    min_cluster_fraction: float = 0.04
    min_samples: int = 10
    seed: int = 7


@dg.asset(partitions_def=feature_spec_partitions, group_name="discovery", deps=[dataset], kinds={"umap", "hdbscan"})
def discovery(
    context: dg.AssetExecutionContext, config: DiscoveryConfig, lake: LakeResource, specs: SpecCatalogResource
) -> dg.MaterializeResult:
    """Clusters, anomaly scores and cluster profiles of the training positives' feature rows."""
    spec_id = context.partition_key
    names = value_names(specs.spec(spec_id))
    store = lake.lab(spec_id)
    samples = store.read_table(DATASET, "samples")
    positives = samples[(samples["part"] == "train") & (samples["label"] == 1)]
    found = discover(positives, names, DiscoverySettings(**config.model_dump()))
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
        metadata={
            "positives": len(positives),
            "clusters": len(found.profiles),
            "noise_fraction": round(found.noise_fraction, 4),
            "ari_vs_planted_archetypes": number(found.ari, undefined=NO_LABELS),
            "ari_with_noise": number(found.ari_with_noise, undefined=NO_LABELS),
            "profiles": dg.MetadataValue.md(table),
            "scatter": image(png, "scatter"),
        }
    )
