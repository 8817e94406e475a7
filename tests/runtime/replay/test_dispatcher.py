"""TickDispatcher: loops driven by event time, equal to stepping the strategy by hand; malformed
ticks never raise out of dispatch."""

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from sigma9_runtime.container import RuntimeContainer
from sigma9_runtime.replay import TickDispatcher, replay_frames
from tests.stubs import RUNTIME_DAY, deliver, liquid_ticks, runtime_config

DAY = dt.date.fromisoformat(RUNTIME_DAY)
SECOND = 1_000_000_000


def _strategy(**params):
    return RuntimeContainer(runtime_config(params={"threshold": 0.0, **params}, symbol_cooldown_sec=30)).strategy


def _message(tick) -> dict:
    """The Massive message of a stub tick."""
    if hasattr(tick, "price"):
        ms = tick.ts_ns // 10**6
        return {"ev": "T", "sym": tick.symbol, "x": 4, "p": tick.price, "s": tick.size, "t": ms, "q": 1}
    return {
        "ev": "A",
        "sym": tick.symbol,
        "v": tick.volume,
        "vw": tick.vwap,
        "o": tick.open,
        "h": tick.high,
        "l": tick.low,
        "c": tick.close,
        "z": tick.volume,
        "s": tick.start_ns // 10**6,
        "e": tick.end_ns // 10**6,
    }


def test_steps_run_by_event_time_and_equal_stepping_by_hand() -> None:
    strategy = _strategy()
    dispatcher = TickDispatcher(strategy, ignition_window_sec=5)
    dispatcher.start_day(DAY)
    steps = strategy.features.steps()
    t = int(steps[20_000])
    window = steps[19_990:20_010]
    dispatcher.start_day(DAY, steps_ns=window)
    ticks = liquid_ticks("AAA", t, seconds=130)

    def delivered(tick) -> int:
        return tick.ts_ns if hasattr(tick, "ts_ns") else tick.end_ns

    for tick in ticks:
        dispatcher.dispatch(json.dumps([_message(tick)]))
        # every step before the delivery time ran, none at or after it
        assert dispatcher.next_step is None or dispatcher.next_step >= delivered(tick)
    assert dispatcher.steps_run == 10 and dispatcher.next_step == t
    dispatcher.finish()
    assert dispatcher.steps_run == 20
    # stepping by hand (each step after the ticks delivered by it) gives the same alerts
    manual = _strategy()
    manual.start_day(DAY)
    pending = list(ticks)
    alerts = []
    for step in window.tolist():
        while pending and delivered(pending[0]) <= step:
            deliver(manual, [pending.pop(0)])  # the feed clock where the steps before it would leave it
        alerts += [c for c in manual.score_step(step) if c.alert]
    by_dispatch = [(a.symbol, a.ts_ns, a.score) for a in dispatcher.alerts]
    assert by_dispatch == [(a.symbol, a.ts_ns, a.score) for a in alerts]
    assert len(by_dispatch) == 1  # a 30 s cooldown inside a 20 s window
    ignition = dispatcher.ignitions[-1]
    assert ignition.symbol == "AAA" and ignition.polls == 6 and 0 < ignition.peak_score <= 1


def test_replay_frames_reports_alerts_drops_and_counts() -> None:
    strategy = _strategy()
    strategy.start_day(DAY)
    window = strategy.features.steps()[20_000:20_005]
    ticks = liquid_ticks("AAA", int(window[0]))
    frames = [*(json.dumps([_message(x)]) for x in ticks), "garbage", b"\x00\xff"]
    result = replay_frames(strategy, DAY, frames, steps_ns=window)
    assert result.frames == len(ticks) + 2 and result.steps == 5 and len(result.alerts) == 1
    assert result.dropped["malformed_json"] == 2 and not result.errors
    assert "AAA" in result.render() and "suppressed: cooldown 4" in result.render()


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
)
_fields = st.sampled_from(["ev", "sym", "x", "p", "s", "t", "q", "c", "v", "vw", "o", "h", "l", "e", "z"])
_messages = st.dictionaries(
    _fields,
    st.one_of(_scalars, st.sampled_from(["T", "A", "AM", "Q", "status"]), st.lists(_scalars, max_size=3)),
    max_size=12,
)
_ticks = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=40),
    st.lists(_messages, max_size=4).map(lambda m: json.dumps(m, allow_nan=True)),
    st.lists(_messages, max_size=3),
    _messages,
    _scalars,
)


