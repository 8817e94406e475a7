"""A strategy whose FeatureSpec reads 1-minute bars alone gates and ends its candidates on ``AM`` bars."""

import datetime as dt
import json

import numpy as np
import pytest

from sigma9_runtime.container import RuntimeContainer
from sigma9_runtime.feeds.events import AggBatch, AggEvent
from sigma9_runtime.gates import tradeability_inputs
from sigma9_runtime.strategies import ScoringStrategy
from tests.stubs import (
    MINUTE_ONLY_SOURCES,
    RUNTIME_DAY,
    deliver,
    feature_spec,
    liquid_minute_bars,
    liquid_ticks,
    runtime_config,
)

DAY = dt.date.fromisoformat(RUNTIME_DAY)
S = 1_000_000_000
M = 60 * S


def _minute_strategy() -> ScoringStrategy:
    """``seismograph`` (threshold 0) over a spec with only bar_1m + daily sources."""
    spec = feature_spec(**MINUTE_ONLY_SOURCES)
    return RuntimeContainer(runtime_config(params={"threshold": 0.0}), spec=spec).strategy


def _started(strategy: ScoringStrategy) -> int:
    strategy.start_day(DAY, None, {"AAA": 9.5, "BBB": 9.5})  # thresholds 10.45; the bars trade at 10.00-10.01
    return int(strategy.features.steps()[333])  # 09:33 New York, a whole minute


def _crossing_bar(t: int) -> AggEvent:
    """AAA's minute bar of [t, t + 1 min), whose high reaches its threshold."""
    return AggEvent("AM", "AAA", t, t + M, 10.0, 10.5, 10.0, 10.4, 50_000.0, 10.2, 100)


def _second_bars(t: int) -> list:
    """1-second bars that would cross and be liquid, were they read."""
    return [b for s in ("AAA", "BBB") for b in liquid_ticks(s, t, seconds=60, price=11.0) if isinstance(b, AggEvent)]


def test_a_minute_bar_spec_reads_tradeability_and_the_cross_from_minute_bars() -> None:
    strategy = _minute_strategy()
    assert strategy.bar_kind == strategy.bars.kind == strategy.crossing.kind == "AM"
    t = _started(strategy)
    assert strategy.crossing.kind == "AM"  # kept by the new day's tracker
    bars = {s: liquid_minute_bars(s, t) for s in ("AAA", "BBB")}
    for symbol in ("AAA", "BBB"):
        deliver(strategy, bars[symbol])
    first = strategy.score_step(t)
    assert [c.symbol for c in first] == ["AAA", "BBB"] and all(c.alert for c in first)
    columns = [np.array([getattr(b, f) for b in bars["AAA"]]) for f in ("start_ns", "close", "vwap", "volume")]
    high, low = np.array([b.high for b in bars["AAA"]]), np.array([b.low for b in bars["AAA"]])
    expected = tradeability_inputs(*columns, t, bar_ns=M, high=high, low=low)
    assert first[0].tradeability == expected
    assert expected.dollar_volume_1m == pytest.approx(10.005 * 50_000.0)  # the last minute bar's
    assert expected.spread_pct == pytest.approx(100 * np.log(10.01 / 10.0))  # the closes' bounce off the range
    strategy.on_tick(_crossing_bar(t))  # delivered at its end, t + 1 min
    assert strategy.crossing.cross_ns("AAA") == t + M  # the end of the minute bar, not before
    assert not strategy.crossing.crossed("AAA", t + M - 1)
    assert [c.symbol for c in strategy.score_step(t + M)] == ["BBB"] and strategy.crossed_skipped == 1
    assert strategy.calculate_watchlist_score_detailed("AAA").reason == "after_cross"


def test_second_bars_change_nothing_for_a_minute_bar_spec() -> None:
    plain, fed = _minute_strategy(), _minute_strategy()
    t = _started(plain)
    _started(fed)
    for strategy in (plain, fed):
        deliver(strategy, [*liquid_minute_bars("AAA", t), *liquid_minute_bars("BBB", t, volume=1_000.0)])
    seconds = _second_bars(t)
    deliver(fed, seconds[:60])
    fed.on_tick(AggBatch.from_events("A", seconds[60:]))
    message = {"ev": "A", "sym": "BBB", "v": 1e6, "vw": 11.0, "o": 11.0, "h": 12.0, "l": 11.0, "c": 11.0}
    fed.on_tick(json.dumps([{**message, "s": t // 1_000_000 - 1_000, "e": t // 1_000_000}]))  # a raw frame
    assert fed.bars.inputs("AAA", t) == plain.bars.inputs("AAA", t) and fed.crossing.crossings == {}
    candidates = fed.score_step(t)
    assert [c.to_record() for c in candidates] == [c.to_record() for c in plain.score_step(t)]
    # BBB's $10k minute bars leave it untradeable though its 1-second bars traded millions above the threshold.
    assert [(c.symbol, c.reason) for c in candidates] == [("AAA", None), ("BBB", "not_tradeable_dollar_volume")]


def test_a_raw_am_frame_feeds_the_minute_gate_bars_and_the_cross() -> None:
    strategy = _minute_strategy()
    t = _started(strategy)
    message = {"ev": "AM", "sym": "AAA", "v": 50_000, "vw": 10.2, "o": 10.0, "h": 10.5, "l": 10.0, "c": 10.4}
    strategy.features.advance_clock(t + M)  # the bar is delivered at its end
    strategy.on_tick(json.dumps([{**message, "s": t // 1_000_000, "e": (t + M) // 1_000_000}]))
    assert strategy.crossing.cross_ns("AAA") == t + M
    assert strategy.bars.inputs("AAA", t + M).dollar_volume_1m == pytest.approx(10.2 * 50_000)
