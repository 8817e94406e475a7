import datetime as dt
import gzip
import re
from pathlib import Path

import pyarrow as pa
import pytest

from sigma9_dag.cli import EXIT_BAD_INPUT, main
from sigma9_dag.lake.importers import import_massive_flat
from sigma9_dag.lake.writer import LakeTransaction
from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.errors import DataError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import SPLITS_SCHEMA, read_bars, read_trades

from . import (
    AGGS_HEADER,
    DAY,
    HOLIDAY,
    NEXT_DAY,
    agg_line,
    assert_bars_rebuilt_from_trades,
    at,
    daily_row,
    expected_daily,
    report_of,
    snapshot,
    write_csv_gz,
)

TRADES_HEADER = (
    "ticker,conditions,correction,exchange,id,participant_timestamp,price,sequence_number,sip_timestamp,size,"
    "tape,trf_id,trf_timestamp"
)


def trade_line(ticker: str, ts: int, price: object, size: object = 100, sequence: int = 1, conditions: str = "",
               correction: int = 0, exchange: int = 4) -> str:  # fmt: skip
    return f'{ticker},"{conditions}",{correction},{exchange},id{sequence},{ts - 7},{price},{sequence},{ts},{size},1,,'


def day_trades(tmp_path: Path) -> Path:
    # Two days of trades: a file named by one date may only hold that date, so this one is not.
    return write_csv_gz(
        tmp_path / "trades_v1.csv.gz",
        TRADES_HEADER,
        [
            trade_line("ABC", at(DAY, "08:00:00.5"), 9.5, 300, 1, "12,37"),  # pre-market, eligible
            trade_line("ABC", at(DAY, "09:30:00.25"), 10.0, 100, 2),
            trade_line("ABC", at(DAY, "09:30:00.75"), 10.4, 200, 3, "37"),
            trade_line("ABC", at(DAY, "09:30:01"), 99.0, 50, 4, correction=1),  # corrected: kept, not in bars
            trade_line("ABC", at(DAY, "09:31:10"), 10.2, 100, 5, "2"),  # average price: kept, not in bars
            trade_line("ABC", at(DAY, "15:59:59"), 10.6, 40.5, 6),
            trade_line("ABC", at(NEXT_DAY, "09:45:00"), 10.8, 100, 1),
            trade_line("XYZ", at(DAY, "10:00:00"), 1.5, 1000, 7),
        ],
    )


