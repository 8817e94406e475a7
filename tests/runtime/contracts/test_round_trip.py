from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel

from sigma9_runtime.atomic import TEMP_PREFIX
from sigma9_runtime.contracts import (
    ArtifactManifest,
    BacktestRunConfig,
    FeatureSpec,
    dump_contract,
    dumps_contract,
    load_any_contract,
    load_artifact_manifest,
    load_backtest_run_config,
    load_contract,
    load_feature_spec,
    parse_contract,
)
from sigma9_runtime.contracts.io import contract_document
from tests.stubs import (
    SHIPPED_FEATURE_SPEC,
    SHIPPED_RUN_CONFIG,
    artifact_manifest_document,
    safe_load_yaml,
    write_json,
)


def _shipped_feature_spec() -> FeatureSpec:
    return load_feature_spec(SHIPPED_FEATURE_SPEC)


def _shipped_run_config() -> BacktestRunConfig:
    return load_backtest_run_config(SHIPPED_RUN_CONFIG)


def _stub_manifest() -> ArtifactManifest:
    return parse_contract(ArtifactManifest, artifact_manifest_document())


CONTRACTS = {
    "feature_spec": _shipped_feature_spec,
    "artifact_manifest": _stub_manifest,
    "backtest_run": _shipped_run_config,
}


@pytest.fixture(params=sorted(CONTRACTS))
def contract(request: pytest.FixtureRequest) -> BaseModel:
    return CONTRACTS[request.param]()


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_contract_loads_back_equal_from_its_dumped_text(contract: BaseModel, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"contract{suffix}"
    path.write_text(dumps_contract(contract, "json" if suffix == ".json" else "yaml"), encoding="utf-8")

    loaded = load_contract(type(contract), path)

    assert loaded == contract
    assert loaded is not contract


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_contract_dumped_to_a_file_loads_back_equal(contract: BaseModel, tmp_path: Path, suffix: str) -> None:
    path = dump_contract(contract, tmp_path / f"contract{suffix}")

    assert path == tmp_path / f"contract{suffix}"
    assert load_any_contract(path) == contract


def test_dumped_json_and_yaml_hold_the_same_document(contract: BaseModel) -> None:
    from_yaml = safe_load_yaml(dumps_contract(contract, "yaml"))
    from_json = safe_load_yaml(dumps_contract(contract, "json"))

    assert from_yaml == from_json == contract_document(contract)


def test_dump_contract_picks_the_format_from_the_suffix(tmp_path: Path) -> None:
    spec = _shipped_feature_spec()

    json_text = dump_contract(spec, tmp_path / "spec.json").read_text(encoding="utf-8")
    yaml_text = dump_contract(spec, tmp_path / "spec.yaml").read_text(encoding="utf-8")

    assert json_text == dumps_contract(spec, "json")
    assert json_text.startswith('{\n  "feature_spec": {')
    assert yaml_text == dumps_contract(spec, "yaml")
    assert yaml_text.startswith("feature_spec:\n")


def test_dumped_feature_spec_keeps_the_on_key_a_string(tmp_path: Path) -> None:
    spec = _shipped_feature_spec()
    path = dump_contract(spec, tmp_path / "spec.yaml")

    reloaded = load_feature_spec(path)

    assert reloaded.features[2].params.on == "close"  # type: ignore[union-attr]
    assert reloaded == spec


def test_dumps_contract_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format 'toml'"):
        dumps_contract(_shipped_feature_spec(), "toml")


def test_dump_contract_leaves_no_temporary_files(contract: BaseModel, tmp_path: Path) -> None:
    dump_contract(contract, tmp_path / "contract.yaml")
    dump_contract(contract, tmp_path / "contract.json")

    assert sorted(p.name for p in tmp_path.iterdir()) == ["contract.json", "contract.yaml"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_dump_contract_replaces_an_existing_file_whole(tmp_path: Path) -> None:
    path = write_json(tmp_path / "manifest.json", {"previous_content": "x" * 10_000})
    manifest = _stub_manifest()

    dump_contract(manifest, path)

    assert load_artifact_manifest(path) == manifest
    assert "previous_content" not in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_dump_contract_creates_missing_parent_directories(tmp_path: Path) -> None:
    path = dump_contract(_shipped_run_config(), tmp_path / "a" / "b" / "run.yaml")

    assert load_backtest_run_config(path) == _shipped_run_config()


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_dump_contract_writes_a_file_with_the_same_mode_as_a_plain_write(tmp_path: Path, umask: int) -> None:
    previous_umask = os.umask(umask)
    try:
        plain = tmp_path / "plain.yaml"
        plain.write_text("x: 1\n", encoding="utf-8")
        dumped = dump_contract(_shipped_feature_spec(), tmp_path / "dumped.yaml")
    finally:
        os.umask(previous_umask)

    assert dumped.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o666 & ~umask
