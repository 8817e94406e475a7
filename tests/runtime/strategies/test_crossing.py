"""The cross rule: CrossTracker per bar and per batch, and a strategy's candidates ending at the cross."""

import datetime as dt
import math
from types import SimpleNamespace

import numpy as np
import pytest

from sigma9_runtime.container import RuntimeContainer
from sigma9_runtime.feeds.events import AggBatch, AggEvent
from sigma9_runtime.strategies import ScoringStrategy
from sigma9_runtime.strategies.crossing import CrossTracker
from tests.stubs import RUNTIME_DAY, deliver, liquid_ticks, runtime_config

DAY = dt.date.fromisoformat(RUNTIME_DAY)
S = 1_000_000_000


def _bar(symbol: str, start_ns: int, high: float, kind: str = "A") -> AggEvent:
    length = S if kind == "A" else 60 * S
    return AggEvent(kind, symbol, start_ns, start_ns + length, high, high, high, high, 100.0, high, 1)  # type: ignore[arg-type]


def test_a_symbol_crosses_at_the_end_of_its_first_bar_reaching_the_threshold() -> None:
    tracker = CrossTracker(0.10)
    tracker.start_day(DAY, {"AAA": 2.0, "BAD": math.nan, "NEG": -1.0})
    assert tracker.threshold("AAA") == 2.0 * (1 + 0.10) and tracker.threshold("BAD") is None
    assert not tracker.add_event(_bar("AAA", 10 * S, 2.19))
    assert not tracker.add_event(_bar("AAA", 10 * S, 5.0, kind="AM"))  # minute bars are not watched
    assert tracker.add_event(_bar("AAA", 11 * S, 2.2))  # high == threshold: crossed
    assert not tracker.add_event(_bar("AAA", 12 * S, 3.0))  # the first cross stays
    assert tracker.cross_ns("AAA") == 12 * S  # the end of the bar starting at 11 s
    assert not tracker.crossed("AAA", 12 * S - 1) and tracker.crossed("AAA", 12 * S)
    for unknown in ("BAD", "NEG", "ZZZ"):  # unknown previous close: never crossed
        assert not tracker.add_event(_bar(unknown, 10 * S, 1e9)) and not tracker.crossed(unknown, 10**20)
    assert tracker.crossed_many(["ZZZ", "AAA", "AAA"], 12 * S).tolist() == [False, True, True]
    tracker.start_day(DAY + dt.timedelta(days=1), {"AAA": 2.0})
    assert tracker.crossings == {}


@pytest.mark.parametrize("size", [250, 5])  # columns, and a second's few bars taken one by one
def test_a_batch_of_bars_crosses_as_the_same_bars_one_at_a_time(size: int) -> None:
    rng = np.random.default_rng(3)
    closes = {f"S{i}": float(p) for i, p in enumerate(rng.uniform(1, 5, 12))}
    closes["NONE"] = math.nan
    closes["LOW"] = 2.0  # its bars stay below 2.2
    symbols = np.array(rng.choice(sorted(closes), 2_000), dtype=object)
    start = rng.integers(0, 600, 2_000) * S  # out of order within and across batches
    high = np.array([closes[s] for s in symbols.tolist()]) * rng.uniform(0.8, 1.15, 2_000)
    high[symbols == "LOW"] = 2.0
    high[::97] = np.nan
    one, many = CrossTracker(0.10), CrossTracker(0.10)
    one.start_day(DAY, closes)
    many.start_day(DAY, closes)
    new_one = new_many = 0
    for cut in range(0, 2_000, size):
        part = slice(cut, cut + size)
        events = [_bar(s, int(t), float(h)) for s, t, h in zip(symbols[part], start[part], high[part])]
        new_one += sum(one.add_event(e) for e in events)
        new_many += many.add_batch(AggBatch.from_events("A", events))
    assert one.crossings == many.crossings and new_one == new_many == len(one.crossings)
    assert len(one.crossings) >= 3 and "LOW" not in one.crossings and "NONE" not in one.crossings
    assert one._high == many._high


