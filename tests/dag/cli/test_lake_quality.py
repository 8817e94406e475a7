"""``sigma9 lake splits`` (applied splits, suspects with evidence, confirmed back through the importer) and
``sigma9 lake check`` (the data-quality report as a table and as JSON)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from sigma9_dag.cli import EXIT_BAD_INPUT, main
from sigma9_dag.lake.events import find_events
from sigma9_runtime.lake.closes import previous_closes
from sigma9_runtime.lake.layout import LakeLayout
from tests.stubs import MINUTE_BAR_FEATURE_SPEC, write_event_lake

DAY = dt.date(2025, 1, 6)  # the event lake's intraday day


@pytest.fixture
def lake(tmp_path: Path) -> LakeLayout:
    """The events stub lake (``tests.stubs.write_event_lake``): SPLT a recorded 1:10 split, SUSP the same move
    unrecorded, GAPS without the previous trading day, NOPC without daily bars."""
    return write_event_lake(tmp_path / "lake")


def test_lake_splits_lists_the_applied_splits(lake: LakeLayout, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lake", "splits", "--root", str(lake.root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:5] == ["SPLT", str(DAY), "10", "1", "recorded"]
    assert lines[-1] == "1 applied split"


def test_suspects_written_out_and_imported_become_applied_splits(
    lake: LakeLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "suspects.csv"
    assert main(["lake", "splits", "--root", str(lake.root), "--suspects", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-2:] == ["1 suspect", f"written to {out}"]
    frame = pd.read_csv(out)
    assert frame[["ticker", "execution_date", "split_from", "split_to", "verdict"]].values.tolist() == [
        ["SUSP", str(DAY), 10.0, 1.0, "suspect"]
    ]
    assert frame.loc[0, "reason"].startswith("suspect: x10")
    assert find_events(lake).split_flagged == [("SUSP", DAY)]
    assert previous_closes(lake, DAY, ["SUSP"]) == {}

    assert main(["lake", "import", "splits", "--root", str(lake.root), "--no-progress", str(out)]) == 0

    assert find_events(lake).split_flagged == []  # confirmed: the previous close is 1.0 x 10
    assert previous_closes(lake, DAY, ["SUSP"]) == {"SUSP": pytest.approx(10.0)}


def test_lake_splits_json_has_the_evidence_of_every_decision(
    lake: LakeLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lake", "splits", "--root", str(lake.root), "--all", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["ticker"], r["verdict"]) for r in rows] == [("SPLT", "recorded"), ("SUSP", "suspect")]
    suspect = rows[1]
    assert suspect["price_ratio"] == pytest.approx(10.0)
    assert suspect["share_volume_ratio"] == pytest.approx(0.1)  # 1e4 shares after, 1e5 before
    assert suspect["prior_move"] is None  # no day before the previous one: unknown, no evidence


def test_lake_splits_refuses_an_unknown_output_format(lake: LakeLayout, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lake", "splits", "--root", str(lake.root), "--out", "x.txt"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.count("\n") == 1


def test_lake_check_reports_gaps_splits_and_missing_previous_closes(
    lake: LakeLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["lake", "check", "--root", str(lake.root)]) == 0
    text = capsys.readouterr().out
    assert "coverage gaps: 2 tickers; 1 trading days missing inside daily spans, 1 days of intraday data" in text
    assert "splits: 1 applied from the splits table, 1 suspects" in text
    assert "previous close: 5 of 8 ticker-days of intraday data have one; none for 1 first day, " in text

    assert main(["lake", "check", "--root", str(lake.root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    gaps = {g["ticker"]: g for g in report["coverage_gaps"]}
    assert gaps["GAPS"]["daily_missing_days"] == ["2025-01-03"]
    assert gaps["NOPC"]["intraday_without_daily_days"] == [str(DAY)]
    assert [s["ticker"] for s in report["split_suspects"]] == ["SUSP"]
    assert report["no_prev_close"]["by_reason"] == {
        "first_day": 1,
        "prev_day_missing": 1,
        "bad_close": 0,
        "split_suspect": 1,
    }


def test_lake_check_refuses_a_directory_without_a_lake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lake", "check", "--root", str(tmp_path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no lake here" in err


def test_lake_check_with_a_spec_reports_the_symbol_days_short_of_history(
    lake: LakeLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = str(MINUTE_BAR_FEATURE_SPEC)
    assert main(["lake", "check", "--root", str(lake.root), "--spec", spec]) == 0
    text = capsys.readouterr().out
    assert "warm-up (FS_2026-01-16_003; needs 20 normalization days, 10 baseline days): 0 of " in text
    assert f"  MINS {DAY}: 0/20 normalization days, 0/10 baseline days — features NaN" in text

    assert main(["lake", "check", "--root", str(lake.root), "--spec", spec, "--json"]) == 0
    history = json.loads(capsys.readouterr().out)["history"]
    assert history["insufficient"] == history["symbol_days"] > 0
