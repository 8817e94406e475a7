"""Load and dump the contracts as YAML (safe load only) or JSON, with precise errors.

Each contract file holds one top-level key naming its kind (``feature_spec``, ``artifact_manifest``,
``backtest_run``). Loading never constructs arbitrary Python objects (``yaml.SafeLoader``), refuses
duplicate keys, and reports problems as :class:`~sigma9_runtime.errors.SpecError` naming the file,
the field path and, where known, the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sigma9_runtime.atomic import atomic_write_text
from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.base import FieldPathError
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import SpecError

M = TypeVar("M", bound=BaseModel)

DOCUMENT_KEYS: dict[type[BaseModel], str] = {
    FeatureSpec: "feature_spec",
    ArtifactManifest: "artifact_manifest",
    BacktestRunConfig: "backtest_run",
}
"""Top-level key of each contract's files."""

Contract = FeatureSpec | ArtifactManifest | BacktestRunConfig
Loc = tuple[str | int, ...]

MAX_CONTRACT_BYTES = 1 << 20
"""Largest contract file read (1 MiB; the shipped ones are a few KiB)."""
MAX_NESTING = 64
"""Deepest nesting of mappings and lists in a contract file (the contracts nest fewer than 10 levels)."""
MAX_REPORTED_PROBLEMS = 20
"""Problems of one document reported with their field and line (the rest are counted)."""


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans that refuses duplicate mapping keys.

    PyYAML follows YAML 1.1, where ``on``, ``off``, ``yes`` and ``no`` are booleans, so the
    design's ``params: { on: "close" }`` would load as ``{True: "close"}``; only ``true`` and
    ``false`` are booleans here. PyYAML also keeps the last of duplicate keys silently.
    """

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, f"a mapping key must be a scalar, got a {type(key).__name__}", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictSafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# --- reading ------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The file's text: a regular file of at most :data:`MAX_CONTRACT_BYTES`, UTF-8."""
    try:
        if path.is_dir():
            raise SpecError("is a directory, expected a YAML or JSON file", file=path)
        if path.exists() and not path.is_file():
            raise SpecError("not a regular file (a device, socket or pipe), expected a YAML or JSON file", file=path)
        with path.open("rb") as handle:
            data = handle.read(MAX_CONTRACT_BYTES + 1)
    except FileNotFoundError as e:
        raise SpecError("file not found", file=path) from e
    except OSError as e:
        raise SpecError(f"cannot read ({e.strerror or e})", file=path) from e
    if len(data) > MAX_CONTRACT_BYTES:
        raise SpecError(f"larger than {MAX_CONTRACT_BYTES:,} bytes, the limit of a contract file", file=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=path) from e


class _DuplicateKeyError(ValueError):
    """A JSON object repeats a key."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _too_deep(path: Path) -> SpecError:
    return SpecError(f"nested more than {MAX_NESTING} levels deep", file=path)


def _check_nesting(document: Any, path: Path) -> Any:
    """``document`` when it nests at most :data:`MAX_NESTING` levels, else :class:`SpecError`."""
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_NESTING:
                raise _too_deep(path)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return document


def _is_json(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def parse_json_text(text: str, path: str | Path, *, allow_nan: bool = True) -> Any:
    """JSON ``text`` of the file at ``path`` parsed; :class:`SpecError` naming the file (and line) on a syntax error,
    a duplicate key, nesting deeper than :data:`MAX_NESTING`, an integer Python cannot hold, or (``allow_nan``
    False) ``NaN`` / ``Infinity``."""
    path = Path(path)
    constant = None if allow_nan else _refuse_constant
    try:
        return _check_nesting(json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=constant), path)
    except json.JSONDecodeError as e:
        raise SpecError(f"invalid JSON: {e.msg} (column {e.colno})", file=path, line=e.lineno) from e
    except _DuplicateKeyError as e:
        raise SpecError(f"invalid JSON: {e}", file=path, line=_duplicate_key_line(_compose(text, json=True))) from e
    except RecursionError as e:
        raise _too_deep(path) from e
    except ValueError as e:
        raise SpecError(f"invalid JSON: {e}", file=path) from e


def _parse_text(text: str, path: Path) -> Any:
    """The parsed document (JSON by suffix, else YAML); :class:`SpecError` naming the file (and line) on any
    problem: syntax, duplicate or non-scalar keys, nesting deeper than :data:`MAX_NESTING`, numbers Python cannot
    hold (integers of more than 4,300 digits)."""
    if _is_json(path):
        return parse_json_text(text, path)
    try:
        return _check_nesting(yaml.load(text, Loader=_StrictSafeLoader), path)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise SpecError(f"invalid YAML: {e.problem or e.context}", file=path, line=line) from e
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", file=path) from e
    except RecursionError as e:
        raise _too_deep(path) from e
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise SpecError(f"invalid YAML: {e}", file=path) from e


def _duplicate_key_line(node: yaml.Node | None) -> int | None:
    """1-based line of the first repeated key in the node tree (None when there is none)."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.value in seen:
                return int(key_node.start_mark.line) + 1
            seen.add(key_node.value)
            line = _duplicate_key_line(value_node)
            if line is not None:
                return line
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            line = _duplicate_key_line(item)
            if line is not None:
                return line
    return None


