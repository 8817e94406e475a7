"""Tradeability inputs from 1-second bars and the liquidity gate, on hand-made bars."""

import math

import numpy as np
import pytest

from sigma9_runtime.gates import TradeabilityGate, TradeabilityInputs, tradeability_batch, tradeability_inputs

S = 1_000_000_000


def test_dollar_volume_sums_vwap_times_volume_of_bars_completed_in_the_last_minute() -> None:
    ts = np.array([0, 10, 59, 60, 100, 119, 120]) * S
    vwap = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    volume = np.full(7, 10.0)
    # At 120 s: bars stamped in [60 s, 120 s) and completed by 120 s -> 60, 100, 119 (120 not yet).
    got = tradeability_inputs(ts, vwap, vwap, volume, 120 * S)
    assert got.dollar_volume_1m == (4.0 + 5.0 + 6.0) * 10.0


def test_a_bar_still_open_at_the_asked_time_is_not_read() -> None:
    ts = np.array([0, 1]) * S
    at = 1 * S + S // 2  # half-way through the bar stamped at 1 s
    got = tradeability_inputs(ts, [1.0, 1.0], [1.0, 1.0], [5.0, 7.0], at)
    assert got.dollar_volume_1m == 5.0


def test_spread_is_twice_the_mean_absolute_log_move_of_consecutive_closes() -> None:
    # Closes bounce between a bid of 10.00 and an ask of 10.10 every second for a minute.
    ts = np.arange(60) * S
    close = np.where(np.arange(60) % 2 == 0, 10.0, 10.1)
    got = tradeability_inputs(ts, close, close, np.ones(60), 60 * S)
    assert got.spread_pct == pytest.approx(200 * math.log(10.1 / 10.0))  # every pair switches side


def test_spread_counts_only_bars_of_the_last_five_minutes() -> None:
    old = np.arange(0, 100) * S  # wide bounces long ago
    recent = (400 + np.arange(10)) * S  # flat price lately
    ts = np.r_[old, recent]
    close = np.r_[np.where(np.arange(100) % 2 == 0, 10.0, 11.0), np.full(10, 10.0)]
    got = tradeability_inputs(ts, close, close, np.ones(110), 410 * S)
    assert got.spread_pct == 0.0


def test_spread_is_nan_with_fewer_than_five_pairs() -> None:
    ts = np.arange(5) * S
    got = tradeability_inputs(ts, np.full(5, 10.0), np.full(5, 10.0), np.ones(5), 5 * S)
    assert math.isnan(got.spread_pct)
    assert got.dollar_volume_1m == 50.0


def test_bars_out_of_order_are_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        tradeability_inputs([2 * S, S], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], 10 * S)


def test_batch_equals_the_per_time_function_on_random_bars() -> None:
    rng = np.random.default_rng(5)
    ts = np.sort(rng.choice(np.arange(4 * 3600), 3000, replace=False)) * S
    close = np.exp(np.cumsum(rng.normal(0, 0.004, ts.size))) * 3.0
    vwap = close * (1 + rng.normal(0, 0.001, ts.size))
    volume = rng.integers(1, 5000, ts.size).astype(float)
    at = np.r_[rng.integers(0, 4 * 3600 * S, 500), ts[:50], ts[:50] + S, [0, -S, 5 * 3600 * S]]
    dollar, spread = tradeability_batch(ts, close, vwap, volume, at)
    for i, when in enumerate(at):
        one = tradeability_inputs(ts, close, vwap, volume, int(when))
        assert dollar[i] == pytest.approx(one.dollar_volume_1m, rel=1e-9, abs=1e-6)
        if math.isnan(one.spread_pct):
            assert math.isnan(spread[i])
        else:
            assert spread[i] == pytest.approx(one.spread_pct, rel=1e-9)


def test_batch_of_no_bars_gives_zero_volume_and_unknown_spread() -> None:
    dollar, spread = tradeability_batch([], [], [], [], [S, 2 * S])
    assert dollar.tolist() == [0.0, 0.0]
    assert np.isnan(spread).all()


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        (TradeabilityInputs(100_000.0, 2.0), None),  # both limits are inclusive
        (TradeabilityInputs(99_999.0, 0.5), "not_tradeable_dollar_volume"),
        (TradeabilityInputs(math.nan, 0.5), "not_tradeable_dollar_volume"),
        (TradeabilityInputs(50_000.0, 9.0), "not_tradeable_dollar_volume"),  # dollar volume checked first
        (TradeabilityInputs(500_000.0, 2.01), "not_tradeable_spread"),
        (TradeabilityInputs(500_000.0, math.nan), "not_tradeable_spread"),
    ],
)
def test_gate_checks_dollar_volume_then_spread_and_fails_unknown_values(
    inputs: TradeabilityInputs, expected: str | None
) -> None:
    gate = TradeabilityGate(min_dollar_volume_1m=100_000.0, max_spread_pct=2.0)
    assert gate.check(inputs) == expected
    low, wide = gate.screen(np.array([inputs.dollar_volume_1m]), np.array([inputs.spread_pct]))
    vector = "not_tradeable_dollar_volume" if low[0] else "not_tradeable_spread" if wide[0] else None
    assert vector == expected


def test_tradeability_of_many_symbols_equals_the_reference_of_each_bit_for_bit() -> None:
    from sigma9_runtime.gates.tradeability import tradeability_many

    rng = np.random.default_rng(5)
    second = 1_000_000_000
    at = 1_000 * second
    bars = []
    for count in [0, 1, 2, 6, 7, 8, 9, 17, 60, 61, 128, 129, 300, 400, *rng.integers(0, 400, size=40).tolist()]:
        ts = np.sort(rng.choice(np.arange(500, 1_100), size=count, replace=False)).astype(np.int64) * second
        close = rng.lognormal(size=count) * 10
        bars.append((ts, close, close * (1 + 0.001 * rng.random(count)), rng.integers(0, 10_000, count).astype(float)))
    dollar, spread = tradeability_many(bars, at)
    for k, columns in enumerate(bars):
        assert repr((dollar[k].item(), spread[k].item())) == repr(tuple(tradeability_inputs(*columns, at)))
