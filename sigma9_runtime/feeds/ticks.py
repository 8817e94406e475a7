"""The one way in: every kind of tick the runtime accepts becomes one :class:`ColumnarFrame`.

A live container hands the runtime raw Massive WebSocket frames; a replay, the lab's backtest and tests
hand it decoded messages, single events or columnar batches. :func:`to_frame` turns each into the same
columns (trades, 1-second bars, 1-minute bars, drops by reason), so the feature builder, the tradeability
bars and the cross rule ingest one shape through one path
(:meth:`~sigma9_runtime.strategies.base.ScoringStrategy.ingest`), and the dispatcher dates a tick by the
frame's :attr:`~ColumnarFrame.delivered_ns`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sigma9_runtime.feeds.events import AggBatch, AggEvent, TradeBatch, TradeEvent
from sigma9_runtime.feeds.massive_ws import ColumnarFrame, parse_frame_columnar, parse_messages_columnar

Tick = str | bytes | bytearray | dict | list | TradeEvent | AggEvent | TradeBatch | AggBatch | ColumnarFrame
"""What :func:`to_frame` accepts: a raw frame, decoded messages (one dict or a list, as ``json.loads`` makes
them), one event, a batch, or a frame already parsed."""


def to_frame(tick: Any) -> ColumnarFrame:
    """The columns of ``tick`` (see :data:`Tick`); anything else is one ``unknown_tick`` drop. Never raises
    for a :data:`Tick` (the parsers count what they cannot read)."""
    if isinstance(tick, ColumnarFrame):
        return tick
    if isinstance(tick, (str, bytes, bytearray)):
        return parse_frame_columnar(tick)
    if isinstance(tick, list):
        return parse_messages_columnar(tick)
    if isinstance(tick, dict):
        return parse_messages_columnar([tick])
    if isinstance(tick, TradeBatch):
        return ColumnarFrame(tick, AggBatch.empty("A"), AggBatch.empty("AM"))
    if isinstance(tick, AggBatch):
        return _bars(tick)
    if isinstance(tick, TradeEvent):
        return ColumnarFrame(TradeBatch.from_events([tick]), AggBatch.empty("A"), AggBatch.empty("AM"))
    if isinstance(tick, AggEvent):
        return _bars(AggBatch.from_events(tick.kind, [tick]))
    return ColumnarFrame.empty(Counter({"unknown_tick": 1}))


def _bars(batch: AggBatch) -> ColumnarFrame:
    if batch.kind == "A":
        return ColumnarFrame(TradeBatch.empty(), batch, AggBatch.empty("AM"))
    return ColumnarFrame(TradeBatch.empty(), AggBatch.empty("A"), batch)
