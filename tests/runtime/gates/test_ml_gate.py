"""MLGate: every suppression reason and its order on hand-made candidates; screen + admit equals decide."""

import datetime as dt
import math

import numpy as np
import pytest
from pydantic import ValidationError

from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.contracts import load_backtest_run_config
from sigma9_runtime.contracts.artifact_manifest import Thresholds
from sigma9_runtime.gates import PASSED, REASONS, GateConfig, MLGate, TradeabilityInputs, cluster_key, threshold_for
from tests.stubs import SHIPPED_RUN_CONFIG, feature_spec, gate_config, run_config_document, write_yaml

S = 1_000_000_000
T = local_to_ns(dt.date(2025, 1, 6), dt.time(10, 0))
OK = TradeabilityInputs(500_000.0, 1.0)


def test_each_reason_on_a_hand_made_stream() -> None:
    gate = MLGate(gate_config(max_alerts_per_day=2, symbol_cooldown_sec=60))
    stream = [
        ("AAA", T, 0.50, OK, "below_threshold"),
        ("AAA", T + 1 * S, math.nan, OK, "below_threshold"),
        ("AAA", T + 2 * S, 0.90, TradeabilityInputs(10_000.0, 1.0), "not_tradeable_dollar_volume"),
        ("AAA", T + 3 * S, 0.90, TradeabilityInputs(500_000.0, 3.5), "not_tradeable_spread"),
        ("AAA", T + 4 * S, 0.90, OK, None),
        ("AAA", T + 5 * S, 0.99, OK, "cooldown"),
        ("BBB", T + 6 * S, 0.80, OK, None),
        ("CCC", T + 7 * S, 0.95, OK, "budget_exhausted"),
        ("AAA", T + 64 * S, 0.90, OK, "budget_exhausted"),  # cooldown over, budget still spent
    ]
    for symbol, ts, score, inputs, expected in stream:
        decision = gate.decide(symbol, ts, score, 0.72, inputs)
        assert (decision.passed, decision.reason) == (expected is None, expected), (symbol, ts)
    assert gate.alerts == 2
    assert gate.suppressed == {
        "below_threshold": 2,
        "not_tradeable_dollar_volume": 1,
        "not_tradeable_spread": 1,
        "cooldown": 1,
        "budget_exhausted": 2,
    }


def test_the_first_failing_check_in_the_documented_order_is_the_reason() -> None:
    gate = MLGate(gate_config(max_alerts_per_day=1, symbol_cooldown_sec=60))
    assert gate.decide("AAA", T, 0.9, 0.5, OK).passed
    # Everything fails at once: the threshold is reported.
    bad = TradeabilityInputs(1.0, 50.0)
    assert gate.decide("AAA", T + S, 0.1, 0.5, bad).reason == "below_threshold"
    assert gate.decide("AAA", T + S, 0.9, 0.5, bad).reason == "not_tradeable_dollar_volume"
    assert gate.decide("AAA", T + S, 0.9, 0.5, TradeabilityInputs(5e5, 50.0)).reason == "not_tradeable_spread"
    assert gate.decide("AAA", T + S, 0.9, 0.5, OK).reason == "cooldown"  # budget is spent too
    assert gate.decide("BBB", T + S, 0.9, 0.5, OK).reason == "budget_exhausted"


def test_a_score_equal_to_the_threshold_passes() -> None:
    gate = MLGate(gate_config())
    assert gate.decide("AAA", T, 0.72, 0.72, OK).passed


def test_suppressed_candidates_leave_cooldown_and_budget_untouched() -> None:
    gate = MLGate(gate_config(max_alerts_per_day=1, symbol_cooldown_sec=60))
    gate.decide("AAA", T, 0.1, 0.5, OK)
    gate.decide("AAA", T + S, 0.9, 0.5, TradeabilityInputs(1.0, 1.0))
    assert gate.decide("AAA", T + 2 * S, 0.9, 0.5, OK).passed


def test_budget_renews_on_the_next_new_york_day_and_cooldown_spans_midnight() -> None:
    gate = MLGate(gate_config(max_alerts_per_day=1, symbol_cooldown_sec=3600))
    late = local_to_ns(dt.date(2025, 3, 9), dt.time(23, 50))  # the spring-forward day
    assert gate.decide("AAA", late, 0.9, 0.5, OK).passed
    after_midnight = local_to_ns(dt.date(2025, 3, 10), dt.time(0, 10))
    assert gate.decide("AAA", after_midnight, 0.9, 0.5, OK).reason == "cooldown"
    assert gate.decide("BBB", after_midnight, 0.9, 0.5, OK).passed


