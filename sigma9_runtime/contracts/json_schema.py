"""JSON Schema of the contract files, for editors and external validators.

The committed copies live in ``schemas/``; ``sigma9 schema --out schemas`` regenerates them and
a test fails when they drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from sigma9_runtime.atomic import atomic_write_text
from sigma9_runtime.contracts.io import DOCUMENT_KEYS

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _document_model(model: type[BaseModel]) -> type[BaseModel]:
    key = DOCUMENT_KEYS[model]
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{model.__name__}Document",
        __config__=ConfigDict(extra="forbid", title=f"{model.__name__} file"),
        **{key: (model, ...)},
    )


def contract_json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema of each contract file (with its top-level key)."""
    schemas: dict[str, dict[str, Any]] = {}
    for model, key in DOCUMENT_KEYS.items():
        schema = _document_model(model).model_json_schema(mode="validation")
        schemas[f"{key}.schema.json"] = {"$schema": JSON_SCHEMA_DIALECT, **schema}
    return schemas


def render_json_schema(schema: dict[str, Any]) -> str:
    """The committed text form of a schema."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json_schemas(out_dir: str | Path) -> list[Path]:
    """Write every contract's JSON Schema into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    written = []
    for name, schema in contract_json_schemas().items():
        path = out / name
        atomic_write_text(path, render_json_schema(schema))
        written.append(path)
    return written
