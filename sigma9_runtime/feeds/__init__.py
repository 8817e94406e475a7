"""Live market feeds: event types and wire parsers (stdlib + numpy only).

- :mod:`sigma9_runtime.feeds.events`: :class:`TradeEvent`, :class:`AggEvent` and their columnar
  batches :class:`TradeBatch`, :class:`AggBatch`.
- :mod:`sigma9_runtime.feeds.massive_ws`: Massive (ex-Polygon) WebSocket frames -> events.
"""

from sigma9_runtime.feeds.events import AggBatch, AggEvent, AggKind, TradeBatch, TradeEvent
from sigma9_runtime.feeds.massive_ws import (
    DROP_REASONS,
    ColumnarFrame,
    ParsedFrame,
    parse_frame,
    parse_frame_columnar,
)

__all__ = [
    "DROP_REASONS",
    "AggBatch",
    "AggEvent",
    "AggKind",
    "ColumnarFrame",
    "ParsedFrame",
    "TradeBatch",
    "TradeEvent",
    "parse_frame",
    "parse_frame_columnar",
]
