"""Warm-up sufficiency: the history report against coverage tables, and against the NaN features the offline
batch actually produces on a short lake."""

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from sigma9_dag.features.offline import symbol_day_features
from sigma9_dag.features.stats import ensure_stats
from sigma9_dag.lake.coverage import LakeCoverage, lake_coverage
from sigma9_dag.lake.history import history_sufficiency, usable_days_note
from sigma9_runtime.calendar import local_to_ns, trading_days
from sigma9_runtime.contracts.io import load_feature_spec
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.warmup import load_warmup
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_bars
from tests.stubs import SHIPPED_FEATURE_SPEC, minute_bar_feature_spec

TRADE_SPEC = load_feature_spec(SHIPPED_FEATURE_SPEC)  # FS_001: trades, 1 s, 1 m; 60 days, 20-day baselines
MINUTE_SPEC = minute_bar_feature_spec()  # FS_003: 1 m only; 20 days, 10-day baselines
DAYS = trading_days(dt.date(2025, 1, 2), dt.date(2025, 3, 31))


def _coverage(rows: dict[str, tuple[list[dt.date], str]]) -> LakeCoverage:
    """A coverage table: per ticker, its days and the tables it holds on them (``"trades,1s,1m,daily"``)."""
    records = []
    for ticker, (days, tables) in rows.items():
        held = set(tables.split(","))
        records.extend({"ticker": ticker, "date": d, **{t: t in held for t in ("trades", "1s", "1m", "daily")}}
                       for d in days)  # fmt: skip
    frame = pd.DataFrame(records).sort_values(["ticker", "date"]).reset_index(drop=True)
    return LakeCoverage(Path("lake"), frame)


def _merged(*parts: LakeCoverage) -> LakeCoverage:
    frame = pd.concat([p.frame for p in parts]).groupby(["ticker", "date"], as_index=False).any()
    return LakeCoverage(Path("lake"), frame)


def test_three_days_of_trades_on_months_of_bars_leave_every_feature_nan() -> None:
    bars = _coverage({"VXRT": (DAYS[:40], "1m,daily")})
    trades = _coverage({"VXRT": (DAYS[37:40], "trades,1s")})
    report = history_sufficiency(_merged(bars, trades), TRADE_SPEC)
    assert [(r.day, r.normalization_have, r.baseline_have) for r in report.rows] == [
        (DAYS[37], 0, 20),
        (DAYS[38], 1, 20),
        (DAYS[39], 2, 20),
    ]
    assert all(r.nan_features == report.features == 5 for r in report.rows)
    assert report.summary() == (
        "warm-up (FS_2026-01-16_001; needs 60 normalization days, 20 baseline days): 0 of 3 symbol-days have "
        "full history; 3 short: 3 with every feature NaN (under 5 normalization days)"
    )
    assert report.worst(1) == [f"VXRT {DAYS[37]}: 0/60 normalization days, 20/20 baseline days — features NaN"]
    assert report.refusal().startswith("--strict: 3 of 3 symbol-days lack the history FS_2026-01-16_001 needs")
    document = report.to_json()
    assert document["insufficient"] == 3 and document["short_symbol_days"][0]["normalization_days"] == 0


def test_baseline_features_stay_nan_until_a_pooled_day_had_its_own_baseline() -> None:
    report = history_sufficiency(_coverage({"ABCD": (DAYS[:25], "1m,daily")}), MINUTE_SPEC, DAYS[3:8] + DAYS[22:25])
    by_day = {r.day: r for r in report.rows}
    # 4 earlier days: no normalization; 5: the 7 baseline features had no statistics on days 0-4; 6: defined
    assert [by_day[d].nan_features for d in DAYS[3:8]] == [15, 15, 7, 0, 0]
    assert [by_day[d].normalization_have for d in DAYS[3:8]] == [3, 4, 5, 6, 7]
    assert [by_day[d].baseline_have for d in DAYS[3:8]] == [3, 4, 5, 6, 7]
    assert by_day[DAYS[6]] in report.short and by_day[DAYS[6]] not in report.insufficient
    assert report.line(by_day[DAYS[5]]).endswith("5/20 normalization days, 5/10 baseline days — 7 of 15 features NaN")
    assert report.line(by_day[DAYS[7]]).endswith("— features from fewer days")
    assert [r.day for r in report.rows if report.is_full(r)] == DAYS[22:25]  # 20 earlier days and more
    assert report.summary().endswith(
        "3 of 8 symbol-days have full history; 5 short: 2 with every feature NaN (under 5 normalization days), "
        "1 with their baseline features NaN, 2 with features from fewer days"
    )
    assert report.worst(2) == [report.line(by_day[DAYS[3]]), report.line(by_day[DAYS[4]])]


def test_only_symbol_days_holding_the_spec_tables_are_reported_and_the_artifact_can_ask_for_more() -> None:
    coverage = _merged(_coverage({"AAAA": (DAYS[:30], "1m,daily")}), _coverage({"BBBB": (DAYS[25:30], "1m")}))
    report = history_sufficiency(coverage, MINUTE_SPEC, [DAYS[20], DAYS[29]], tickers=["BBBB", "ZZZZ"])
    assert [(r.ticker, r.day, r.normalization_have) for r in report.rows] == [("BBBB", DAYS[29], 4)]
    assert report.rows[0].nan_features == 15  # a listing four days old
    longer = history_sufficiency(coverage, MINUTE_SPEC, [DAYS[29]], ["AAAA"], min_history_days=60)
    assert longer.normalization_need == 60 and longer.rows[0].normalization_have == 20
    assert not longer.insufficient and len(longer.short) == 1


