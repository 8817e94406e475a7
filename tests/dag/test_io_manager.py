"""The lab's IO manager: a stage's output kept as a JSON record in its partition's lab store and handed on."""

import ast
import hashlib
import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from sigma9_dag.definitions import ASSETS, CHECKS, lab_resources
from sigma9_dag.io_manager import LAB_STORE, read_output
from sigma9_dag.lab.store import StageOutput
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import LakeResource
from sigma9_dag.schedules import STAGES
from sigma9_runtime.errors import DataError

PACKAGE = Path(__file__).resolve().parents[2] / "sigma9_dag"
PARTITIONS = ["FS_a", "FS_b"]


class Numbers(StageOutput):
    """A stand-in stage output: one table."""

    def numbers(self) -> pd.DataFrame:
        return self.table("numbers")


@dg.asset(partitions_def=feature_spec_partitions, io_manager_key=LAB_STORE)
def numbers(context: dg.AssetExecutionContext, lake: LakeResource) -> dg.MaterializeResult[Numbers]:
    store = lake.lab(context.partition_key)
    store.write_table("numbers", "numbers", pd.DataFrame({"n": [len(context.partition_key), 2, 3]}))
    return dg.MaterializeResult(value=Numbers(store=store.root, stage="numbers", tables=("numbers",)))


@dg.asset(partitions_def=feature_spec_partitions, io_manager_key=LAB_STORE)
def total(context: dg.AssetExecutionContext, numbers: Numbers, lake: LakeResource) -> dg.MaterializeResult[Numbers]:
    store = lake.lab(context.partition_key)
    assert numbers.store == store.root  # the upstream of this partition, bound to this run's lake
    store.write_table("total", "total", numbers.numbers().sum().to_frame("n"))
    return dg.MaterializeResult(value=Numbers(store=store.root, stage="total", tables=("total",)))


@dg.asset(partitions_def=feature_spec_partitions, io_manager_key=LAB_STORE)
def frame() -> pd.DataFrame:
    return pd.DataFrame({"n": [1]})


def _materialize(lake: LakeResource, assets: list[dg.AssetsDefinition], partition: str) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(feature_spec_partitions.name, PARTITIONS)  # type: ignore[arg-type]
        return dg.materialize(
            assets, instance=instance, resources=lab_resources(lake), partition_key=partition, raise_on_error=False
        )


def test_a_stage_output_is_a_json_record_in_its_partitions_lab_store_and_reaches_the_next_stage(
    tmp_path: Path,
) -> None:
    lake = LakeResource(root=str(tmp_path / "lake"))
    for partition in PARTITIONS:
        assert _materialize(lake, [numbers, total], partition).success
    for partition in PARTITIONS:
        store = lake.lab(partition)
        record = json.loads(store.path("numbers", "output.json").read_text())
        assert record == {"stage": "numbers", "tables": ["numbers"], "documents": [], "models": [], "files": []}
        loaded = read_output(lake, partition, "total", Numbers)
        assert loaded.store == store.root and loaded.table("total")["n"].iloc[0] == len(partition) + 5
    result = _materialize(lake, [numbers], "FS_a")
    (event,) = result.get_asset_materialization_events()
    files = event.materialization.metadata["stage_files"].value  # type: ignore[union-attr]
    written = lake.lab("FS_a").path("numbers", "numbers.parquet")
    assert files == {
        "numbers/numbers.parquet": {
            "path": str(written),
            "bytes": written.stat().st_size,
            "sha256": hashlib.sha256(written.read_bytes()).hexdigest(),
        }
    }
    with pytest.raises(DataError, match=r"the numbers stage wrote no table 'scan' \(its tables: numbers\)"):
        read_output(lake, "FS_a", "numbers", Numbers).table("scan")


def test_a_missing_upstream_output_names_the_stage_to_materialize(tmp_path: Path) -> None:
    lake = LakeResource(root=str(tmp_path / "lake"))
    result = _materialize(lake, [numbers, total], "FS_a")
    assert result.success
    with pytest.raises(DataError, match=r"FS_b/numbers/output\.json: not found — materialize the numbers stage first"):
        read_output(lake, "FS_b", "numbers", Numbers)


def test_a_value_that_is_not_a_stage_output_is_refused_naming_the_asset(tmp_path: Path) -> None:
    result = _materialize(LakeResource(root=str(tmp_path / "lake")), [frame], "FS_a")
    (failure,) = result.get_step_failure_events()
    error = failure.event_specific_data.error  # type: ignore[union-attr]
    assert "frame: the lab's IO manager stores StageOutput values" in (error.cause or error).message
    assert not (tmp_path / "lake" / "experiments" / "lab" / "FS_a" / "frame").exists()


def test_every_lab_asset_is_stored_by_the_lab_io_manager_and_takes_its_upstream_as_inputs() -> None:
    for asset in ASSETS:
        assert asset.get_io_manager_key_for_asset_key(asset.key) == LAB_STORE, asset.key
    inputs = {a.key.to_user_string(): sorted(k.to_user_string() for k in a.keys_by_input_name.values()) for a in ASSETS}
    assert inputs == {
        "dataset": [],
        "discovery": ["dataset"],
        "validation": ["dataset", "discovery"],  # discovery: order only (a Nothing dep)
        "distill": ["dataset", "discovery", "validation"],
        "backtest": ["dataset", "distill"],
        "export": ["backtest", "distill"],
        "experiment": ["backtest", "discovery", "distill", "export", "validation"],
    }
    check_inputs = {
        spec.name: sorted(k.to_user_string() for k in check.keys_by_input_name.values())
        for check in CHECKS
        for spec in check.check_specs
    }
    assert check_inputs == {
        "dataset_has_no_leakage": ["dataset"],
        "candidate_artifact_verifies": ["distill"],
        "candidate_onnx_parity": ["dataset", "distill", "validation"],
        "exported_artifact_verifies": ["export"],
        "precision_vs_random": ["export"],
        "precision_vs_seismograph": ["export"],
        "actionable_precision_vs_seismograph": ["export"],
        "lead_time_in_target": ["export"],
    }


def test_no_module_imports_another_stages_constants() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sigma9_dag.assets."):
                stage = node.module.rsplit(".", 1)[1]  # type: ignore[union-attr]
                if stage in STAGES and stage != path.stem:
                    constants = [a.name for a in node.names if a.name.isupper()]
                    assert not constants, f"{path}: imports {constants} from {node.module}"