def test_no_anchor_turns_the_rule_off() -> None:
    tracker = CrossTracker(None)
    tracker.start_day(DAY, {"AAA": 2.0})
    assert not tracker.enabled and not tracker.add_event(_bar("AAA", 0, 100.0))
    assert tracker.add_batch(AggBatch.from_events("A", [_bar("AAA", S, 100.0)])) == 0 and tracker.crossings == {}


def test_a_new_anchor_keeps_crossings_the_day_high_still_reaches() -> None:
    tracker = CrossTracker(0.10)
    tracker.start_day(DAY, {"AAA": 2.0, "BBB": 2.0, "CCC": 2.0})
    for symbol, high in (("AAA", 2.3), ("BBB", 2.5), ("CCC", 2.15)):
        tracker.add_event(_bar(symbol, 5 * S, high))
    tracker.set_anchor(0.20, at_ns=100 * S)  # threshold 2.4
    assert tracker.crossings == {"BBB": 6 * S}
    tracker.set_anchor(0.05, at_ns=200 * S)  # threshold 2.1: CCC's high reached it, known now
    assert tracker.crossings == {"AAA": 200 * S, "BBB": 6 * S, "CCC": 200 * S}


def _seismograph(**params) -> ScoringStrategy:
    return RuntimeContainer(runtime_config(params={"threshold": 0.0, **params})).strategy


def _step(strategy: ScoringStrategy, previous_close=None) -> int:
    strategy.start_day(DAY, None, previous_close)
    return int(strategy.features.steps()[20_000])  # 09:33:20 New York


def test_a_symbol_stops_being_a_candidate_after_its_cross() -> None:
    strategy = _seismograph()
    t = _step(strategy, {"AAA": 9.5, "BBB": 9.5})  # thresholds 10.45; the ticks trade at 10.00-10.01
    for symbol in ("AAA", "BBB"):
        deliver(strategy, liquid_ticks(symbol, t))
    assert [c.symbol for c in strategy.score_step(t)] == ["AAA", "BBB"]
    strategy.on_tick(_bar("AAA", t, 10.5))  # AAA's bar of [t, t + 1 s) crosses; delivered at t + 1 s
    later = strategy.score_step(t + S)
    assert [c.symbol for c in later] == ["BBB"] and strategy.crossed_skipped == 1
    detailed = strategy.calculate_watchlist_score_detailed("AAA")
    assert detailed.reason == "after_cross" and not detailed.alert
    assert strategy.gate.suppressed.get("after_cross") is None  # not the gate's: no budget or cooldown used
    assert strategy.calculate_watchlist_score_detailed("AAA", gate=False).decision is None
    assert 0.0 <= strategy.calculate_ignition_score("AAA") <= 1.0  # the ignition monitor still follows it
    strategy.start_day(DAY + dt.timedelta(days=1))  # a new day: no crossings
    assert strategy.crossing.crossings == {}


@pytest.mark.parametrize(("previous_close", "params"), [(None, {}), ({"AAA": 9.5}, {"anchor": None})])
def test_without_previous_close_or_anchor_the_cross_changes_nothing(previous_close, params) -> None:
    strategy = _seismograph(**params)
    t = _step(strategy, previous_close)
    deliver(strategy, [*liquid_ticks("AAA", t), _bar("AAA", t, 100.0)])
    assert [c.symbol for c in strategy.score_step(t + S)] == ["AAA"] and strategy.crossed_skipped == 0