_FUZZED = _strategy()  # built once: hypothesis runs the test many times


@given(st.lists(_ticks, max_size=12))
def test_a_fuzzed_stream_of_malformed_ticks_never_raises_out_of_dispatch(ticks) -> None:
    strategy = _FUZZED
    dispatcher = TickDispatcher(strategy)
    dispatcher.start_day(DAY)
    dispatcher.start_day(DAY, steps_ns=strategy.features.steps()[:3])
    for tick in ticks:
        dispatcher.dispatch(tick)
    dispatcher.finish()
    assert not dispatcher.errors and dispatcher.ticks == len(ticks)


def test_a_replay_with_previous_closes_stops_alerting_a_symbol_after_its_cross() -> None:
    strategy = _strategy()
    strategy.start_day(DAY)
    window = strategy.features.steps()[20_000:20_100]
    ticks = liquid_ticks("AAA", int(window[0]))  # trades at 10.00-10.01 until the first step
    frames = [json.dumps([_message(x)]) for x in ticks]  # one frame per message, as a live feed sends them
    without = replay_frames(strategy, DAY, frames, steps_ns=window)
    assert len(without.alerts) >= 2 and without.after_cross == 0  # alerts again after the 30 s cooldown

    strategy = _strategy()
    crossing = replay_frames(strategy, DAY, frames, steps_ns=window, previous_close={"AAA": 9.0})  # 9.9: crossed
    assert crossing.alerts == [] and crossing.after_cross == 100
    assert "after cross (not candidates): 100 rows" in crossing.render()


def test_a_message_from_the_future_in_a_frame_is_dropped_and_changes_no_alert() -> None:
    results = []
    for stray in (False, True):
        strategy = _strategy()
        strategy.start_day(DAY)
        steps = strategy.features.steps()
        window = steps[20_000:20_060]
        t = int(window[0])
        frames = [[_message(x)] for x in liquid_ticks("AAA", t + 60 * SECOND, seconds=180)]
        if stray:  # a trade of AAA stamped hours ahead, sent with an ordinary one
            future = {**frames[30][0], "t": int(steps[-100]) // 10**6, "q": 10**6}
            frames[30] = [frames[30][0], future]
        results.append(replay_frames(strategy, DAY, [json.dumps(f) for f in frames], steps_ns=window))
    clean, hostile = results
    assert hostile.dropped["future_timestamp"] == 1 and not hostile.dropped.get("out_of_order")

    def alerts(result) -> list:
        return [(a.symbol, a.ts_ns, a.score) for a in result.alerts]

    assert alerts(hostile) == alerts(clean)
    assert clean.alerts and clean.dropped.get("future_timestamp", 0) == 0


def test_every_kind_of_tick_goes_in_one_way_and_raises_the_same_alerts() -> None:
    """Raw frames, decoded messages and typed events through the dispatcher give identical alerts, drops and
    gate state: one ingest path, whatever the tick's kind."""
    results = []
    for kind in ("raw", "decoded", "typed"):
        strategy = _strategy()
        dispatcher = TickDispatcher(strategy)
        dispatcher.start_day(DAY)
        steps = strategy.features.steps()
        t = int(steps[20_000])
        dispatcher.start_day(DAY, steps_ns=steps[19_990:20_010])
        for tick in liquid_ticks("AAA", t, seconds=130):
            message = _message(tick)
            dispatcher.dispatch({"raw": json.dumps([message]), "decoded": [message], "typed": tick}[kind])
        dispatcher.dispatch({"ev": "T", "sym": "AAA", "p": "cheap"})  # one bad message of each kind
        dispatcher.finish()
        alerts = [(a.symbol, a.ts_ns, a.score, a.tradeability) for a in dispatcher.alerts]
        results.append((alerts, dict(strategy.features.dropped), strategy.bars.inputs("AAA", t)))
    assert results[0][0] and results[0][1]["missing_field"] == 1
    assert results[1] == results[0]
    assert results[2][0] == results[0][0] and results[2][2] == results[0][2]