def test_a_day_the_lake_lacks_is_reported_from_its_earlier_days_when_asked() -> None:
    coverage = _coverage({"AAAA": (DAYS[:8], "1m,daily")})
    assert not history_sufficiency(coverage, MINUTE_SPEC, [DAYS[8]]).rows  # not held: no feature row
    rows = history_sufficiency(coverage, MINUTE_SPEC, [DAYS[8]], ["AAAA", "ZZZZ"], held_only=False).rows
    assert [(r.ticker, r.normalization_have, r.baseline_have, r.nan_features) for r in rows] == [
        ("AAAA", 8, 8, 0),
        ("ZZZZ", 0, 0, 15),
    ]


def test_a_gap_in_the_window_counts_only_the_days_the_symbol_holds() -> None:
    held = [d for i, d in enumerate(DAYS[:30]) if i % 3]  # every third day missing
    coverage = _merged(_coverage({"AAAA": (DAYS[:30], "1m")}), _coverage({"GAPS": (held, "1m")}))
    row = history_sufficiency(coverage, MINUTE_SPEC, [DAYS[29]], ["GAPS"]).rows[0]
    window = DAYS[9:29]  # the 20 lake days before the day
    assert row.normalization_have == sum(1 for d in window if d in held) == 13
    assert row.baseline_have == 10


def test_global_normalization_pools_every_symbol() -> None:
    spec = minute_bar_feature_spec(**{"normalization.mode": "global", "normalization.lookback": None})
    coverage = _merged(_coverage({"AAAA": (DAYS[:3], "1m")}), _coverage({"BBBB": (DAYS[:3], "1m")}))
    report = history_sufficiency(coverage, spec, [DAYS[2]])
    assert report.normalization_need == 5
    assert [r.normalization_have for r in report.rows] == [4, 4]  # two symbols x two earlier days
    assert all(r.nan_features == 15 for r in report.rows)


def test_usable_days_note_names_what_counts_and_why_the_rest_does_not() -> None:
    coverage = _merged(
        _coverage({"VXRT": (DAYS[:40], "1m,daily")}),
        _coverage({"VXRT": (DAYS[37:40], "trades,1s")}),
        _coverage({"OTHR": (DAYS[10:12], "trades")}),
    )
    assert usable_days_note(coverage, TRADE_SPEC) == (
        "3 of 40 lake days are usable for FS_2026-01-16_001 (the days holding trades, 1-second bars and "
        "1-minute bars, which its tick, bar_1s and bar_1m sources read; the other 37: 35 without trades, "
        "37 without 1-second bars)"
    )
    assert usable_days_note(coverage, MINUTE_SPEC).startswith("40 of 40 lake days are usable for FS_2026-01-16_003")


# --- against the features the offline batch produces ------------------------------------------------------------


@pytest.fixture(scope="module")
def short_lake(synthetic_lake, tmp_path_factory: pytest.TempPathFactory) -> LakeLayout:
    """Two tickers' 1-minute bars and the daily table of the session's lake; the second ticker lists on the
    lake's 8th day and misses its 12th."""
    layout = LakeLayout(tmp_path_factory.mktemp("short-lake") / "lake")
    days = lake_coverage(synthetic_lake).days(["1m"])
    first, second = synthetic_lake.bar_tickers("1m")[:2]
    for ticker in (first, second):
        table = read_bars(synthetic_lake, "1m", ticker)
        if ticker == second:
            ts = table.column("ts")
            start, gap = local_to_ns(days[7], dt.time(0)), local_to_ns(days[11], dt.time(0))
            keep = pc.and_(
                pc.greater_equal(ts, start), pc.or_(pc.less(ts, gap), pc.greater_equal(ts, gap + 86_400 * 10**9))
            )
            table = table.filter(keep)
        path = layout.bars("1m", ticker)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    layout.daily.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(synthetic_lake.daily, layout.daily)
    return layout


def _nan_features(layout: LakeLayout, plan: FeaturePlan, ticker: str, day: dt.date) -> int:
    """Value columns NaN at every grid step of the symbol-day, as the offline batch computes them."""
    _, rows = symbol_day_features(layout, plan, load_warmup(layout, plan, day, [ticker]), ticker, day)
    return int(np.isnan(rows[:, : len(plan.features)]).all(axis=0).sum())


def test_report_says_which_symbol_days_the_offline_batch_leaves_nan(short_lake: LakeLayout) -> None:
    coverage = lake_coverage(short_lake)
    days = coverage.days(["1m"])
    tickers = coverage.tickers(["1m"])
    ensure_stats(short_lake, MINUTE_SPEC, tickers, days, workers=1, coverage=coverage)  # as the lab fills them
    asked = [days[i] for i in (3, 4, 5, 6, 12, 13, 14, 18)]
    report = history_sufficiency(coverage, MINUTE_SPEC, asked)
    plan = FeaturePlan.from_spec(MINUTE_SPEC)
    seen = {(r.ticker, r.day): (r.nan_features, _nan_features(short_lake, plan, r.ticker, r.day)) for r in report.rows}
    assert all(predicted == actual for predicted, actual in seen.values()), seen
    # not vacuous: all-NaN, baseline-only NaN and defined symbol-days are all there, for both tickers
    assert {actual for _, actual in seen.values()} == {0, 7, 15}
    assert len(seen) == len(asked) + 4  # the second ticker holds none of days 3-6
