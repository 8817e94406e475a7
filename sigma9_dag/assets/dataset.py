"""Dataset stage: labelled point-in-time samples and scan candidates for one FeatureSpec."""

import dagster as dg

from sigma9_dag.lab.dataset import DatasetSettings, build_dataset
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import LakeResource, SpecCatalogResource
from sigma9_runtime.strategies.crossing import DEFAULT_ANCHOR

STAGE = "dataset"


class DatasetConfig(dg.Config):
    """Sampling and split knobs (defaults: the design's values; see sigma9_dag/lab/dataset.py)."""

    anchor: float = DEFAULT_ANCHOR
    negative_ratio: float = 5.0
    validation_fraction: float = 0.2
    test_fraction: float = 0.3
    warmup_days: int = 20
    purge_days: int = 1
    scan_every_s: int = 60
    seed: int = 7
    workers: int = 2

    def settings(self) -> DatasetSettings:
        """The validated settings."""
        return DatasetSettings(**self.model_dump())


@dg.asset(partitions_def=feature_spec_partitions, group_name="dataset", kinds={"parquet"})
def dataset(
    context: dg.AssetExecutionContext, config: DatasetConfig, lake: LakeResource, specs: SpecCatalogResource
) -> dg.MaterializeResult:
    """Events aligned on T0, positives in the pre-window, three kinds of negatives, date split and scan candidates."""
    spec_id = context.partition_key
    spec = specs.spec(spec_id)
    settings = config.settings()
    built = build_dataset(lake.layout(), spec, settings, alternatives=specs.all_specs())
    store = lake.lab(spec_id)
    store.write_table(STAGE, "samples", built.samples)
    store.write_table(STAGE, "scan", built.scan)
    store.write_table(STAGE, "events", built.events)
    parts = {part: [str(d) for d in built.split.bounds(part)] for part in ("train", "validation", "test")}
    store.write_json(STAGE, "split", {"parts": parts, "settings": settings.model_dump(), "names": built.names})
    counts = built.samples.groupby(["part", "kind"]).size()
    table = "| part | kind | samples |\n|---|---|---|\n" + "\n".join(
        f"| {part} | {kind} | {n:,} |" for (part, kind), n in counts.items()
    )
    history = built.history
    for line in history.lines():
        context.log.warning(line)
    return dg.MaterializeResult(
        metadata={
            "samples": len(built.samples),
            "positives": int(built.samples["label"].sum()),
            "events": len(built.events),
            "scan_rows": len(built.scan),
            "features": len(built.names),
            "train": " .. ".join(parts["train"]),
            "validation": " .. ".join(parts["validation"]),
            "test": " .. ".join(parts["test"]),
            "samples_by_part_and_kind": dg.MetadataValue.md(table),
            "warmup": history.summary(),
            "ticker_days_left_out": dg.MetadataValue.json(built.left_out),  # split suspect, no prev close
            "warmup_short": dg.MetadataValue.md("\n".join(f"- {line}" for line in history.worst()) or "none"),
            "path": dg.MetadataValue.path(str(store.path(STAGE, ""))),
        }
    )
