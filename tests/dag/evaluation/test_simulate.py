"""Alert simulation on hand-made candidate streams: reasons, budget, cooldown, tie order, New York days."""

import datetime as dt

import numpy as np
import pytest

from sigma9_dag.evaluation import ny_dates, simulate_alerts
from sigma9_runtime.calendar import local_to_ns, session_date
from sigma9_runtime.contracts.artifact_manifest import Thresholds
from sigma9_runtime.errors import DataError
from sigma9_runtime.gates import MLGate
from tests.stubs import candidate_frame, gate_config

S = 1_000_000_000
MONDAY = dt.date(2025, 1, 6)


def ny(day: dt.date, hh: int, mm: int = 0, ss: int = 0) -> int:
    return local_to_ns(day, dt.time(hh, mm, ss))


def utc(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp()) * S


def _alerted(result) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return list(zip(result.alerts["symbol"], result.alerts["ts_ns"]))


def test_every_reason_is_counted_on_a_hand_made_stream() -> None:
    t = ny(MONDAY, 10)
    frame = candidate_frame(
        [
            ("AAA", t, 0.9),  # alert
            ("AAA", t + 30 * S, 0.9),  # cooldown (60 s)
            ("BBB", t + 31 * S, 0.5),  # below threshold
            ("CCC", t + 32 * S, 0.9),  # low dollar volume
            ("DDD", t + 33 * S, 0.9),  # wide spread
            ("EEE", t + 34 * S, 0.9),  # alert
            ("FFF", t + 35 * S, 0.9),  # alert: budget (3) now spent
            ("AAA", t + 90 * S, 0.9),  # cooldown over, budget exhausted
        ],
        dollar_volume_1m=[1e6, 1e6, 1e6, 5e4, 1e6, 1e6, 1e6, 1e6],
        spread_pct=[0.5, 0.5, 0.5, 0.5, 3.0, 0.5, 0.5, 0.5],
    )
    result = simulate_alerts(frame, 0.72, MLGate(gate_config(max_alerts_per_day=3, symbol_cooldown_sec=60)))
    assert _alerted(result) == [("AAA", t), ("EEE", t + 34 * S), ("FFF", t + 35 * S)]
    assert result.suppressed == {
        "below_threshold": 1,
        "not_tradeable_dollar_volume": 1,
        "not_tradeable_spread": 1,
        "cooldown": 1,
        "budget_exhausted": 1,
    }
    assert result.candidates == 8
    assert list(result.alerts["day"].astype(str)) == ["2025-01-06"] * 3


def test_candidates_are_taken_in_time_order_whatever_the_row_order() -> None:
    t = ny(MONDAY, 10)
    rows = [("AAA", t + 10 * S, 0.9), ("AAA", t, 0.8), ("AAA", t + 70 * S, 0.95)]
    gate = MLGate(gate_config(symbol_cooldown_sec=60))
    assert _alerted(simulate_alerts(candidate_frame(rows), 0.5, gate)) == [("AAA", t), ("AAA", t + 70 * S)]


def test_ties_in_time_go_to_the_higher_score_then_the_symbol_alphabetically() -> None:
    t = ny(MONDAY, 10)
    rows = [("ZZZ", t, 0.80), ("MMM", t, 0.95), ("BBB", t, 0.80), ("AAA", t, 0.75), ("CCC", t, 0.80)]
    gate = MLGate(gate_config(max_alerts_per_day=3))
    first = simulate_alerts(candidate_frame(rows), 0.5, gate)
    assert [s for s, _ in _alerted(first)] == ["MMM", "BBB", "CCC"]
    assert first.suppressed["budget_exhausted"] == 2
    again = simulate_alerts(candidate_frame(rows[::-1]), 0.5, gate)
    assert _alerted(again) == _alerted(first)


def test_budget_renews_at_new_york_midnight_and_evening_utc_dates_do_not_split_a_day() -> None:
    gate = MLGate(gate_config(max_alerts_per_day=1))
    rows = [
        ("AAA", ny(MONDAY, 9, 30), 0.9),
        ("BBB", ny(MONDAY, 19, 30), 0.9),  # 00:30 UTC on Tuesday: still Monday's budget
        ("CCC", ny(MONDAY, 23, 59, 59), 0.9),
        ("DDD", ny(MONDAY + dt.timedelta(days=1), 0, 0), 0.9),  # New York midnight: a new budget
    ]
    result = simulate_alerts(candidate_frame(rows), 0.5, gate)
    assert [s for s, _ in _alerted(result)] == ["AAA", "DDD"]
    assert list(result.alerts["day"].astype(str)) == ["2025-01-06", "2025-01-07"]


@pytest.mark.parametrize(
    ("before", "after", "days"),
    [
        (utc(2025, 3, 10, 3, 30), utc(2025, 3, 10, 4, 30), ["2025-03-09", "2025-03-10"]),  # spring forward (EDT)
        (utc(2025, 11, 3, 4, 30), utc(2025, 11, 3, 5, 30), ["2025-11-02", "2025-11-03"]),  # fall back (EST)
    ],
)
def test_budget_days_follow_dst(before: int, after: int, days: list[str]) -> None:
    result = simulate_alerts(
        candidate_frame([("AAA", before, 0.9), ("BBB", after, 0.9)]), 0.5, MLGate(gate_config(max_alerts_per_day=1))
    )
    assert list(result.alerts["day"].astype(str)) == days


def test_ny_dates_equal_the_calendar_session_date_across_dst() -> None:
    rng = np.random.default_rng(3)
    ts = utc(2025, 1, 1) + rng.integers(0, 365 * 24 * 3600, 2000) * S
    assert [str(d) for d in ny_dates(ts)] == [session_date(int(t)).isoformat() for t in ts]


def test_per_cluster_thresholds_apply_to_their_cluster_only() -> None:
    t = ny(MONDAY, 10)
    frame = candidate_frame(
        [("AAA", t, 0.70), ("BBB", t, 0.70), ("CCC", t, 0.70), ("DDD", t, 0.75)],
        cluster_id=["C01", None, "C02", 2],
    )
    thresholds = Thresholds(global_score_min=0.72, per_cluster_min={"C01": 0.65, "C02": 0.80})
    result = simulate_alerts(frame, thresholds, MLGate(gate_config()))
    assert [s for s, _ in _alerted(result)] == ["AAA"]
    assert result.alerts["threshold"].tolist() == [0.65]


def test_the_gate_is_reset_so_a_second_simulation_gives_the_same_alerts() -> None:
    t = ny(MONDAY, 10)
    frame = candidate_frame([("AAA", t, 0.9), ("BBB", t + S, 0.9)])
    gate = MLGate(gate_config(max_alerts_per_day=2))
    first = simulate_alerts(frame, 0.5, gate)
    second = simulate_alerts(frame, 0.5, gate)
    assert _alerted(first) == _alerted(second) and len(first.alerts) == 2


def test_candidates_without_a_required_column_are_refused_naming_it() -> None:
    frame = candidate_frame([("AAA", 0, 0.9)]).drop(columns=["spread_pct"])
    with pytest.raises(DataError, match="spread_pct"):
        simulate_alerts(frame, 0.5, MLGate(gate_config()))


def test_timestamps_must_be_integer_nanoseconds() -> None:
    frame = candidate_frame([("AAA", 0, 0.9)])
    frame["ts_ns"] = frame["ts_ns"].astype(float)
    with pytest.raises(DataError, match="ts_ns"):
        simulate_alerts(frame, 0.5, MLGate(gate_config()))
