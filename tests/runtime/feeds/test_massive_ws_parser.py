import json
import math
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma9_runtime.bars import is_eligible
from sigma9_runtime.feeds import (
    DROP_REASONS,
    AggEvent,
    TradeBatch,
    TradeEvent,
    parse_frame,
    parse_frame_columnar,
)


def trade(**overrides: Any) -> dict[str, Any]:
    message = {"ev": "T", "sym": "MSFT", "x": 4, "i": "12345", "z": 3, "p": 114.125, "s": 100, "c": [0, 12],
               "t": 1536036818784, "q": 3681328}  # fmt: skip
    message.update(overrides)
    return message


def agg(ev: str = "A", **overrides: Any) -> dict[str, Any]:
    message = {"ev": ev, "sym": "SPCE", "v": 4110, "av": 9470157, "op": 0.4372, "vw": 0.4488, "o": 0.4488,
               "c": 0.4486, "h": 0.4489, "l": 0.4486, "a": 0.4352, "z": 685, "s": 1610144640000,
               "e": 1610144641000}  # fmt: skip
    message.update(overrides)
    return message


def without(message: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != key}


def frame(*messages: Any) -> str:
    return json.dumps(list(messages))


def assert_paths_agree(text: str | bytes) -> None:
    parsed = parse_frame(text)
    columnar = parse_frame_columnar(text)
    trades = [e for e in parsed.events if isinstance(e, TradeEvent)]
    aggs = [e for e in parsed.events if isinstance(e, AggEvent)]
    assert columnar.trades.to_events() == trades
    assert columnar.seconds.to_events() == [e for e in aggs if e.kind == "A"]
    assert columnar.minutes.to_events() == [e for e in aggs if e.kind == "AM"]
    assert columnar.dropped == parsed.dropped
    assert columnar.status == parsed.status
    assert columnar.trades.eligible.tolist() == [is_eligible(e.conditions) for e in trades]
    assert columnar.trades.ts_ns.dtype == np.int64 and columnar.trades.exchange.dtype == np.int32


def test_a_trade_becomes_an_event_with_nanosecond_time() -> None:
    parsed = parse_frame(frame(trade()))
    assert parsed.events == [TradeEvent("MSFT", 1536036818784 * 1_000_000, 114.125, 100.0, (0, 12), 4, 3681328)]
    assert parsed.dropped == Counter() and parsed.status == 0
    assert parsed.events[0].eligible


def test_trade_conditions_are_optional_and_decide_eligibility() -> None:
    parsed = parse_frame(frame(without(trade(), "c"), trade(c=None), trade(c=[2, 37])))
    assert [e.conditions for e in parsed.events] == [(), (), (2, 37)]
    assert [e.eligible for e in parsed.events] == [True, True, False]


def test_second_and_minute_aggregates_are_stamped_at_their_start_in_nanoseconds() -> None:
    parsed = parse_frame(frame(agg("A"), agg("AM", s=1610144640000, e=1610144700000)))
    second, minute = parsed.events
    assert second == AggEvent("A", "SPCE", 1610144640000 * 10**6, 1610144641000 * 10**6,
                              0.4488, 0.4489, 0.4486, 0.4486, 4110.0, 0.4488, 6)  # fmt: skip
    assert minute.kind == "AM" and minute.end_ns - minute.start_ns == 60 * 10**9


@pytest.mark.parametrize(
    ("volume", "average_size", "transactions"),
    [(4110, 685, 6), (250, 100, 2), (350, 100, 4), (100, 0, 0), (0, 50, 0), (100, None, 0)],
)
def test_agg_transactions_are_volume_over_average_size_rounded(
    volume: float, average_size: Any, transactions: int
) -> None:
    message = agg(v=volume, z=average_size) if average_size is not None else without(agg(v=volume), "z")
    (event,) = parse_frame(frame(message)).events
    assert event.transactions == transactions


def test_status_messages_are_counted_but_not_dropped() -> None:
    parsed = parse_frame(frame({"ev": "status", "status": "auth_success", "message": "authenticated"}, trade()))
    assert parsed.status == 1 and parsed.dropped == Counter() and len(parsed.events) == 1


def test_a_single_object_frame_and_bytes_are_accepted() -> None:
    assert len(parse_frame(json.dumps(trade())).events) == 1
    assert len(parse_frame(frame(trade()).encode()).events) == 1
    assert len(parse_frame_columnar(json.dumps(trade()).encode()).trades) == 1


