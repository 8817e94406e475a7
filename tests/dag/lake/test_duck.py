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


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 'AAA' AS ticker) TO '{out}'",
        "SELECT ticker FROM daily; COPY (SELECT 'AAA' AS ticker) TO '{out}'",
        "CREATE TABLE t AS SELECT ticker FROM daily",
        "ATTACH '{out}' AS other",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "",
    ],
)
def test_a_universe_query_that_is_not_one_select_is_refused_before_it_runs(tmp_path: Path, sql: str) -> None:
    layout = _small_lake(tmp_path)
    out = tmp_path / "written.csv"
    with pytest.raises(LakeError, match="universe query must be one read-only SELECT over the lake's views, got "):
        query_tickers(layout, sql.format(out=out))
    assert not out.exists()


def test_a_universe_select_reads_nothing_outside_the_lake(tmp_path: Path) -> None:
    layout = _small_lake(tmp_path / "lake")
    outside = tmp_path / "tickers.csv"
    outside.write_text("ticker\nZZZ\n")
    with pytest.raises(LakeError, match=r"universe query failed on .*Permission Error"):
        query_tickers(layout, f"SELECT ticker FROM read_csv('{outside}')")
    assert query_tickers(layout, "SELECT DISTINCT ticker FROM daily") == ["AAA", "BBB"]  # the lake itself reads


def test_lake_info_counts_rows_and_dates(tmp_path: Path) -> None:
    info = lake_info(_small_lake(tmp_path))
    assert (info.tickers, info.trade_days, info.source) == (2, 1, "test")
    assert info.rows == {"daily": 2, "1m": 0, "1s": 2, "trades": 3}
    with pytest.raises(LakeError, match="no lake here"):
        lake_info(LakeLayout(tmp_path / "empty"))


# --- derived views: events and coverage -----------------------------------------------------------


def _event_lake(tmp_path: Path) -> LakeLayout:
    from tests.stubs import write_event_lake

    return write_event_lake(tmp_path / "lake")


def _views(con: object) -> set[str]:
    return {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}  # type: ignore[attr-defined]


def test_the_events_view_is_the_found_events_table(tmp_path: Path) -> None:
    from sigma9_dag.lake.events import EVENT_TABLE_COLUMNS

    sql = "SELECT t0_resolution, count(*) FROM events GROUP BY 1 ORDER BY 1"
    con = connect(_event_lake(tmp_path), sql=sql)
    assert con.execute(sql).fetchall() == [("1m", 2), ("1s", 1), ("trade", 1)]
    columns = con.execute("SELECT * FROM events").description
    assert tuple(c[0] for c in columns) == EVENT_TABLE_COLUMNS
    assert con.execute("SELECT ticker FROM events WHERE flags = 'split_adjusted'").fetchall() == [("SPLT",)]
    assert con.execute("SELECT typeof(date), typeof(t0_ns) FROM events LIMIT 1").fetchone() == ("DATE", "BIGINT")


def test_a_query_not_naming_events_computes_no_events(tmp_path: Path) -> None:
    layout = _event_lake(tmp_path)
    con = connect(layout, sql="SELECT count(*) FROM daily WHERE ticker <> 'events_like'")
    assert _views(con) == {"daily", "bars_1s", "bars_1m", "trades", "splits"}
    assert not (layout.root / "derived").exists()
    connect(layout, sql="SELECT count(*) FROM truth_events")
    assert not (layout.root / "derived").exists()
    connect(layout, sql='SELECT count(*) FROM "Events"')
    assert (layout.root / "derived" / "events").is_dir()


def test_the_coverage_view_says_which_tables_hold_each_ticker_day(tmp_path: Path) -> None:
    con = connect(_event_lake(tmp_path), derived=["coverage"])
    assert "events" not in _views(con)
    rows = con.execute(
        'SELECT ticker, trades, "1s", "1m", daily FROM coverage WHERE date = DATE \'2025-01-06\' ORDER BY ticker'
    ).fetchall()
    assert rows[:3] == [
        ("GAPS", False, False, True, True),
        ("MINS", False, False, True, True),
        ("NOPC", False, False, True, False),
    ]
    assert ("TRDE", True, True, True, True) in rows
    assert con.execute("SELECT count(*) FROM coverage WHERE NOT daily").fetchone() == (1,)


def test_truth_views_hold_the_synthetic_ground_truth(synthetic_lake: LakeLayout) -> None:
    sql = "SELECT (SELECT count(*) FROM truth_events), (SELECT count(*) FROM truth_hard_negatives)"
    con = connect(synthetic_lake, sql=sql)
    from sigma9_runtime.lake.tables import read_events, read_hard_negatives

    assert con.execute(sql).fetchone() == (
        read_events(synthetic_lake).num_rows,
        read_hard_negatives(synthetic_lake).num_rows,
    )
    assert {"truth_events", "truth_hard_negatives"} <= _views(con)
    assert "events" not in _views(con) and "hard_negatives" not in _views(con)


def test_universe_queries_may_read_the_events(tmp_path: Path) -> None:
    layout = _event_lake(tmp_path)
    assert query_tickers(layout, "SELECT ticker FROM events WHERE t0_resolution = '1m'") == ["MINS", "SPLT"]
    assert query_tickers(layout, "SELECT ticker FROM coverage WHERE trades") == ["TRDE"]


def test_an_unknown_derived_view_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="unknown derived view nope"):
        connect(_event_lake(tmp_path), derived=["nope"])


def test_lake_info_lists_the_coverage_of_each_table(tmp_path: Path) -> None:
    info = lake_info(_event_lake(tmp_path))
    assert info.tickers == 8
    assert info.coverage["1m"] == {
        "ticker_days": 8,
        "tickers": 8,
        "days": 1,
        "first": "2025-01-06",
        "last": "2025-01-06",
    }
    assert info.coverage["trades"]["ticker_days"] == 1
    assert info.coverage["daily"] == {
        "ticker_days": 18, "tickers": 7, "days": 3, "first": "2025-01-02", "last": "2025-01-06",
    }  # fmt: skip
    lines = info.render().splitlines()
    assert "coverage    1s               2 ticker-days      2 tickers     1 days  2025-01-06..2025-01-06" in lines
    assert sum(line.startswith("coverage") for line in lines) == 4
    assert any(line.startswith("rows        trades") for line in lines)