_NODE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when PyYAML has it (node trees of large files ~40x faster), else the Python one."""


def _compose(text: str, *, json: bool = False) -> yaml.Node | None:
    """YAML node tree of ``text`` for line lookups (JSON is read as YAML too); None when it fails.

    YAML forbids tabs as indentation, JSON allows them; outside strings (where JSON has no raw
    tabs) a tab is whitespace, so for JSON text tabs become spaces, keeping every line number.
    """
    if json:
        text = text.replace("\t", " ")
    try:
        return yaml.compose(text, Loader=_NODE_LOADER)
    except yaml.YAMLError:
        return None


def _line_of(root: yaml.Node | None, loc: Loc) -> int | None:
    """1-based line of the deepest node along ``loc`` (the parent when a field is missing)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    child = value_node
                    line = key_node.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            continue  # a union tag in the loc, or a missing field: keep the parent's line
        node = child
    return line


# --- validation errors --------------------------------------------------------------------------


def _data_loc(data: Any, loc: Loc) -> Loc:
    """Drop pydantic's union tags (``'zscore'``, ``'oos_holdout'``, ``'str'``) so ``loc`` walks the data.

    A part that is not a key/index of the data at that point is a tag, except as the last part
    of the path, where it names a missing field.
    """
    cleaned: list[str | int] = []
    node = data
    last = len(loc) - 1
    for position, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(node, dict) and part in node.values():
            continue  # the tag of a tagged union ('zscore', 'oos_holdout'): a value, not a key
        elif position == last and isinstance(node, dict):
            node = None  # missing field: keep it in the path
        else:
            continue  # a union tag, not part of the data
        cleaned.append(part)
    return tuple(cleaned)


def _looks_like_json(text: str) -> bool:
    return text.lstrip().startswith("{")


