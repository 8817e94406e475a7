"""The committed JSON Schemas in schemas/ are exactly what the models render."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sigma9_runtime.contracts import DOCUMENT_KEYS
from sigma9_runtime.contracts.json_schema import (
    JSON_SCHEMA_DIALECT,
    contract_json_schemas,
    render_json_schema,
    write_json_schemas,
)
from tests.stubs import (
    SCHEMAS_DIR,
    SHIPPED_FEATURE_SPEC,
    SHIPPED_RUN_CONFIG,
    artifact_manifest_document,
    feature_spec_document,
    hour_feature_spec_document,
    run_config_document,
)

SCHEMA_NAMES = sorted(contract_json_schemas())


def test_there_is_one_schema_per_contract_named_after_its_top_level_key() -> None:
    assert SCHEMA_NAMES == sorted(f"{key}.schema.json" for key in DOCUMENT_KEYS.values())


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_committed_schema_equals_the_rendered_model_schema(name: str) -> None:
    committed = SCHEMAS_DIR / name
    assert committed.is_file(), f"{committed} is missing: run `sigma9 schema --out schemas`"

    assert committed.read_text(encoding="utf-8") == render_json_schema(contract_json_schemas()[name]), (
        f"{committed} drifted from the models: run `sigma9 schema --out schemas`"
    )


def test_schemas_dir_holds_no_stale_schema_files() -> None:
    assert sorted(p.name for p in SCHEMAS_DIR.glob("*.schema.json")) == SCHEMA_NAMES


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_closed_and_requires_its_top_level_key(name: str) -> None:
    schema = contract_json_schemas()[name]
    key = name.removesuffix(".schema.json")

    assert schema["$schema"] == JSON_SCHEMA_DIALECT
    assert schema["type"] == "object"
    assert schema["required"] == [key]
    assert list(schema["properties"]) == [key]
    assert schema["additionalProperties"] is False
    assert all(
        definition.get("additionalProperties") is False
        for definition in schema["$defs"].values()
        if definition.get("type") == "object" and "properties" in definition
    )


def test_rendered_schema_is_deterministic_sorted_json() -> None:
    schema = contract_json_schemas()["feature_spec.schema.json"]
    text = render_json_schema(schema)

    assert text.endswith("}\n")
    assert json.loads(text) == schema
    assert text == render_json_schema(json.loads(text))
    assert list(json.loads(text)) == sorted(json.loads(text))


def test_feature_schema_documents_fields_from_attribute_docstrings() -> None:
    defs = contract_json_schemas()["feature_spec.schema.json"]["$defs"]

    assert "IANA time zone" in defs["Calendar"]["properties"]["timezone"]["description"]
    assert defs["Window"]["properties"]["length"]["pattern"] == "^[1-9][0-9]*[smh]$"


def test_write_json_schemas_writes_the_rendered_files(tmp_path: Path) -> None:
    written = write_json_schemas(tmp_path / "out")

    assert sorted(p.name for p in written) == SCHEMA_NAMES
    for path in written:
        assert path.parent == tmp_path / "out"
        assert path.read_text(encoding="utf-8") == render_json_schema(contract_json_schemas()[path.name])


def _schema_reference(path: Path) -> str | None:
    match = re.search(r"Schema: (schemas/\S+\.schema\.json)", path.read_text(encoding="utf-8"))
    return match[1] if match else None


def test_shipped_feature_spec_header_names_an_existing_schema() -> None:
    assert _schema_reference(SHIPPED_FEATURE_SPEC) == "schemas/feature_spec.schema.json"


def test_shipped_run_config_header_names_an_existing_schema() -> None:
    assert _schema_reference(SHIPPED_RUN_CONFIG) in {f"schemas/{name}" for name in SCHEMA_NAMES}


# --- validating documents needs the optional `jsonschema` package --------------------------------

HAS_JSONSCHEMA = importlib.util.find_spec("jsonschema") is not None
needs_jsonschema = pytest.mark.skipif(not HAS_JSONSCHEMA, reason="jsonschema is not installed (not a dependency)")


def _validator(name: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(contract_json_schemas()[name])


@needs_jsonschema
@pytest.mark.parametrize(
    ("name", "factory"),
    [
        ("feature_spec.schema.json", feature_spec_document),
        ("feature_spec.schema.json", hour_feature_spec_document),  # log_return, flow_change
        ("artifact_manifest.schema.json", artifact_manifest_document),
        ("backtest_run.schema.json", run_config_document),
    ],
)
def test_valid_documents_satisfy_their_json_schema(name: str, factory: Any) -> None:
    assert list(_validator(name).iter_errors(factory())) == []


@needs_jsonschema
def test_json_schema_refuses_an_unknown_field() -> None:
    document = feature_spec_document()
    document["feature_spec"]["calendar"]["colour"] = "red"

    assert list(_validator("feature_spec.schema.json").iter_errors(document))
