"""RecentBars: the last bars of one stream (1-second or 1-minute) equal the reference tradeability inputs."""

import math

import numpy as np
import pytest

from sigma9_runtime.feeds.events import AggBatch, AggEvent
from sigma9_runtime.gates import tradeability_inputs
from sigma9_runtime.gates.recent_bars import RecentBars

SECOND = 1_000_000_000


def test_recent_bars_give_the_reference_inputs_and_skip_bad_or_repeated_bars() -> None:
    rng = np.random.default_rng(3)
    ts = np.arange(0, 900) * SECOND
    close = 10 + rng.normal(scale=0.02, size=ts.size)
    volume = rng.integers(0, 500, size=ts.size).astype(float)
    bars = RecentBars()
    for t, c, v in zip(ts.tolist(), close.tolist(), volume.tolist()):
        assert bars.add("ABCD", t, c, c, v)
    at = int(ts[-1]) + SECOND
    assert bars.inputs("ABCD", at) == tradeability_inputs(ts, close, close, volume, at)
    assert len(bars._bars["ABCD"]) <= 303  # bounded: five minutes and two bars
    assert not bars.add("ABCD", int(ts[-1]), 10.0, 10.0, 1.0)  # repeated
    assert not bars.add("ABCD", at + 1, 10.0, 10.0, 1.0)  # not a whole second
    assert not bars.add("ABCD", at, float("nan"), 10.0, 1.0)
    assert dict(bars.skipped) == {"out_of_order": 1, "bad_timestamp": 1, "bad_bar": 1}
    assert np.isnan(bars.inputs("NONE", at).dollar_volume_1m)


def test_inputs_of_many_symbols_equal_the_inputs_of_each_bit_for_bit() -> None:
    rng = np.random.default_rng(11)
    bars = RecentBars()
    symbols = [f"S{k}" for k in range(30)]
    end = 2_000 * SECOND
    for k, symbol in enumerate(symbols[:-2]):  # the last two have no bars
        seconds = rng.choice(np.arange(1, 2_000), size=int(rng.integers(1, 1_500)), replace=False)
        for second in np.sort(seconds).tolist():
            close = float(rng.choice([0.3, 8.0, 120.0]) * (1 + 0.01 * rng.normal()))
            bars.add(symbol, second * SECOND, close, close * (1 + 0.001 * rng.random()), float(rng.integers(0, 9)) * k)
    for at in (end - 500 * SECOND, end - 61 * SECOND, end, end + 30 * SECOND, end + 400 * SECOND):
        dollar, spread = bars.inputs_many(symbols + symbols[:3], at)
        for k, symbol in enumerate(symbols + symbols[:3]):
            assert repr((dollar[k].item(), spread[k].item())) == repr(tuple(bars.inputs(symbol, at)))
    assert bars.inputs_many([], end)[0].size == 0


MINUTE = 60 * SECOND


def _minute_event(symbol: str, start: int, close: float, high: float, low: float, kind: str = "AM") -> AggEvent:
    length = MINUTE if kind == "AM" else SECOND
    return AggEvent(kind, symbol, start, start + length, close, high, low, close, 1_000.0, close, 10)  # type: ignore[arg-type]


def test_minute_recent_bars_keep_am_bars_with_their_range_and_give_the_reference_inputs() -> None:
    rng = np.random.default_rng(4)
    minutes = np.sort(rng.choice(np.arange(0, 400), size=300, replace=False))
    ts = minutes.astype(np.int64) * MINUTE
    mid = 10 * np.exp(np.cumsum(rng.normal(0, 0.002, ts.size)))
    high, low = mid * 1.003, mid * 0.997
    close = low + (high - low) * rng.random(ts.size)
    volume = rng.integers(0, 5_000, ts.size).astype(float)
    bars = RecentBars("AM")
    assert bars.kind == "AM" and bars.bar_ns == MINUTE and RecentBars().kind == "A"
    for t, c, v, h, lo in zip(ts.tolist(), close.tolist(), volume.tolist(), high.tolist(), low.tolist()):
        assert bars.add("ABCD", t, c, c, v, high=h, low=lo)
    for at in (int(ts[-1]) + MINUTE, int(ts[-1]) + MINUTE + 17 * SECOND, int(ts[-1]) + 20 * MINUTE):
        reference = tradeability_inputs(ts, close, close, volume, at, bar_ns=MINUTE, high=high, low=low)
        assert bars.inputs("ABCD", at) == reference
    assert np.isfinite(bars.inputs("ABCD", int(ts[-1]) + MINUTE).spread_pct)
    assert len(bars._bars["ABCD"]) <= 33  # bounded: 30 minutes and three bars


