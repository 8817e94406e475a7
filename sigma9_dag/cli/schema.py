"""``sigma9 schema``: export the JSON Schema of the contract files."""

from __future__ import annotations

import argparse
from pathlib import Path

from sigma9_runtime.contracts.json_schema import write_json_schemas


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "schema",
        help="export JSON Schema of the contract files",
        description="Write feature_spec.schema.json, artifact_manifest.schema.json and backtest_run.schema.json "
        "(the committed copies live in schemas/).",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("schemas"), metavar="DIR", help="output directory (default: schemas)"
    )
    parser.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    for path in write_json_schemas(args.out):
        print(path)
    return 0
