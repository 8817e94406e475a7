"""The last bars of the gate's bar stream per symbol, for the tradeability gate of a live strategy.

The tradeability inputs (:func:`~sigma9_runtime.gates.tradeability.tradeability_inputs`) read the bars of
one stream: 1-second bars (``A``) of the last 300 s, or, for a FeatureSpec without 1-second bars, 1-minute
bars (``AM``) of the last 30 minutes with their highs and lows (:func:`sigma9_runtime.streams.gate_bar_kind`).
The feature builder's rings are sized for the FeatureSpec's windows, so a strategy keeps these few bars
itself. Bars come from the ``A.*`` / ``AM.*`` stream (live) or the lake's ``1s`` / ``1m`` bars (replay), the
same bars the lab's evaluation reads.

Memory per symbol: at most ``spread window / bar + 3`` bars (303 of ``A``, 33 of ``AM``), for at most
``max_symbols`` symbols. A bar that is not finite and positive (for ``AM`` also its high and low,
``low <= high``), not aligned to a whole bar, not after the symbol's last bar (a duplicate or out-of-order
bar), or of a new symbol beyond ``max_symbols`` is skipped and counted in :attr:`RecentBars.skipped`
(``bad_bar``, ``bad_timestamp``, ``out_of_order``, ``symbol_cap``).

A strategy passes only the bars its feature builder admits
(:meth:`~sigma9_runtime.features.online.OnlineFeatureBuilder.admits_bars`: prices and volumes within
:mod:`sigma9_runtime.bounds`, not stamped beyond the feed's horizon, a ticker), so a bar from the future
cannot become a symbol's last bar and refuse its later ones as out of order.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from sigma9_runtime.bounds import MAX_SYMBOLS
from sigma9_runtime.feeds.events import AggBatch, AggEvent
from sigma9_runtime.gates.tradeability import (
    TradeabilityInputs,
    spread_window_ns,
    tradeability_inputs,
    tradeability_many,
)
from sigma9_runtime.streams import BAR_NS, BarStream

NAN_INPUTS = TradeabilityInputs(math.nan, math.nan)
"""Tradeability of a symbol with no bars."""


class _SymbolBars:
    """One symbol's kept bars: columns ``[start, end)`` of four arrays (six with the bars' ranges), compacted
    when the end is reached."""

    __slots__ = ("arrays", "close", "end", "high", "keep_ns", "last_ns", "low", "start", "ts", "volume", "vwap")

    def __init__(self, keep_ns: int, keep_bars: int, ranges: bool) -> None:
        capacity = 2 * keep_bars
        self.keep_ns = keep_ns
        self.ts = np.zeros(capacity, dtype=np.int64)
        self.close = np.zeros(capacity)
        self.vwap = np.zeros(capacity)
        self.volume = np.zeros(capacity)
        # The spread estimator of 1-second bars reads closes only: their highs and lows are not kept.
        self.high = np.zeros(capacity if ranges else 0)
        self.low = np.zeros(capacity if ranges else 0)
        self.arrays = (self.ts, self.close, self.vwap, self.volume) + ((self.high, self.low) if ranges else ())
        self.start = 0
        self.end = 0
        self.last_ns = 0

    def __len__(self) -> int:
        return self.end - self.start

    def append(self, start_ns: int, close: float, vwap: float, volume: float) -> None:
        if self.end == self.ts.size:
            kept = self.end - self.start
            for column in self.arrays:
                column[:kept] = column[self.start : self.end]
            self.start, self.end = 0, kept
        end = self.end
        self.ts[end] = start_ns
        self.close[end] = close
        self.vwap[end] = vwap
        self.volume[end] = volume
        self.end = end + 1
        self.last_ns = start_ns
        cutoff = start_ns - self.keep_ns
        while self.ts[self.start] < cutoff:
            self.start += 1

    def set_range(self, high: float, low: float) -> None:
        """High and low of the bar appended last."""
        self.high[self.end - 1] = high
        self.low[self.end - 1] = low

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(ts, close, vwap, volume)`` of the kept bars (views, oldest first)."""
        window = slice(self.start, self.end)
        return self.ts[window], self.close[window], self.vwap[window], self.volume[window]

    def extremes(self) -> tuple[np.ndarray, np.ndarray]:
        """``(high, low)`` of the kept bars (views, oldest first)."""
        window = slice(self.start, self.end)
        return self.high[window], self.low[window]