def test_minute_recent_bars_take_only_am_bars_and_skip_bad_ones() -> None:
    bars = RecentBars("AM")
    assert not bars.add_event(_minute_event("ABCD", 0, 10.0, 10.1, 9.9, kind="A"))  # a 1-second bar
    assert bars.add_batch(AggBatch.from_events("A", [_minute_event("ABCD", 0, 10.0, 10.1, 9.9, kind="A")])) == 0
    assert bars.add_event(_minute_event("ABCD", 0, 10.0, 10.1, 9.9))
    batch = AggBatch.from_events("AM", [_minute_event("ABCD", k * MINUTE, 10.0, 10.1, 9.9) for k in range(1, 7)])
    assert bars.add_batch(batch) == 6
    assert not bars.add("ABCD", 7 * MINUTE, 10.0, 10.0, 1.0)  # no high and low
    assert not bars.add("ABCD", 7 * MINUTE, 10.0, 10.0, 1.0, high=9.9, low=10.1)  # low above high
    assert not bars.add("ABCD", 7 * MINUTE + SECOND, 10.0, 10.0, 1.0, high=10.1, low=9.9)  # not a whole minute
    assert not bars.add("ABCD", 6 * MINUTE, 10.0, 10.0, 1.0, high=10.1, low=9.9)  # repeated
    assert dict(bars.skipped) == {"bad_bar": 2, "bad_timestamp": 1, "out_of_order": 1}
    got = bars.inputs("ABCD", 7 * MINUTE)
    assert got.dollar_volume_1m == 10_000.0
    # Every close 10.0 sits ln(10 / sqrt(10.1 * 9.9)) off its bar's mid-range: s = 2 * that.
    assert got.spread_pct == pytest.approx(-100 * math.log(0.9999), rel=1e-6)
    seconds = RecentBars()
    assert not seconds.add_event(_minute_event("ABCD", 0, 10.0, 10.1, 9.9))  # the default keeps A bars only
    assert seconds.add_batch(batch) == 0


def test_minute_inputs_of_many_symbols_equal_the_inputs_of_each_bit_for_bit() -> None:
    rng = np.random.default_rng(12)
    bars = RecentBars("AM")
    symbols = [f"S{k}" for k in range(30)]
    end = 200 * MINUTE
    for k, symbol in enumerate(symbols[:-2]):  # the last two have no bars
        minutes = rng.choice(np.arange(1, 200), size=int(rng.integers(1, 150)), replace=False)
        for minute in np.sort(minutes).tolist():
            mid = float(rng.choice([0.3, 8.0, 120.0]) * (1 + 0.01 * rng.normal()))
            high, low = mid * (1 + 0.01 * rng.random()), mid * (1 - 0.01 * rng.random())
            close = low + (high - low) * float(rng.random())
            bars.add(symbol, minute * MINUTE, close, mid, float(rng.integers(0, 9)) * k, high=high, low=low)
    for at in (end - 50 * MINUTE, end - 61 * SECOND, end, end + 30 * SECOND, end + 40 * MINUTE):
        dollar, spread = bars.inputs_many(symbols + symbols[:3], at)
        for k, symbol in enumerate(symbols + symbols[:3]):
            assert repr((dollar[k].item(), spread[k].item())) == repr(tuple(bars.inputs(symbol, at)))
    assert np.isfinite(bars.inputs_many(symbols, end)[1]).sum() > 10


def test_bars_of_new_symbols_beyond_the_cap_are_skipped() -> None:
    bars = RecentBars(max_symbols=2)
    kept = [bars.add(symbol, 0, 10.0, 10.0, 100.0) for symbol in ("AAA", "BBB", "CCC", "DDD")]
    assert kept == [True, True, False, False] and bars.skipped["symbol_cap"] == 2
    assert bars.add("AAA", 1_000_000_000, 10.0, 10.0, 100.0)  # known symbols still take bars
    assert math.isnan(bars.inputs("CCC", 2_000_000_000).dollar_volume_1m)
