import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest

from sigma9_dag.lake.writer import (
    MAX_BAR_VOLUME,
    MAX_PRICE,
    MAX_TRADE_SIZE,
    LakeTransaction,
    QuarantineReport,
    clean_bars,
    clean_daily,
    clean_splits,
    clean_trades,
)
from sigma9_runtime.errors import DataError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import DAILY_SCHEMA, read_bars, read_daily, read_splits, read_trades

from . import bars_table

DAY = dt.date(2025, 1, 2)


def _trades(**overrides: list) -> pa.Table:
    columns = {
        "ticker": ["ABC", "ABC", "ABC", "ABC"],
        "ts": [30, 10, 10, 20],
        "price": [1.0, 1.0, 1.0, 0.0],
        "size": [100.0, 100.0, 100.0, 5.0],
        "exchange": [1, 1, 1, 1],
        "conditions": [[], [], [], [37]],
        "sequence": [3, 1, 1, 2],
        "correction": [0, 0, 0, 0],
    }
    columns.update(overrides)
    return pa.table(columns)


def test_clean_trades_quarantines_bad_rows_with_their_original_row_numbers() -> None:
    report = QuarantineReport()
    clean = clean_trades(_trades(), "trades.csv.gz", report)
    assert clean.column("ts").to_pylist() == [10, 30]
    assert report.counts == {"bad_price": 1, "duplicate_trade": 1}
    assert report.samples["bad_price"][0]["row"] == 3
    assert report.samples["duplicate_trade"][0]["row"] == 2
    assert report.notes == {"re-sorted: trades.csv.gz": 1}


def test_clean_trades_names_the_file_and_column_of_a_missing_or_mistyped_column() -> None:
    with pytest.raises(DataError, match=r"trades\.csv: missing column\(s\) price"):
        clean_trades(_trades().drop_columns(["price"]), "trades.csv", QuarantineReport())
    with pytest.raises(DataError, match=r"trades\.csv: column 'price' has type string"):
        clean_trades(_trades(price=["a", "b", "c", "d"]), "trades.csv", QuarantineReport())


def test_clean_bars_quarantines_high_below_low_and_duplicates() -> None:
    bars = pa.table(
        {
            "ticker": ["ABC"] * 3,
            "ts": [0, 0, 60],
            "open": [1.0, 1.0, 1.0],
            "high": [1.1, 1.1, 0.9],
            "low": [0.9, 0.9, 1.0],
            "close": [1.0, 1.0, 1.0],
            "volume": [10.0, 10.0, 10.0],
            "vwap": [1.0, 1.0, 1.0],
            "transactions": [1, 1, 1],
        }
    )
    report = QuarantineReport()
    clean = clean_bars(bars, "minute.csv.gz", report)
    assert clean.num_rows == 1
    assert report.counts == {"high_below_low": 1, "duplicate_bar": 1}
    assert report.samples["high_below_low"][0]["row"] == 2


def test_clean_trades_quarantines_prices_and_sizes_beyond_the_documented_bounds() -> None:
    trades = _trades(
        ts=[10, 20, 30, 40],
        price=[MAX_PRICE, MAX_PRICE * 1.01, 1e308, 1.0],
        size=[1.0, 1.0, 1.0, MAX_TRADE_SIZE + 1],
        sequence=[1, 2, 3, 4],
    )
    report = QuarantineReport()
    clean = clean_trades(trades, "t.csv", report)
    assert clean.column("ts").to_pylist() == [10]
    assert report.counts == {"bad_price": 2, "bad_size": 1}
    assert report.samples["bad_price"][1]["values"]["price"] == 1e308