def test_trades_land_per_ticker_and_day_with_bars_and_daily_rebuilt_from_them(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    summary = import_massive_flat(root, [day_trades(tmp_path)])
    layout = LakeLayout(root)

    abc = read_trades(layout, "ABC", DAY)
    assert abc.column("price").to_pylist() == [9.5, 10.0, 10.4, 99.0, 10.2, 10.6]
    assert abc.column("conditions").to_pylist() == [[12, 37], [], [37], [], [2], []]
    assert abc.column("correction").to_pylist() == [0, 0, 0, 1, 0, 0]
    assert abc.column("ts").to_pylist()[1] == at(DAY, "09:30:00.25")
    assert abc.column("size").to_pylist()[-1] == 40.5
    assert read_trades(layout, "ABC", NEXT_DAY).num_rows == 1
    assert read_trades(layout, "XYZ", DAY).column("sequence").to_pylist() == [7]
    for ticker, day in (("ABC", DAY), ("ABC", NEXT_DAY), ("XYZ", DAY)):
        assert_bars_rebuilt_from_trades(layout, ticker, day)
        assert daily_row(layout, ticker, day) == expected_daily(layout, ticker, day)
    # The corrected 99.0 print and the average-price print are in no bar.
    assert max(read_bars(layout, "1s", "ABC").column("high").to_pylist()) == 10.8
    assert daily_row(layout, "ABC", DAY)["close"] == 10.6 and daily_row(layout, "ABC", DAY)["open"] == 10.0

    assert (summary.files, summary.tickers, summary.days) == (1, 2, 2)
    assert (summary.trades, summary.daily, summary.quarantined) == (8, 3, 0)
    assert summary.bars_1m == 5 and summary.bars_1s == 5  # 09:30:00.25 and 09:30:00.75 share a second
    assert str(summary).startswith("massive-flat: 1 file(s), 2 ticker(s), 2 day(s): 8 trades")
    report = report_of(summary)
    assert summary.report.parent == layout.reports and summary.report.name.startswith("import-massive-flat-")
    assert report["summary"]["trades"] == 8 and report["total_quarantined"] == 0 and report["re_sorted"] == []


def test_provided_minute_and_day_aggregates_are_kept_with_vwap_from_trades_or_approximated(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    minute = write_csv_gz(
        tmp_path / "2025-01-02.minute_aggs_v1.csv.gz",
        AGGS_HEADER,
        [
            agg_line("ABC", at(DAY, "09:30"), 10.0, 10.5, 9.9, 10.4, 300, 2),  # minute with trades in the import
            agg_line("ABC", at(DAY, "09:32"), 10.3, 10.3, 10.0, 10.1, 100, 1),  # minute without trades
            agg_line("QQQ", at(DAY, "09:30"), 5.0, 6.0, 4.5, 5.5, 10, 1),
        ],
    )
    day = write_csv_gz(
        tmp_path / "2025-01-02.day_aggs_v1.csv.gz",
        AGGS_HEADER,
        [
            agg_line("ABC", local_to_ns(DAY, dt.time(0)), 9.5, 10.8, 9.4, 10.6, 5000, 40),
            agg_line("QQQ", local_to_ns(DAY, dt.time(0)), 5.0, 6.0, 4.5, 5.5, 10, 1),
        ],
    )
    summary = import_massive_flat(root, [day_trades(tmp_path), minute, day])
    layout = LakeLayout(root)

    bars = read_bars(layout, "1m", "ABC", at(DAY, "00:00"), at(NEXT_DAY, "00:00")).to_pylist()
    assert [b["ts"] for b in bars] == [at(DAY, "09:30"), at(DAY, "09:32")]  # as given, not rebuilt
    assert [(b["open"], b["high"], b["low"], b["close"], b["volume"], b["transactions"]) for b in bars] == [
        (10.0, 10.5, 9.9, 10.4, 300.0, 2),
        (10.3, 10.3, 10.0, 10.1, 100.0, 1),
    ]
    assert bars[0]["vwap"] == pytest.approx((10.0 * 100 + 10.4 * 200) / 300)  # from the import's trades
    assert bars[1]["vwap"] == pytest.approx((10.3 + 10.0 + 10.1) / 3)  # approximated
    assert read_bars(layout, "1m", "QQQ").column("vwap").to_pylist() == [pytest.approx((6.0 + 4.5 + 5.5) / 3)]
    assert_bars_rebuilt_from_trades(layout, "XYZ", DAY)  # no aggregates for XYZ: rebuilt

    abc_daily = daily_row(layout, "ABC", DAY)
    assert (abc_daily["open"], abc_daily["high"], abc_daily["close"], abc_daily["transactions"]) == (
        9.5,
        10.8,
        10.6,
        40,
    )
    assert abc_daily["vwap"] == pytest.approx(expected_daily(layout, "ABC", DAY)["vwap"])  # type: ignore[index]
    assert daily_row(layout, "QQQ", DAY)["vwap"] == pytest.approx((6.0 + 4.5 + 5.5) / 3)
    assert daily_row(layout, "ABC", NEXT_DAY) == expected_daily(layout, "ABC", NEXT_DAY)

    report = report_of(summary)
    assert report["vwap_approximated"] == 3
    assert report["notes"]["vwap_approximated"] == 3 and report["notes"]["vwap_from_trades"] == 2


def test_day_aggregates_without_a_telling_file_name_are_recognised_by_their_midnight_start(tmp_path: Path) -> None:
    aggs = write_csv_gz(
        tmp_path / "aggs.csv.gz", AGGS_HEADER, [agg_line("ABC", local_to_ns(DAY, dt.time(0)), 1, 2, 1, 2)]
    )
    minutes = write_csv_gz(tmp_path / "more.csv.gz", AGGS_HEADER, [agg_line("ABC", at(DAY, "09:31"), 1, 2, 1, 2)])
    summary = import_massive_flat(tmp_path / "lake", [aggs, minutes])
    assert (summary.daily, summary.bars_1m) == (1, 1)


def test_unsorted_rows_are_sorted_and_noted_and_duplicates_quarantined(tmp_path: Path) -> None:
    lines = [
        trade_line("ABC", at(DAY, "09:31"), 10.0, sequence=2),
        trade_line("ABC", at(DAY, "09:30"), 10.0, sequence=1),
        trade_line("ABC", at(DAY, "09:31"), 10.0, sequence=2),  # duplicate of line 2
    ]
    path = write_csv_gz(tmp_path / "trades_v1.csv.gz", TRADES_HEADER, lines)
    summary = import_massive_flat(tmp_path / "lake", [path])
    trades = read_trades(LakeLayout(tmp_path / "lake"), "ABC", DAY)
    assert trades.column("sequence").to_pylist() == [1, 2]
    report = report_of(summary)
    assert report["re_sorted"] == [str(path)]
    assert report["quarantined"] == {"duplicate_trade": 1}
    assert report["samples"]["duplicate_trade"][0] == {
        "source": str(path),
        "row": 2,
        "values": report["samples"]["duplicate_trade"][0]["values"],
    }


def test_bad_rows_are_quarantined_and_counted_with_their_rows(tmp_path: Path) -> None:
    trades = write_csv_gz(
        tmp_path / "trades_v1.csv.gz",
        TRADES_HEADER,
        [
            trade_line("ABC", at(DAY, "09:30"), 10.0, sequence=1),
            trade_line("ABC", at(DAY, "09:30:01"), 0, sequence=2),  # non-positive price
            trade_line("ABC", at(DAY, "09:30:02"), -1.5, sequence=3),
            trade_line("ABC", at(DAY, "09:30:03"), 10.0, 0, sequence=4),  # zero size
            trade_line("ABC", at(HOLIDAY, "10:00"), 10.0, sequence=5),  # market closed
            trade_line("abc", at(DAY, "09:30:04"), 10.0, sequence=6),  # not a plain ticker
        ],
    )
    minute = write_csv_gz(
        tmp_path / "minute_aggs_v1.csv.gz",
        AGGS_HEADER,
        [agg_line("ABC", at(DAY, "09:30"), 10, 10.5, 9.9, 10.2), agg_line("ABC", at(DAY, "09:31"), 10, 9.0, 9.5, 9.2)],
    )
    summary = import_massive_flat(tmp_path / "lake", [trades, minute])
    report = report_of(summary)
    assert report["quarantined"] == {
        "bad_price": 2,
        "bad_size": 1,
        "not_a_trading_day": 1,
        "bad_ticker": 1,
        "high_below_low": 1,
    }
    assert summary.quarantined == 6 and summary.trades == 1 and summary.bars_1m == 1
    assert [s["row"] for s in report["samples"]["bad_price"]] == [1, 2]
    assert report["samples"]["high_below_low"][0]["source"] == str(minute)
    assert report["samples"]["high_below_low"][0]["row"] == 1


@pytest.mark.parametrize(
    ("name", "header", "lines", "message"),
    [
        ("trades_v1.csv.gz", TRADES_HEADER.replace(",price", ""), [],
         r"trades_v1\.csv\.gz:1: missing column\(s\) price"),
        ("minute_aggs_v1.csv.gz", AGGS_HEADER.replace("transactions", "n"), [],
         r"minute_aggs_v1\.csv\.gz:1: missing column\(s\) transactions"),
        ("other.csv.gz", "a,b,c", [], r"other\.csv\.gz:1: not a Massive flat file"),
        ("trades_v1.csv.gz", TRADES_HEADER, ["x", "y", trade_line("ABC", 1, "abc")],
         r"trades_v1\.csv\.gz:4: column 'price': cannot read 'abc'"),
        ("trades_v1.csv.gz", TRADES_HEADER, [trade_line("ABC", 1, 1, conditions="12,x")],
         r"trades_v1\.csv\.gz:2: column 'conditions'"),
        ("minute_aggs_v1.csv.gz", AGGS_HEADER, [agg_line("ABC", 1, 1, 1, 1, 1), "ABC,10,1"],
         r"aggs_v1\.csv\.gz:3: expected 8 columns, got 3"),
        ("minute_aggs_v1.csv.gz", AGGS_HEADER, [agg_line("ABC", 1, 1, 1, 1, 1), "ABC,10,1,1,1,1,nope,1"],
         r"aggs_v1\.csv\.gz:3: column 'window_start'"),
    ],
)  # fmt: skip
def test_a_file_that_does_not_read_raises_naming_file_and_line(
    tmp_path: Path, name: str, header: str, lines: list[str], message: str
) -> None:
    lines = [trade_line("ABC", at(DAY, "09:30"), 10.0) if line in ("x", "y") else line for line in lines]
    path = write_csv_gz(tmp_path / name, header, lines)
    with pytest.raises(DataError, match=message):
        import_massive_flat(tmp_path / "lake", [path])


def test_a_truncated_gzip_raises_naming_the_file(tmp_path: Path) -> None:
    lines = [trade_line("ABC", at(DAY, "09:30") + i, 10.0, sequence=i) for i in range(2000)]
    data = gzip.compress(("\n".join([TRADES_HEADER, *lines]) + "\n").encode())
    path = tmp_path / "trades_v1.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"trades_v1\.csv\.gz: corrupt or truncated gzip"):
        import_massive_flat(tmp_path / "lake", [path])


def test_a_failing_import_leaves_the_lake_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    import_massive_flat(root, [day_trades(tmp_path)])
    before = snapshot(root)
    more = write_csv_gz(tmp_path / "more.trades_v1.csv.gz", TRADES_HEADER, [trade_line("NEW", at(DAY, "09:30"), 1.0)])
    bad = write_csv_gz(tmp_path / "bad.trades_v1.csv.gz", TRADES_HEADER, [trade_line("NEW", at(DAY, "09:31"), "x")])
    with pytest.raises(DataError):
        import_massive_flat(root, [more, bad])
    assert snapshot(root) == before
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp")]


def test_cli_imports_flat_files_and_exits_2_on_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "lake"
    code = main(["lake", "import", "massive-flat", "--root", str(root), str(day_trades(tmp_path)), "--no-progress"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith(f"imported into {root}: massive-flat: 1 file(s), 2 ticker(s)")
    bad = write_csv_gz(tmp_path / "bad.trades_v1.csv.gz", TRADES_HEADER.replace("size", "qty"), [])
    code = main(["lake", "import", "massive-flat", "--root", str(root), str(bad)])
    _, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert "bad.trades_v1.csv.gz:1: missing column(s) size" in err


def test_a_later_import_replaces_the_trades_and_bars_of_the_ticker_days_it_holds(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    layout = LakeLayout(root)
    first = import_massive_flat(root, [day_trades(tmp_path)], progress=True)
    next_day_bars = read_bars(layout, "1m", "ABC", at(NEXT_DAY, "00:00"))
    again = write_csv_gz(
        tmp_path / "again.trades_v1.csv.gz", TRADES_HEADER, [trade_line("ABC", at(DAY, "11:00"), 12.0)]
    )
    second = import_massive_flat(root, [again])
    assert read_trades(layout, "ABC", DAY).column("price").to_pylist() == [12.0]
    assert_bars_rebuilt_from_trades(layout, "ABC", DAY)  # no stale bars of the first import's ABC trades
    assert read_bars(layout, "1m", "ABC", at(NEXT_DAY, "00:00")).equals(next_day_bars)
    assert daily_row(layout, "ABC", DAY) == expected_daily(layout, "ABC", DAY)
    assert read_trades(layout, "XYZ", DAY).num_rows == 1
    assert first.report != second.report and first.report.exists() and second.report.exists()


def test_the_report_lists_split_like_moves_that_no_splits_row_explains(tmp_path: Path) -> None:
    midnight = local_to_ns(NEXT_DAY, dt.time(0))
    day = write_csv_gz(
        tmp_path / "day_aggs_v1.csv.gz",
        AGGS_HEADER,
        [
            agg_line("ABC", local_to_ns(DAY, dt.time(0)), 10.0, 10.2, 9.8, 10.0, 100_000),
            agg_line("ABC", midnight, 1.0, 1.02, 0.98, 1.01, 1_000_000),  # a 10-for-1 split, same dollar volume
            agg_line("SRG", local_to_ns(DAY, dt.time(0)), 10.0, 10.2, 9.8, 10.0, 100_000),
            agg_line("SRG", midnight, 10.5, 21.0, 10.4, 20.0, 5_000_000),  # a surge, not a split
        ],
    )
    report = report_of(import_massive_flat(tmp_path / "lake", [day]))
    (suspect,) = report["split_suspects"]
    assert {k: suspect[k] for k in ("ticker", "date", "prev_date", "prev_close", "ratio", "share_volume_ratio")} == {
        "ticker": "ABC",
        "date": NEXT_DAY.isoformat(),
        "prev_date": DAY.isoformat(),
        "prev_close": 10.0,
        "ratio": "10:1",  # a 10-for-1 forward split: a tenth of the price, ten times the shares
        "share_volume_ratio": 10.0,
    }
    assert suspect["reason"].startswith("suspect: x0.1 overnight")
    with LakeTransaction(LakeLayout(tmp_path / "lake")) as txn:
        txn.write_splits(pa.table({"ticker": ["ABC"], "execution_date": [NEXT_DAY], "split_from": [1.0],
                                   "split_to": [10.0]}, schema=SPLITS_SCHEMA))  # fmt: skip
        txn.commit({"source": "test"})
    assert report_of(import_massive_flat(tmp_path / "lake", [day]))["split_suspects"] == []


# --- sanity at import ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("divisor", "unit"),
    [(1_000_000, "milliseconds"), (1_000, "microseconds"), (1_000_000_000, "seconds")],
)
def test_timestamps_in_another_unit_raise_naming_the_unit_and_leave_the_lake_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], divisor: int, unit: str
) -> None:
    root = tmp_path / "lake"
    import_massive_flat(root, [day_trades(tmp_path)])
    before = snapshot(root)
    ts = at(DAY, "10:00") // divisor
    path = write_csv_gz(tmp_path / "2025-01-02.trades_v1.csv.gz", TRADES_HEADER, [trade_line("ABC", ts, 10.0)])
    code = main(["lake", "import", "massive-flat", "--root", str(root), str(path)])
    _, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT and snapshot(root) == before
    assert err.strip() == (
        f"sigma9: error: {path}:2: column 'sip_timestamp': timestamps look like {unit} ({ts} → 2025-01-02), "
        "expected nanoseconds since the epoch"
    )


def test_aggregates_in_milliseconds_are_refused_whatever_the_file_name(tmp_path: Path) -> None:
    ms = local_to_ns(DAY, dt.time(0)) // 1_000_000
    path = write_csv_gz(tmp_path / "aggs.csv.gz", AGGS_HEADER, [agg_line("ABC", ms, 1, 2, 1, 2)])
    with pytest.raises(DataError, match=r"aggs\.csv\.gz:2: column 'window_start': timestamps look like milliseconds"):
        import_massive_flat(tmp_path / "lake", [path])


def test_a_timestamp_that_is_no_time_at_all_is_refused(tmp_path: Path) -> None:
    lines = [trade_line("ABC", at(DAY, "10:00"), 10.0), trade_line("ABC", 12345, 10.0, sequence=2)]
    path = write_csv_gz(tmp_path / "trades_v1.csv.gz", TRADES_HEADER, lines)
    with pytest.raises(DataError, match=r"trades_v1\.csv\.gz:3: column 'sip_timestamp': timestamp 12345 is not a time"):
        import_massive_flat(tmp_path / "lake", [path])


def test_a_file_named_by_its_date_may_hold_only_that_new_york_date(tmp_path: Path) -> None:
    lines = [trade_line("ABC", at(DAY, "19:59"), 10.0), trade_line("ABC", at(NEXT_DAY, "04:00"), 10.0, sequence=2)]
    path = write_csv_gz(tmp_path / "2025-01-02.csv.gz", TRADES_HEADER, lines)
    with pytest.raises(
        DataError,
        match=r"2025-01-02\.csv\.gz:3: column 'sip_timestamp': timestamp \d+ is on 2025-01-03 \(New York\), "
        r"not on 2025-01-02, the date the file is named for",
    ):
        import_massive_flat(tmp_path / "lake", [path])
    day_aggs = write_csv_gz(
        tmp_path / "2025-01-02.day_aggs_v1.csv.gz",
        AGGS_HEADER,
        [agg_line("ABC", local_to_ns(DAY, dt.time(0)), 1, 2, 1, 2)],
    )
    assert import_massive_flat(tmp_path / "lake", [day_aggs]).daily == 1  # New York midnight is on its date


def test_absurd_prices_sizes_and_volumes_are_quarantined_and_no_bar_gets_an_infinite_vwap(tmp_path: Path) -> None:
    trades = write_csv_gz(
        tmp_path / "trades_v1.csv.gz",
        TRADES_HEADER,
        [
            trade_line("ABC", at(DAY, "09:30"), 10.0, 100, 1),
            trade_line("ABC", at(DAY, "09:30:01"), 10.0, "1e308", 2),  # size beyond MAX_TRADE_SIZE
            trade_line("ABC", at(DAY, "09:30:02"), "1e308", 100, 3),  # price beyond MAX_PRICE
            trade_line("ABC", at(DAY, "09:30:03"), 2_000_000, 100, 4),
            trade_line("ABC", at(DAY, "09:30:04"), "inf", 100, 5),
            trade_line("ABC", at(DAY, "09:30:05"), 10.2, 2_000_000_000, 6),
        ],
    )
    minute = write_csv_gz(
        tmp_path / "minute_aggs_v1.csv.gz",
        AGGS_HEADER,
        [
            agg_line("XYZ", at(DAY, "09:30"), 1.0, 1.1, 0.9, 1.0),
            agg_line("XYZ", at(DAY, "09:31"), 1.0, 1e308, 0.9, 1.0),
            agg_line("XYZ", at(DAY, "09:32"), 1.0, 1.1, 0.9, 1.0, volume=1e308),
        ],
    )
    summary = import_massive_flat(tmp_path / "lake", [trades, minute])
    report = report_of(summary)
    assert report["quarantined"] == {"bad_size": 2, "bad_price": 4, "bad_volume": 1}
    layout = LakeLayout(tmp_path / "lake")
    assert read_trades(layout, "ABC", DAY).column("price").to_pylist() == [10.0]
    for ticker, kind in (("ABC", "1s"), ("ABC", "1m"), ("XYZ", "1m")):
        vwaps = read_bars(layout, kind, ticker).column("vwap").to_pylist()  # type: ignore[arg-type]
        assert vwaps and all(0 < v < 1e6 for v in vwaps), (ticker, kind, vwaps)
    assert daily_row(layout, "ABC", DAY)["vwap"] == 10.0


def test_a_ticker_that_is_not_utf8_raises_naming_the_file_line_and_column(tmp_path: Path) -> None:
    good = trade_line("ABC", at(DAY, "09:30"), 10.0).encode()
    bad = trade_line("ABX", at(DAY, "09:31"), 10.0, sequence=2).encode().replace(b"ABX", b"AB\xff")
    path = tmp_path / "trades_v1.csv.gz"
    path.write_bytes(gzip.compress(TRADES_HEADER.encode() + b"\n" + good + b"\n" + bad + b"\n"))
    with pytest.raises(DataError, match=r"trades_v1\.csv\.gz:3: column 'ticker': b'AB\\xff' is not UTF-8 text"):
        import_massive_flat(tmp_path / "lake", [path])


@pytest.mark.parametrize(  # gzip without a time stamp: the same test ids in every xdist worker
    ("name", "content", "message"),
    [
        ("2025-01-02.csv.gz", b"", r"holds no rows \(empty file, 0 bytes\)"),
        ("2025-01-02.csv.gz", gzip.compress(b"", mtime=0), r"holds no rows \(empty, not even a header\)"),
        (
            "2025-01-02.csv.gz",
            gzip.compress((TRADES_HEADER + "\n").encode(), mtime=0),
            r"holds no rows \(header only\)",
        ),
        ("minute_aggs_v1.csv", (AGGS_HEADER + "\n").encode(), r"holds no rows \(header only\)"),
    ],
)
def test_an_empty_or_header_only_file_holds_no_rows(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=re.escape(name) + ": " + message):
        import_massive_flat(tmp_path / "lake", [path])


def test_files_read_in_worker_processes_make_the_lake_one_process_makes(tmp_path: Path) -> None:
    trades = day_trades(tmp_path)
    minute = write_csv_gz(
        tmp_path / "2025-01-02.minute_aggs_v1.csv.gz",
        AGGS_HEADER,
        [
            agg_line("ABC", at(DAY, "09:32"), 10.3, 10.3, 10.0, 10.1, 100, 1),
            agg_line("QQQ", at(DAY, "09:30"), 5, 6, 4.5, 5.5, 10, 1),
        ],
    )
    bad = write_csv_gz(
        tmp_path / "more_trades_v1.csv.gz",
        TRADES_HEADER,
        [trade_line("ABC", at(DAY, "09:31"), 10.0, sequence=9), trade_line("ABC", at(DAY, "09:31"), -1.0, sequence=10),
         trade_line("ZZZ", at(DAY, "11:00"), 3.0, sequence=11)],
    )  # fmt: skip
    lakes = {}
    for workers in (1, 2):
        summary = import_massive_flat(tmp_path / f"lake{workers}", [trades, minute, bad], workers=workers)
        report = report_of(summary)
        report.pop("created_at")
        lakes[workers] = (
            {k: v for k, v in snapshot(tmp_path / f"lake{workers}").items() if k.endswith(".parquet")},
            report,
        )
    assert lakes[1][1]["quarantined"] and lakes[1][1]["files"] == [str(trades), str(minute), str(bad)]
    assert lakes[1] == lakes[2]
