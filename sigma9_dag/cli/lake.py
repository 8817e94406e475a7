"""``sigma9 lake``: build the synthetic market, import real data, inspect the lake, list its events, query it."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sigma9_dag.cli.compute import add_dask_option
from sigma9_runtime.lake.layout import DATA_ROOT_ENV, DEFAULT_DATA_ROOT, open_lake, resolve_data_root
from sigma9_runtime.streams import LAKE_TABLES

if TYPE_CHECKING:
    import pandas as pd

IMPORTERS = {
    "massive-flat": ("import_massive_flat", "Massive flat files (trades_v1, minute_aggs_v1, day_aggs_v1 as csv.gz)"),
    "massive-ws": ("import_massive_ws", "Massive WebSocket captures (JSON lines of raw T/A/AM frames)"),
    "databento": ("import_databento", "Databento DBN files (trades, ohlcv-1s, ohlcv-1m; .dbn or .dbn.zst)"),
    "splits": (
        "import_splits",
        "Massive's splits reference for the splits table (JSON body of the splits endpoint, or CSV "
        "ticker,execution_date,split_from,split_to)",
    ),
}


def add_root_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--root DIR`` option every lake-reading command takes."""
    parser.add_argument(
        "--root",
        default=None,
        metavar="DIR|URL",
        help=f"the lake: a directory, or object storage (s3://bucket/prefix) (default: ${DATA_ROOT_ENV} or "
        f"'{DEFAULT_DATA_ROOT}')",
    )


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "lake",
        help="build, import, inspect and query the market data lake",
        description="Build, import, inspect and query the market data lake: a directory, or object storage "
        "(--root s3://bucket/prefix). One writer at a time: on disk a second synth or import waits up to "
        "$SIGMA9_LAKE_LOCK_TIMEOUT seconds (default 600) for the first, then stops with one line; in a bucket, "
        "of two writers the second to commit stops with one line, its work unpublished. A killed writer leaves "
        "the lake as before or after its commit (docs/lake.md).",
    )
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
    add_dask_option(synth)
    synth.add_argument(
        "--tables",
        default=",".join(LAKE_TABLES),
        metavar="LIST",
        help="market tables to write, comma-separated among trades,1s,1m,daily (default all; daily and an "
        "intraday table needed); the market and its ground truth are the same whatever is written",
    )
    synth.add_argument("--force", action="store_true", help="replace an existing lake at --root")
    synth.add_argument("--no-progress", action="store_true", help="no progress bar")
    synth.set_defaults(handler=_synth)

    importer = actions.add_parser("import", help="import real market data into the lake")
    sources = importer.add_subparsers(dest="import_source", metavar="SOURCE", required=True)
    for name, (_, description) in IMPORTERS.items():
        source = sources.add_parser(
            name,
            help=description,
            description=f"Import {description} into the lake. All files of one call land together or not at all, "
            "also under kill -9; an import waits up to $SIGMA9_LAKE_LOCK_TIMEOUT seconds (default 600) for "
            "another writer of the lake.",
        )
        add_root_argument(source)
        source.add_argument("paths", nargs="+", type=Path, metavar="FILE", help="input file")
        source.add_argument(
            "--workers", type=int, default=1, metavar="W", help="processes reading the files, one per file (default 1)"
        )
        add_dask_option(source)
        source.add_argument("--no-progress", action="store_true", help="no progress bar")
        source.set_defaults(handler=_import, importer=name)

    copy = actions.add_parser(
        "copy",
        help="copy the lake whole to a directory or a bucket, as one commit",
        description="Copy the lake at --root to DESTINATION (a directory or s3://bucket/prefix) byte for byte, "
        "lake.json included, as one commit: e.g. `sigma9 lake copy s3://bucket/lake` moves a lake on disk to "
        "object storage, where Dask workers on other machines read it. Derived caches stay behind.",
    )
    add_root_argument(copy)
    copy.add_argument("destination", metavar="DESTINATION", help="a directory or s3://bucket/prefix")
    copy.add_argument("--force", action="store_true", help="replace a lake already at DESTINATION")
    copy.set_defaults(handler=_copy)

    info = actions.add_parser("info", help="tickers, dates, rows and coverage per table, ground-truth counts")
    add_root_argument(info)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=_info)

    events = actions.add_parser(
        "events",
        help="the surge events found in the lake (T0 at the finest resolution it holds)",
        description="List the events of the lake: per ticker and day, the first cross of the split-adjusted "
        "previous close +10%, timed by the trades, else the 1-second bars, else the 1-minute bars (the end of "
        "the bar that reaches it). Columns: ticker, date, prev_close, prev_date, t0_ns, t0_ny, t0_resolution, "
        "max_gain, flags; ordered by t0_ns. Cached under <root>/derived/events/ (docs/lake.md).",
    )
    add_root_argument(events)
    events.add_argument("--from", dest="first", type=dt.date.fromisoformat, metavar="DATE", help="first date")
    events.add_argument("--to", dest="last", type=dt.date.fromisoformat, metavar="DATE", help="last date")
    events.add_argument("--out", type=Path, metavar="FILE", help="write the events (.csv or .parquet)")
    events.add_argument("--limit", type=int, default=20, metavar="N", help="events shown in the table (default 20)")
    events.add_argument(
        "--workers", type=int, default=2, metavar="W", help="worker processes when not cached (default 2)"
    )
    add_dask_option(events)
    events.set_defaults(handler=_events)

    query = actions.add_parser(
        "query",
        help="run SQL over the lake's DuckDB views",
        description="Run SQL over views daily, bars_1m, bars_1s, trades, splits (the tables the lake holds), "
        "truth_events, truth_hard_negatives (a synthetic lake's ground truth), events (the events found in the "
        'lake, as `sigma9 lake events`) and coverage (ticker, date, trades, "1s", "1m", daily booleans). '
        "events and coverage are computed only when the query names them.",
    )
    add_root_argument(query)
    query.add_argument("sql", metavar="SQL", help='e.g. "SELECT t0_resolution, count(*) FROM events GROUP BY 1"')
    query.add_argument(
        "--workers", type=int, default=2, metavar="W", help="worker processes to find events (default 2)"
    )
    add_dask_option(query)
    query.set_defaults(handler=_query)

    from sigma9_dag.cli import lake_quality

    lake_quality.register(actions, add_root_argument)


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
        tables=args.tables.split(","),
    )
    print(f"synthetic lake at {root}: {summary}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from sigma9_dag.lake import importers

    function_name, _ = IMPORTERS[args.importer]
    root = resolve_data_root(args.root)
    progress = not args.no_progress and sys.stderr.isatty()
    summary = getattr(importers, function_name)(root, args.paths, progress=progress, workers=args.workers)
    print(f"imported into {root}: {summary}")
    return 0


def _copy(args: argparse.Namespace) -> int:
    from sigma9_dag.lake.copy import copy_lake

    print(f"copied {copy_lake(open_lake(args.root), args.destination, force=args.force)}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from sigma9_dag.lake.commit import reading
    from sigma9_dag.lake.info import lake_info

    layout = open_lake(args.root)
    with reading(layout.root):
        info = lake_info(layout)
    print(json.dumps(info.to_dict(), indent=2) if args.json else info.render())
    return 0


def _events(args: argparse.Namespace) -> int:
    from sigma9_dag.lake.events import event_table, lake_events, write_event_table
    from sigma9_dag.lake.table_file import check_table_path
    from sigma9_runtime.errors import LakeError

    if args.out is not None:
        check_table_path(args.out, "events")  # before reading the lake
    layout = open_lake(args.root)
    if not layout.root.is_dir():
        raise LakeError(f"{layout.root}: no lake here (directory missing)")
    scan = lake_events(layout, workers=args.workers).between(args.first, args.last)
    table = event_table(scan.events)
    if args.out is not None:
        write_event_table(args.out, scan.events)
    elif len(table) and args.limit > 0:
        print(render_events(table, limit=args.limit))
    why = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in scan.no_prev_close_counts().items())
    print(
        f"{_count(len(table), 'event')}; {_count(len(scan.split_flagged), 'day')} flagged as split-like "
        f"(kept out), {_count(scan.no_prev_close, 'day')} without a previous close" + (f" ({why})" if why else "")
    )
    if args.out is not None:
        print(f"events written to {args.out}")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def render_events(table: pd.DataFrame, limit: int = 20) -> str:
    """The first ``limit`` rows of an events table (:func:`~sigma9_dag.lake.events.event_table`) as text."""
    header = f"{'ticker':<8} {'date':<10} {'prev_close':>10} {'prev_date':<10} {'t0 (New York)':<29} {'res':<5} "
    lines = [header + f"{'max_gain':>8}  flags"]
    for row in table.head(limit).itertuples():
        lines.append(
            f"{row.ticker:<8} {row.date!s:<10} {row.prev_close:>10.4f} {row.prev_date!s:<10} {row.t0_ny:<29} "
            f"{row.t0_resolution:<5} {row.max_gain:>+8.1%}  {row.flags}".rstrip()
        )
    if len(table) > limit:
        lines.append(f"... {len(table) - limit} more")
    return "\n".join(lines)


def _query(args: argparse.Namespace) -> int:
    import duckdb

    from sigma9_dag.lake.commit import reading
    from sigma9_dag.lake.duck import connect
    from sigma9_runtime.errors import LakeError

    layout = open_lake(args.root)
    with reading(layout.root):  # the query reads one state of the lake
        con = connect(layout, sql=args.sql, workers=args.workers)
        try:
            result = con.sql(args.sql)
            if result is not None:
                result.show(max_rows=50)
        except duckdb.Error as e:
            raise LakeError(f"query failed: {e}") from e
    return 0
