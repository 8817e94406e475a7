"""Online equals offline on replayed synthetic days; offline features never read the future."""

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from sigma9_dag.cli import main
from sigma9_dag.features.offline import symbol_day_features
from sigma9_dag.features.replay import feature_parity
from sigma9_dag.features.stats import ensure_stats
from sigma9_dag.lake.writer import write_parquet
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.stats_store import FeatureStatsStore
from sigma9_runtime.features.warmup import load_warmup
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_bars, read_events, read_trades
from tests.stubs import (
    feature_spec,
    feature_spec_document,
    hour_feature_spec,
    minute_bar_feature_spec,
    write_yaml,
)


def _event_day(lake: LakeLayout) -> tuple[dt.date, list[str]]:
    events = read_events(lake).to_pandas()
    row = events[events["archetype"] != "shock"].iloc[0]
    others = [t for t in lake.trade_tickers() if t != row["ticker"]][:2]
    return row["date"], [row["ticker"], *others]


def test_replayed_day_equals_offline_batch_bit_for_bit(synthetic_lake: LakeLayout) -> None:
    day, tickers = _event_day(synthetic_lake)
    report = feature_parity(synthetic_lake, feature_spec(), day, tickers=tickers, workers=1)
    assert report.equal, report.render()
    assert report.rows == 3 * 57_600 and report.features == 10
    assert report.events > 1000
    # The comparison is not vacuous: normalized values exist for most steps.
    plan = FeaturePlan.from_spec(feature_spec())
    _, rows = symbol_day_features(
        synthetic_lake, plan, load_warmup(synthetic_lake, plan, day, tickers), tickers[0], day
    )
    assert np.isfinite(rows[:, :5]).mean(axis=0).min() > 0.2


def test_parity_holds_under_every_policy_through_typed_batches(synthetic_lake: LakeLayout) -> None:
    day, tickers = _event_day(synthetic_lake)
    spec = feature_spec(
        **{
            "calendar.sessions": ["regular"],
            "calendar.treat_halts_as": "forward_fill",
            "normalization.mode": "global",
            "normalization.missing": {"policy": "forward_fill"},
        }
    )
    report = feature_parity(synthetic_lake, spec, day, tickers=tickers, typed=True, workers=1)
    assert report.equal, report.render()
    dropping = feature_spec(**{"calendar.sessions": ["regular"], "calendar.treat_halts_as": "drop"})
    assert feature_parity(synthetic_lake, dropping, day, tickers=tickers[:1], workers=1).equal


def test_offline_features_never_change_when_future_data_is_appended(synthetic_lake: LakeLayout, tmp_path: Path) -> None:
    day, tickers = _event_day(synthetic_lake)
    ticker = tickers[0]
    plan = FeaturePlan.from_spec(feature_spec())
    warmup = load_warmup(synthetic_lake, plan, day, [ticker])
    cut = session_bounds(day).regular[0] + 3 * 3600 * 1_000_000_000
    past = LakeLayout(tmp_path / "past")
    trades = read_trades(synthetic_lake, ticker, day)
    write_parquet(past.trades(ticker, day), trades.filter(pc.less(trades.column("ts"), cut)))
    for kind, length in (("1s", 1_000_000_000), ("1m", 60_000_000_000)):
        bars = read_bars(synthetic_lake, kind, ticker)
        write_parquet(past.bars(kind, ticker), bars.filter(pc.less(pc.add(bars.column("ts"), length), cut + 1)))
    steps_full, full = symbol_day_features(synthetic_lake, plan, warmup, ticker, day)
    steps_past, truncated = symbol_day_features(past, plan, warmup, ticker, day)
    known = steps_full <= cut
    assert np.array_equal(steps_full, steps_past)
    assert np.array_equal(full[known], truncated[known], equal_nan=True)
    assert not np.array_equal(full[~known], truncated[~known], equal_nan=True)  # the future did matter later


def test_stats_use_only_earlier_days_and_are_cached(synthetic_lake: LakeLayout, tmp_path: Path) -> None:
    lake = LakeLayout(tmp_path / "lake")
    shutil.copytree(synthetic_lake.root, lake.root, ignore=shutil.ignore_patterns("derived"))
    ticker = lake.trade_tickers()[0]
    days = lake.trade_dates()
    spec = feature_spec()
    assert ensure_stats(lake, spec, [ticker], days[:8], workers=1) == 8
    assert ensure_stats(lake, spec, [ticker], days[:8], workers=1) == 0
    store = FeatureStatsStore(lake, FeaturePlan.from_spec(spec))
    assert set(store.read(ticker)) == set(days[:8])
    early = store.params_for(days[4], [ticker])[ticker]
    later = store.params_for(days[8], [ticker])[ticker]
    assert np.isnan(early.mean).all()  # fewer than 5 earlier days
    assert np.isfinite(later.mean).all()