def format_loc(loc: Loc) -> str:
    """``('feature_spec', 'features', 1, 'window')`` -> ``feature_spec.features[1].window``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error: dict[str, Any], data: Any, prefix: Loc) -> tuple[Loc, str]:
    loc = _data_loc(data, tuple(error["loc"]))
    ctx_error = (error.get("ctx") or {}).get("error")
    if isinstance(ctx_error, FieldPathError):
        return (*prefix, *loc, *ctx_error.path), str(ctx_error)
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if error["type"] not in ("missing", "extra_forbidden") and isinstance(value, (str, int, float, bool)):
        message += f" (got {value!r})"
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return (*prefix, *loc), message


def validation_error_to_spec_error(
    error: ValidationError, data: Any, *, file: str | Path | None, text: str | None, prefix: Loc = ()
) -> SpecError:
    """Turn a pydantic ``ValidationError`` into one :class:`SpecError` (first problem + the rest)."""
    root = _compose(text, json=_looks_like_json(text)) if text is not None else None
    # A value failing every member of a plain union gives one error per member: report the
    # field once, with the members' messages joined.
    by_loc: dict[Loc, list[str]] = {}
    for e in error.errors():
        loc, message = _describe(e, data, ())
        if message not in by_loc.setdefault(loc, []):
            by_loc[loc].append(message)
    formatted = []
    for loc, messages in list(by_loc.items())[:MAX_REPORTED_PROBLEMS]:  # lines looked up for these alone: linear
        message = "; or ".join(messages)
        full = (*prefix, *loc)
        line = _line_of(root, full) if root is not None else None
        formatted.append((format_loc(full), line, message))
    field, line, message = formatted[0]
    more = [f"{f}{f':{ln}' if ln else ''}: {m}" for f, ln, m in formatted[1:]]
    if len(by_loc) > MAX_REPORTED_PROBLEMS:
        more.append(f"... and {len(by_loc) - MAX_REPORTED_PROBLEMS:,} more problems")
    return SpecError(message, file=file, field=field, line=line, more=more)


# --- public API ---------------------------------------------------------------------------------


def parse_contract(model: type[M], document: Any, *, file: str | Path | None = None, text: str | None = None) -> M:
    """Validate a parsed document (with its top-level key) as ``model``."""
    key = DOCUMENT_KEYS[model]
    if not isinstance(document, dict):
        raise SpecError(f"expected a mapping with top-level key {key!r}, got {type(document).__name__}", file=file)
    if key not in document:
        found = ", ".join(map(repr, document)) or "nothing"
        raise SpecError(f"expected top-level key {key!r}, found {found}", file=file, line=1)
    extra = [k for k in document if k != key]
    if extra:
        root = _compose(text, json=_looks_like_json(text)) if text is not None else None
        raise SpecError(
            f"unexpected top-level key(s) {', '.join(map(repr, extra))}",
            file=file,
            field=str(extra[0]),
            line=_line_of(root, (extra[0],)) if root is not None else None,
        )
    body = document[key]
    try:
        return model.model_validate(body)
    except ValidationError as e:
        raise validation_error_to_spec_error(e, body, file=file, text=text, prefix=(key,)) from e


def load_contract(model: type[M], path: str | Path) -> M:
    """Load ``path`` (``.yaml``/``.yml``/``.json``) as ``model``; raise :class:`SpecError` when invalid."""
    path = Path(path)
    text = _read_text(path)
    return parse_contract(model, _parse_text(text, path), file=path, text=text)


def load_any_contract(path: str | Path) -> Contract:
    """Load a contract file of any kind, chosen by its top-level key."""
    path = Path(path)
    text = _read_text(path)
    document = _parse_text(text, path)
    if isinstance(document, dict) and len(document) == 1:
        for model, key in DOCUMENT_KEYS.items():
            if key in document:
                return parse_contract(model, document, file=path, text=text)  # type: ignore[return-value]
    keys = " or ".join(repr(k) for k in DOCUMENT_KEYS.values())
    raise SpecError(f"expected one top-level key, {keys}", file=path, line=1)


def load_feature_spec(path: str | Path) -> FeatureSpec:
    """Load a FeatureSpec file."""
    return load_contract(FeatureSpec, path)


def load_artifact_manifest(path: str | Path) -> ArtifactManifest:
    """Load an ArtifactManifest file."""
    return load_contract(ArtifactManifest, path)


def load_backtest_run_config(path: str | Path) -> BacktestRunConfig:
    """Load a BacktestRunConfig file."""
    return load_contract(BacktestRunConfig, path)


def contract_document(contract: BaseModel) -> dict[str, Any]:
    """The JSON-ready document of ``contract`` with its top-level key."""
    return {DOCUMENT_KEYS[type(contract)]: contract.model_dump(mode="json")}


def dumps_contract(contract: BaseModel, fmt: str = "yaml") -> str:
    """Serialize ``contract`` as ``yaml`` or ``json`` text that loads back equal."""
    document = contract_document(contract)
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
    raise ValueError(f"unknown format {fmt!r}: expected 'yaml' or 'json'")


def dump_contract(contract: BaseModel, path: str | Path) -> Path:
    """Write ``contract`` to ``path`` atomically; the suffix (``.json`` or ``.yaml``/``.yml``) picks the format."""
    path = Path(path)
    atomic_write_text(path, dumps_contract(contract, "json" if _is_json(path) else "yaml"))
    return path
