"""A bad run config fails before the engine starts, with an error naming the field or file."""

from pathlib import Path

import pytest

from sigma9_dag.backtest import run_backtest
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.io import load_backtest_run_config
from sigma9_runtime.errors import SchemaMismatch, SpecError
from sigma9_runtime.schema_hash import schema_hash
from tests.dag.backtest.conftest import SPEC, tiny_run_document
from tests.stubs import ARTIFACT_ID, feature_spec, shipped_schema_hash


def run_of(doc: dict) -> BacktestRunConfig:
    return BacktestRunConfig.model_validate(doc["backtest_run"])


def test_an_unknown_plugin_is_refused_naming_the_field(tiny_lake, tmp_path: Path) -> None:
    doc = tiny_run_document(tiny_lake.root, tmp_path / "out")
    doc["backtest_run"]["strategy"]["plugin"] = "seismograph_v9"
    with pytest.raises(SpecError, match=r"backtest_run\.strategy\.plugin: .*seismograph_v9"):
        run_backtest(run_of(doc), SPEC, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_missing_data_path_is_refused_naming_the_field_and_file(tiny_lake, tmp_path: Path) -> None:
    doc = tiny_run_document(tiny_lake.root, tmp_path / "out")
    doc["backtest_run"]["data"]["intraday"]["bar_1s"] = {"path_glob": "seconds/{ticker}.parquet"}
    with pytest.raises(SpecError, match=r"bar_1s\.path_glob: .*reads bar_1s; .*no file matches .*seconds/\{ticker\}"):
        run_backtest(run_of(doc), SPEC)
    doc = tiny_run_document(tmp_path / "no-lake", tmp_path / "out")
    with pytest.raises(SpecError, match=r"data\.parquet_root: lake root .*no-lake"):
        run_backtest(run_of(doc), SPEC)


def test_dates_out_of_order_are_refused_naming_the_field(tiny_lake, tmp_path: Path) -> None:
    import yaml

    doc = tiny_run_document(tiny_lake.root, tmp_path / "out")
    doc["backtest_run"]["time"]["start"] = "2025-02-01"
    path = tmp_path / "RUN_bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError, match=r"RUN_bad\.yaml.*backtest_run\.time\.end.*start"):
        load_backtest_run_config(path)


def test_a_test_period_without_lake_days_is_refused(tiny_lake, tmp_path: Path) -> None:
    doc = tiny_run_document(tiny_lake.root, tmp_path / "out")
    doc["backtest_run"]["splits"].update(train_end="2025-01-02", test_start="2025-01-03", test_end="2025-01-03")
    with pytest.raises(SpecError, match=r"backtest_run\.splits: no lake trading day"):
        run_backtest(run_of(doc), SPEC)


def test_a_schema_hash_mismatch_fails_at_once_with_both_hashes(tiny_lake, artifact_store, tmp_path: Path) -> None:
    doc = tiny_run_document(tiny_lake.root, tmp_path / "out")
    doc["backtest_run"]["strategy"] = {"plugin": "seismograph_ml", "params": {"use_ml_overlay": True}}
    doc["backtest_run"]["artifact_ref"] = {"id": ARTIFACT_ID, "manifest_path": "unused.json"}
    other = feature_spec(**{"normalization.lookback": "30d"})
    assert schema_hash(other) != shipped_schema_hash()
    with pytest.raises(SchemaMismatch) as caught:
        run_backtest(run_of(doc), other, artifact_root=artifact_store, artifact_id=ARTIFACT_ID)
    assert shipped_schema_hash() in str(caught.value) and schema_hash(other) in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_sigma9_backtest_runs_a_config_file_and_exits_2_on_a_bad_one(tiny_lake, tmp_path: Path, capsys) -> None:
    import yaml

    from sigma9_dag.cli import main

    doc = tiny_run_document(tiny_lake.root, tmp_path / "out")
    spec_path = tmp_path / "FS.yaml"
    spec_path.write_text(yaml.safe_dump({"feature_spec": SPEC.model_dump(mode="json")}))
    path = tmp_path / "RUN_tiny.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["backtest", str(path), "--spec", str(spec_path)]) == 0
    assert (tmp_path / "out" / "backtest_report.json").is_file()
    doc["backtest_run"]["strategy"]["plugin"] = "nope"
    path.write_text(yaml.safe_dump(doc))
    assert main(["backtest", str(path), "--spec", str(spec_path)]) == 2
    assert "backtest_run.strategy.plugin" in capsys.readouterr().err


def test_a_run_naming_the_latest_artifact_of_its_spec_scores_with_the_newest_in_its_store(
    tiny_lake, artifact_store, tmp_path: Path
) -> None:
    from sigma9_dag.backtest.config import load_artifact
    from sigma9_runtime.contracts.io import load_feature_spec
    from tests.stubs import SHIPPED_FEATURE_SPEC

    spec = load_feature_spec(SHIPPED_FEATURE_SPEC)
    doc = tiny_run_document(tiny_lake.root, tmp_path / "out")
    doc["backtest_run"]["strategy"] = {"plugin": "seismograph_ml", "params": {"use_ml_overlay": True}}
    doc["backtest_run"]["artifact_ref"] = {"id": "latest", "store": "artifacts"}
    loaded = load_artifact(run_of(doc), spec, base_dir=tmp_path, artifact_root=None)
    assert loaded is not None and loaded.manifest.id == ARTIFACT_ID
    with pytest.raises(SpecError, match=r"artifact_ref\.id: manifest .*ART_2099-01-01_001\.json not found"):
        load_artifact(run_of(doc), spec, base_dir=tmp_path, artifact_root=None, artifact_id="ART_2099-01-01_001")
    doc["backtest_run"]["artifact_ref"] = {"id": "ART_2099-01-01_001", "manifest_path": "gone/manifests/x.json"}
    with pytest.raises(SpecError, match=r"not found \(name the newest artifact of the spec with artifact_ref"):
        load_artifact(run_of(doc), spec, base_dir=tmp_path, artifact_root=None)
    for ref, message in (
        ({"id": "latest", "store": "a", "manifest_path": "a/manifests/x.json"}, "give exactly one of manifest_path"),
        ({"id": "latest"}, "give exactly one of manifest_path and store"),
        ({"id": "latest", "manifest_path": "a/manifests/x.json"}, "with id latest give store"),
    ):
        doc["backtest_run"]["artifact_ref"] = ref
        with pytest.raises(ValueError, match=message):
            run_of(doc)
