"""Market events of a live feed, one at a time (:class:`TradeEvent`, :class:`AggEvent`) or in columns
(:class:`TradeBatch`, :class:`AggBatch`).

All timestamps are int64 nanoseconds UTC, whatever unit the wire used; a parser converts at the edge.
The columnar forms hold exactly the same values as a list of events (``from_events``/``to_events``
round-trip), so a fast batch path can be proven equal to the per-event path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from sigma9_runtime.bars import is_eligible

AggKind = Literal["A", "AM"]
"""``A``: one-second aggregate; ``AM``: one-minute aggregate."""


_EMPTY: dict[str, object] = {}
"""The empty batch of each stream (``T``, ``A``, ``AM``), built once."""


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One trade print.

    Attributes
    ----------
    symbol
        Ticker as sent by the feed.
    ts_ns
        SIP timestamp, ns UTC.
    price, size
        Trade price and size (shares; fractional sizes are allowed).
    conditions
        Sale condition codes (Massive/CTA/UTP), empty when the feed sent none.
    exchange
        Exchange id.
    sequence
        Feed sequence number.
    """

    symbol: str
    ts_ns: int
    price: float
    size: float
    conditions: tuple[int, ...]
    exchange: int
    sequence: int

    @property
    def eligible(self) -> bool:
        """Whether the trade counts towards bars (:func:`sigma9_runtime.bars.is_eligible`)."""
        return is_eligible(self.conditions)


@dataclass(frozen=True, slots=True)
class AggEvent:
    """One aggregate bar as sent by the feed, stamped at the start of its interval.

    Attributes
    ----------
    kind
        ``"A"`` (one second) or ``"AM"`` (one minute).
    symbol
        Ticker.
    start_ns, end_ns
        Interval start (the bar's stamp) and end, ns UTC.
    open, high, low, close, volume, vwap
        The bar.
    transactions
        Number of trades in the bar (derived by the parser, see
        :mod:`sigma9_runtime.feeds.massive_ws`).
    """

    kind: AggKind
    symbol: str
    start_ns: int
    end_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float
    transactions: int


def _ints(values: Sequence[int] | npt.ArrayLike, dtype: type = np.int64) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


def _floats(values: Sequence[float] | npt.ArrayLike) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _symbols(values: Sequence[str] | npt.ArrayLike) -> np.ndarray:
    out = np.empty(len(values), dtype=object)  # type: ignore[arg-type]
    out[:] = list(values)  # type: ignore[arg-type]
    return out


@dataclass(frozen=True, slots=True)
class TradeBatch:
    """Trades in columns, in arrival order.

    Attributes
    ----------
    symbols
        Object array of tickers.
    ts_ns, sequence
        int64 arrays.
    price, size
        float64 arrays.
    exchange
        int32 array.
    conditions
        One tuple of condition codes per trade.
    eligible
        bool array: the trade counts towards bars (``is_eligible(conditions)``).
    """

    symbols: np.ndarray
    ts_ns: np.ndarray
    price: np.ndarray
    size: np.ndarray
    sequence: np.ndarray
    exchange: np.ndarray
    conditions: tuple[tuple[int, ...], ...]
    eligible: np.ndarray

    def __len__(self) -> int:
        return int(self.ts_ns.size)

    @classmethod
    def empty(cls) -> TradeBatch:
        """A batch without trades (one shared instance: frozen, with no element to change)."""
        empty = _EMPTY.get("T")
        if empty is None:
            empty = _EMPTY["T"] = cls.from_events(())
        return empty  # type: ignore[return-value]

    @classmethod
    def from_events(cls, events: Iterable[TradeEvent]) -> TradeBatch:
        """Columns of ``events`` (the reference the fast path is tested against)."""
        events = list(events)
        return cls(
            symbols=_symbols([e.symbol for e in events]),
            ts_ns=_ints([e.ts_ns for e in events]),
            price=_floats([e.price for e in events]),
            size=_floats([e.size for e in events]),
            sequence=_ints([e.sequence for e in events]),
            exchange=_ints([e.exchange for e in events], np.int32),
            conditions=tuple(e.conditions for e in events),
            eligible=np.array([is_eligible(e.conditions) for e in events], dtype=bool),
        )

    def to_events(self) -> list[TradeEvent]:
        """The batch as events (Python scalars)."""
        return [
            TradeEvent(s, t, p, z, c, x, q)
            for s, t, p, z, c, x, q in zip(
                self.symbols.tolist(),
                self.ts_ns.tolist(),
                self.price.tolist(),
                self.size.tolist(),
                self.conditions,
                self.exchange.tolist(),
                self.sequence.tolist(),
            )
        ]

    @classmethod
    def concat(cls, batches: Sequence[TradeBatch]) -> TradeBatch:
        """One batch of ``batches`` in order."""
        if not batches:
            return cls.empty()
        return cls(
            symbols=np.concatenate([b.symbols for b in batches]),
            ts_ns=np.concatenate([b.ts_ns for b in batches]),
            price=np.concatenate([b.price for b in batches]),
            size=np.concatenate([b.size for b in batches]),
            sequence=np.concatenate([b.sequence for b in batches]),
            exchange=np.concatenate([b.exchange for b in batches]),
            conditions=tuple(c for b in batches for c in b.conditions),
            eligible=np.concatenate([b.eligible for b in batches]),
        )


