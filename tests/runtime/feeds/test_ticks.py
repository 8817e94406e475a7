"""to_frame: every kind of tick becomes one parsed frame, the one shape the runtime ingests."""

import json

import numpy as np
import pytest

from sigma9_runtime.feeds import massive_ws
from sigma9_runtime.feeds.events import AggBatch, AggEvent, TradeBatch, TradeEvent
from sigma9_runtime.feeds.massive_ws import ColumnarFrame, parse_frame_columnar
from sigma9_runtime.feeds.ticks import to_frame

T0 = 1_741_010_400_000  # 2025-03-03 14:00 UTC, ms
TRADE = {"ev": "T", "sym": "ABC", "x": 4, "p": 2.5, "s": 100, "c": [], "t": T0 + 7, "q": 1}
SECOND = {"ev": "A", "sym": "ABC", "v": 100, "vw": 2.5, "o": 2.5, "h": 2.5, "l": 2.5, "c": 2.5, "z": 100,
          "s": T0, "e": T0 + 1000}  # fmt: skip
MINUTE = {**SECOND, "ev": "AM", "e": T0 + 60_000}
MESSAGES = [TRADE, SECOND, MINUTE, {"ev": "Q", "sym": "ABC"}, {"ev": "status", "status": "connected"}]


def _columns(frame: ColumnarFrame) -> tuple:
    return (
        frame.trades.to_events(),
        frame.seconds.to_events(),
        frame.minutes.to_events(),
        dict(frame.dropped),
        len(frame),
        frame.delivered_ns,
    )


def test_decoded_messages_give_the_frame_of_their_text_without_encoding_them_again(monkeypatch) -> None:
    expected = _columns(parse_frame_columnar(json.dumps(MESSAGES)))
    assert expected[3] == {"unknown_ev": 1} and expected[4] == 3
    assert expected[5] == (T0 + 7) * 1_000_000  # the earliest message: the trade, before the bars' ends

    def no_text(_):  # the decoded path must not go back through JSON text
        raise AssertionError("decoded messages were encoded and parsed again")

    monkeypatch.setattr(massive_ws, "_decode", no_text)
    monkeypatch.setattr(json, "dumps", no_text)
    assert _columns(to_frame(MESSAGES)) == expected
    assert to_frame(TRADE).trades.to_events() == expected[0]


def test_events_and_batches_become_frames_of_their_own_columns() -> None:
    frame = parse_frame_columnar(json.dumps(MESSAGES))
    trade, second, minute = frame.trades.to_events()[0], frame.seconds.to_events()[0], frame.minutes.to_events()[0]
    assert isinstance(trade, TradeEvent) and isinstance(second, AggEvent)
    assert to_frame(trade).trades.to_events() == [trade]
    assert to_frame(second).seconds.to_events() == [second] and len(to_frame(second).minutes) == 0
    assert to_frame(minute).minutes.to_events() == [minute] and len(to_frame(minute).seconds) == 0
    assert to_frame(TradeBatch.from_events([trade])).trades.to_events() == [trade]
    assert to_frame(AggBatch.from_events("AM", [minute])).minutes.to_events() == [minute]
    assert to_frame(frame) is frame
    assert to_frame(second).delivered_ns == second.end_ns


@pytest.mark.parametrize("junk", [3, None, object(), 2.5])
def test_anything_else_is_one_counted_drop(junk) -> None:
    frame = to_frame(junk)
    assert len(frame) == 0 and dict(frame.dropped) == {"unknown_tick": 1} and frame.delivered_ns is None


def test_a_frame_without_events_has_no_delivery_time() -> None:
    assert to_frame("not json").delivered_ns is None
    assert dict(to_frame("not json").dropped) == {"malformed_json": 1}
    assert to_frame([]).delivered_ns is None and np.size(to_frame([]).trades.ts_ns) == 0
