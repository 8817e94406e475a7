"""Baselines: the random baseline is deterministic and matched per day; the heuristic's threshold matches
the model's alert count."""

import datetime as dt

import numpy as np
import pandas as pd

from sigma9_dag.evaluation import match_alert_count, ny_dates, random_alerts, simulate_alerts
from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.gates import MLGate
from tests.stubs import candidate_frame, gate_config

S = 1_000_000_000
DAYS = [dt.date(2025, 1, 6), dt.date(2025, 1, 7), dt.date(2025, 1, 8)]


def _stream(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for day in DAYS:
        start = local_to_ns(day, dt.time(9, 30))
        for second in range(0, 6 * 3600, 20):
            rows.append((str(rng.choice(["AAA", "BBB", "CCC", "DDD", "EEE"])), start + second * S, rng.random()))
    frame = candidate_frame(rows, seismograph_score=rng.random(len(rows)))
    frame.loc[rng.random(len(frame)) < 0.3, "dollar_volume_1m"] = 1.0  # not tradeable
    return frame


PER_DAY = {np.datetime64("2025-01-06"): 5, np.datetime64("2025-01-07"): 0, np.datetime64("2025-01-08"): 12}


def _key(alerts: pd.DataFrame) -> list[tuple[str, int]]:
    return list(zip(alerts["symbol"], alerts["ts_ns"]))


def test_random_baseline_is_deterministic_and_independent_of_row_order() -> None:
    gate = MLGate(gate_config(symbol_cooldown_sec=300))
    frame = _stream()
    first = random_alerts(frame, PER_DAY, gate, seed=7)
    assert _key(random_alerts(frame, PER_DAY, gate, seed=7)) == _key(first)
    shuffled = frame.sample(frac=1.0, random_state=1)
    assert _key(random_alerts(shuffled, PER_DAY, gate, seed=7)) == _key(first)
    assert _key(random_alerts(frame, PER_DAY, gate, seed=8)) != _key(first)
    as_dates = {dt.date(2025, 1, 6): 5, "2025-01-08": 12}
    assert _key(random_alerts(frame, as_dates, gate, seed=7)) == _key(first)


def test_random_baseline_matches_the_count_per_day_and_keeps_the_gate_rules() -> None:
    gate = MLGate(gate_config(symbol_cooldown_sec=300))
    frame = _stream()
    got = random_alerts(frame, PER_DAY, gate, seed=7)
    days, counts = np.unique(ny_dates(got["ts_ns"].to_numpy()), return_counts=True)
    assert dict(zip(days.astype(str), counts.tolist())) == {"2025-01-06": 5, "2025-01-08": 12}
    assert (got["dollar_volume_1m"] >= gate.config.min_dollar_volume_1m).all()
    assert got["ts_ns"].is_monotonic_increasing
    for _, times in got.groupby("symbol")["ts_ns"]:
        assert (np.diff(np.sort(times.to_numpy())) >= 300 * S).all()


def test_random_baseline_spreads_over_the_day_not_only_its_start() -> None:
    gate = MLGate(gate_config(symbol_cooldown_sec=60))
    got = random_alerts(_stream(), {np.datetime64("2025-01-08"): 40}, gate, seed=3)
    noon = local_to_ns(DAYS[2], dt.time(12, 30))
    assert 5 < int((got["ts_ns"] > noon).sum()) < 35


def test_matched_threshold_gives_the_heuristic_at_most_the_models_alert_count() -> None:
    gate = MLGate(gate_config(max_alerts_per_day=60, symbol_cooldown_sec=120))
    frame = _stream()
    for target in (0, 1, 7, 40, 100):
        threshold = match_alert_count(frame, target, gate, score_column="seismograph_score")
        count = len(simulate_alerts(frame, threshold, gate, score_column="seismograph_score").alerts)
        assert count <= target
        lower = frame["seismograph_score"][frame["seismograph_score"] < threshold]
        if target and len(lower):  # the next lower candidate score would exceed the target
            one_lower = float(lower.max())
            assert len(simulate_alerts(frame, one_lower, gate, score_column="seismograph_score").alerts) > target
