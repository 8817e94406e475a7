"""Parser of raw Massive (ex-Polygon) stocks WebSocket frames: trades ``T``, aggregates ``A``/``AM``.

One parser serves the live runtime and the lake importer of WebSocket captures. A frame is the
text of one WebSocket message: a JSON array of messages (a single JSON object is accepted too).

Messages
--------
``T`` (trade)
    ``{"ev":"T","sym":"MSFT","x":4,"i":"12345","z":3,"p":114.125,"s":100,"c":[0,12],"t":1536036818784,"q":3681328}``
    Required: ``sym``, ``x`` (exchange), ``p`` (price), ``s`` (size), ``t`` (SIP time, **ms**),
    ``q`` (sequence). Optional: ``c`` (conditions; missing or null = none). ``i``, ``z``, ``trfi``,
    ``trft`` are not used.
``A`` / ``AM`` (second / minute aggregate)
    ``{"ev":"A","sym":..,"v":4110,"av":9470157,"op":0.4372,"vw":0.4488,"o":..,"c":..,"h":..,"l":..,
    "a":0.4352,"z":685,"s":1610144640000,"e":1610144641000}``
    Required: ``sym``, ``v``, ``vw``, ``o``, ``h``, ``l``, ``c``, ``s`` and ``e`` (interval start and
    end, **ms**). Optional: ``z`` (the **average trade size** of the bar; missing or null = 0).
    ``av``, ``op``, ``a`` (day-level running values) are not used. The bar is stamped at ``s``.
    Massive sends no trade count; ``transactions = round(v / z)`` (half to even) when ``z > 0``,
    else 0.
``status``
    Control messages (``{"ev":"status","status":"auth_success",...}``): skipped, counted in
    :attr:`ParsedFrame.status`, not dropped.

Timestamps (``t``, ``s``, ``e``) are milliseconds on the wire and become int64 nanoseconds here.

Drop reasons
------------
Every message that does not become an event (except ``status``) is counted under exactly one
reason, the first that applies in this order:

``malformed_json``
    The frame is not JSON (or not UTF-8); counted once per frame.
``not_a_message``
    The frame is JSON but neither an array nor an object (once), or an array element is not an object.
``unknown_ev``
    ``ev`` is not ``T``, ``A``, ``AM`` or ``status`` (quotes, LULD, ...).
``missing_field``
    ``ev`` or a required field is absent.
``bad_symbol``
    ``sym`` is not a string or is empty.
``wrong_type``
    A numeric field is not a JSON number (booleans and strings are not numbers); ``x`` and ``q``
    (and each condition code) are not integers, or out of range (int32 for ``x`` and codes, int64
    for ``q``); ``c`` is not an array of integers.
``bad_timestamp``
    ``t``/``s``/``e`` non-positive, not integer-valued, or beyond the int64 nanosecond range; for
    aggregates also ``e <= s``.
``bad_price``
    Trade price NaN, infinite or <= 0; for aggregates any of ``o``, ``h``, ``l``, ``c``, ``vw``
    NaN, infinite or <= 0, or ``h < l``.
``bad_size``
    Trade size NaN, infinite or <= 0; aggregate volume ``v`` or average size ``z`` negative or not
    finite, or ``v / z`` not representable as an int64 trade count.
``parser_error``
    Safety net: an unexpected exception while reading a message (a bug; never seen in tests).

Stateful checks (out-of-order timestamps, duplicate sequence numbers) are not the parser's job.

Two paths give the same result (proven by a test): :func:`parse_frame` (one event object per
message, the reference) and :func:`parse_frame_columnar` (columns checked with numpy). Neither ever
raises. The columnar path first decodes a frame with msgspec against typed message structs (every field
of the right JSON type and range, ``ev`` one of the four kinds); a frame that does not fit them in full is
decoded again with :func:`json.loads` and read by the general rules above, so the typed decode changes
speed only, never a result.

Examples
--------
>>> parsed = parse_frame('[{"ev":"T","sym":"ABC","x":4,"p":2.5,"s":100,"t":1700000000000,"q":1}]')
>>> parsed.events[0].ts_ns
1700000000000000000
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from itertools import chain
from typing import Annotated, Any

import msgspec
import numpy as np

from sigma9_runtime.bars import EXCLUDED_CONDITIONS
from sigma9_runtime.feeds.events import AggBatch, AggEvent, AggKind, TradeBatch, TradeEvent

__all__ = [
    "DROP_REASONS",
    "ColumnarFrame",
    "ParsedFrame",
    "parse_frame",
    "parse_frame_columnar",
    "parse_messages",
    "parse_messages_columnar",
]

log = logging.getLogger(__name__)
COLUMNAR_FALLBACKS: Counter[str] = Counter()
"""Frames the columnar parser failed on and the reference parser took, by exception type (should stay empty)."""

DROP_REASONS: tuple[str, ...] = (
    "malformed_json",
    "not_a_message",
    "unknown_ev",
    "missing_field",
    "bad_symbol",
    "wrong_type",
    "bad_timestamp",
    "bad_price",
    "bad_size",
    "parser_error",
)
"""Stable names of the reasons a message is dropped (see the module docstring)."""

NS_PER_MS = 1_000_000
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_MS = INT64_MAX // NS_PER_MS
"""Largest millisecond timestamp whose nanosecond value fits in int64 (year 2262)."""
_TWO_63 = float(2**63)

_TRADE_FIELDS = frozenset({"sym", "x", "p", "s", "t", "q"})
_AGG_FIELDS = frozenset({"sym", "v", "vw", "o", "h", "l", "c", "s", "e"})
_NUMBER = frozenset({int, float})
_CONDITIONS = frozenset({list, type(None)})
_INT = frozenset({int})

_MISSING = object()

# Reason codes of the columnar path (index into _CODES); 0 = accepted.
_CODES = ("", "missing_field", "bad_symbol", "wrong_type", "bad_timestamp", "bad_price", "bad_size")
_TYPE_REASONS = ("missing_field", "bad_symbol", "wrong_type")
"""The reasons met before a message's values are read; a typed (msgspec) message meets none of them."""