def test_the_anchor_comes_from_the_artifacts_manifest_else_the_param(artifact_store) -> None:
    assert _seismograph().anchor == 0.10 and _seismograph(anchor=0.25).anchor == 0.25
    strategy = _seismograph(anchor=0.25)
    _step(strategy, {"AAA": 2.0})
    assert strategy.crossing.threshold("AAA") == 2.0 * 1.25
    config = runtime_config(strategy="seismograph_ml", artifacts=artifact_store, params={"anchor": 0.25})
    ml = RuntimeContainer(config).strategy
    assert ml.inference.manifest.dataset_ref.labeling.anchor_param == 0.10 and ml.anchor == 0.10
    off = runtime_config(strategy="seismograph_ml", artifacts=artifact_store, params={"anchor": None})
    assert RuntimeContainer(off).strategy.anchor is None


def test_a_reloaded_artifact_brings_its_anchor_from_the_next_step() -> None:
    strategy = _seismograph()
    t = _step(strategy, {"AAA": 9.5})
    deliver(strategy, [*liquid_ticks("AAA", t), _bar("AAA", t, 10.5)])
    assert strategy.score_step(t + S) == [] and strategy.crossing.cross_ns("AAA") == t + S
    labeling = SimpleNamespace(anchor_param=0.20)  # threshold 11.4: AAA's day high 10.5 is below it
    strategy.on_artifact(
        SimpleNamespace(manifest=SimpleNamespace(id="ART_x", dataset_ref=SimpleNamespace(labeling=labeling)))
    )
    assert strategy.anchor == 0.20
    assert [c.symbol for c in strategy.score_step(t + 2 * S)] == ["AAA"] and strategy.crossing.anchor == 0.20


def _bars_of_trades(kind: str, ts: np.ndarray, price: np.ndarray) -> list[AggEvent]:
    """The ``kind`` bars of symbol AAA's trades ``(ts, price)``, by the one bar rule."""
    from sigma9_runtime.bars import bars_from_trades

    length = S if kind == "A" else 60 * S
    bars = bars_from_trades(ts, price, np.full(ts.size, 100.0), length)
    columns = [bars[c].tolist() for c in ("ts", "open", "high", "low", "close", "volume", "vwap", "transactions")]
    return [
        AggEvent(kind, "AAA", start, start + length, o, h, lo, c, v, w, n)  # type: ignore[arg-type]
        for start, o, h, lo, c, v, w, n in zip(*columns)
    ]


def test_a_minute_tracker_crosses_at_the_end_of_the_minute_bar_holding_t0_and_ignores_second_bars() -> None:
    rng = np.random.default_rng(6)
    ts = np.sort(rng.integers(0, 20 * 60 * S, 3_000))
    price = np.where(np.arange(ts.size) < 2_000, rng.uniform(1.9, 2.15, ts.size), rng.uniform(2.1, 2.4, ts.size))
    t0 = int(ts[np.argmax(price >= 2.0 * 1.10)])  # the first trade at or above the threshold
    seconds, minutes = _bars_of_trades("A", ts, price), _bars_of_trades("AM", ts, price)
    by_second, by_minute, by_minute_batch = CrossTracker(0.10), CrossTracker(0.10, kind="AM"), CrossTracker(0.10, "AM")
    for tracker in (by_second, by_minute, by_minute_batch):
        tracker.start_day(DAY, {"AAA": 2.0})
    for bar in [*minutes, *seconds]:  # every bar to both: each takes its own stream
        by_second.add_event(bar)
        by_minute.add_event(bar)
    assert by_minute.kind == "AM" and by_second.kind == "A"
    assert by_second.cross_ns("AAA") == (t0 // S + 1) * S
    assert by_minute.cross_ns("AAA") == (t0 // (60 * S) + 1) * 60 * S  # floor(T0, 1 min) + 1 min
    assert by_minute_batch.add_batch(AggBatch.from_events("A", seconds)) == 0  # second bars: ignored
    assert by_minute_batch.add_batch(AggBatch.from_events("AM", minutes)) == 1
    assert by_minute_batch.crossings == by_minute.crossings and by_minute_batch._high == by_minute._high