def test_parity_cli_prints_the_comparison_and_refuses_a_day_without_trades(
    synthetic_lake: LakeLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day, tickers = _event_day(synthetic_lake)
    document = feature_spec_document()
    document["feature_spec"]["calendar"]["sessions"] = ["regular"]  # the full day is proven above; the CLI's own
    spec = write_yaml(tmp_path / "FS_regular.yaml", document)  # printing and refusal on the regular session
    args = ["features", "parity", "--root", str(synthetic_lake.root), "--spec", str(spec)]
    assert main([*args, "--date", day.isoformat(), "--tickers", tickers[1], "--no-progress", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "mismatches        0" in out and "EQUAL" in out
    assert main([*args, "--date", "2025-01-04"]) == 2
    assert "no trades on 2025-01-04" in capsys.readouterr().err


def test_minute_bar_spec_replayed_day_equals_offline_batch_bit_for_bit(synthetic_lake: LakeLayout) -> None:
    day, tickers = _event_day(synthetic_lake)
    spec = minute_bar_feature_spec()
    report = feature_parity(synthetic_lake, spec, day, tickers=tickers, workers=1)
    assert report.equal, report.render()
    assert report.rows == 3 * 960 and report.features == 2 * 15  # one step a minute, 16 hours
    # Not vacuous: the new series give values (trade-count z-scores, the close-location ratio).
    plan = FeaturePlan.from_spec(spec)
    _, rows = symbol_day_features(
        synthetic_lake, plan, load_warmup(synthetic_lake, plan, day, tickers), tickers[0], day
    )
    regular = rows[330 + 60 : 330 + 390]  # 10:30-16:00: the regular session after its first hour
    names = list(plan.names)
    for key in ("intensity.trade_count_z_15m", "impact.ret_over_signed_vol_60m", "intensity.volume_rvol_tod_60m"):
        assert np.isfinite(regular[:, names.index(key)]).mean() > 0.5, key


HOUR_FEATURES = (
    "intensity.volume_rvol_tod_60m",
    "intensity.trade_count_change_5m",
    "intensity.volume_change_30m",
    "intensity.volume_change_60m",
    "path.return_slope_60m",
    "path.log_return_15m",
    "path.log_return_30m",
    "path.log_return_60m",
    "vol.range_pct_60m",
)
"""The features FS_2026-12-05_001 adds to FS_2026-01-16_002: the 60-minute window, log_return, flow_change."""


def test_hour_spec_replayed_day_equals_offline_batch_bit_for_bit(synthetic_lake: LakeLayout) -> None:
    day, tickers = _event_day(synthetic_lake)
    spec = hour_feature_spec()
    report = feature_parity(synthetic_lake, spec, day, tickers=tickers, workers=1)
    assert report.equal, report.render()
    assert report.rows == 3 * 57_600 and report.features == 2 * 23
    # Not vacuous: for every ticker the new features have varying normalized values over most of the regular
    # session after its first hour (the 60-minute windows full of the session's bars).
    plan = FeaturePlan.from_spec(spec)
    names = list(plan.names)
    warmup = load_warmup(synthetic_lake, plan, day, tickers)
    open_ns, close_ns = session_bounds(day).regular
    for ticker in tickers:
        steps, rows = symbol_day_features(synthetic_lake, plan, warmup, ticker, day)
        regular = rows[(steps > open_ns + 3600 * 10**9) & (steps <= close_ns)]
        for key in HOUR_FEATURES:
            column = regular[:, names.index(key)]
            assert np.isfinite(column).mean() > 0.9 and np.nanstd(column) > 0, (ticker, key)


def test_minute_bar_features_are_the_same_on_a_lake_of_minute_bars_alone(
    synthetic_lake: LakeLayout, tmp_path: Path
) -> None:
    day, tickers = _event_day(synthetic_lake)
    ticker = tickers[0]
    plan = FeaturePlan.from_spec(minute_bar_feature_spec())
    warmup = load_warmup(synthetic_lake, plan, day, [ticker])
    minutes_only = LakeLayout(tmp_path / "minutes")
    write_parquet(minutes_only.bars("1m", ticker), read_bars(synthetic_lake, "1m", ticker))
    assert not minutes_only.trades(ticker, day).exists() and not minutes_only.bars("1s", ticker).exists()
    steps_full, full = symbol_day_features(synthetic_lake, plan, warmup, ticker, day)
    steps_minutes, minutes = symbol_day_features(minutes_only, plan, warmup, ticker, day)
    assert np.array_equal(steps_full, steps_minutes)
    assert np.array_equal(full, minutes, equal_nan=True)
    assert np.isfinite(full[:, : len(plan.features)]).any(axis=0).all()


def test_rows_at_every_minute_or_at_scattered_steps_equal_the_rows_of_every_second(synthetic_lake: LakeLayout) -> None:
    """The offline batch reads evenly spaced steps (the statistics' and scan's whole minutes) through a strided
    window view and scattered steps through a gather: both give the rows a whole day of steps gives."""
    day, tickers = _event_day(synthetic_lake)
    plan = FeaturePlan.from_spec(feature_spec())
    warmup = load_warmup(synthetic_lake, plan, day, tickers)
    steps, rows = symbol_day_features(synthetic_lake, plan, warmup, tickers[0], day)
    rng = np.random.default_rng(0)
    for chosen in (steps[::60], steps[59::60], np.sort(rng.choice(steps, 500, replace=False))):
        kept, some = symbol_day_features(synthetic_lake, plan, warmup, tickers[0], day, chosen)
        assert np.array_equal(kept, chosen)
        assert np.array_equal(some, rows[np.searchsorted(steps, chosen)], equal_nan=True)
