"""Price and tradeability lookups on the tiny synthetic lake."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sigma9_dag.evaluation import LakePrices, attach_tradeability, load_events
from sigma9_runtime.calendar import session_bounds, session_date
from sigma9_runtime.gates import tradeability_inputs
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_bars

S = 1_000_000_000


@pytest.fixture(scope="module")
def event(synthetic_lake: LakeLayout) -> tuple[str, object, int]:
    """The first planted event at least an hour into a regular session (busy enough for a spread)."""
    events = load_events(synthetic_lake)
    for symbol, t0 in zip(events["symbol"], events["t0_ns"].tolist()):
        day = session_date(t0)
        if session_bounds(day).regular[0] + 3600 * S <= t0 < session_bounds(day).regular[1]:
            return symbol, day, t0
    raise AssertionError("the synthetic lake plants regular-session events")


def test_day_bars_are_the_lakes_1s_bars_of_that_trading_day(synthetic_lake: LakeLayout, event) -> None:  # type: ignore[no-untyped-def]
    symbol, day, _ = event
    bounds = session_bounds(day)
    expected = read_bars(synthetic_lake, "1s", symbol, bounds.start, bounds.end).to_pandas()
    bars = LakePrices(synthetic_lake).day_bars(symbol, day)
    assert bars.ts.size == len(expected) > 100
    assert np.array_equal(bars.ts, expected["ts"].to_numpy())
    assert np.array_equal(bars.open, expected["open"].to_numpy())


def test_bars_are_rebuilt_from_trades_when_the_lake_has_no_1s_file(synthetic_lake: LakeLayout, event) -> None:  # type: ignore[no-untyped-def]
    symbol, day, _ = event
    no_1s = dataclasses.replace(synthetic_lake, bar_1s_template="missing/{ticker}.parquet")
    rebuilt = LakePrices(no_1s).day_bars(symbol, day)
    stored = LakePrices(synthetic_lake).day_bars(symbol, day)
    assert np.array_equal(rebuilt.ts, stored.ts)
    assert np.allclose(rebuilt.close, stored.close)


def test_fills_are_the_open_of_the_first_bar_at_or_after_each_order(synthetic_lake: LakeLayout, event) -> None:  # type: ignore[no-untyped-def]
    symbol, day, t0 = event
    prices = LakePrices(synthetic_lake)
    bars = prices.day_bars(symbol, day)
    orders = np.array([bars.ts[10], bars.ts[10] + 1, t0, bars.ts[-1] + 1])
    fills = prices.fills(symbol, day, orders, side="buy")
    assert fills.ts_ns[0] == bars.ts[10] and fills.price[0] == bars.open[10]
    assert fills.ts_ns[1] == bars.ts[11] and fills.price[1] == bars.open[11]
    after_t0 = int(np.searchsorted(bars.ts, t0))  # the bar holding the T0 trade starts before T0
    assert bars.ts[after_t0 - 1] <= t0 < bars.ts[after_t0] == fills.ts_ns[2]
    assert fills.ts_ns[3] == -1 and np.isnan(fills.price[3])
    assert prices.last_close(symbol, day) == (int(bars.ts[-1]), float(bars.close[-1]))


def test_attached_tradeability_equals_the_runtime_function_on_the_same_bars(synthetic_lake: LakeLayout, event) -> None:  # type: ignore[no-untyped-def]
    symbol, day, t0 = event
    prices = LakePrices(synthetic_lake)
    times = t0 - np.array([30, 10, 5, 1]) * 60 * S
    got = attach_tradeability(pd.DataFrame({"symbol": symbol, "ts_ns": times}), prices)
    bars = prices.day_bars(symbol, day)
    for i, at in enumerate(times):
        one = tradeability_inputs(bars.ts, bars.close, bars.vwap, bars.volume, int(at))
        assert got["dollar_volume_1m"].iloc[i] == pytest.approx(one.dollar_volume_1m, rel=1e-9)
        assert got["spread_pct"].iloc[i] == pytest.approx(one.spread_pct, rel=1e-9, nan_ok=True)
    assert (got["dollar_volume_1m"] >= 0).all() and got["spread_pct"].between(0.05, 5).any()


def test_a_minute_bar_spec_reads_fills_and_tradeability_from_the_lakes_1m_bars(minute_lake: LakeLayout, event) -> None:  # type: ignore[no-untyped-def]
    from tests.stubs import minute_bar_feature_spec

    symbol, day, t0 = event
    prices = LakePrices.for_spec(minute_lake, minute_bar_feature_spec())
    assert prices.kind == "AM" and prices.bar_ns == 60 * S
    bounds = session_bounds(day)
    expected = read_bars(minute_lake, "1m", symbol, bounds.start, bounds.end).to_pandas()
    bars = prices.day_bars(symbol, day)
    assert np.array_equal(bars.ts, expected["ts"].to_numpy()) and bars.ts.size > 100
    assert np.array_equal(bars.transactions, expected["transactions"].to_numpy())
    order = t0 + 1  # a minute bar holds T0: the order fills at the open of the next one
    fill = prices.fills(symbol, day, np.array([order]), side="buy")
    assert fill.ts_ns[0] == (t0 // (60 * S) + 1) * 60 * S and fill.ts_ns[0] in set(bars.ts.tolist())
    at = (t0 // (60 * S)) * 60 * S
    dollar, spread = prices.tradeability(symbol, day, np.array([at]))
    last = expected[expected["ts"] == at - 60 * S]
    assert dollar[0] == pytest.approx(float((last["vwap"] * last["volume"]).sum()), rel=1e-12)
    assert np.isfinite(spread[0])


def test_the_evaluation_labels_alerts_with_the_events_the_lake_shows_not_its_ground_truth(
    minute_lake: LakeLayout, synthetic_lake: LakeLayout
) -> None:
    truth = load_events(synthetic_lake)
    found = LakePrices(minute_lake).events
    assert len(found) == len(truth) > 0
    minute = 60 * S
    assert (found["t0_ns"].to_numpy() == (truth["t0_ns"].to_numpy() // minute + 1) * minute).all()


def test_bars_preloaded_in_one_pass_equal_the_bars_read_day_by_day(synthetic_lake: LakeLayout, event) -> None:  # type: ignore[no-untyped-def]
    symbol, day, _ = event
    days = synthetic_lake.trade_dates()
    wanted = [days[0], day, days[-1], days[1]]
    preloaded = LakePrices(synthetic_lake)
    preloaded.preload(symbol, wanted)
    assert all((symbol, d, "A") in preloaded._cache for d in wanted)
    for d in wanted:
        one, other = preloaded.day_bars(symbol, d), LakePrices(synthetic_lake).day_bars(symbol, d)
        for field in dataclasses.fields(one):
            assert np.array_equal(getattr(one, field.name), getattr(other, field.name)), (d, field.name)
    small = LakePrices(synthetic_lake, cache_days=2)
    small.preload(symbol, wanted)  # more days than the cache holds: the last ones are kept
    assert len(small._cache) == 2