class RecentBars:
    """The bars of one stream (start, close, vwap, volume; high and low for ``AM``) of the spread estimate's
    window, per symbol.

    Parameters
    ----------
    kind
        The stream kept: ``"A"`` (1-second bars of the last five minutes) or ``"AM"`` (1-minute bars of the
        last 30 minutes); the strategy's is :func:`sigma9_runtime.streams.gate_bar_kind` of its spec.
        Bars of the other stream are not taken.
    max_symbols
        Most symbols kept (bars of further new symbols: ``symbol_cap``); the strategy passes its builder's.

    Examples
    --------
    >>> bars = RecentBars()
    >>> for s in range(10):
    ...     _ = bars.add("ABCD", s * 1_000_000_000, 10.0 + (s % 2) * 0.1, 10.0, 100.0)
    >>> bars.inputs("ABCD", 10_000_000_000).dollar_volume_1m
    10000.0
    >>> minutes = RecentBars("AM")
    >>> for m in range(7):
    ...     _ = minutes.add("ABCD", m * 60_000_000_000, 10.0, 10.0, 1e4, high=10.1, low=9.9)
    >>> minutes.inputs("ABCD", 7 * 60_000_000_000).dollar_volume_1m  # the last completed minute bar
    100000.0
    """

    __slots__ = ("_bars", "_keep_bars", "_keep_ns", "_ranges", "bar_ns", "kind", "max_symbols", "skipped")

    def __init__(self, kind: BarStream = "A", max_symbols: int = MAX_SYMBOLS) -> None:
        if kind not in BAR_NS:
            raise ValueError(f"RecentBars: kind must be 'A' or 'AM', got {kind!r}")
        if max_symbols < 1:
            raise ValueError(f"RecentBars: max_symbols must be positive, got {max_symbols!r}")
        self.max_symbols = max_symbols
        """Most symbols kept."""
        self.kind: BarStream = kind
        """The bar stream kept."""
        self.bar_ns = BAR_NS[kind]
        """Length of its bars (ns)."""
        self._keep_ns = spread_window_ns(self.bar_ns) + 2 * self.bar_ns
        self._keep_bars = self._keep_ns // self.bar_ns + 1
        self._ranges = kind == "AM"  # the close-high-low spread estimator reads the bars' ranges
        self._bars: dict[str, _SymbolBars] = {}
        self.skipped: Counter[str] = Counter()

    def add(
        self,
        symbol: str,
        start_ns: int,
        close: float,
        vwap: float,
        volume: float,
        high: float = math.nan,
        low: float = math.nan,
    ) -> bool:
        """Add one bar of this stream; True when kept. ``high``/``low`` are needed for ``AM`` (a minute bar
        without them is a bad bar) and ignored for ``A``."""
        if not (0 < close < math.inf and 0 < vwap < math.inf and 0 <= volume < math.inf):
            self.skipped["bad_bar"] += 1
            return False
        if self._ranges and not (0 < low <= high < math.inf):
            self.skipped["bad_bar"] += 1
            return False
        if start_ns % self.bar_ns:
            self.skipped["bad_timestamp"] += 1
            return False
        bars = self._bars.get(symbol)
        if bars is None:
            if len(self._bars) >= self.max_symbols:
                self.skipped["symbol_cap"] += 1
                return False
            bars = self._bars[symbol] = _SymbolBars(self._keep_ns, self._keep_bars, self._ranges)
        elif start_ns <= bars.last_ns:
            self.skipped["out_of_order"] += 1
            return False
        bars.append(int(start_ns), float(close), float(vwap), float(volume))
        if self._ranges:
            bars.set_range(float(high), float(low))
        return True

    def add_event(self, event: AggEvent) -> bool:
        """Add a bar of this stream (a bar of the other stream is not taken: False)."""
        if event.kind != self.kind:
            return False
        return self.add(event.symbol, event.start_ns, event.close, event.vwap, event.volume, event.high, event.low)

    def add_batch(self, batch: AggBatch) -> int:
        """Add the bars of a batch of this stream in order; returns how many were kept (0 for the other stream)."""
        if batch.kind != self.kind or len(batch) == 0:
            return 0
        kept = 0
        if self.kind == "A":  # no ranges needed
            for symbol, start, close, vwap, volume in zip(
                batch.symbols.tolist(),
                batch.start_ns.tolist(),
                batch.close.tolist(),
                batch.vwap.tolist(),
                batch.volume.tolist(),
            ):
                kept += self.add(symbol, start, close, vwap, volume)
            return kept
        for symbol, start, close, vwap, volume, high, low in zip(
            batch.symbols.tolist(),
            batch.start_ns.tolist(),
            batch.close.tolist(),
            batch.vwap.tolist(),
            batch.volume.tolist(),
            batch.high.tolist(),
            batch.low.tolist(),
        ):
            kept += self.add(symbol, start, close, vwap, volume, high, low)
        return kept

    def inputs(self, symbol: str, at_ns: int) -> TradeabilityInputs:
        """Dollar volume of the last minute and the spread estimate of ``symbol`` at ``at_ns`` (the reference)."""
        bars = self._bars.get(symbol)
        if not bars:
            return NAN_INPUTS
        if self.kind == "A":
            return tradeability_inputs(*bars.columns(), at_ns)
        high, low = bars.extremes()
        return tradeability_inputs(*bars.columns(), at_ns, bar_ns=self.bar_ns, high=high, low=low)

    def inputs_many(self, symbols: list[str], at_ns: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`inputs` of many symbols at once: ``(dollar_volume_1m, spread_pct)`` arrays, bit for bit equal
        (:func:`~sigma9_runtime.gates.tradeability.tradeability_many`); NaN for a symbol without bars."""
        dollar = np.full(len(symbols), np.nan)
        spread = np.full(len(symbols), np.nan)
        known = [(k, bars) for k, bars in enumerate(map(self._bars.get, symbols)) if bars]
        if known:
            rows = np.fromiter((k for k, _ in known), dtype=np.int64, count=len(known))
            columns = [bars.columns() for _, bars in known]
            if self.kind == "A":
                dollar[rows], spread[rows] = tradeability_many(columns, at_ns)
            else:
                high, low = zip(*(bars.extremes() for _, bars in known))
                dollar[rows], spread[rows] = tradeability_many(columns, at_ns, bar_ns=self.bar_ns, high=high, low=low)
        return dollar, spread

    def reset(self) -> None:
        """Forget every bar (a new day); the stream stays."""
        self._bars.clear()