def test_clean_bars_quarantines_absurd_prices_vwaps_and_volumes_and_keeps_an_unknown_vwap() -> None:
    n = 6
    bars = pa.table(
        {
            "ticker": ["ABC"] * n,
            "ts": [0, 60, 120, 180, 240, 300],
            "open": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            "high": [1.1, 1e308, 1.1, 1.1, 1.1, 1.1],
            "low": [0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
            "close": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            "volume": [10.0, 10.0, 10.0, MAX_BAR_VOLUME * 2, 10.0, 10.0],
            "vwap": [float("nan"), 1.0, float("inf"), 1.0, -1.0, 1.0],
            "transactions": [None, 1, 1, 1, 1, 1],
        }
    )
    report = QuarantineReport()
    clean = clean_bars(bars, "minute.csv.gz", report)
    assert clean.column("ts").to_pylist() == [0, 300]
    assert report.counts == {"bad_price": 3, "bad_volume": 1}
    daily = bars.drop_columns(["ts"]).append_column("date", pa.array([DAY] * n))
    report = QuarantineReport()
    assert clean_daily(daily.slice(0, 2), "day.csv.gz", report).num_rows == 1  # daily rows by the same rules
    assert report.counts == {"bad_price": 1}


def test_clean_splits_quarantines_a_repeated_row_and_refuses_two_ratios_for_one_day() -> None:
    splits = pa.table(
        {
            "ticker": ["XYZ", "ABC", "ABC"],
            "execution_date": [DAY, DAY, DAY],
            "split_from": [1.0, 10.0, 10.0],
            "split_to": [2.0, 1.0, 1.0],
        }
    )
    report = QuarantineReport()
    clean = clean_splits(splits, "s.json", report)
    assert clean.column("ticker").to_pylist() == ["ABC", "XYZ"]
    assert report.counts == {"duplicate_split": 1} and report.samples["duplicate_split"][0]["row"] == 2
    assert report.notes == {}  # reference rows have no order to report
    conflicting = splits.set_column(2, "split_from", pa.array([1.0, 10.0, 5.0]))
    with pytest.raises(DataError, match=r"s\.json: two splits of ABC on 2025-01-02 with different ratios: "
                                        r"10:1 \(row 1\) and 5:1 \(row 2\)"):  # fmt: skip
        clean_splits(conflicting, "s.json", QuarantineReport())


def test_split_writes_merge_by_ticker_and_date_and_new_rows_win(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path)
    for ratio in (10.0, 20.0):
        table = pa.table({"ticker": ["ABC"], "execution_date": [DAY], "split_from": [ratio], "split_to": [1.0]})
        with LakeTransaction(layout) as txn:
            txn.write_splits(clean_splits(table, "s.csv", QuarantineReport()))
            txn.commit({"source": "test"})
    assert read_splits(layout).to_pylist() == [
        {"ticker": "ABC", "execution_date": DAY, "split_from": 20.0, "split_to": 1.0}
    ]


def test_transaction_makes_nothing_visible_until_commit(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path)
    trades = clean_trades(_trades(), "x", QuarantineReport())
    with pytest.raises(RuntimeError), LakeTransaction(layout) as txn:
        txn.write_trades_day("ABC", DAY, trades)
        assert not layout.trades("ABC", DAY).exists()
        raise RuntimeError("crash before commit")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lake-commit.lock", ".lake.lock"]  # only the locks
    with LakeTransaction(layout) as txn:
        txn.write_trades_day("ABC", DAY, trades)
        txn.commit({"source": "test"})
    assert read_trades(layout, "ABC", DAY).num_rows == 2
    assert json.loads(layout.meta.read_text())["history"][-1]["source"] == "test"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_bar_writes_merge_with_the_lake_and_new_rows_win(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path)

    for table in (bars_table([0, 60], 1.0), bars_table([60, 120], 2.0)):
        with LakeTransaction(layout) as txn:
            txn.write_bars("1m", "ABC", table)
            txn.commit({"source": "test"})
    merged = read_bars(layout, "1m", "ABC")
    assert merged.column("ts").to_pylist() == [0, 60, 120]
    assert merged.column("close").to_pylist() == [1.0, 2.0, 2.0]
    assert len(json.loads(layout.meta.read_text())["history"]) == 2


def test_a_stale_staging_directory_is_swept_by_the_next_transaction(tmp_path: Path) -> None:
    stale = tmp_path / ".tmp-txn-dead"
    (stale / "trades").mkdir(parents=True)
    with LakeTransaction(LakeLayout(tmp_path)) as txn:
        txn.commit({"source": "test"})
    assert not stale.exists()


def test_a_replacing_transaction_keeps_nothing_of_the_old_lake(tmp_path: Path) -> None:
    """``synth --force`` over a lake of other tickers: no old daily row is merged into the new lake."""
    layout = LakeLayout(tmp_path)
    for tickers, replace in ((["OLD"], False), (["NEW"], True)):
        daily = pa.table(
            {
                "ticker": tickers,
                "date": [DAY],
                "open": [1.0],
                "high": [1.0],
                "low": [1.0],
                "close": [1.0],
                "volume": [1.0],
                "vwap": [1.0],
                "transactions": [1],
            },
            schema=DAILY_SCHEMA,
        )
        with LakeTransaction(layout, replace=replace) as txn:
            txn.write_daily(daily)
            txn.commit({"source": "test"})
    assert read_daily(layout).column("ticker").to_pylist() == ["NEW"]
    assert len(json.loads(layout.meta.read_text())["history"]) == 1
