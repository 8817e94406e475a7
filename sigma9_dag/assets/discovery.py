"""Discovery stage: UMAP embedding and HDBSCAN clusters of the training events' pre-surge trajectories."""

from typing import Any

import dagster as dg
import pandas as pd

from sigma9_dag.assets.config import stage_config
from sigma9_dag.assets.dataset import DatasetOutput
from sigma9_dag.assets.metadata import image, number
from sigma9_dag.io_manager import LAB_STORE
from sigma9_dag.lab.discovery import DiscoverySettings, archetype_mix, discover, offset_label, scatter_png
from sigma9_dag.lab.store import StageOutput
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import LakeResource, SpecCatalogResource
from sigma9_dag.run_tags import tag_run
from sigma9_runtime.features.names import value_names

STAGE = "discovery"
NO_LABELS = "undefined (no planted labels)"

DiscoveryConfig = stage_config(DiscoverySettings, "DiscoveryConfig")
"""Trajectory / UMAP / HDBSCAN knobs: the fields, defaults and constraints of :class:`DiscoverySettings`."""


class DiscoveryOutput(StageOutput):
    """The clusters of one FeatureSpec's training events in its lab store."""

    def members(self) -> pd.DataFrame:
        """One row per training positive of an embedded event, with its event's embedding, cluster and outlier
        score: ticker, date, ts_ns, t0_ns, archetype, x, y, cluster, outlier_score."""
        return self.table("members")

    def events(self) -> pd.DataFrame:
        """One row per embedded training event: ticker, date, t0_ns, archetype, offsets_found, x, y, cluster,
        outlier_score."""
        return self.table("events")

    def summary(self) -> dict[str, Any]:
        """Cluster profiles, archetype mix, adjusted Rand indices, noise fraction, event counts, settings."""
        return self.document("summary")  # type: ignore[no-any-return]


def _mix_markdown(mix: pd.DataFrame) -> str:
    if mix.empty:
        return NO_LABELS
    header = "| cluster | " + " | ".join(mix.columns) + " |\n|---|" + "---|" * len(mix.columns) + "\n"
    return header + "\n".join(f"| {c} | " + " | ".join(str(int(v)) for v in row) + " |" for c, row in mix.iterrows())


def _check_offsets(settings: DiscoverySettings, dataset: DatasetOutput) -> None:
    start, end = dataset.split()["settings"]["pre_window_min"]
    outside = [o for o in settings.offsets_min if not start <= o <= end]
    if outside:
        raise ValueError(
            f"discovery offsets_min {list(settings.offsets_min)}: {outside} outside the dataset's pre-window "
            f"[{start}, {end}] min, where positives are sampled"
        )


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
    """Clusters, anomaly scores and cluster profiles of the training events' pre-window trajectories."""
    spec_id = context.partition_key
    tag_run(context, specs)
    names = value_names(specs.spec(spec_id))
    settings = config.settings(DiscoverySettings)
    _check_offsets(settings, dataset)
    store = lake.lab(spec_id)
    samples = dataset.samples()
    positives = samples[(samples["part"] == "train") & (samples["label"] == 1)]
    found = discover(positives, names, settings)
    if found.note:
        context.log.warning(found.note)
    mix = archetype_mix(found.events)
    store.write_table(STAGE, "members", found.members)
    store.write_table(STAGE, "events", found.events)
    offsets = ", ".join(offset_label(o) for o in settings.offsets_min)
    summary = {
        "profiles": found.profiles,
        "archetype_mix": {c: {a: int(n) for a, n in row.items()} for c, row in mix.iterrows()},
        "ari": found.ari,
        "ari_with_noise": found.ari_with_noise,
        "noise_fraction": found.noise_fraction,
        "events": len(found.events),
        "events_left_out": found.dropped,
        "positives": len(found.members),
        "note": found.note,
        "offsets": offsets,
        "features": names,
        "settings": settings.model_dump(),
    }
    store.write_json(STAGE, "summary", summary)
    png = scatter_png(found.events)
    store.write_bytes(STAGE, "scatter.png", png)
    table = "| cluster | events | what sets it apart |\n|---|---|---|\n" + "\n".join(
        f"| {p['cluster']} | {p['size']} | {'; '.join(p['distinctive'])} |"
        for p in found.profiles  # type: ignore[arg-type]
    )
    if not found.profiles:
        table = "no clusters: every event is noise"
    undefined = NO_LABELS if mix.empty else "undefined (no clustered event)"
    metadata: dict[str, Any] = {"note": found.note} if found.note else {}
    return dg.MaterializeResult(
        value=DiscoveryOutput(
            store=store.root,
            stage=STAGE,
            tables=("members", "events"),
            documents=("summary",),
            files=("scatter.png",),
        ),
        metadata={
            **metadata,
            "events": len(found.events),
            "events_left_out": dg.MetadataValue.text(
                f"{found.dropped} (more than {settings.max_missing_offsets} of the offsets without a positive)"
            ),
            "positives": len(found.members),
            "offsets": offsets,
            "clusters": len(found.profiles),
            "noise_fraction": round(found.noise_fraction, 4),
            "ari_vs_planted_archetypes": number(found.ari, undefined=undefined),
            "ari_with_noise": number(found.ari_with_noise, undefined=NO_LABELS),
            "profiles": dg.MetadataValue.md(table),
            "archetype_mix": dg.MetadataValue.md(_mix_markdown(mix)),
            "scatter": image(png, "scatter"),
        },
    )
