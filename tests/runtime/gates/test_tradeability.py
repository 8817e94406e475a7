"""Tradeability inputs from 1-second and 1-minute bars and the liquidity gate, on hand-made bars."""

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


# --- 1-minute bars: the last completed minute bar and the close-high-low spread -------------------

M = 60 * S


def _minute_bars(rng: np.random.Generator, minutes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Random minute bars stamped at ``minutes`` (whole minutes): ``(ts, close, vwap, volume, high, low)``.
    Every third run of 20 bars climbs steadily, closing at its highs (the estimate is floored at 0 there)."""
    n = minutes.size
    trend = np.arange(n) // 20 % 3 == 2
    mid = np.exp(np.cumsum(rng.normal(0, 0.003, n) + 0.015 * trend)) * rng.choice([0.5, 4.0, 30.0])
    high = mid * (1 + rng.uniform(0.0005, 0.01, n))
    low = mid * (1 - rng.uniform(0.0005, 0.01, n))
    close = np.where(trend, high, low + (high - low) * rng.choice([0.0, 1.0, rng.random()], n))
    volume = rng.integers(0, 20_000, n).astype(float)
    return minutes.astype(np.int64) * M, close, (high + low) / 2, volume, high, low


def test_dollar_volume_window_of_second_bars_is_the_sixty_seconds_before_any_time() -> None:
    rng = np.random.default_rng(2)
    ts = np.sort(rng.choice(np.arange(600), 400, replace=False)) * S
    vwap, volume = rng.uniform(1, 5, ts.size), rng.integers(0, 900, ts.size).astype(float)
    for at in [*rng.integers(0, 700 * S, 200).tolist(), 120 * S, 120 * S + 1, 120 * S - 1]:
        inside = (ts >= at - 60 * S) & (ts < at) & (ts + S <= at)  # the rule before minute bars existed
        got = tradeability_inputs(ts, vwap, vwap, volume, at).dollar_volume_1m
        assert got == float(np.sum(vwap[inside] * volume[inside]))


@pytest.mark.parametrize(
    ("at", "last_bar"),
    [
        (5 * M, 4),  # a whole minute: the bar of [4 min, 5 min)
        (5 * M + 1, 4),
        (5 * M + 30 * S, 4),  # the bar of [5 min, 6 min) is still open
        (5 * M + 59 * S, 4),  # the last whole second the bar of [4 min, 5 min) ended within 59 s
        (5 * M + 59 * S + S // 2, None),  # between whole seconds past :59 no bar ended in [at - 59 s, at]
        (6 * M, 5),
    ],
)
def test_dollar_volume_of_minute_bars_is_the_last_completed_minute_bar(at: int, last_bar: int | None) -> None:
    ts = np.arange(8) * M
    vwap = 10.0 + np.arange(8)
    volume = np.full(8, 1_000.0)
    high, low = vwap + 0.01, vwap - 0.01
    got = tradeability_inputs(ts, vwap, vwap, volume, at, bar_ns=M, high=high, low=low)
    assert got.dollar_volume_1m == (0.0 if last_bar is None else vwap[last_bar] * 1_000.0)


def test_at_whole_minutes_second_and_minute_bars_of_the_same_trades_give_the_same_dollar_volume() -> None:
    from sigma9_runtime.bars import bars_from_trades

    rng = np.random.default_rng(4)
    ts = np.sort(rng.integers(0, 30 * M, 5_000))
    price, size = rng.uniform(2.0, 2.1, ts.size), rng.integers(1, 500, ts.size).astype(float)
    seconds, minutes = bars_from_trades(ts, price, size, S), bars_from_trades(ts, price, size, M)
    at = np.arange(1, 31) * M
    from_seconds, _ = tradeability_batch(seconds["ts"], seconds["close"], seconds["vwap"], seconds["volume"], at)
    from_minutes, _ = tradeability_batch(
        minutes["ts"],
        minutes["close"],
        minutes["vwap"],
        minutes["volume"],
        at,
        bar_ns=M,
        high=minutes["high"],
        low=minutes["low"],
    )
    np.testing.assert_allclose(from_minutes, from_seconds, rtol=1e-9)


def test_minute_spread_is_the_abdi_ranaldo_estimate_of_a_hand_computed_example() -> None:
    # In log units: close c and mid-range eta; high and low 0.02 either side of eta.
    c = np.array([0.02, 0.00, 0.03, 0.01, 0.02, 0.02])
    eta = np.array([0.01, 0.01, 0.02, 0.02, 0.02, 0.03])
    # (c[t] - eta[t]) * (c[t] - eta[t+1]) = 1e-4, 2e-4, 1e-4, 1e-4, 0: mean 1e-4, s2 = 4e-4, s = 0.02 (2%).
    close, high, low = 10 * np.exp(c), 10 * np.exp(eta + 0.02), 10 * np.exp(eta - 0.02)
    ts = np.arange(6) * M
    got = tradeability_inputs(ts, close, close, np.ones(6), 6 * M, bar_ns=M, high=high, low=low)
    assert got.spread_pct == pytest.approx(2.0, rel=1e-9)


def test_minute_spread_of_a_steady_trend_is_floored_at_zero() -> None:
    eta = 0.02 * np.arange(8)  # each bar's range 2% above the last; closes 1% above their mid-range
    close, high, low = 10 * np.exp(eta + 0.01), 10 * np.exp(eta + 0.015), 10 * np.exp(eta - 0.015)
    got = tradeability_inputs(np.arange(8) * M, close, close, np.ones(8), 8 * M, bar_ns=M, high=high, low=low)
    assert got.spread_pct == 0.0  # s2 = 4 * (0.01 * -0.01) < 0


def test_minute_spread_pairs_consecutive_bars_of_the_last_thirty_minutes_and_needs_five_pairs() -> None:
    rng = np.random.default_rng(8)
    ts, close, vwap, volume, high, low = _minute_bars(rng, np.array([0, 51, 55, 61, 70, 72, 80]))
    at = 81 * M

    def spread(n_bars: int, when: int = at) -> float:
        window = slice(ts.size - n_bars, ts.size)
        columns = (ts[window], close[window], vwap[window], volume[window])
        return tradeability_inputs(*columns, when, bar_ns=M, high=high[window], low=low[window]).spread_pct

    # The bars of 51-80 min are 5 pairs of consecutive bars, gaps and all; the bar at 0 min is too old.
    assert math.isfinite(spread(6)) and spread(7) == spread(6)
    assert math.isnan(spread(5))  # 4 pairs
    assert math.isnan(spread(6, when=at - 1))  # the bar of [80 min, 81 min) is still open: 4 pairs
    assert math.isnan(spread(7, when=at + 29 * M))  # only the last bar is in the window of 80-109 min


def test_minute_bars_need_high_and_low_and_only_two_bar_lengths_are_known() -> None:
    with pytest.raises(ValueError, match="high= and low="):
        tradeability_inputs([0, M], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], 2 * M, bar_ns=M)
    with pytest.raises(ValueError, match="high= and low="):
        tradeability_batch([0, M], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [2 * M], bar_ns=M, high=[1.0, 1.0])
    with pytest.raises(ValueError, match="bar_ns must be"):
        tradeability_inputs([0, 5 * S], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], 10 * S, bar_ns=5 * S)


def test_minute_batch_equals_the_per_time_function_on_random_bars() -> None:
    rng = np.random.default_rng(9)
    ts, close, vwap, volume, high, low = _minute_bars(rng, np.sort(rng.choice(np.arange(960), 600, replace=False)))
    at = np.r_[rng.integers(0, 1_000 * M, 400), ts[:40], ts[:40] + M, ts[:40] + M + 1, [0, -M, 2_000 * M]]
    dollar, spread = tradeability_batch(ts, close, vwap, volume, at, bar_ns=M, high=high, low=low)
    finite = zero = 0
    for i, when in enumerate(at.tolist()):
        one = tradeability_inputs(ts, close, vwap, volume, when, bar_ns=M, high=high, low=low)
        assert dollar[i] == pytest.approx(one.dollar_volume_1m, rel=1e-9, abs=1e-6)
        if math.isnan(one.spread_pct):
            assert math.isnan(spread[i])
        else:
            finite += 1
            zero += one.spread_pct == 0.0
            assert spread[i] == pytest.approx(one.spread_pct, rel=1e-9)
    assert finite > 300 and zero > 10


def test_minute_tradeability_of_many_symbols_equals_the_reference_of_each_bit_for_bit() -> None:
    from sigma9_runtime.gates.tradeability import tradeability_many

    rng = np.random.default_rng(10)
    at = 100 * M
    bars, highs, lows = [], [], []
    for count in [0, 1, 2, 5, 6, 7, 17, 29, 30, 31, 33, 60, *rng.integers(0, 60, size=40).tolist()]:
        ts, close, vwap, volume, high, low = _minute_bars(rng, np.sort(rng.choice(np.arange(40, 110), count, False)))
        bars.append((ts, close, vwap, volume))
        highs.append(high)
        lows.append(low)
    dollar, spread = tradeability_many(bars, at, bar_ns=M, high=highs, low=lows)
    assert np.isfinite(spread).sum() > 20 and (spread == 0.0).sum() > 2
    for k, columns in enumerate(bars):
        one = tradeability_inputs(*columns, at, bar_ns=M, high=highs[k], low=lows[k])
        assert repr((dollar[k].item(), spread[k].item())) == repr(tuple(one))
