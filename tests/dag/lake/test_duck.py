import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from sigma9_dag.lake.duck import connect, query_tickers
from sigma9_dag.lake.info import lake_info
from sigma9_dag.lake.writer import LakeTransaction
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import DAILY_SCHEMA, TRADES_SCHEMA, bars_table_from_trades


def _small_lake(root: Path) -> LakeLayout:
    layout = LakeLayout(root)
    trades = pa.table(
        {
            "ticker": ["AAA"] * 3,
            "ts": [0, 1, 2_000_000_000],
            "price": [1.0, 2.0, 3.0],
            "size": [1.0] * 3,
            "exchange": [1] * 3,
            "conditions": [[]] * 3,
            "sequence": [1, 2, 3],
            "correction": [0] * 3,
        },
        schema=TRADES_SCHEMA,
    )
    with LakeTransaction(layout) as txn:
        txn.write_daily(
            pa.table(
                {
                    "ticker": ["AAA", "BBB"],
                    "date": [dt.date(2025, 1, 2)] * 2,
                    "open": [1.0, 1.0],
                    "high": [1.0, 1.0],
                    "low": [1.0, 1.0],
                    "close": [1.0, 1.0],
                    "volume": [1.0, 1.0],
                    "vwap": [1.0, 1.0],
                    "transactions": [1, 1],
                },
                schema=DAILY_SCHEMA,
            )
        )
        txn.write_trades_day("AAA", dt.date(2025, 1, 2), trades)
        txn.write_bars("1s", "AAA", bars_table_from_trades(trades, 1_000_000_000))
        txn.commit({"source": "test"})
    return layout


def test_duckdb_views_expose_the_lake_tables(tmp_path: Path) -> None:
    con = connect(_small_lake(tmp_path))
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert views == {"daily", "bars_1s", "trades"}
    assert con.execute("SELECT count(*) FROM trades").fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM bars_1s").fetchone() == (2,)


def test_universe_query_returns_tickers_and_needs_a_ticker_column(tmp_path: Path) -> None:
    layout = _small_lake(tmp_path)
    assert query_tickers(layout, "SELECT DISTINCT ticker FROM daily") == ["AAA", "BBB"]
    with pytest.raises(LakeError, match="'ticker' column"):
        query_tickers(layout, "SELECT 1 AS x")
    with pytest.raises(LakeError, match="universe query failed"):
        query_tickers(layout, "SELECT ticker FROM no_such_view")


def test_lake_info_counts_rows_and_dates(tmp_path: Path) -> None:
    info = lake_info(_small_lake(tmp_path))
    assert (info.tickers, info.trade_days, info.source) == (2, 1, "test")
    assert info.rows == {"daily": 2, "1m": 0, "1s": 2, "trades": 3}
    with pytest.raises(LakeError, match="no lake here"):
        lake_info(LakeLayout(tmp_path / "empty"))
