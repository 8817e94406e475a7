"""The last five minutes of 1-second bars per symbol, for the tradeability gate of a live strategy.

The tradeability inputs (:func:`~sigma9_runtime.gates.tradeability.tradeability_inputs`) read 1-second
bars of the last 300 s; the feature builder's rings are sized for the FeatureSpec's windows (about a
minute), so a strategy keeps these few bars itself. Bars come from the ``A.*`` stream (live) or the
lake's ``1s`` bars (replay), the same bars the lab's evaluation reads.

Memory per symbol: at most ``SPREAD_WINDOW_NS / 1 s + 3`` bars. A bar that is not finite and positive,
not aligned to a whole second, or not after the symbol's last bar (a duplicate or out-of-order bar) is
skipped and counted in :attr:`RecentBars.skipped`.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from sigma9_runtime.feeds.events import AggBatch, AggEvent
from sigma9_runtime.gates.tradeability import (
    BAR_NS,
    SPREAD_WINDOW_NS,
    TradeabilityInputs,
    tradeability_inputs,
    tradeability_many,
)

_KEEP_NS = SPREAD_WINDOW_NS + 2 * BAR_NS
_KEEP_BARS = _KEEP_NS // BAR_NS + 1
NAN_INPUTS = TradeabilityInputs(math.nan, math.nan)
"""Tradeability of a symbol with no bars."""


class _SymbolBars:
    """One symbol's kept bars: columns ``[start, end)`` of four arrays, compacted when the end is reached."""

    __slots__ = ("close", "end", "last_ns", "start", "ts", "volume", "vwap")

    def __init__(self) -> None:
        capacity = 2 * _KEEP_BARS
        self.ts = np.zeros(capacity, dtype=np.int64)
        self.close = np.zeros(capacity)
        self.vwap = np.zeros(capacity)
        self.volume = np.zeros(capacity)
        self.start = 0
        self.end = 0
        self.last_ns = 0

    def __len__(self) -> int:
        return self.end - self.start

    def append(self, start_ns: int, close: float, vwap: float, volume: float) -> None:
        if self.end == self.ts.size:
            kept = self.end - self.start
            for column in (self.ts, self.close, self.vwap, self.volume):
                column[:kept] = column[self.start : self.end]
            self.start, self.end = 0, kept
        end = self.end
        self.ts[end] = start_ns
        self.close[end] = close
        self.vwap[end] = vwap
        self.volume[end] = volume
        self.end = end + 1
        self.last_ns = start_ns
        cutoff = start_ns - _KEEP_NS
        while self.ts[self.start] < cutoff:
            self.start += 1

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(ts, close, vwap, volume)`` of the kept bars (views, oldest first)."""
        window = slice(self.start, self.end)
        return self.ts[window], self.close[window], self.vwap[window], self.volume[window]


class RecentBars:
    """1-second bars (start, close, vwap, volume) of the last five minutes, per symbol.

    Examples
    --------
    >>> bars = RecentBars()
    >>> for s in range(10):
    ...     _ = bars.add("ABCD", s * 1_000_000_000, 10.0 + (s % 2) * 0.1, 10.0, 100.0)
    >>> bars.inputs("ABCD", 10_000_000_000).dollar_volume_1m
    10000.0
    """

    __slots__ = ("_bars", "skipped")

    def __init__(self) -> None:
        self._bars: dict[str, _SymbolBars] = {}
        self.skipped: Counter[str] = Counter()

    def add(self, symbol: str, start_ns: int, close: float, vwap: float, volume: float) -> bool:
        """Add one bar; True when kept."""
        if not (0 < close < math.inf and 0 < vwap < math.inf and 0 <= volume < math.inf):
            self.skipped["bad_bar"] += 1
            return False
        if start_ns % BAR_NS:
            self.skipped["bad_timestamp"] += 1
            return False
        bars = self._bars.get(symbol)
        if bars is None:
            bars = self._bars[symbol] = _SymbolBars()
        elif start_ns <= bars.last_ns:
            self.skipped["out_of_order"] += 1
            return False
        bars.append(int(start_ns), float(close), float(vwap), float(volume))
        return True

    def add_event(self, event: AggEvent) -> bool:
        """Add an ``A`` bar (``AM`` bars are not read by the gate)."""
        if event.kind != "A":
            return False
        return self.add(event.symbol, event.start_ns, event.close, event.vwap, event.volume)

    def add_batch(self, batch: AggBatch) -> int:
        """Add the bars of an ``A`` batch in order; returns how many were kept."""
        if batch.kind != "A" or len(batch) == 0:
            return 0
        kept = 0
        for symbol, start, close, vwap, volume in zip(
            batch.symbols.tolist(),
            batch.start_ns.tolist(),
            batch.close.tolist(),
            batch.vwap.tolist(),
            batch.volume.tolist(),
        ):
            kept += self.add(symbol, start, close, vwap, volume)
        return kept

    def inputs(self, symbol: str, at_ns: int) -> TradeabilityInputs:
        """Dollar volume of the last minute and the spread estimate of ``symbol`` at ``at_ns`` (the reference)."""
        bars = self._bars.get(symbol)
        if not bars:
            return NAN_INPUTS
        return tradeability_inputs(*bars.columns(), at_ns)

    def inputs_many(self, symbols: list[str], at_ns: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`inputs` of many symbols at once: ``(dollar_volume_1m, spread_pct)`` arrays, bit for bit equal
        (:func:`~sigma9_runtime.gates.tradeability.tradeability_many`); NaN for a symbol without bars."""
        dollar = np.full(len(symbols), np.nan)
        spread = np.full(len(symbols), np.nan)
        known = [(k, bars) for k, bars in enumerate(map(self._bars.get, symbols)) if bars]
        if known:
            rows = np.fromiter((k for k, _ in known), dtype=np.int64, count=len(known))
            dollar[rows], spread[rows] = tradeability_many([bars.columns() for _, bars in known], at_ns)
        return dollar, spread

    def reset(self) -> None:
        """Forget every bar (a new day)."""
        self._bars.clear()