BAD_MESSAGES: list[tuple[str, Any]] = [
    ("not_a_message", 42),
    ("not_a_message", [trade()]),
    ("unknown_ev", {"ev": "Q", "sym": "MSFT"}),
    ("unknown_ev", trade(ev=7)),
    ("missing_field", without(trade(), "ev")),
    ("missing_field", without(trade(), "p")),
    ("missing_field", without(trade(), "q")),
    ("missing_field", without(agg(), "e")),
    ("missing_field", without(agg("AM"), "vw")),
    ("bad_symbol", trade(sym="")),
    ("bad_symbol", trade(sym=12)),
    ("bad_symbol", agg(sym=None)),
    ("wrong_type", trade(p="114.1")),
    ("wrong_type", trade(s=True)),
    ("wrong_type", trade(x=4.0)),
    ("wrong_type", trade(q=2**64)),
    ("wrong_type", trade(c="12")),
    ("wrong_type", trade(c=[1, "2"])),
    ("wrong_type", trade(c=[2**40])),
    ("wrong_type", agg(h=False)),
    ("wrong_type", agg(z="685")),
    ("bad_timestamp", trade(t=0)),
    ("bad_timestamp", trade(t=-5)),
    ("bad_timestamp", trade(t=1536036818784.5)),
    ("bad_timestamp", trade(t=10**17)),
    ("bad_timestamp", agg(e=1610144640000)),
    ("bad_price", trade(p=0)),
    ("bad_price", trade(p=-1.5)),
    ("bad_price", trade(p=math.nan)),
    ("bad_price", trade(p=math.inf)),
    ("bad_price", trade(p=10**400)),
    ("bad_price", agg(h=0.40, l=0.45)),
    ("bad_price", agg(o=0)),
    ("bad_price", agg(vw=math.nan)),
    ("bad_size", trade(s=0)),
    ("bad_size", trade(s=-100)),
    ("bad_size", trade(s=math.inf)),
    ("bad_size", agg(v=-1)),
    ("bad_size", agg(v=math.nan)),
    ("bad_size", agg(z=-3)),
    ("bad_size", agg(v=1e300, z=1e-300)),
]


@pytest.mark.parametrize(("reason", "message"), BAD_MESSAGES)
def test_a_bad_message_is_dropped_under_its_reason_and_its_neighbours_are_unaffected(reason: str, message: Any) -> None:
    before, after = trade(q=1), agg("AM", s=1610144700000, e=1610144760000)
    text = frame(before, message, after)
    parsed = parse_frame(text)
    assert reason in DROP_REASONS
    assert parsed.dropped == Counter({reason: 1})
    assert [type(e).__name__ for e in parsed.events] == ["TradeEvent", "AggEvent"]
    assert parsed.events[0].sequence == 1 and parsed.events[1].start_ns == 1610144700000 * 10**6
    assert_paths_agree(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("[{", "malformed_json"), (b"\xff\xfe[]", "malformed_json"), ("", "malformed_json"), ("42", "not_a_message"),
     ('"T"', "not_a_message"), ("null", "not_a_message"), ("[" * 100_000 + "]" * 100_000, "malformed_json")],
)  # fmt: skip
def test_a_frame_that_is_not_an_array_or_object_counts_once(text: str | bytes, reason: str) -> None:
    parsed = parse_frame(text)
    assert parsed.events == [] and parsed.dropped == Counter({reason: 1})
    assert parse_frame_columnar(text).dropped == Counter({reason: 1})


def test_the_first_applicable_reason_wins() -> None:
    parsed = parse_frame(frame(without(trade(sym="", p="x"), "q"), trade(sym="", p="x"), trade(p="x", t=0)))
    assert parsed.dropped == Counter({"missing_field": 1, "bad_symbol": 1, "wrong_type": 1})


