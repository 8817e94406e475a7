"""Dataset stage: labelled point-in-time samples and scan candidates for one FeatureSpec."""

from typing import Any

import dagster as dg
import pandas as pd

from sigma9_dag.assets.config import stage_config
from sigma9_dag.io_manager import LAB_STORE
from sigma9_dag.lab.dataset import DatasetSettings, build_dataset
from sigma9_dag.lab.store import StageOutput
from sigma9_dag.parallel import use_executor
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import ComputeResource, LakeResource, SpecCatalogResource
from sigma9_dag.run_tags import tag_run

STAGE = "dataset"

DatasetConfig = stage_config(DatasetSettings, "DatasetConfig")
"""Sampling and split knobs: the fields, defaults and constraints of :class:`DatasetSettings`."""


class DatasetOutput(StageOutput):
    """The dataset of one FeatureSpec in its lab store: samples, scan candidates, events and the date split."""

    def samples(self) -> pd.DataFrame:
        """Labelled samples: ticker, date, ts_ns, step_ns, label, kind, part, ..., then the features."""
        return self.table("samples")

    def scan(self) -> pd.DataFrame:
        """Scan candidates: every symbol every ``scan_every_s`` of the validation and test days."""
        return self.table("scan")

    def events(self) -> pd.DataFrame:
        """The lake's events of the dataset's days (T0 and its resolution per ticker-day)."""
        return self.table("events")

    def split(self) -> dict[str, Any]:
        """The date split: bounds and days of each part, the settings and the feature names."""
        return self.document("split")  # type: ignore[no-any-return]


@dg.asset(partitions_def=feature_spec_partitions, group_name="dataset", kinds={"parquet"}, io_manager_key=LAB_STORE)
def dataset(
    context: dg.AssetExecutionContext,
    config: DatasetConfig,
    lake: LakeResource,
    specs: SpecCatalogResource,
    compute: ComputeResource,
) -> dg.MaterializeResult[DatasetOutput]:
    """Events aligned on T0, positives in the pre-window, three kinds of negatives, date split and scan candidates."""
    spec_id = context.partition_key
    tag_run(context, specs)
    spec = specs.spec(spec_id)
    settings = config.settings(DatasetSettings)
    with use_executor(compute.executor(settings.workers)):
        built = build_dataset(lake.layout(), spec, settings, alternatives=specs.all_specs())
    store = lake.lab(spec_id)
    store.write_table(STAGE, "samples", built.samples)
    store.write_table(STAGE, "scan", built.scan)
    store.write_table(STAGE, "events", built.events)
    parts = {part: [str(d) for d in built.split.bounds(part)] for part in ("train", "validation", "test")}
    days = {part: [str(d) for d in built.split.days(part)] for part in ("train", "validation", "test")}
    store.write_json(
        STAGE, "split", {"parts": parts, "days": days, "settings": settings.model_dump(), "names": built.names}
    )
    counts = built.samples.groupby(["part", "kind"]).size()
    table = "| part | kind | samples |\n|---|---|---|\n" + "\n".join(
        f"| {part} | {kind} | {n:,} |" for (part, kind), n in counts.items()
    )
    history = built.history
    for line in history.lines():
        context.log.warning(line)
    return dg.MaterializeResult(
        value=DatasetOutput(store=store.root, stage=STAGE, tables=("samples", "scan", "events"), documents=("split",)),
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
        },
    )
