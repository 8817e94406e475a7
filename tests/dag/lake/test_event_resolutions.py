"""Events at the finest resolution a lake holds equal the synthetic ground truth, moved to the end of the bar.

``synth_minute_lake`` is the session's synthetic market (same seed and sizes as ``synthetic_lake``) written with
``--tables daily,1m``; ``second_bar_lake`` is a copy of ``synthetic_lake`` without its trades.
"""

import json
import os
import shutil

import pandas as pd
import pytest

from sigma9_dag.cli import main
from sigma9_dag.lake.events import find_events
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_daily, read_events, read_hard_negatives, read_splits
from sigma9_runtime.units import MINUTE_NS, SECOND_NS


@pytest.fixture(scope="module")
def synth_minute_lake(tmp_path_factory: pytest.TempPathFactory) -> LakeLayout:
    """``synthetic_lake``'s market (10 tickers x 24 days, seed 11, 30 history days) with daily and 1-minute bars
    only, made by ``sigma9 lake synth --tables daily,1m``; read-only."""
    root = tmp_path_factory.mktemp("synth-minute-lake") / "lake"
    sizes = "--tickers 10 --days 24 --seed 11 --history-days 30 --workers 2 --no-progress".split()
    assert main(["lake", "synth", "--root", str(root), *sizes, "--tables", "daily,1m"]) == 0
    return LakeLayout(root)


@pytest.fixture(scope="module")
def second_bar_lake(synthetic_lake: LakeLayout, tmp_path_factory: pytest.TempPathFactory) -> LakeLayout:
    """``synthetic_lake`` without its trades (1-second and 1-minute bars remain); read-only."""
    root = tmp_path_factory.mktemp("second-bar-lake") / "lake"
    shutil.copytree(
        synthetic_lake.root, root, ignore=shutil.ignore_patterns("trades", "derived"), copy_function=os.link
    )
    return LakeLayout(root)


def _truth(layout: LakeLayout) -> dict[tuple[str, object], int]:
    events = read_events(layout).to_pandas()
    return {(t, d): int(t0) for t, d, t0 in zip(events["ticker"], events["date"], events["t0_ns"])}


def _found(events: pd.DataFrame) -> dict[tuple[str, object], int]:
    return {(t, d): int(t0) for t, d, t0 in zip(events["ticker"], events["date"], events["t0_ns"])}


def _end_of_bar(t0_ns: int, interval: int) -> int:
    return (t0_ns // interval + 1) * interval


def test_the_full_lake_finds_exactly_the_ground_truth_at_trade_resolution(synthetic_lake: LakeLayout) -> None:
    events = find_events(synthetic_lake).events
    assert _found(events) == _truth(synthetic_lake)
    assert set(events["t0_resolution"]) == {"trade"}


def test_a_minute_lake_finds_every_true_event_at_the_end_of_the_minute_holding_its_t0(
    synth_minute_lake: LakeLayout, synthetic_lake: LakeLayout
) -> None:
    truth = _truth(synthetic_lake)
    events = find_events(synth_minute_lake).events
    found = _found(events)
    assert len(truth) >= 3
    assert found.keys() == truth.keys()  # 0 missed, 0 extra
    assert found == {key: _end_of_bar(t0, MINUTE_NS) for key, t0 in truth.items()}
    assert set(events["t0_resolution"]) == {"1m"}


def test_a_second_bar_lake_finds_every_true_event_at_the_end_of_the_second_holding_its_t0(
    second_bar_lake: LakeLayout, synthetic_lake: LakeLayout
) -> None:
    truth = _truth(synthetic_lake)
    events = find_events(second_bar_lake).events
    assert _found(events) == {key: _end_of_bar(t0, SECOND_NS) for key, t0 in truth.items()}
    assert set(events["t0_resolution"]) == {"1s"}


def test_bar_events_keep_the_trade_events_prices_and_peaks(
    synth_minute_lake: LakeLayout, synthetic_lake: LakeLayout
) -> None:
    by_trades = find_events(synthetic_lake).events.set_index(["ticker", "date"]).sort_index()
    by_minutes = find_events(synth_minute_lake).events.set_index(["ticker", "date"]).sort_index()
    for column in ("prev_close", "threshold", "prev_date", "max_gain", "flags"):
        assert by_minutes[column].tolist() == by_trades[column].tolist(), column
    assert (by_minutes["t0_price"] >= by_minutes["threshold"]).all()
    assert (by_minutes["t0_price"] >= by_trades["t0_price"]).all()  # the bar's high, at least the crossing trade


def test_near_misses_on_minute_bars_are_the_trade_near_misses_at_the_end_of_the_peak_minute(
    synth_minute_lake: LakeLayout, synthetic_lake: LakeLayout
) -> None:
    by_trades = find_events(synthetic_lake, near_miss_from=0.05).near_misses
    by_minutes = find_events(synth_minute_lake, near_miss_from=0.05).near_misses
    assert len(by_trades) >= 3
    assert set(by_trades["resolution"]) == {"trade"} and set(by_minutes["resolution"]) == {"1m"}
    assert by_minutes["peak_ns"].tolist() == [_end_of_bar(t, MINUTE_NS) for t in by_trades["peak_ns"]]
    assert by_minutes[["ticker", "date", "prev_close", "peak_pct"]].equals(
        by_trades[["ticker", "date", "prev_close", "peak_pct"]]
    )


def test_synth_tables_writes_only_the_listed_tables_of_the_same_market(
    synth_minute_lake: LakeLayout, synthetic_lake: LakeLayout
) -> None:
    root = synth_minute_lake.root
    assert synth_minute_lake.trade_files() == [] and not (root / "trades").exists()
    assert synth_minute_lake.bar_tickers("1s") == [] and not (root / "1s").exists()
    assert synth_minute_lake.bar_tickers("1m") == synthetic_lake.bar_tickers("1m")
    assert read_daily(synth_minute_lake).equals(read_daily(synthetic_lake))
    assert read_events(synth_minute_lake).equals(read_events(synthetic_lake))
    assert read_hard_negatives(synth_minute_lake).equals(read_hard_negatives(synthetic_lake))
    assert read_splits(synth_minute_lake).equals(read_splits(synthetic_lake))
    for ticker in synthetic_lake.bar_tickers("1m"):
        assert synth_minute_lake.bars("1m", ticker).read_bytes() == synthetic_lake.bars("1m", ticker).read_bytes()
    generator = json.loads((root / "lake.json").read_text())["history"][-1]["generator"]
    assert generator["tables"] == ["1m", "daily"]
    report = json.loads((root / "reports" / "synth.json").read_text())
    assert report["generator"]["tables"] == report["summary"]["tables"] == ["1m", "daily"]
    assert report["summary"]["trades"] == report["summary"]["bars_1s"] == 0


def test_the_full_lake_records_all_four_tables(synthetic_lake: LakeLayout) -> None:
    generator = json.loads(synthetic_lake.meta.read_text())["history"][-1]["generator"]
    assert generator["tables"] == ["trades", "1s", "1m", "daily"]
