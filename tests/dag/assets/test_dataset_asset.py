"""The dataset asset through Dagster: a partition per FeatureSpec, outputs in the lab store, named by its value."""

import shutil
from pathlib import Path

import dagster as dg
import pytest

from sigma9_dag.assets.dataset import dataset
from sigma9_dag.partitions import feature_spec_files, feature_spec_partitions, sync_spec_partitions
from sigma9_dag.resources import ComputeResource, LakeResource, SpecCatalogResource
from sigma9_runtime.errors import SpecError
from tests.stubs import writable_view

SPECS = Path(__file__).parents[3] / "feature_specs"
SPEC_ID = "FS_2026-01-16_001"


def test_dataset_asset_writes_its_tables_for_the_partition(synthetic_lake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lake = LakeResource(root=str(writable_view(synthetic_lake.root, tmp_path / "lake")))  # the session lake stays as is
    with dg.instance_for_test() as instance:
        sync_spec_partitions(instance, SpecCatalogResource(directory=str(SPECS)))
        context = dg.build_asset_context(
            partition_key=SPEC_ID,
            instance=instance,
            asset_config={"warmup_days": 8, "scan_every_s": 900},
        )
        result = dataset(context, lake=lake, specs=SpecCatalogResource(directory=str(SPECS)), compute=ComputeResource())
    assert result.metadata["positives"] > 0
    # 8 warm-up days of 24 against a 60-day normalization: every symbol-day short, none NaN
    assert (
        result.metadata["warmup"].endswith(" with features from fewer days") and "NaN" not in result.metadata["warmup"]
    )
    assert ": 0 of " in result.metadata["warmup"] and "/60 normalization days" in result.metadata["warmup_short"].value
    assert result.metadata["ticker_days_left_out"].value == {"split_suspect": 0}  # splits recorded, closes known
    store = lake.lab(SPEC_ID)
    for name in ("samples", "scan", "events"):
        assert store.path("dataset", f"{name}.parquet").exists()
    assert store.read_json("dataset", "split")["parts"]["test"]
    output = result.value  # what Dagster hands the next stages: the tables' names in this lab store
    assert output.store == store.root and output.tables == ("samples", "scan", "events")
    assert len(output.samples()) == result.metadata["samples"] and output.split()["parts"]["test"]


def test_a_new_spec_file_becomes_a_partition_through_the_sensor(tmp_path: Path) -> None:
    catalog = SpecCatalogResource(directory=str(tmp_path))
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"specs": catalog})
        assert feature_spec_files(context).skip_reason is not None
        shutil.copy(SPECS / f"{SPEC_ID}.yaml", tmp_path / f"{SPEC_ID}.yaml")
        result = feature_spec_files(dg.build_sensor_context(instance=instance, resources={"specs": catalog}))
        (request,) = result.dynamic_partitions_requests
        assert list(request.partition_keys) == [SPEC_ID]
        instance.add_dynamic_partitions(feature_spec_partitions.name, [SPEC_ID])
        assert feature_spec_files(dg.build_sensor_context(instance=instance, resources={"specs": catalog})).skip_reason


def test_an_unknown_spec_id_is_named_with_what_exists() -> None:
    with pytest.raises(SpecError, match=r"no FeatureSpec with id FS_nope.*FS_2026-01-16_001"):
        SpecCatalogResource(directory=str(SPECS)).path("FS_nope")


def test_discovery_clusters_the_training_positives_of_the_dataset(synthetic_lake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sigma9_dag.assets.discovery import discovery

    lake = LakeResource(root=str(writable_view(synthetic_lake.root, tmp_path / "lake")))
    specs = SpecCatalogResource(directory=str(SPECS))
    with dg.instance_for_test() as instance:
        sync_spec_partitions(instance, specs)
        config = {"warmup_days": 8, "scan_every_s": 900}
        built = dataset(
            dg.build_asset_context(partition_key=SPEC_ID, instance=instance, asset_config=config),
            lake=lake,
            specs=specs,
            compute=ComputeResource(),
        )
        context = dg.build_asset_context(partition_key=SPEC_ID, instance=instance, asset_config={"n_neighbors": 10})
        result = discovery(context, dataset=built.value, lake=lake, specs=specs)
    members = lake.lab(SPEC_ID).read_table("discovery", "members")
    assert len(members) == result.metadata["positives"] > 0
    assert members["cluster"].min() >= -1 and members["outlier_score"].between(0, 1).all()
    assert lake.lab(SPEC_ID).path("discovery", "scatter.png").read_bytes()[:4] == b"\x89PNG"
    ari = result.metadata["ari_vs_planted_archetypes"].value
    if "note" in result.metadata:  # a lake with too few training events to cluster: every event is noise
        assert "events" in str(result.metadata["note"]) and ari == "undefined (no clustered event)"
        assert (members["cluster"] == -1).all()
    else:
        assert -1 <= ari <= 1
    assert result.value.members().equals(members)
