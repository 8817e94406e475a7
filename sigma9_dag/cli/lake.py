"""``sigma9 lake``: build the synthetic market, import real data, inspect and query the lake."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from sigma9_runtime.lake.layout import DATA_ROOT_ENV, DEFAULT_DATA_ROOT, LakeLayout, resolve_data_root

IMPORTERS = {
    "massive-flat": ("import_massive_flat", "Massive flat files (trades_v1, minute_aggs_v1, day_aggs_v1 as csv.gz)"),
    "massive-ws": ("import_massive_ws", "Massive WebSocket captures (JSON lines of raw T/A/AM frames)"),
    "databento": ("import_databento", "Databento DBN files (trades, ohlcv-1s, ohlcv-1m; .dbn or .dbn.zst)"),
}


def add_root_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--root DIR`` option every lake-reading command takes."""
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"lake root (default: ${DATA_ROOT_ENV} or '{DEFAULT_DATA_ROOT}')",
    )


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("lake", help="build, import, inspect and query the market data lake")
    actions = parser.add_subparsers(dest="lake_command", metavar="ACTION", required=True)

    synth = actions.add_parser(
        "synth",
        help="generate the synthetic market (the embedded default data)",
        description="Generate a synthetic small-cap market with planted surge archetypes, hard negatives and "
        "splits, with ground truth beside the lake (docs/lake.md). Deterministic for a seed.",
    )
    add_root_argument(synth)
    synth.add_argument("--tickers", type=int, default=100, metavar="N", help="number of tickers (default 100)")
    synth.add_argument("--days", type=int, default=80, metavar="D", help="trading days with intraday data (default 80)")
    synth.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default 7)")
    synth.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        default=dt.date(2025, 1, 2),
        metavar="DATE",
        help="first intraday trading day (default 2025-01-02)",
    )
    synth.add_argument(
        "--history-days",
        type=int,
        default=70,
        metavar="H",
        help="trading days of daily bars before --start (default 70)",
    )
    synth.add_argument("--workers", type=int, default=2, metavar="W", help="worker processes (default 2)")
    synth.add_argument("--force", action="store_true", help="replace an existing lake at --root")
    synth.add_argument("--no-progress", action="store_true", help="no progress bar")
    synth.set_defaults(handler=_synth)

    importer = actions.add_parser("import", help="import real market data into the lake")
    sources = importer.add_subparsers(dest="import_source", metavar="SOURCE", required=True)
    for name, (_, description) in IMPORTERS.items():
        source = sources.add_parser(
            name,
            help=description,
            description=f"Import {description} into the lake. All files of one call land together or not at all.",
        )
        add_root_argument(source)
        source.add_argument("paths", nargs="+", type=Path, metavar="FILE", help="input file")
        source.add_argument("--no-progress", action="store_true", help="no progress bar")
        source.set_defaults(handler=_import, importer=name)

    info = actions.add_parser("info", help="tickers, dates, rows per table, ground-truth counts")
    add_root_argument(info)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=_info)

    query = actions.add_parser(
        "query",
        help="run SQL over the lake's DuckDB views",
        description="Run SQL over views daily, bars_1m, bars_1s, trades, splits, events, hard_negatives.",
    )
    add_root_argument(query)
    query.add_argument("sql", metavar="SQL", help='e.g. "SELECT archetype, count(*) FROM events GROUP BY 1"')
    query.set_defaults(handler=_query)


def _synth(args: argparse.Namespace) -> int:
    from sigma9_dag.lake.synth import generate_synthetic_lake

    root = resolve_data_root(args.root)
    summary = generate_synthetic_lake(
        root,
        tickers=args.tickers,
        days=args.days,
        seed=args.seed,
        start=args.start,
        history_days=args.history_days,
        workers=args.workers,
        progress=not args.no_progress and sys.stderr.isatty(),
        force=args.force,
    )
    print(f"synthetic lake at {root}: {summary}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from sigma9_dag.lake import importers

    function_name, _ = IMPORTERS[args.importer]
    root = resolve_data_root(args.root)
    summary = getattr(importers, function_name)(root, args.paths, progress=not args.no_progress and sys.stderr.isatty())
    print(f"imported into {root}: {summary}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from sigma9_dag.lake.info import lake_info

    info = lake_info(LakeLayout(resolve_data_root(args.root)))
    print(json.dumps(info.to_dict(), indent=2) if args.json else info.render())
    return 0


def _query(args: argparse.Namespace) -> int:
    import duckdb

    from sigma9_dag.lake.duck import connect
    from sigma9_runtime.errors import LakeError

    con = connect(LakeLayout(resolve_data_root(args.root)))
    try:
        result = con.sql(args.sql)
    except duckdb.Error as e:
        raise LakeError(f"query failed: {e}") from e
    if result is not None:
        result.show(max_rows=50)
    return 0
