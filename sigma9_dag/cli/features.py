"""``sigma9 features``: feature names, stats for normalization, the online/offline parity proof and the
consistency check of a runtime's feature log."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from sigma9_dag.cli.compute import add_dask_option
from sigma9_dag.cli.lake import add_root_argument
from sigma9_runtime.lake.layout import LakeLayout, open_lake

EXIT_MISMATCH = 1


def _common(parser: argparse.ArgumentParser, *, root: bool = True) -> None:
    if root:
        add_root_argument(parser)
    parser.add_argument("--spec", type=Path, required=True, metavar="PATH", help="FeatureSpec file (FS_*.yaml)")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("features", help="feature names, normalization stats and online/offline parity")
    actions = parser.add_subparsers(dest="features_command", metavar="ACTION", required=True)

    names = actions.add_parser("names", help="the model's input feature names, in order")
    _common(names, root=False)
    names.set_defaults(handler=_names)

    stats = actions.add_parser(
        "stats",
        help="compute normalization statistics of every lake day (cached per schema hash)",
        description="Fill derived/feature_stats/<hash>/ with per symbol-day statistics (docs/features.md).",
    )
    _common(stats)
    stats.add_argument("--workers", type=int, default=2, metavar="W", help="worker processes (default 2)")
    add_dask_option(stats)
    stats.add_argument("--no-progress", action="store_true", help="no progress bar")
    stats.set_defaults(handler=_stats)

    parity = actions.add_parser(
        "parity",
        help="replay a lake day through the online builder and compare with the offline batch",
        description="Replay every event of DATE (all symbols, time order, as raw Massive WebSocket frames) "
        "through the OnlineFeatureBuilder, compute the offline frame of the same day, and compare every value. "
        "Exit code 1 on any mismatch. When symbols have fewer earlier days than the spec's normalization and "
        "baselines need, a warm-up line says so first (NaN equals NaN: such a parity proves little).",
    )
    _common(parity)
    parity.add_argument(
        "--date", type=dt.date.fromisoformat, required=True, metavar="DATE", help="trading day (YYYY-MM-DD)"
    )
    parity.add_argument("--tickers", nargs="+", metavar="TICKER", help="only these symbols (default: all)")
    parity.add_argument("--typed", action="store_true", help="feed typed event batches instead of raw JSON frames")
    parity.add_argument("--workers", type=int, default=2, metavar="W", help="worker processes for stats (default 2)")
    add_dask_option(parity)
    parity.add_argument("--no-progress", action="store_true", help="no progress bar")
    parity.add_argument(
        "--strict",
        action="store_true",
        help="refuse (exit 2) when a symbol's features would be NaN for lack of earlier days (a NaN-only parity)",
    )
    parity.set_defaults(handler=_parity)

    consistency = actions.add_parser(
        "consistency",
        help="compare a runtime's feature log with the offline features of the same day",
        description="Read a consistency log (written by `sigma9 replay --log-features` or a runtime with "
        "feature_log set), recompute the same symbols' rows offline over the logged span of steps, and report "
        "mismatch, missing and extra ratios. Exit code 1 when not consistent.",
    )
    _common(consistency)
    consistency.add_argument("--log", type=Path, required=True, metavar="FILE", help="the feature log (parquet)")
    consistency.add_argument(
        "--tolerance", type=float, default=0.0, metavar="X", help="absolute difference allowed (default 0: exact)"
    )
    consistency.add_argument("--workers", type=int, default=2, metavar="W", help="worker processes (default 2)")
    add_dask_option(consistency)
    consistency.set_defaults(handler=_consistency)


def _load(path: Path):  # type: ignore[no-untyped-def]
    from sigma9_runtime.contracts.io import load_feature_spec

    return load_feature_spec(path)


def _names(args: argparse.Namespace) -> int:
    from sigma9_runtime.features.names import feature_names

    for name in feature_names(_load(args.spec)):
        print(name)
    return 0


def _stats(args: argparse.Namespace) -> int:
    from sigma9_dag.features.stats import ensure_stats
    from sigma9_dag.lake.coverage import intraday_tables

    layout = open_lake(args.root)
    spec = _load(args.spec)
    coverage = _checked(layout, spec)
    tables = intraday_tables(spec)
    done = ensure_stats(
        layout,
        spec,
        coverage.tickers(tables),
        coverage.days(tables),
        workers=args.workers,
        progress=not args.no_progress and sys.stderr.isatty(),
        coverage=coverage,
    )
    print(f"feature stats: {done} symbol-days computed")
    return 0


def _parity(args: argparse.Namespace) -> int:
    from sigma9_dag.features.replay import feature_parity
    from sigma9_dag.lake.history import history_sufficiency

    layout = open_lake(args.root)
    spec = _load(args.spec)
    coverage = _checked(layout, spec, [args.date])
    history = history_sufficiency(coverage, spec, [args.date], args.tickers)
    history.check(strict=args.strict)
    for line in history.lines():
        print(line)
    report = feature_parity(
        layout,
        spec,
        args.date,
        tickers=args.tickers,
        typed=args.typed,
        workers=args.workers,
        progress=not args.no_progress and sys.stderr.isatty(),
        coverage=coverage,
    )
    print(report.render())
    return 0 if report.equal else EXIT_MISMATCH


def _consistency(args: argparse.Namespace) -> int:
    from sigma9_dag.features.consistency import feature_consistency

    layout = open_lake(args.root)
    spec = _load(args.spec)
    coverage = _checked(layout, spec)
    report = feature_consistency(
        layout, spec, args.log, tolerance=args.tolerance, workers=args.workers, coverage=coverage
    )
    print(report.render())
    return 0 if report.consistent else EXIT_MISMATCH


def _checked(layout: LakeLayout, spec: object, days: list[dt.date] | None = None):  # type: ignore[no-untyped-def]
    """The lake's coverage once it holds what ``spec`` reads (on ``days``); else a one-line error."""
    from sigma9_dag.cli.catalog import checked_coverage

    return checked_coverage(layout, spec, days)  # type: ignore[arg-type]
