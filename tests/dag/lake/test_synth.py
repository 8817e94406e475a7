"""The synthetic market: deterministic, its ground truth is true, and it looks like a tape."""

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sigma9_dag.cli import main
from sigma9_dag.lake.events import find_events
from sigma9_dag.lake.synth import generate_synthetic_lake
from sigma9_dag.lake.synth.day import simulate_day
from sigma9_dag.lake.synth.plan import EVENT_ARCHETYPES, HARD_NEGATIVE_ARCHETYPES, DayPlan, make_plan
from sigma9_dag.lake.synth.universe import make_universe
from sigma9_runtime.bars import EXCLUDED_CONDITIONS
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import (
    bars_table_from_trades,
    daily_bar_from_trades,
    eligible_trades_mask,
    read_bars,
    read_daily,
    read_events,
    read_hard_negatives,
    read_splits,
    read_trades,
)
from sigma9_runtime.units import MINUTE_NS, SECOND_NS


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def _eligible(layout: LakeLayout, ticker: str, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
    trades = read_trades(layout, ticker, day)
    keep = eligible_trades_mask(trades)
    return trades.column("ts").to_numpy()[keep], trades.column("price").to_numpy()[keep]


def _prev_close(layout: LakeLayout, ticker: str, day: dt.date) -> float:
    daily = read_daily(layout, [ticker]).to_pandas().sort_values("date")
    prev = daily[daily["date"] < day].iloc[-1]
    factor = 1.0
    splits = read_splits(layout).to_pandas()
    for _, split in splits[(splits["ticker"] == ticker)].iterrows():
        if prev["date"] < split["execution_date"] <= day:
            factor *= split["split_from"] / split["split_to"]
    return float(prev["close"]) * factor


def test_generation_is_deterministic_and_independent_of_worker_count(tmp_path: Path) -> None:
    a = generate_synthetic_lake(tmp_path / "a", tickers=4, days=5, history_days=5, seed=3, workers=1)
    b = generate_synthetic_lake(tmp_path / "b", tickers=4, days=5, history_days=5, seed=3, workers=2)
    generate_synthetic_lake(tmp_path / "c", tickers=4, days=5, history_days=5, seed=4, workers=1)
    assert a.trades == b.trades
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")


def test_every_event_first_crosses_ten_percent_at_its_t0(synthetic_lake: LakeLayout) -> None:
    events = read_events(synthetic_lake).to_pandas()
    assert set(events["archetype"]) == set(EVENT_ARCHETYPES)
    for row in events.itertuples():
        ts, price = _eligible(synthetic_lake, row.ticker, row.date)
        prev_close = _prev_close(synthetic_lake, row.ticker, row.date)
        assert row.prev_close == pytest.approx(prev_close, rel=1e-12)
        first = np.flatnonzero(price >= prev_close * 1.10)[0]
        assert ts[first] == row.t0_ns
        assert row.onset_ns <= row.t0_ns


def test_hard_negatives_and_quiet_days_never_reach_ten_percent(synthetic_lake: LakeLayout) -> None:
    negatives = read_hard_negatives(synthetic_lake).to_pandas()
    assert set(negatives["archetype"]) == set(HARD_NEGATIVE_ARCHETYPES)
    for row in negatives.itertuples():
        ts, price = _eligible(synthetic_lake, row.ticker, row.date)
        assert price.max() < row.prev_close * 1.10
        assert 0.0 < row.peak_pct < 0.10
        assert price[ts == row.peak_ns].max() == pytest.approx(row.prev_close * (1 + row.peak_pct))
    truth = {(r.ticker, r.date, r.t0_ns) for r in read_events(synthetic_lake).to_pandas().itertuples()}
    scan = find_events(synthetic_lake)
    assert {(r.ticker, r.date, r.t0_ns) for r in scan.events.itertuples()} == truth
    assert scan.split_flagged == []


def test_no_event_or_hard_negative_before_the_warm_up(synthetic_lake: LakeLayout) -> None:
    meta = json.loads(synthetic_lake.meta.read_text())
    generator = meta["history"][-1]["generator"]
    days = synthetic_lake.trade_dates()
    assert len(days) == generator["days"] == 24
    first_allowed = days[generator["warmup_days"]]
    assert generator["warmup_days"] == 8
    assert (read_events(synthetic_lake).to_pandas()["date"] >= first_allowed).all()
    assert (read_hard_negatives(synthetic_lake).to_pandas()["date"] >= first_allowed).all()


def test_bars_and_daily_follow_the_one_bar_rule(synthetic_lake: LakeLayout) -> None:
    ticker = synthetic_lake.trade_tickers()[0]
    day = synthetic_lake.trade_dates()[3]
    trades = read_trades(synthetic_lake, ticker, day)
    bounds = session_bounds(day)
    for kind, interval in (("1s", SECOND_NS), ("1m", MINUTE_NS)):
        stored = read_bars(synthetic_lake, kind, ticker, bounds.start, bounds.end)
        assert stored.equals(bars_table_from_trades(trades, interval))
    daily = read_daily(synthetic_lake, [ticker]).to_pandas()
    row = daily[daily["date"] == day].iloc[0].to_dict()
    expected = daily_bar_from_trades(trades, day)
    assert {k: row[k] for k in expected if k != "date"} == {k: v for k, v in expected.items() if k != "date"}


def test_daily_history_covers_the_sixty_day_baselines(synthetic_lake: LakeLayout) -> None:
    daily = read_daily(synthetic_lake).to_pandas()
    first_trade_day = synthetic_lake.trade_dates()[0]
    per_ticker = daily[daily["date"] < first_trade_day].groupby("ticker").size()
    assert (per_ticker == 30).all() and len(per_ticker) == 10


def test_tape_has_sessions_tick_grid_spread_and_ineligible_prints(synthetic_lake: LakeLayout) -> None:
    ticker = synthetic_lake.trade_tickers()[1]
    day = synthetic_lake.trade_dates()[2]
    trades = read_trades(synthetic_lake, ticker, day)
    ts = trades.column("ts").to_numpy()
    bounds = session_bounds(day)
    sessions = {bounds.session_of(int(t)) for t in ts}
    assert sessions == {"pre", "regular", "after"}
    price = trades.column("price").to_numpy()
    tick = np.where(price >= 1, 0.01, 0.0001)
    assert np.allclose(np.round(price / tick) * tick, price, atol=1e-9)
    assert np.all(np.diff(ts) >= 0)
    assert np.all(np.diff(trades.column("sequence").to_numpy()) > 0)
    # Regular-session intensity is U-shaped: the first and last half hours are busier than midday.
    regular = ts[(ts >= bounds.regular[0]) & (ts < bounds.regular[1])]
    minute = (regular - bounds.regular[0]) // MINUTE_NS
    per_minute = np.bincount(minute, minlength=390)
    assert per_minute[:30].mean() > 1.5 * per_minute[150:240].mean()
    assert per_minute[-30:].mean() > 1.2 * per_minute[150:240].mean()
    # Some prints are ineligible for bars; all of them are kept in the trades table.
    all_days = [read_trades(synthetic_lake, ticker, d) for d in synthetic_lake.trade_dates()[:5]]
    ineligible = sum(int((~eligible_trades_mask(t)).sum()) for t in all_days)
    total = sum(t.num_rows for t in all_days)
    assert 0.002 * total < ineligible < 0.03 * total
    codes = {c for t in all_days for cs in t.column("conditions").to_pylist() for c in cs}
    assert {12, 37} <= codes and codes & EXCLUDED_CONDITIONS


def _pre_window_stats(layout: LakeLayout, archetype: str) -> list[tuple[float, float]]:
    """(trades in [T0-25m, T0-5m] on the event day, median of the same window on the ticker's other days)."""
    events = read_events(layout).to_pandas()
    out = []
    for row in events[events["archetype"] == archetype].itertuples():
        day_start = session_bounds(row.date).start
        offset = row.t0_ns - day_start
        counts = []
        for day in layout.trade_dates():
            ts = read_trades(layout, row.ticker, day).column("ts").to_numpy()
            lo = session_bounds(day).start + offset - 25 * MINUTE_NS
            counts.append((day, int(((ts >= lo) & (ts < lo + 20 * MINUTE_NS)).sum())))
        own = next(c for d, c in counts if d == row.date)
        others = [c for d, c in counts if d != row.date]
        out.append((own, float(np.median(others))))
    return out


def test_stealth_accumulation_raises_trade_intensity_before_t0(synthetic_lake: LakeLayout) -> None:
    stats = _pre_window_stats(synthetic_lake, "stealth_accumulation")
    assert stats
    assert all(own > 1.5 * typical for own, typical in stats)


def test_shock_has_no_footprint_before_t0(synthetic_lake: LakeLayout) -> None:
    stats = _pre_window_stats(synthetic_lake, "shock")
    assert stats
    assert all(own < 2.0 * typical + 10 for own, typical in stats)


def test_planted_halt_pauses_trading_for_five_minutes() -> None:
    profile = make_universe(5, 1)[0]
    day = dt.date(2025, 3, 4)
    plan = DayPlan(
        kind="event", archetype="stealth_accumulation", t0_sec=6 * 3600, lead_sec=1800, peak_pct=0.3, halt=True
    )
    simulated = simulate_day(profile, day, 0, profile.price, plan, seed=1)
    assert simulated.halt_ns is not None
    start, end = simulated.halt_ns
    assert end - start == 300 * SECOND_NS
    ts = simulated.trades.column("ts").to_numpy()
    assert not ((ts >= start) & (ts < end)).any()
    assert ((ts >= end) & (ts < end + 60 * SECOND_NS)).any()


def test_split_is_adjusted_with_the_table_and_flagged_without_it(synthetic_lake: LakeLayout, tmp_path: Path) -> None:
    splits = read_splits(synthetic_lake).to_pandas()
    assert len(splits) == 1
    split = splits.iloc[0]
    daily = read_daily(synthetic_lake, [split["ticker"]]).to_pandas().set_index("date")
    prev = daily[daily.index < split["execution_date"]].iloc[-1]
    ratio = daily.loc[split["execution_date"], "open"] / prev["close"]
    assert ratio == pytest.approx(split["split_from"] / split["split_to"], rel=0.08)
    copy = tmp_path / "no-splits"
    shutil.copytree(synthetic_lake.root, copy)
    (copy / "reference" / "splits.parquet").unlink()
    scan = find_events(LakeLayout(copy))
    assert scan.split_flagged == [(split["ticker"], split["execution_date"])]


def test_plan_places_every_kind_and_nothing_on_split_days() -> None:
    plan = make_plan(seed=7, tickers=100, days=80)
    assert plan.warmup_days == 20
    assert all(day >= 20 for _, day in plan.days)
    assert not set(plan.days) & set(plan.splits)
    kinds = {(p.kind, p.archetype) for p in plan.days.values()}
    assert {("event", a) for a in EVENT_ARCHETYPES} <= kinds


def test_existing_lake_is_refused_unless_forced(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    generate_synthetic_lake(root, tickers=3, days=2, history_days=2, workers=1)
    (root / "experiments").mkdir()
    (root / "experiments" / "keep.txt").write_text("mine")
    with pytest.raises(LakeError, match="already there"):
        generate_synthetic_lake(root, tickers=2, days=2, history_days=2, workers=1)
    old = set(LakeLayout(root).trade_tickers())
    generate_synthetic_lake(root, tickers=2, days=2, history_days=2, seed=99, workers=1, force=True)
    new = set(LakeLayout(root).trade_tickers())
    assert len(new) == 2 and new != old
    assert (root / "experiments" / "keep.txt").read_text() == "mine"
    assert len(json.loads((root / "lake.json").read_text())["history"]) == 1
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]


def test_synth_cli_prints_the_summary_and_rejects_bad_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "lake"
    args = "lake synth --tickers 2 --days 2 --history-days 3 --workers 1 --no-progress --root".split()
    code = main([*args, str(root)])
    assert code == 0
    assert "2 tickers x 2 days" in capsys.readouterr().out
    assert pq.ParquetFile(root / "daily" / "all_daily.parquet").metadata.num_rows == 2 * 5
    assert main(["lake", "synth", "--root", str(tmp_path / "x"), "--tickers", "0"]) == 2
    assert "--tickers must be at least 1" in capsys.readouterr().err
