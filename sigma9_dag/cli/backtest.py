"""``sigma9 backtest``: run a BacktestRunConfig through NautilusTrader and write its outputs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sigma9_dag.cli.compute import add_dask_option

if TYPE_CHECKING:
    from sigma9_dag.lake.history import HistoryReport


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "backtest",
        help="run a BacktestRunConfig through NautilusTrader",
        description="Backtest RUN.yaml: the run's scoring plugin hosted in a Nautilus strategy over the lake, "
        "with the run's fills, slippage, commission and latency; writes alerts, trades, equity curve, metrics, "
        "plots and a BacktestReport JSON to the output directory (docs/backtest.md). Exit code 2 on a bad "
        "config, a missing data path or a schema hash mismatch. When scored symbols have fewer earlier days than "
        "the spec's normalization and baselines need, a warm-up line on stderr says so before the engine starts "
        "(--strict: refused when their features would be NaN).",
    )
    parser.add_argument("run_config", type=Path, metavar="RUN.yaml", help="BacktestRunConfig file")
    parser.add_argument(
        "--root",
        default=None,
        metavar="DIR|URL",
        help="the lake, a directory or s3://bucket/prefix (default: the run's data.parquet_root)",
    )
    parser.add_argument("--artifacts", type=Path, default=None, help="artifact store (default: from artifact_ref)")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: the run's output.base_dir)")
    parser.add_argument("--spec", type=Path, default=None, help="FeatureSpec file (default: feature_spec_ref.path)")
    parser.add_argument(
        "--artifact",
        "--artifact-id",
        dest="artifact_id",
        default=None,
        metavar="ID",
        help="artifact to score with (default: the run's artifact_ref.id, else the store's latest for the spec)",
    )
    parser.add_argument(
        "--days",
        nargs="+",
        type=dt.date.fromisoformat,
        default=None,
        metavar="DATE",
        help="score these lake days instead of the split's test days",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse (exit 2) when a scored symbol's features would be NaN for lack of earlier days",
    )
    add_dask_option(parser)
    parser.set_defaults(handler=_run)


def _print_warmup(report: HistoryReport) -> None:
    """The warm-up lines on stderr (stdout holds the performance JSON)."""
    for line in report.lines():
        print(line, file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from sigma9_dag.backtest import run_backtest
    from sigma9_dag.cli.catalog import catalog_specs
    from sigma9_runtime.contracts import load_backtest_run_config, load_feature_spec

    run = load_backtest_run_config(args.run_config)
    spec = load_feature_spec(args.spec) if args.spec is not None else None
    result = run_backtest(
        run,
        spec,
        lake_root=args.root,
        artifact_root=args.artifacts,
        artifact_id=args.artifact_id,
        out_dir=args.out,
        days=args.days,
        alternatives=catalog_specs(),
        strict=args.strict,
        on_warmup=_print_warmup,
    )
    print(json.dumps(result.performance(), indent=2, sort_keys=True))
    for name, path in sorted(result.paths.items()):
        print(f"{name:16} {path}")
    return 0