def test_reset_clears_alerts_cooldowns_budget_and_counts() -> None:
    gate = MLGate(gate_config(max_alerts_per_day=1))
    gate.decide("AAA", T, 0.9, 0.5, OK)
    gate.decide("AAA", T, 0.1, 0.5, OK)
    gate.reset()
    assert gate.alerts == 0 and set(gate.suppressed.values()) == {0}
    assert gate.decide("AAA", T, 0.9, 0.5, OK).passed


def test_decisions_are_frozen() -> None:
    decision = MLGate(gate_config()).decide("AAA", T, 0.9, 0.5, OK)
    with pytest.raises(AttributeError):
        decision.passed = False  # type: ignore[misc]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_screen_then_admit_equals_decide_one_candidate_at_a_time(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    symbols = rng.choice(["AAA", "BBB", "CCC", "DDD"], n)
    ts = np.sort(T + rng.integers(0, 3 * 24 * 3600, n) * S)
    score = np.where(rng.random(n) < 0.05, np.nan, rng.random(n))
    threshold = rng.choice([0.3, 0.6], n)
    dollar = np.where(rng.random(n) < 0.05, np.nan, rng.uniform(0, 300_000, n))
    spread = np.where(rng.random(n) < 0.05, np.nan, rng.uniform(0, 4, n))
    config = gate_config(max_alerts_per_day=5, symbol_cooldown_sec=900)

    one = MLGate(config)
    expected = [
        one.decide(str(s), int(t), float(c), float(h), TradeabilityInputs(float(d), float(p))).reason
        for s, t, c, h, d, p in zip(symbols, ts, score, threshold, dollar, spread)
    ]

    many = MLGate(config)
    codes = many.screen(score, threshold, dollar, spread)
    got: list[str | None] = [None if c == PASSED else REASONS[c] for c in codes]
    for i in np.flatnonzero(codes == PASSED):
        got[i] = many.admit(str(symbols[i]), int(ts[i]))
    for code in range(3):
        many.count_screened(REASONS[code], int(np.sum(codes == code)))
    assert got == expected
    assert many.suppressed == one.suppressed and many.alerts == one.alerts
    assert set(expected) == {None, *REASONS}  # the stream exercises every reason


def test_count_screened_refuses_stateful_reasons() -> None:
    with pytest.raises(ValueError, match="cooldown"):
        MLGate(gate_config()).count_screened("cooldown", 1)


def test_config_comes_from_the_spec_runtime_gates() -> None:
    spec = feature_spec(**{"runtime_gates.alert_budget.max_alerts_per_day": 7})
    config = GateConfig.from_feature_spec(spec)
    assert config == GateConfig(
        min_dollar_volume_1m=200_000, max_spread_pct=2.0, max_alerts_per_day=7, symbol_cooldown_sec=180
    )


def test_run_config_overrides_budget_and_cooldown_but_not_tradeability(tmp_path) -> None:  # type: ignore[no-untyped-def]
    document = run_config_document()
    document["backtest_run"]["evaluation"]["alert_budget"] = {"max_alerts_per_day": 5, "symbol_cooldown_sec": 30}
    run = load_backtest_run_config(write_yaml(tmp_path / "run.yaml", document))
    gate = MLGate.from_feature_spec(feature_spec(), run)
    assert (gate.config.max_alerts_per_day, gate.config.symbol_cooldown_sec) == (5, 30)
    assert gate.config.min_dollar_volume_1m == 200_000
    assert MLGate.from_feature_spec(feature_spec(), load_backtest_run_config(SHIPPED_RUN_CONFIG)).config == (
        GateConfig.from_feature_spec(feature_spec())
    )


def test_config_is_frozen_and_refuses_unknown_or_non_positive_fields() -> None:
    config = gate_config()
    with pytest.raises(ValidationError):
        config.max_alerts_per_day = 9  # type: ignore[misc]
    with pytest.raises(ValidationError, match="symbol_cooldown_sec"):
        gate_config(symbol_cooldown_sec=0)
    with pytest.raises(ValidationError, match="surprise"):
        gate_config(surprise=1)


def test_threshold_per_cluster_falls_back_to_the_global_one() -> None:
    thresholds = Thresholds(global_score_min=0.72, per_cluster_min={"C01": 0.65, "C02": 0.8})
    assert threshold_for(thresholds, "C01") == 0.65
    assert threshold_for(thresholds, 2) == 0.8
    assert threshold_for(thresholds, "C09") == 0.72
    assert threshold_for(thresholds, None) == 0.72
    assert threshold_for(thresholds, float("nan")) == 0.72
    assert threshold_for(0.5, "C01") == 0.5


def test_cluster_keys() -> None:
    assert [cluster_key(x) for x in ("C03", 3, np.int64(12), -1, None, "", float("nan"))] == [
        "C03",
        "C03",
        "C12",
        None,
        None,
        None,
        None,
    ]