@dataclass(frozen=True, slots=True)
class AggBatch:
    """Aggregate bars of one kind in columns, in arrival order.

    Attributes
    ----------
    kind
        ``"A"`` or ``"AM"``.
    symbols
        Object array of tickers.
    start_ns, end_ns, transactions
        int64 arrays.
    open, high, low, close, volume, vwap
        float64 arrays.
    """

    kind: AggKind
    symbols: np.ndarray
    start_ns: np.ndarray
    end_ns: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    vwap: np.ndarray
    transactions: np.ndarray

    def __len__(self) -> int:
        return int(self.start_ns.size)

    @classmethod
    def empty(cls, kind: AggKind) -> AggBatch:
        """A batch without bars (one shared instance per kind: frozen, with no element to change)."""
        empty = _EMPTY.get(kind)
        if empty is None:
            empty = _EMPTY[kind] = cls.from_events(kind, ())
        return empty  # type: ignore[return-value]

    @classmethod
    def from_events(cls, kind: AggKind, events: Iterable[AggEvent]) -> AggBatch:
        """Columns of the ``kind`` events among ``events``."""
        events = [e for e in events if e.kind == kind]
        return cls(
            kind=kind,
            symbols=_symbols([e.symbol for e in events]),
            start_ns=_ints([e.start_ns for e in events]),
            end_ns=_ints([e.end_ns for e in events]),
            open=_floats([e.open for e in events]),
            high=_floats([e.high for e in events]),
            low=_floats([e.low for e in events]),
            close=_floats([e.close for e in events]),
            volume=_floats([e.volume for e in events]),
            vwap=_floats([e.vwap for e in events]),
            transactions=_ints([e.transactions for e in events]),
        )

    def to_events(self) -> list[AggEvent]:
        """The batch as events (Python scalars)."""
        columns = (
            self.symbols,
            self.start_ns,
            self.end_ns,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.vwap,
            self.transactions,
        )
        return [AggEvent(self.kind, *row) for row in zip(*(c.tolist() for c in columns))]

    def take(self, rows: np.ndarray) -> AggBatch:
        """The bars at ``rows`` (indices or a bool mask), in that order."""
        names = ("symbols", "start_ns", "end_ns", "open", "high", "low", "close", "volume", "vwap", "transactions")
        return AggBatch(kind=self.kind, **{n: getattr(self, n)[rows] for n in names})

    @classmethod
    def concat(cls, kind: AggKind, batches: Sequence[AggBatch]) -> AggBatch:
        """One batch of ``batches`` (all of ``kind``) in order."""
        if not batches:
            return cls.empty(kind)
        names = ("symbols", "start_ns", "end_ns", "open", "high", "low", "close", "volume", "vwap", "transactions")
        return cls(kind=kind, **{n: np.concatenate([getattr(b, n) for b in batches]) for n in names})
