"""Lake speed: rows/s of the synthetic market and of each importer, from one run.

    .venv/bin/python benchmarks/lake.py [--tickers 100 --days 80 --import-days 3 --workdir DIR] [--json]

The synthetic market is generated at the requested size (default: the demo lake); its trades of
the first ``--import-days`` days are then written out in each importer's format (Massive flat
file, Massive WebSocket capture, Databento DBN) and imported into fresh lakes. Beside each importer
the same file's bare read is timed in the same run, the floor an importer can approach: DuckDB's
``read_csv`` of the flat file into a table, ``json.loads`` of each capture line, the DBN decoder's
records. Prints figures only (importer trades/s, floor trades/s, importer time / floor time).

Target (issue 17): every importer >= 1M trades/s end to end (parse, clean, bars, write) per process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import tempfile
import time
from pathlib import Path

import databento_dbn as dbn
import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from sigma9_dag.features.replay import trade_messages
from sigma9_dag.lake.importers import import_databento, import_massive_flat, import_massive_ws
from sigma9_dag.lake.synth import generate_synthetic_lake
from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_trades


def _trades(layout: LakeLayout, days: list[dt.date]) -> pa.Table:
    tables = [read_trades(layout, t, d) for t in layout.trade_tickers() for d in days]
    return pa.concat_tables(tables).sort_by([("ts", "ascending")])


def _massive_flat(trades: pa.Table, path: Path) -> Path:
    conditions = [",".join(map(str, c)) for c in trades.column("conditions").to_pylist()]
    table = pa.table(
        {
            "ticker": trades.column("ticker"),
            "conditions": pa.array(conditions),
            "correction": trades.column("correction"),
            "exchange": trades.column("exchange"),
            "id": pa.array([str(i) for i in range(trades.num_rows)]),
            "participant_timestamp": trades.column("ts"),
            "price": trades.column("price"),
            "sequence_number": trades.column("sequence"),
            "sip_timestamp": trades.column("ts"),
            "size": trades.column("size"),
            "tape": pa.array([3] * trades.num_rows, pa.int32()),
            "trf_id": pa.array([0] * trades.num_rows, pa.int32()),
            "trf_timestamp": pa.array([0] * trades.num_rows, pa.int64()),
        }
    )
    with pa.CompressedOutputStream(str(path), "gzip") as out:
        pacsv.write_csv(table, out)
    return path


def _massive_ws(trades: pa.Table, path: Path, frame_size: int = 500) -> Path:
    _, messages = trade_messages(trades)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for start in range(0, len(messages), frame_size):
            out.write(json.dumps(messages[start : start + frame_size]) + "\n")
    return path


def _databento(trades: pa.Table, path: Path, first: dt.date) -> Path:
    tickers = sorted(set(trades.column("ticker").to_pylist()))
    ids = {t: 1000 + i for i, t in enumerate(tickers)}
    start = local_to_ns(first, dt.time(0, 0))
    end = start + 30 * 86_400 * 1_000_000_000
    metadata = dbn.Metadata(
        dataset="XNAS.ITCH",
        start=start,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_out=dbn.SType.INSTRUMENT_ID,
        schema=dbn.Schema.TRADES,
        symbols=tickers,
        mappings=[],
    )
    records = [
        bytes(
            dbn.SymbolMappingMsg(
                publisher_id=2,
                instrument_id=ids[t],
                ts_event=start,
                stype_in=dbn.SType.RAW_SYMBOL,
                stype_in_symbol=t,
                stype_out=dbn.SType.INSTRUMENT_ID,
                stype_out_symbol=str(ids[t]),
                start_ts=start,
                end_ts=end,
            )
        )
        for t in tickers
    ]
    rows = trades.to_pydict()
    for s, t, p, z, q in zip(rows["ticker"], rows["ts"], rows["price"], rows["size"], rows["sequence"]):
        records.append(
            bytes(
                dbn.TradeMsg(
                    publisher_id=2,
                    instrument_id=ids[s],
                    ts_event=t,
                    price=round(p * dbn.FIXED_PRICE_SCALE),
                    size=int(z),
                    action=dbn.Action.TRADE,
                    side=dbn.Side.NONE,
                    depth=0,
                    ts_recv=t,
                    flags=dbn.F_LAST,
                    sequence=q,
                )
            )
        )
    path.write_bytes(metadata.encode() + b"".join(records))
    return path


def _floor_flat(path: Path) -> int:
    """DuckDB's bare read of the flat file into a table (one thread: an importer's figure is per process)."""
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute(f"CREATE TABLE trades AS SELECT * FROM read_csv('{path}')")
    return int(con.execute("SELECT count(*) FROM trades").fetchone()[0])


def _floor_ws(path: Path) -> int:
    """json.loads of every capture line."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return sum(len(json.loads(line)) for line in lines)


def _floor_dbn(path: Path) -> int:
    """The DBN decoder's records (trades and symbol mappings)."""
    decoder = dbn.DBNDecoder()
    decoder.write(path.read_bytes())
    return len(decoder.decode())


FLOORS = {"massive_flat": ("duckdb_read_csv", _floor_flat), "massive_ws": ("json_loads", _floor_ws),
          "databento": ("dbn_decode", _floor_dbn)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=100)
    parser.add_argument("--days", type=int, default=80)
    parser.add_argument("--import-days", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here (default: a temp dir)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sigma9-bench-lake-"))
    work.mkdir(parents=True, exist_ok=True)
    figures: dict[str, float | int | str] = {}

    began = time.perf_counter()
    summary = generate_synthetic_lake(
        work / "synth", tickers=args.tickers, days=args.days, workers=args.workers, force=True
    )
    seconds = time.perf_counter() - began
    rows = summary.trades + summary.bars_1s + summary.bars_1m
    figures.update(
        synth_lake=f"{args.tickers} tickers x {args.days} days",
        synth_seconds=round(seconds, 1),
        synth_trades=summary.trades,
        synth_trades_per_s=round(summary.trades / seconds),
        synth_rows_per_s=round(rows / seconds),
    )

    layout = LakeLayout(work / "synth")
    days = layout.trade_dates()[: args.import_days]
    trades = _trades(layout, days)
    sources = {
        "massive_flat": (import_massive_flat, _massive_flat(trades, work / "trades_v1.csv.gz")),
        "massive_ws": (import_massive_ws, _massive_ws(trades, work / "capture.jsonl.gz")),
        "databento": (import_databento, _databento(trades, work / "trades.dbn", days[0])),
    }
    figures["import_trades"] = trades.num_rows
    for name, (importer, path) in sources.items():
        root = work / f"import-{name}"
        began = time.perf_counter()
        imported = importer(root, [path])
        seconds = time.perf_counter() - began
        figures[f"{name}_seconds"] = round(seconds, 2)
        figures[f"{name}_trades_per_s"] = round(imported.trades / seconds)
        floor_name, floor = FLOORS[name]
        began = time.perf_counter()
        floor(path)
        floor_seconds = time.perf_counter() - began
        figures[f"{name}_floor_{floor_name}_seconds"] = round(floor_seconds, 2)
        figures[f"{name}_floor_trades_per_s"] = round(trades.num_rows / floor_seconds)
        figures[f"{name}_over_floor"] = f"{seconds / floor_seconds:.1f}x  (target: 1,000,000 trades/s)"
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:<28} {value:,}" if isinstance(value, int) else f"{key:<28} {value}")


if __name__ == "__main__":
    main()