@dataclass
class ParsedFrame:
    """Result of :func:`parse_frame`.

    Attributes
    ----------
    events
        Accepted trades and aggregates, in frame order.
    dropped
        Messages dropped, per reason (:data:`DROP_REASONS`).
    status
        Status (control) messages skipped.
    """

    events: list[TradeEvent | AggEvent] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    status: int = 0


@dataclass
class ColumnarFrame:
    """Result of :func:`parse_frame_columnar`: the same events as :func:`parse_frame`, in columns.

    Attributes
    ----------
    trades
        Accepted ``T`` messages in frame order.
    seconds, minutes
        Accepted ``A`` and ``AM`` messages in frame order.
    dropped, status
        As in :class:`ParsedFrame`.
    """

    trades: TradeBatch
    seconds: AggBatch
    minutes: AggBatch
    dropped: Counter[str] = field(default_factory=Counter)
    status: int = 0

    @classmethod
    def empty(cls, dropped: Counter[str] | None = None) -> ColumnarFrame:
        """A frame without events (``dropped``: the reasons its messages were dropped)."""
        return cls(TradeBatch.empty(), AggBatch.empty("A"), AggBatch.empty("AM"), dropped or Counter())

    def __len__(self) -> int:
        return len(self.trades) + len(self.seconds) + len(self.minutes)

    @property
    def delivered_ns(self) -> int | None:
        """When the frame was delivered in event time: its earliest message's (a trade's time, a bar's end);
        None without events."""
        times = [int(a.min()) for a in (self.trades.ts_ns, self.seconds.end_ns, self.minutes.end_ns) if a.size]
        return min(times) if times else None

    @classmethod
    def from_parsed(cls, parsed: ParsedFrame) -> ColumnarFrame:
        """Columns of a per-event result."""
        trades = [e for e in parsed.events if isinstance(e, TradeEvent)]
        aggs = [e for e in parsed.events if isinstance(e, AggEvent)]
        return cls(
            TradeBatch.from_events(trades),
            AggBatch.from_events("A", aggs),
            AggBatch.from_events("AM", aggs),
            Counter(parsed.dropped),
            parsed.status,
        )


