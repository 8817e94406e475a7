"""RecentBars: the last five minutes of 1-second bars equal the reference tradeability inputs."""

import numpy as np

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
