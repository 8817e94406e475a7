"""A bad contract file raises SpecError naming the file and, where it can be known, the line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sigma9_runtime.contracts import (
    ArtifactManifest,
    BacktestRunConfig,
    FeatureSpec,
    load_any_contract,
    load_artifact_manifest,
    load_backtest_run_config,
    load_contract,
    load_feature_spec,
)
from sigma9_runtime.errors import SpecError
from tests.stubs import (
    SHIPPED_FEATURE_SPEC,
    SHIPPED_RUN_CONFIG,
    artifact_manifest_document,
    feature_spec_document,
    line_of,
    run_config_document,
    write_json,
    write_yaml,
)


def load_error(path: Path, loader: Callable[[Path], object] = load_feature_spec) -> SpecError:
    with pytest.raises(SpecError) as info:
        loader(path)
    return info.value


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- the file itself ------------------------------------------------------------------------------


def test_missing_file_is_reported_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    error = load_error(path)

    assert error.file == str(path)
    assert str(error) == f"{path}: file not found"
    assert isinstance(error.__cause__, FileNotFoundError)


def test_directory_instead_of_a_file_is_reported(tmp_path: Path) -> None:
    error = load_error(tmp_path)

    assert str(error).startswith(f"{tmp_path}: ")
    assert "is a directory" in error.reason


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("key.yaml", "? [a, b]\n: 1\n", "invalid YAML: a mapping key must be a scalar, got a list"),
        ("deep.yaml", "[" * 20_000 + "]" * 20_000, "nested more than 64 levels deep"),
        ("deep.json", "[" * 20_000 + "]" * 20_000, "nested more than 64 levels deep"),
        ("deep65.json", '{"a": ' * 65 + "1" + "}" * 65, "nested more than 64 levels deep"),
        ("digits.yaml", "feature_spec: " + "9" * 5_000 + "\n", "invalid YAML: Exceeds the limit (4300 digits)"),
        ("digits.json", '{"feature_spec": ' + "9" * 5_000 + "}", "invalid JSON: Exceeds the limit (4300 digits)"),
        ("big.yaml", "# " + "x" * (1 << 20) + "\n", "larger than 1,048,576 bytes, the limit of a contract file"),
    ],
)
def test_hostile_files_end_in_one_spec_error_naming_the_file(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write_text(tmp_path / name, text)

    error = load_error(path)

    assert str(error).startswith(f"{path}") and message in str(error)


def test_a_device_is_refused_without_reading_it() -> None:
    error = load_error(Path("/dev/zero"))

    assert str(error) == "/dev/zero: not a regular file (a device, socket or pipe), expected a YAML or JSON file"


def test_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"feature_spec:\n  owner: \xff\xfe\n")

    error = load_error(path)

    assert error.file == str(path)
    assert "not UTF-8" in error.reason


def test_empty_file_is_reported_as_not_a_mapping(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path / "spec.yaml", ""))

    assert error.file == str(tmp_path / "spec.yaml")
    assert "expected a mapping with top-level key 'feature_spec'" in error.reason


def test_top_level_list_is_reported_as_not_a_mapping(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path / "spec.json", "[1, 2]"))

    assert "got list" in error.reason


# --- syntax ---------------------------------------------------------------------------------------


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    text = "feature_spec:\n  id: FS_x\n  owner: sigma9\n   version: 1.0.0\n"
    path = write_text(tmp_path / "spec.yaml", text)

    error = load_error(path)

    assert error.line == 4
    assert str(error).startswith(f"{path}:4: invalid YAML: ")


def test_yaml_unclosed_flow_mapping_names_the_file(tmp_path: Path) -> None:
    path = write_text(tmp_path / "spec.yaml", "feature_spec: {id: FS_x\n")

    error = load_error(path)

    assert error.file == str(path)
    assert error.line is not None
    assert "invalid YAML" in error.reason


def test_yaml_duplicate_key_names_the_line_of_the_second_key(tmp_path: Path) -> None:
    text = "feature_spec:\n  id: FS_a\n  owner: sigma9\n  id: FS_b\n"
    path = write_text(tmp_path / "spec.yaml", text)

    error = load_error(path)

    assert error.line == 4
    assert str(error) == f"{path}:4: invalid YAML: duplicate key 'id'"


def test_yaml_duplicate_key_in_a_nested_flow_mapping_is_refused(tmp_path: Path) -> None:
    text = SHIPPED_FEATURE_SPEC.read_text(encoding="utf-8").replace('{ on: "close" }', '{ on: "close", on: "vwap" }')
    path = write_text(tmp_path / "spec.yaml", text)

    error = load_error(path)

    assert "duplicate key 'on'" in error.reason
    assert error.line == line_of(text, 'on: "vwap"')


def test_json_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write_text(tmp_path / "spec.json", '{\n  "feature_spec": {\n    "id": "FS_x",\n  }\n}\n')

    error = load_error(path)

    assert error.line == 4
    assert str(error).startswith(f"{path}:4: invalid JSON: ")


def test_json_duplicate_key_names_file_and_line(tmp_path: Path) -> None:
    path = write_text(tmp_path / "spec.json", '{\n  "feature_spec": {\n    "id": "FS_a",\n    "id": "FS_b"\n  }\n}\n')

    error = load_error(path)

    assert error.line == 4
    assert str(error) == f"{path}:4: invalid JSON: duplicate key 'id'"


def test_json_duplicate_key_names_the_line_of_the_repeat_when_the_key_also_appears_elsewhere(tmp_path: Path) -> None:
    document = artifact_manifest_document()
    text = json.dumps(document, indent=2)
    # repeat feature_spec_ref.id; the key "id" also appears earlier, as the manifest's own id
    text = text.replace('"id": "FS_2026-01-16_001",', '"id": "FS_2026-01-16_001",\n      "id": "FS_2026-01-16_002",')
    path = write_text(tmp_path / "manifest.json", text)

    error = load_error(path, load_artifact_manifest)

    assert "duplicate key 'id'" in error.reason
    assert error.line == line_of(text, "FS_2026-01-16_002")


def test_yaml_python_tags_are_refused_by_the_safe_loader(tmp_path: Path) -> None:
    path = write_text(tmp_path / "spec.yaml", "feature_spec: !!python/object/apply:os.getcwd []\n")

    error = load_error(path)

    assert error.line == 1
    assert "invalid YAML" in error.reason
    assert "python/object/apply" in error.reason


# --- top-level key --------------------------------------------------------------------------------


def test_missing_top_level_key_is_reported(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path / "spec.yaml", "{}\n"))

    assert error.line == 1
    assert "expected top-level key 'feature_spec', found nothing" in str(error)


def test_wrong_top_level_key_is_reported_with_what_was_found(tmp_path: Path) -> None:
    document = {"featurespec": feature_spec_document()["feature_spec"]}
    path = write_yaml(tmp_path / "spec.yaml", document)

    error = load_error(path)

    assert str(error) == f"{path}:1: expected top-level key 'feature_spec', found 'featurespec'"


def test_extra_top_level_key_is_reported_as_the_field(tmp_path: Path) -> None:
    document = feature_spec_document()
    document["notes"] = "hello"
    path = write_yaml(tmp_path / "spec.yaml", document)

    error = load_error(path)

    assert error.field == "notes"
    assert "unexpected top-level key(s) 'notes'" in error.reason
    assert error.file == str(path)


def test_file_of_another_contract_kind_is_refused_by_the_specific_loader(tmp_path: Path) -> None:
    error = load_error(SHIPPED_RUN_CONFIG, load_feature_spec)

    assert "expected top-level key 'feature_spec', found 'backtest_run'" in str(error)


def test_load_any_contract_refuses_a_file_without_a_known_top_level_key(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "x.yaml", {"backtest": {}})

    error = load_error(path, load_any_contract)

    assert error.line == 1
    assert "'feature_spec' or 'artifact_manifest' or 'backtest_run'" in error.reason


def test_load_any_contract_refuses_a_file_with_two_contracts(tmp_path: Path) -> None:
    document = {**feature_spec_document(), **run_config_document()}
    path = write_yaml(tmp_path / "x.yaml", document)

    error = load_error(path, load_any_contract)

    assert error.file == str(path)
    assert "expected one top-level key" in error.reason


@pytest.mark.parametrize(
    ("name", "factory", "model"),
    [
        ("spec.yaml", feature_spec_document, FeatureSpec),
        ("manifest.json", artifact_manifest_document, ArtifactManifest),
        ("run.yml", run_config_document, BacktestRunConfig),
    ],
)
def test_load_any_contract_picks_the_model_by_top_level_key(
    tmp_path: Path, name: str, factory: Callable[[], dict[str, Any]], model: type[Any]
) -> None:
    path = tmp_path / name
    (write_json if name.endswith(".json") else write_yaml)(path, factory())

    contract = load_any_contract(path)

    assert type(contract) is model
    assert contract == load_contract(model, path)


# --- field errors carry the line of the field -----------------------------------------------------


def test_field_error_in_yaml_reports_the_line_of_the_bad_field(tmp_path: Path) -> None:
    text = SHIPPED_FEATURE_SPEC.read_text(encoding="utf-8").replace('length: "15s"', 'length: "15d"')
    path = write_text(tmp_path / "spec.yaml", text)

    error = load_error(path)

    assert error.field == "feature_spec.windows[1].length"
    assert error.line == line_of(text, 'length: "15d"')
    assert str(error).startswith(f"{path}:{error.line}: feature_spec.windows[1].length: ")


def test_field_error_in_handwritten_yaml_reports_the_exact_line(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "backtest_run:",  # 1
            "  id: RUN_x",  # 2
            "  created_at: '2026-01-16T00:00:00+00:00'",  # 3
            "  engine: nautilus",  # 4
            "  mode: batch",  # 5
            "  seed: 1",  # 6
            "  typo_field: 3",  # 7
        ]
    )
    # every other required field is missing too; the unknown field is reported among the problems
    path = write_text(tmp_path / "run.yaml", text)

    error = load_error(path, load_backtest_run_config)

    problems = [f"{error.field}:{error.line}: {error.reason}", *error.more]
    assert "backtest_run.typo_field:7: unknown field" in problems


def test_missing_field_reports_the_line_of_its_parent(tmp_path: Path) -> None:
    text = SHIPPED_FEATURE_SPEC.read_text(encoding="utf-8").replace('      step: "1s"\n', "", 1)
    path = write_text(tmp_path / "spec.yaml", text)

    error = load_error(path)

    assert error.field == "feature_spec.windows[0].step"
    assert error.line == line_of(text, 'name: "w5s"')


def test_cross_field_error_reports_the_line_of_the_named_field(tmp_path: Path) -> None:
    text = SHIPPED_FEATURE_SPEC.read_text(encoding="utf-8").replace(
        'window: "w60s"\n      op: "range_pct"', 'window: "w61s"\n      op: "range_pct"'
    )
    path = write_text(tmp_path / "spec.yaml", text)

    error = load_error(path)

    assert error.field == "feature_spec.features[4].window"
    assert error.line == line_of(text, "w61s")


def test_field_error_in_json_reports_the_line_of_the_bad_field(tmp_path: Path) -> None:
    document = artifact_manifest_document()
    document["artifact_manifest"]["payload"]["files"][2]["name"] = "../thresholds.json"
    path = write_json(tmp_path / "manifest.json", document)
    text = path.read_text(encoding="utf-8")

    error = load_error(path, load_artifact_manifest)

    assert error.field == "artifact_manifest.payload.files[2].name"
    assert error.line == line_of(text, "../thresholds.json")


def test_field_error_in_tab_indented_json_reports_the_line_of_the_bad_field(tmp_path: Path) -> None:
    document = artifact_manifest_document()
    document["artifact_manifest"]["payload"]["files"][2]["name"] = "../thresholds.json"
    text = json.dumps(document, indent="\t")
    path = write_text(tmp_path / "manifest.json", text)

    error = load_error(path, load_artifact_manifest)

    assert error.field == "artifact_manifest.payload.files[2].name"
    assert error.line == line_of(text, "../thresholds.json")


# --- YAML 1.2 scalars -----------------------------------------------------------------------------


def test_on_key_stays_the_string_on(tmp_path: Path) -> None:
    text = SHIPPED_FEATURE_SPEC.read_text(encoding="utf-8").replace('params: { on: "close" }', "params: { on: vwap }")
    path = write_text(tmp_path / "spec.yaml", text)

    spec = load_feature_spec(path)

    assert spec.features[2].op == "linreg_slope"
    assert spec.features[2].params.on == "vwap"  # type: ignore[union-attr]


def test_yes_and_no_stay_strings(tmp_path: Path) -> None:
    text = (
        SHIPPED_FEATURE_SPEC.read_text(encoding="utf-8")
        .replace('owner: "sigma9"', "owner: yes")
        .replace('description: "Pre-surge discovery + runtime scoring (multi-resolution)"', "description: no")
    )
    path = write_text(tmp_path / "spec.yaml", text)

    spec = load_feature_spec(path)

    assert spec.owner == "yes"
    assert spec.description == "no"


def test_true_and_false_are_still_booleans(tmp_path: Path) -> None:
    text = SHIPPED_FEATURE_SPEC.read_text(encoding="utf-8")
    daily = text.index("    daily:")
    text = text[:daily] + text[daily:].replace("enabled: true", "enabled: false", 1)
    path = write_text(tmp_path / "spec.yaml", text)

    spec = load_feature_spec(path)

    assert spec.sources.daily.enabled is False
    assert spec.sources.tick.enabled is True


def test_a_document_with_thousands_of_unknown_keys_reports_twenty_and_counts_the_rest(tmp_path: Path) -> None:
    document = feature_spec_document()
    document["feature_spec"].update({f"junk_{i}": i for i in range(5_000)})
    path = write_json(tmp_path / "FS_junk.json", document)

    error = load_error(path)

    assert error.reason == "unknown field" and error.field == "feature_spec.junk_0"
    assert len(error.more) == 20 and error.more[-1] == "... and 4,980 more problems"
