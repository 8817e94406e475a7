import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sigma9_runtime.bars import BarAccumulator, bars_from_trades, is_eligible
from sigma9_runtime.units import MINUTE_NS, SECOND_NS


def _incremental(ts: np.ndarray, price: np.ndarray, size: np.ndarray, interval: int) -> list[tuple]:
    acc = BarAccumulator(interval)
    out = []
    for t, p, s in zip(ts.tolist(), price.tolist(), size.tolist()):
        bar = acc.update(t, p, s)
        if bar is not None:
            out.append(bar)
    last = acc.flush()
    if last is not None:
        out.append(last)
    return [(b.ts, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.transactions) for b in out]


def _batch(ts: np.ndarray, price: np.ndarray, size: np.ndarray, interval: int) -> list[tuple]:
    bars = bars_from_trades(ts, price, size, interval)
    columns = ["ts", "open", "high", "low", "close", "volume", "vwap", "transactions"]
    return list(zip(*(bars[c].tolist() for c in columns)))


def test_bars_follow_the_documented_rule_on_a_hand_made_tape() -> None:
    ts = np.array([0, 200_000_000, 900_000_000, 2 * SECOND_NS + 1], dtype=np.int64)
    price = np.array([10.0, 10.5, 9.9, 10.2])
    size = np.array([100.0, 50.0, 50.0, 10.0])
    bars = bars_from_trades(ts, price, size, SECOND_NS)
    assert bars["ts"].tolist() == [0, 2 * SECOND_NS]  # stamped at interval start, no bar for the empty second
    assert (bars["open"][0], bars["high"][0], bars["low"][0], bars["close"][0]) == (10.0, 10.5, 9.9, 9.9)
    assert bars["volume"][0] == 200.0
    assert bars["vwap"][0] == (10.0 * 100 + 10.5 * 50 + 9.9 * 50) / 200
    assert bars["transactions"].tolist() == [3, 1]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5 * 60 * SECOND_NS), st.floats(0.5, 50.0), st.integers(1, 5000)),
        max_size=300,
    ),
    st.sampled_from([SECOND_NS, MINUTE_NS]),
)
def test_incremental_bars_equal_batch_bars_bit_for_bit(trades: list, interval: int) -> None:
    trades.sort(key=lambda t: t[0])
    ts = np.array([t[0] for t in trades], dtype=np.int64)
    price = np.array([t[1] for t in trades], dtype=np.float64)
    size = np.array([t[2] for t in trades], dtype=np.float64)
    assert _incremental(ts, price, size, interval) == _batch(ts, price, size, interval)


def test_excluded_conditions_and_corrections_are_not_eligible() -> None:
    assert is_eligible([], 0) and is_eligible(None, 0) and is_eligible([12, 37], 0)
    assert not is_eligible([2], 0)  # average price trade
    assert not is_eligible([12], 1)  # corrected


def test_batch_bars_refuse_unsorted_trades() -> None:
    import pytest

    with pytest.raises(ValueError, match="sorted"):
        bars_from_trades(np.array([5, 1]), np.array([1.0, 1.0]), np.array([1.0, 1.0]), SECOND_NS)
