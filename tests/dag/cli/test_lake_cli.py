"""``sigma9 lake events``, ``lake query`` over the derived views, ``lake info`` coverage, ``lake synth --tables``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sigma9_dag.cli import EXIT_BAD_INPUT, main
from sigma9_runtime.lake.layout import LakeLayout
from tests.stubs import write_event_lake

COLUMNS = ["ticker", "date", "prev_close", "prev_date", "t0_ns", "t0_ny", "t0_resolution", "max_gain", "flags"]
COUNTS = (
    "4 events; 1 day flagged as split-like (kept out), 2 days without a previous close "
    "(1 first day, 1 prev day missing)"
)


@pytest.fixture
def lake(tmp_path: Path) -> LakeLayout:
    """The events stub lake (``tests.stubs.write_event_lake``) in ``tmp_path``."""
    return write_event_lake(tmp_path / "lake")


def _events(lake: LakeLayout, *args: str) -> list[str]:
    return ["lake", "events", "--root", str(lake.root), "--workers", "1", *args]


# --- lake events ----------------------------------------------------------------------------------


def test_lake_events_prints_a_table_of_the_events_in_t0_order_and_the_counts(
    lake: LakeLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_events(lake))

    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ticker", "date", "prev_close", "prev_date"]
    assert [line.split()[0] for line in lines[1:5]] == ["SECS", "TRDE", "MINS", "SPLT"]
    first = ["SECS", "2025-01-06", "5.0000", "2025-01-03", "2025-01-06T09:30:46.000-05:00", "1s", "+12.0%"]
    assert lines[1].split() == first
    assert lines[4].split()[-1] == "split_adjusted"
    assert lines[5:] == [COUNTS]


def test_lake_events_limits_the_table_and_says_how_many_more(
    lake: LakeLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_events(lake, "--limit", "2")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 2 + 2
    assert lines[-2:] == ["... 2 more", COUNTS]


def test_lake_events_writes_csv_with_exactly_the_event_columns(
    lake: LakeLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "events.csv"

    assert main(_events(lake, "--out", str(out))) == 0

    printed = capsys.readouterr().out.splitlines()
    assert printed == [COUNTS, f"events written to {out}"]
    frame = pd.read_csv(out)
    assert list(frame.columns) == COLUMNS
    assert frame["ticker"].tolist() == ["SECS", "TRDE", "MINS", "SPLT"]
    assert frame["t0_ns"].dtype == "int64" and frame["t0_ns"].is_monotonic_increasing
    assert all(re.fullmatch(r"2025-01-06T09:3\d:\d\d\.\d{3}-05:00", t) for t in frame["t0_ny"])
    assert frame["flags"].fillna("").tolist() == ["", "", "", "split_adjusted"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_lake_events_writes_parquet_with_typed_columns(lake: LakeLayout, tmp_path: Path) -> None:
    out = tmp_path / "events.parquet"

    assert main(_events(lake, "--out", str(out))) == 0

    table = pq.read_table(out)
    assert table.column_names == COLUMNS
    assert [str(table.schema.field(c).type) for c in ("date", "prev_date", "t0_ns", "max_gain")] == [
        "date32[day]", "date32[day]", "int64", "double",
    ]  # fmt: skip
    assert table.column("t0_resolution").to_pylist() == ["1s", "trade", "1m", "1m"]


def test_lake_events_refuses_an_unknown_output_suffix_in_one_line_before_reading_the_lake(
    lake: LakeLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "events.json"

    code = main(_events(lake, "--out", str(out)))

    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT == 2
    assert err.startswith(f"sigma9: error: {out}:") and len(err.splitlines()) == 1
    assert ".csv or .parquet" in err
    assert not out.exists() and not (lake.root / "derived").exists()


def test_lake_events_from_and_to_select_dates(lake: LakeLayout, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_events(lake, "--from", "2025-01-06", "--to", "2025-01-06")) == 0
    assert capsys.readouterr().out.splitlines()[-1] == COUNTS
    assert main(_events(lake, "--to", "2025-01-03")) == 0
    assert capsys.readouterr().out.splitlines() == [
        "0 events; 0 days flagged as split-like (kept out), 0 days without a previous close"
    ]
    assert main(_events(lake, "--from", "2025-01-07")) == 0
    assert capsys.readouterr().out.startswith("0 events;")


def test_lake_events_rejects_a_bad_date_as_a_usage_error(lake: LakeLayout, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(_events(lake, "--from", "2025-13-01"))
    assert exit_.value.code == 2
    assert "--from: invalid fromisoformat value: '2025-13-01'" in capsys.readouterr().err


def test_lake_events_of_a_missing_lake_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lake", "events", "--root", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err == f"sigma9: error: {tmp_path / 'none'}: no lake here (directory missing)\n"


def test_lake_events_reuses_its_cache(lake: LakeLayout, capsys: pytest.CaptureFixture[str]) -> None:
    from sigma9_dag.lake.events import cached_event_files

    assert main(_events(lake)) == 0
    first = capsys.readouterr().out
    cached = cached_event_files(lake)
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    assert main(_events(lake)) == 0
    assert capsys.readouterr().out == first
    assert cached_event_files(lake) == cached and cached[0].stat().st_mtime_ns == mtime


# --- lake query -----------------------------------------------------------------------------------


def test_lake_query_counts_events_by_resolution(lake: LakeLayout, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT t0_resolution, count(*) AS n FROM events GROUP BY 1 ORDER BY 1"

    assert main(["lake", "query", "--root", str(lake.root), "--workers", "1", sql]) == 0

    out = capsys.readouterr().out
    assert re.search(r"│\s*1m\s*│\s*2\s*│", out) and re.search(r"│\s*trade\s*│\s*1\s*│", out)


def test_lake_query_reads_coverage_and_a_missing_view_is_one_line(
    lake: LakeLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = 'SELECT count(*) AS n FROM coverage WHERE "1m" AND NOT daily'
    assert main(["lake", "query", "--root", str(lake.root), sql]) == 0
    assert re.search(r"│\s*1\s*│", capsys.readouterr().out)
    assert main(["lake", "query", "--root", str(lake.root), "SELECT count(*) FROM truth_events"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sigma9: error: query failed:") and "truth_events" in err


# --- lake info ------------------------------------------------------------------------------------


def test_lake_info_prints_the_coverage_per_table(lake: LakeLayout, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lake", "info", "--root", str(lake.root)]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("coverage")]
    assert [words[1] for words in lines] == ["trades", "1s", "1m", "daily"]
    assert lines[2] == ["coverage", "1m", "8", "ticker-days", "8", "tickers", "1", "days", "2025-01-06..2025-01-06"]

    assert main(["lake", "info", "--root", str(lake.root), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["coverage"]["daily"]["first"] == "2025-01-02"
    assert document["coverage"]["trades"] == {
        "ticker_days": 1, "tickers": 1, "days": 1, "first": "2025-01-06", "last": "2025-01-06",
    }  # fmt: skip
    assert document["rows"]["trades"] == 5


# --- lake synth --tables --------------------------------------------------------------------------


def _synth(root: Path, tables: str) -> list[str]:
    sizes = "--tickers 2 --days 2 --history-days 3 --workers 1 --no-progress".split()
    return ["lake", "synth", "--root", str(root), *sizes, "--tables", tables]


def test_synth_tables_writes_the_listed_tables_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "lake"

    assert main(_synth(root, "daily,1s")) == 0

    out = capsys.readouterr().out
    assert "1s bars" in out and "daily bars" in out and "trades" not in out and "1m bars" not in out
    layout = LakeLayout(root)
    assert len(layout.bar_tickers("1s")) == 2
    assert layout.bar_tickers("1m") == [] and layout.trade_files() == []
    assert json.loads(layout.meta.read_text())["history"][-1]["generator"]["tables"] == ["1s", "daily"]


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ("daily,5m", "unknown table 5m"),
        ("trades,1m", "must include daily"),
        ("daily", "must include an intraday table"),
        ("", "must include daily"),
    ],
)
def test_synth_refuses_unknown_tables_and_lists_without_daily_or_intraday(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tables: str, message: str
) -> None:
    root = tmp_path / "lake"

    code = main(_synth(root, tables))

    err = capsys.readouterr().err
    assert code == 2
    assert len(err.splitlines()) == 1 and message in err and err.startswith("sigma9: error: synthetic market: --tables")
    assert not root.exists()


def test_synth_writes_all_four_tables_by_default(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    sizes = "--tickers 1 --days 2 --history-days 2 --workers 1 --no-progress".split()
    assert main(["lake", "synth", "--root", str(root), *sizes]) == 0
    layout = LakeLayout(root)
    assert len(layout.trade_files()) == 2 and layout.bar_tickers("1s") == layout.bar_tickers("1m") != []
    assert json.loads(layout.meta.read_text())["history"][-1]["generator"]["tables"] == ["trades", "1s", "1m", "daily"]