def test_columnar_path_matches_per_event_path_on_a_large_mixed_frame() -> None:
    messages: list[Any] = []
    for i in range(300):
        messages.append(trade(q=i, t=1536036818784 + i, c=[[], [37], [2, 12], None][i % 4], s=1 + i % 7, p=1 + i / 100))
        if i % 10 == 0:
            messages.append(agg("A", s=1610144640000 + 1000 * i, e=1610144641000 + 1000 * i))
            messages.append(agg("AM", z=i % 3))
    for _, bad in BAD_MESSAGES:
        messages.insert(len(messages) // 2, bad)
    messages.append({"ev": "status", "status": "connected"})
    assert_paths_agree(frame(*messages))
    batch = parse_frame_columnar(frame(*messages)).trades
    assert TradeBatch.from_events(batch.to_events()).to_events() == batch.to_events()


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=1, max_value=2_000_000_000_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.sampled_from([0, 1, 0.5, 1e-300, 1e300, 1536036818784, 1536036818784.0, 2**31, -(2**63)]),
)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=5)
FIELDS = ["ev", "sym", "x", "p", "s", "c", "t", "q", "v", "vw", "o", "h", "l", "z", "e"]
messages_strategy = st.one_of(
    st.builds(
        lambda base, changes, removed: {k: v for k, v in {**base, **changes}.items() if k not in removed},
        st.sampled_from([trade(), agg("A"), agg("AM"), {"ev": "status"}, trade(c=[2])]),
        st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
        st.sets(st.sampled_from(["ev", "sym", "p", "c", "z", "q", "e"]), max_size=2),
    ),
    json_values,
)


@given(st.lists(messages_strategy, max_size=12))
def test_columnar_equals_per_event_and_never_raises_on_fuzzed_messages(messages: list[Any]) -> None:
    text = json.dumps(messages)
    assert_paths_agree(text)
    parsed = parse_frame(text)
    assert len(parsed.events) + sum(parsed.dropped.values()) + parsed.status == len(messages)


@given(st.one_of(st.text(max_size=60), st.binary(max_size=60)))
def test_parsers_never_raise_on_arbitrary_input(text: str | bytes) -> None:
    assert_paths_agree(text)


def test_a_frame_of_well_formed_messages_takes_the_typed_decode() -> None:
    from sigma9_runtime.feeds.massive_ws import _decode_typed

    clean = frame(trade(), trade(c=None), without(trade(), "c"), agg("A"), agg("AM", z=None), {"ev": "status"})
    assert _decode_typed(clean) is not None
    assert _decode_typed(frame(trade(), trade(p=0), agg(h=0.40, l=0.45))) is not None  # values are checked after
    assert_paths_agree(frame(trade(), trade(p=0), agg(h=0.40, l=0.45)))
    for _, bad in BAD_MESSAGES:  # a message of the wrong shape sends the whole frame to the general rules
        if not (isinstance(bad, dict) and bad.get("ev") in ("T", "A", "AM")):
            assert _decode_typed(frame(trade(), bad)) is None
    assert _decode_typed(frame(trade(sym=""))) is None and _decode_typed(frame(trade(t=1536036818784.0))) is None
    assert _decode_typed(json.dumps(trade())) is None  # a single object: the general rules take it


@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(min_value=-1e308, max_value=1e308), st.integers(-(2**80), 2**80)),
            st.one_of(st.floats(allow_nan=False), st.integers(-(2**80), 2**80)),
            st.one_of(st.none(), st.floats(min_value=-1e308, max_value=1e308), st.integers(0, 2**70)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_typed_decode_reads_numbers_as_json_loads_does(values: list[tuple[Any, Any, Any]]) -> None:
    messages = []
    for price, size, average in values:
        messages.append(trade(p=price, s=size))
        messages.append(agg("A", v=size, vw=price, o=price, z=average))
    assert_paths_agree(frame(*messages))


def test_a_columnar_failure_falls_back_counted_and_logged(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    import sigma9_runtime.feeds.massive_ws as massive_ws

    def broken(frame: object) -> None:
        raise ZeroDivisionError("a bug in the fast path")

    monkeypatch.setattr(massive_ws, "_typed_columns", broken)
    monkeypatch.setattr(massive_ws, "COLUMNAR_FALLBACKS", Counter())
    text = json.dumps([trade(), trade()])
    with caplog.at_level("WARNING", logger="sigma9_runtime.feeds.massive_ws"):
        for _ in range(3):
            assert len(massive_ws.parse_frame_columnar(text).trades) == 2  # the general columnar path took them
        monkeypatch.setattr(massive_ws, "_parse_columnar", broken)
        for _ in range(2):
            assert len(massive_ws.parse_frame_columnar(text).trades) == 2  # then the reference path
    assert massive_ws.COLUMNAR_FALLBACKS == Counter({"ZeroDivisionError": 3 + 2 * 2})
    assert [r.message for r in caplog.records].count(
        "columnar frame parser failed (ZeroDivisionError); a safer path took the frame"
    ) == 1
