"""``sigma9 spec``: validate contract files and print FeatureSpec schema hashes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sigma9_runtime.contracts import BacktestRunConfig, FeatureSpec, load_any_contract, load_feature_spec
from sigma9_runtime.errors import LakeError, Sigma9Error, SpecError
from sigma9_runtime.schema_hash import schema_hash


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("spec", help="validate contract files, print schema hashes")
    actions = parser.add_subparsers(dest="spec_command", metavar="ACTION", required=True)

    validate = actions.add_parser(
        "validate",
        help="validate FeatureSpec, ArtifactManifest or BacktestRunConfig files",
        description="Validate contract files (kind chosen by each file's top-level key). Prints one line per "
        "file: its kind, id and, for a FeatureSpec, the schema hash; a run config's universe query must be one "
        "read-only SELECT. Exit code 2 if any file is invalid.",
    )
    validate.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="YAML or JSON contract file")
    validate.set_defaults(handler=_validate)

    hash_ = actions.add_parser(
        "hash",
        help="print the schema hash of a FeatureSpec",
        description="Print the schema hash (sha256:<hex>) of a FeatureSpec file: the digest of its calendar, "
        "sources, windows, features and normalization (docs/contracts.md).",
    )
    hash_.add_argument("path", type=Path, metavar="PATH", help="FeatureSpec YAML or JSON file")
    hash_.set_defaults(handler=_hash)


def _validate(args: argparse.Namespace) -> int:
    failures = 0
    for path in args.paths:
        try:
            contract = load_any_contract(path)
            if isinstance(contract, BacktestRunConfig):
                _check_universe_query(contract, path)
        except Sigma9Error as e:
            failures += 1
            print(f"sigma9: error: {e}", file=sys.stderr)
            continue
        line = f"ok  {path}  {type(contract).__name__} {contract.id}"
        if isinstance(contract, FeatureSpec):
            line += f"  {schema_hash(contract)}"
        print(line)
    return 2 if failures else 0


def _check_universe_query(run: BacktestRunConfig, path: Path) -> None:
    """Refuse a universe query that is not one read-only SELECT now, not when a run would execute it."""
    from sigma9_dag.lake.duck import check_read_only_select

    query = run.data.universe.query
    if run.data.universe.source == "query" and query is not None:
        try:
            check_read_only_select(query)
        except LakeError as e:
            raise SpecError(str(e), file=path, field="backtest_run.data.universe.query") from e


def _hash(args: argparse.Namespace) -> int:
    print(schema_hash(load_feature_spec(args.path)))
    return 0