# --- shared scalar rules --------------------------------------------------------------------------


def _decode(frame: str | bytes | bytearray) -> tuple[list[Any] | None, str | None]:
    """Messages of a frame, or the frame-level drop reason."""
    try:
        value = json.loads(frame)
    except Exception:  # ValueError, UnicodeDecodeError, RecursionError, TypeError: not a JSON text
        return None, "malformed_json"
    if type(value) is list:
        return value, None
    if type(value) is dict:
        return [value], None
    return None, "not_a_message"


def _float(value: int | float) -> float:
    """A JSON number as float; integers too large for a float become infinity (then rejected)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _is_positive_finite(value: float) -> bool:
    return 0.0 < value < math.inf


def _ms_to_ns(value: int | float) -> int | None:
    """Nanoseconds of a positive, integer-valued millisecond timestamp (None when invalid)."""
    if type(value) is int:
        return value * NS_PER_MS if 0 < value <= MAX_MS else None
    if math.isfinite(value) and value.is_integer() and 0 < value <= MAX_MS:
        return int(value) * NS_PER_MS
    return None


def _conditions(value: Any) -> tuple[int, ...] | None:
    """Condition codes of ``c`` (None/absent = none), or None when it is not a list of int32."""
    if value is None:
        return ()
    if type(value) is not list:
        return None
    for code in value:
        if type(code) is not int or not INT32_MIN <= code <= INT32_MAX:
            return None
    return tuple(value)


def _transactions(volume: float, average_size: float) -> int | None:
    """``round(v / z)`` when ``z > 0``, else 0; None when the count is not an int64."""
    if average_size <= 0:
        return 0
    ratio = volume / average_size
    if not ratio < _TWO_63:  # also catches inf and NaN
        return None
    return round(ratio)


def _trade(m: dict[str, Any]) -> TradeEvent | str:
    if not m.keys() >= _TRADE_FIELDS:
        return "missing_field"
    sym = m["sym"]
    if type(sym) is not str or not sym:
        return "bad_symbol"
    x, p, s, t, q = m["x"], m["p"], m["s"], m["t"], m["q"]
    conditions = _conditions(m.get("c"))
    if (
        type(x) is not int
        or not INT32_MIN <= x <= INT32_MAX
        or type(q) is not int
        or not INT64_MIN <= q <= INT64_MAX
        or type(p) not in _NUMBER
        or type(s) not in _NUMBER
        or type(t) not in _NUMBER
        or conditions is None
    ):
        return "wrong_type"
    ts_ns = _ms_to_ns(t)
    if ts_ns is None:
        return "bad_timestamp"
    price = _float(p)
    if not _is_positive_finite(price):
        return "bad_price"
    size = _float(s)
    if not _is_positive_finite(size):
        return "bad_size"
    return TradeEvent(sym, ts_ns, price, size, conditions, x, q)


def _agg(kind: AggKind, m: dict[str, Any]) -> AggEvent | str:
    if not m.keys() >= _AGG_FIELDS:
        return "missing_field"
    sym = m["sym"]
    if type(sym) is not str or not sym:
        return "bad_symbol"
    raw = (m["o"], m["h"], m["l"], m["c"], m["vw"], m["v"], m["s"], m["e"])
    z = m.get("z")
    if any(type(v) not in _NUMBER for v in raw) or (z is not None and type(z) not in _NUMBER):
        return "wrong_type"
    start_ns, end_ns = _ms_to_ns(m["s"]), _ms_to_ns(m["e"])
    if start_ns is None or end_ns is None or end_ns <= start_ns:
        return "bad_timestamp"
    o, h, l, c, vw, v = (_float(value) for value in raw[:6])
    if not all(_is_positive_finite(value) for value in (o, h, l, c, vw)) or h < l:
        return "bad_price"
    average = 0.0 if z is None else _float(z)
    if not (0.0 <= v < math.inf and 0.0 <= average < math.inf):
        return "bad_size"
    transactions = _transactions(v, average)
    if transactions is None:
        return "bad_size"
    return AggEvent(kind, sym, start_ns, end_ns, o, h, l, c, v, vw, transactions)


def _classify(message: Any) -> str:
    """``T``, ``A``, ``AM``, ``status`` or the drop reason of a message."""
    if type(message) is not dict:
        return "not_a_message"
    ev = message.get("ev", _MISSING)
    if ev is _MISSING:
        return "missing_field"
    if ev == "T" or ev == "status" or ev in ("A", "AM"):  # ev may be any JSON value; == never raises
        return ev  # type: ignore[no-any-return]
    return "unknown_ev"


# --- per-event path -------------------------------------------------------------------------------


def parse_frame(frame: str | bytes | bytearray) -> ParsedFrame:
    """Parse one raw frame into events; never raises.

    Parameters
    ----------
    frame
        The text (or UTF-8 bytes) of one WebSocket message.

    Returns
    -------
    ParsedFrame
        Accepted events in frame order, drops per reason, status messages skipped.
    """
    messages, reason = _decode(frame)
    if messages is None:
        out = ParsedFrame()
        out.dropped[reason or "malformed_json"] += 1
        return out
    return parse_messages(messages)


def parse_messages(messages: list[Any]) -> ParsedFrame:
    """Events of decoded messages (what ``json.loads`` makes of a frame's array); never raises."""
    out = ParsedFrame()
    for message in messages:
        try:
            kind = _classify(message)
            if kind == "T":
                result: TradeEvent | AggEvent | str = _trade(message)
            elif kind == "A" or kind == "AM":
                result = _agg(kind, message)
            elif kind == "status":
                out.status += 1
                continue
            else:
                result = kind
        except Exception:  # safety net: the rules above are meant to be total
            result = "parser_error"
        if type(result) is str:
            out.dropped[result] += 1
        else:
            out.events.append(result)  # type: ignore[arg-type]
    return out


# --- columnar path --------------------------------------------------------------------------------


def parse_frame_columnar(frame: str | bytes | bytearray) -> ColumnarFrame:
    """Parse one raw frame into columns; the same events and drops as :func:`parse_frame`.

    A frame whose every message fits the typed structs (the common case) is decoded by msgspec straight
    into them. Any other frame is decoded by :func:`json.loads` and its columns gathered with list
    comprehensions; a column with an unusual value (a string, a huge integer, ...) falls back to the
    per-value rules of the per-event path for that column. Never raises (see
    :func:`parse_messages_columnar`).
    """
    typed = _decode_typed(frame)
    if typed is not None:
        try:
            return _typed_columns(typed)
        except Exception as e:  # safety net, as in parse_messages_columnar: the general path takes the frame
            _count_fallback(e)
    messages, reason = _decode(frame)
    if messages is None:
        return ColumnarFrame.empty(Counter({reason or "malformed_json": 1}))
    return parse_messages_columnar(messages)


def parse_messages_columnar(messages: list[Any]) -> ColumnarFrame:
    """Columns of decoded messages (what ``json.loads`` makes of a frame's array: dicts of JSON values); the
    same events and drops as :func:`parse_messages`.

    Never raises: should the columnar code itself fail, the messages go through the reference path, the
    fallback is counted in :data:`COLUMNAR_FALLBACKS` by exception type and logged (the first of each type
    with its traceback), never silent.
    """
    try:
        return _parse_columnar(messages)
    except Exception as e:  # safety net: fall back to the reference path, counted and logged
        _count_fallback(e)
        return ColumnarFrame.from_parsed(parse_messages(messages))


def _count_fallback(error: Exception) -> None:
    """Count (and log the first of its type) a failure of the columnar code, which a safer path then covers."""
    kind = type(error).__name__
    COLUMNAR_FALLBACKS[kind] += 1
    if COLUMNAR_FALLBACKS[kind] == 1:
        log.warning("columnar frame parser failed (%s); a safer path took the frame", kind, exc_info=True)


# --- typed decode (msgspec) -----------------------------------------------------------------------
# A message fits only when the general rules would read every field of it as valid JSON of the right
# type and range; values are then checked by the same vectorized rules (prices, sizes, bar times).

_Symbol = Annotated[str, msgspec.Meta(min_length=1)]
_Int32 = Annotated[int, msgspec.Meta(ge=INT32_MIN, le=INT32_MAX)]
_Int64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
_Millis = Annotated[int, msgspec.Meta(gt=0, le=MAX_MS)]


class _TypedTrade(msgspec.Struct, tag_field="ev", tag="T", gc=False):
    sym: _Symbol
    x: _Int32
    p: float
    s: float
    t: _Millis
    q: _Int64
    c: list[_Int32] | None = None


class _TypedSecond(msgspec.Struct, tag_field="ev", tag="A", gc=False):
    sym: _Symbol
    v: float
    vw: float
    o: float
    h: float
    l: float
    c: float
    s: _Millis
    e: _Millis
    z: float | None = None


class _TypedMinute(_TypedSecond, tag="AM", gc=False):
    pass


class _TypedStatus(msgspec.Struct, tag_field="ev", tag="status", gc=False):
    pass


_TypedMessage = _TypedTrade | _TypedSecond | _TypedMinute | _TypedStatus
_TYPED_FRAME = msgspec.json.Decoder(list[_TypedMessage])


def _decode_typed(frame: str | bytes | bytearray) -> list[_TypedMessage] | None:
    """The frame's messages as typed structs; None unless every message fits one."""
    try:
        return _TYPED_FRAME.decode(frame)
    except Exception:  # msgspec.DecodeError (also for a frame that is not JSON), TypeError for other inputs
        return None


def _typed_columns(messages: list[_TypedMessage]) -> ColumnarFrame:
    trades: list[_TypedTrade] = [m for m in messages if type(m) is _TypedTrade]
    seconds: list[_TypedSecond] = []
    minutes: list[_TypedSecond] = []
    status = 0
    if len(trades) < len(messages):  # bars or status messages too (a frame of trades alone is the common case)
        seconds = [m for m in messages if type(m) is _TypedSecond]
        minutes = [m for m in messages if type(m) is _TypedMinute]
        status = len(messages) - len(trades) - len(seconds) - len(minutes)
    dropped: Counter[str] = Counter()
    return ColumnarFrame(
        _typed_trades(trades, dropped),
        _typed_aggs("A", seconds, dropped),
        _typed_aggs("AM", minutes, dropped),
        dropped,
        status,
    )


def _typed_trades(trades: list[_TypedTrade], dropped: Counter[str]) -> TradeBatch:
    if not trades:
        return TradeBatch.empty()
    return _trade_batch(
        [m.sym for m in trades],
        np.array([m.x for m in trades], dtype=np.int64),
        np.array([m.q for m in trades], dtype=np.int64),
        np.array([m.p for m in trades], dtype=np.float64),
        np.array([m.s for m in trades], dtype=np.float64),
        np.array([m.t for m in trades], dtype=np.int64) * NS_PER_MS,
        [m.c for m in trades],
        [],
        dropped,
    )


def _typed_aggs(kind: AggKind, bars: list[_TypedSecond], dropped: Counter[str]) -> AggBatch:
    if not bars:
        return AggBatch.empty(kind)
    floats = [np.array(values, dtype=np.float64) for values in zip(*[(m.o, m.h, m.l, m.c, m.vw, m.v) for m in bars])]
    average = np.array([0.0 if m.z is None else m.z for m in bars], dtype=np.float64)
    start_ns = np.array([m.s for m in bars], dtype=np.int64) * NS_PER_MS
    end_ns = np.array([m.e for m in bars], dtype=np.int64) * NS_PER_MS
    return _agg_batch(kind, [m.sym for m in bars], floats, average, start_ns, end_ns, [], dropped)


def _parse_columnar(messages: list[Any]) -> ColumnarFrame:
    dropped: Counter[str] = Counter()
    trades: list[dict[str, Any]] = []
    seconds: list[dict[str, Any]] = []
    minutes: list[dict[str, Any]] = []
    status = 0
    for message in messages:
        # Fast common case first: a dict with a known ev.
        ev = message.get("ev") if type(message) is dict else None
        if ev == "T":
            trades.append(message)
        elif ev == "A":
            seconds.append(message)
        elif ev == "AM":
            minutes.append(message)
        else:
            kind = _classify(message)
            if kind == "status":
                status += 1
            else:
                dropped[kind] += 1
    return ColumnarFrame(
        _trade_columns(trades, dropped),
        _agg_columns("A", seconds, dropped),
        _agg_columns("AM", minutes, dropped),
        dropped,
        status,
    )


def _number_column(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(is a JSON number, value as float64 with huge integers as inf)."""
    n = len(values)
    if set(map(type, values)) <= _NUMBER:
        try:
            return np.ones(n, dtype=bool), np.array(values, dtype=np.float64)
        except OverflowError:
            pass
    ok = np.fromiter((type(v) in _NUMBER for v in values), dtype=bool, count=n)
    as_float = np.fromiter((_float(v) if type(v) in _NUMBER else math.nan for v in values), np.float64, count=n)
    return ok, as_float


def _int_column(values: list[Any], low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """(is an int in [low, high], value as int64 (0 where not))."""
    n = len(values)
    if set(map(type, values)) <= _INT:
        try:
            array = np.array(values, dtype=np.int64)
        except OverflowError:
            pass
        else:
            return (array >= low) & (array <= high), array
    ok = np.fromiter((type(v) is int and low <= v <= high for v in values), dtype=bool, count=n)
    array = np.fromiter((v if k else 0 for v, k in zip(values, ok.tolist())), dtype=np.int64, count=n)
    return ok, array


def _ms_column(values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(is a JSON number, ns int64 or -1 when not a valid millisecond timestamp)."""
    n = len(values)
    if set(map(type, values)) <= _INT:
        try:
            ms = np.array(values, dtype=np.int64)
        except OverflowError:
            pass
        else:
            valid = (ms > 0) & (ms <= MAX_MS)
            return np.ones(n, dtype=bool), np.where(valid, ms * NS_PER_MS, -1)
    is_number = np.fromiter((type(v) in _NUMBER for v in values), dtype=bool, count=n)
    ns = [_ms_to_ns(v) if k else None for v, k in zip(values, is_number.tolist())]
    return is_number, np.fromiter((-1 if v is None else v for v in ns), dtype=np.int64, count=n)


def _bad_symbols(values: list[Any]) -> np.ndarray | None:
    """True where the symbol is bad (not a str, or empty); None when all are good."""
    if set(map(type, values)) == {str} and all(values):
        return None
    return np.fromiter((type(v) is not str or not v for v in values), dtype=bool, count=len(values))


def _object_array(values: list[Any]) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _first_reason(masks: list[np.ndarray | None], n: int, offset: int = 0) -> np.ndarray | None:
    """Code (``offset`` + 1-based index of the first true mask) per row, 0 where none is true; None when all
    are 0."""
    present = [(i, mask) for i, mask in enumerate(masks, start=1 + offset) if mask is not None and mask.any()]
    if not present:
        return None
    code = np.zeros(n, dtype=np.int8)
    for i, mask in present:
        code[(code == 0) & mask] = i
    return code


def _count(code: np.ndarray, dropped: Counter[str]) -> np.ndarray:
    counts = np.bincount(code, minlength=len(_CODES))
    for i in range(1, len(_CODES)):
        if counts[i]:
            dropped[_CODES[i]] += int(counts[i])
    return code == 0


def _positive_finite(values: np.ndarray) -> np.ndarray:
    return (values > 0.0) & (values < math.inf)


def _missing(messages: list[dict[str, Any]], required: frozenset[str]) -> np.ndarray:
    return np.fromiter((not m.keys() >= required for m in messages), dtype=bool, count=len(messages))


def _trade_columns(messages: list[dict[str, Any]], dropped: Counter[str]) -> TradeBatch:
    n = len(messages)
    if n == 0:
        return TradeBatch.empty()
    try:
        columns = tuple([m[key] for m in messages] for key in ("sym", "x", "q", "p", "s", "t"))
        missing = None
    except KeyError:
        columns = tuple([m.get(key) for m in messages] for key in ("sym", "x", "q", "p", "s", "t"))
        missing = _missing(messages, _TRADE_FIELDS)
    symbols, raw_x, raw_q, raw_p, raw_s, raw_t = columns
    raw_conditions = [m.get("c") for m in messages]
    bad_symbol = _bad_symbols(symbols)
    x_ok, exchange = _int_column(raw_x, INT32_MIN, INT32_MAX)
    q_ok, sequence = _int_column(raw_q, INT64_MIN, INT64_MAX)
    p_ok, price = _number_column(raw_p)
    s_ok, size = _number_column(raw_s)
    t_ok, ts_ns = _ms_column(raw_t)
    c_ok = _conditions_ok(raw_conditions)
    wrong_type = ~(x_ok & q_ok & p_ok & s_ok & t_ok & c_ok)
    return _trade_batch(
        symbols, exchange, sequence, price, size, ts_ns, raw_conditions, [missing, bad_symbol, wrong_type], dropped
    )


def _trade_batch(
    symbols: list[Any],
    exchange: np.ndarray,
    sequence: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
    ts_ns: np.ndarray,
    raw_conditions: list[Any],
    type_reasons: list[np.ndarray | None],
    dropped: Counter[str],
) -> TradeBatch:
    """The batch of a frame's trade columns: rows failing the reasons dropped and counted.

    ``type_reasons``: the masks of the reasons met before the values are read (missing field, bad symbol,
    wrong type), in that order; ``ts_ns`` is -1 where the timestamp is not valid.
    """
    with np.errstate(invalid="ignore"):
        code = _first_reason(
            [*type_reasons, ts_ns <= 0, ~_positive_finite(price), ~_positive_finite(size)],
            len(symbols),
            offset=len(_TYPE_REASONS) - len(type_reasons),
        )
    if code is None:
        conditions = tuple([tuple(c) if c else () for c in raw_conditions])
    else:
        keep = _count(code, dropped)
        kept = keep.tolist()
        conditions = tuple([tuple(c) if c else () for c, k in zip(raw_conditions, kept) if k])
        symbols = [s for s, k in zip(symbols, kept) if k]
        exchange, sequence, price, size, ts_ns = (a[keep] for a in (exchange, sequence, price, size, ts_ns))
    # bars.is_eligible with correction 0 (WebSocket trades carry no correction code), inlined for speed.
    excluded = EXCLUDED_CONDITIONS
    eligible = np.fromiter((not c or excluded.isdisjoint(c) for c in conditions), dtype=bool, count=len(conditions))
    return TradeBatch(
        symbols=_object_array(symbols),
        ts_ns=ts_ns,
        price=price,
        size=size,
        sequence=sequence,
        exchange=exchange.astype(np.int32),
        conditions=conditions,
        eligible=eligible,
    )


def _conditions_ok(values: list[Any]) -> np.ndarray:
    n = len(values)
    if set(map(type, values)) <= _CONDITIONS:
        codes = list(chain.from_iterable(filter(None, values)))
        if not codes or (set(map(type, codes)) <= _INT and INT32_MIN <= min(codes) and max(codes) <= INT32_MAX):
            return np.ones(n, dtype=bool)
    return np.fromiter((_conditions(c) is not None for c in values), dtype=bool, count=n)


def _agg_columns(kind: AggKind, messages: list[dict[str, Any]], dropped: Counter[str]) -> AggBatch:
    n = len(messages)
    if n == 0:
        return AggBatch.empty(kind)
    keys = ("sym", "o", "h", "l", "c", "vw", "v", "s", "e")
    try:
        columns = tuple([m[key] for m in messages] for key in keys)
        missing = None
    except KeyError:
        columns = tuple([m.get(key) for m in messages] for key in keys)
        missing = _missing(messages, _AGG_FIELDS)
    symbols = columns[0]
    bad_symbol = _bad_symbols(symbols)
    numbers = [_number_column(values) for values in columns[1:7]]
    raw_z = [m.get("z") for m in messages]
    z_ok, average = _number_column([0 if z is None else z for z in raw_z])
    s_ok, start_ns = _ms_column(columns[7])
    e_ok, end_ns = _ms_column(columns[8])
    wrong_type = ~(s_ok & e_ok & z_ok)
    for ok, _ in numbers:
        wrong_type |= ~ok
    floats = [values for _, values in numbers]
    return _agg_batch(kind, symbols, floats, average, start_ns, end_ns, [missing, bad_symbol, wrong_type], dropped)


def _agg_batch(
    kind: AggKind,
    symbols: list[Any],
    floats: list[np.ndarray],
    average: np.ndarray,
    start_ns: np.ndarray,
    end_ns: np.ndarray,
    type_reasons: list[np.ndarray | None],
    dropped: Counter[str],
) -> AggBatch:
    """The batch of a frame's bar columns (``floats``: open, high, low, close, vwap, volume): rows failing the
    reasons dropped and counted; ``type_reasons`` as in :func:`_trade_batch`."""
    n = len(symbols)
    o, h, l, c, vw, v = floats
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        bad_timestamp = (start_ns <= 0) | (end_ns <= 0) | (end_ns <= start_ns)
        bad_price = h < l
        for values in (o, h, l, c, vw):
            bad_price |= ~_positive_finite(values)
        size_ok = (v >= 0.0) & (v < math.inf) & (average >= 0.0) & (average < math.inf)
        positive = size_ok & (average > 0.0)
        ratio = np.divide(v, average, out=np.zeros(n), where=positive)
        size_ok &= ratio < _TWO_63
        transactions = np.where(size_ok, np.rint(ratio), 0.0).astype(np.int64)
    code = _first_reason(
        [*type_reasons, bad_timestamp, bad_price, ~size_ok], n, offset=len(_TYPE_REASONS) - len(type_reasons)
    )
    columns_out = {
        "start_ns": start_ns,
        "end_ns": end_ns,
        "open": o,
        "high": h,
        "low": l,
        "close": c,
        "volume": v,
        "vwap": vw,
        "transactions": transactions,
    }
    if code is not None:
        keep = _count(code, dropped)
        symbols = [s for s, k in zip(symbols, keep.tolist()) if k]
        columns_out = {name: values[keep] for name, values in columns_out.items()}
    return AggBatch(kind=kind, symbols=_object_array(symbols), **columns_out)
