"""The FeatureSpec schema hash: one digest of exactly what decides feature values.

``schema_hash(spec)`` is ``sha256:<hex>`` over a canonical JSON serialization of the spec's
``calendar``, ``sources``, ``windows``, ``features`` and ``normalization``. It leaves out
``id``, ``version``, ``owner``, ``description``, ``created_at`` and ``runtime_gates``.

Canonical form (see ``docs/contracts.md``):

* values after validation, so defaults count and YAML/JSON, key order, whitespace and comments
  do not;
* durations in one spelling (``1m`` and ``60s`` hash the same);
* lists whose order carries no meaning are sorted (sessions, source fields, windows by name);
  the feature list keeps its order, because it is the model's input order;
* JSON with sorted keys, ``,``/``:`` separators, UTF-8;
* a format version inside the hashed payload, so a deliberate change of the rules changes every hash.

The lab writes the hash into each manifest; the runtime recomputes it from its own spec and
refuses a manifest whose hash differs (:func:`require_schema_hash`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import SchemaMismatch

SCHEMA_HASH_VERSION = 1
HASHED_SECTIONS: tuple[str, ...] = ("calendar", "sources", "windows", "features", "normalization")


def canonical_feature_definition(spec: FeatureSpec) -> dict[str, Any]:
    """The exact payload that is hashed, as a JSON-ready dict."""
    dumped = spec.model_dump(mode="json", include=set(HASHED_SECTIONS), context={"canonical": True})
    dumped["calendar"]["sessions"] = sorted(dumped["calendar"]["sessions"])
    for source in dumped["sources"].values():
        if "fields" in source:
            source["fields"] = sorted(source["fields"])
    dumped["windows"] = sorted(dumped["windows"], key=lambda window: window["name"])
    return {"schema_hash_version": SCHEMA_HASH_VERSION, **dumped}


def canonical_json(value: Any) -> str:
    """Deterministic JSON text: sorted keys, no whitespace, UTF-8, NaN refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def schema_hash(spec: FeatureSpec) -> str:
    """``sha256:<64 hex>`` of the spec's feature-defining parts.

    Examples
    --------
    >>> schema_hash(spec)  # doctest: +SKIP
    'sha256:3f1c...'
    """
    payload = canonical_json(canonical_feature_definition(spec)).encode("utf-8")
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def require_schema_hash(spec: FeatureSpec, expected: str, *, subject: str) -> None:
    """Raise :class:`SchemaMismatch` unless ``spec`` hashes to ``expected``.

    ``subject`` names who carries ``expected`` (e.g. ``"manifest ART_x"``) for the message.
    """
    actual = schema_hash(spec)
    if actual != expected:
        raise SchemaMismatch(
            f"FeatureSpec {spec.id} does not match the schema hash of {subject}", expected=expected, actual=actual
        )
