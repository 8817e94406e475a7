"""CrossTracker: when each symbol first crossed its previous close x (1 + anchor) today.

Sigma9's pre-surge scanner looks for small caps **before** they surge; once a symbol has crossed the
anchor (+10%) it belongs to the ignition monitor. The lab evaluates pre-surge alerts only before the
symbol's cross (``sigma9_dag.lab.validation.before_cross``: rows from the time the runtime knows of the
cross on are dropped); a :class:`~sigma9_runtime.strategies.base.ScoringStrategy` applies the same rule
with this tracker, so lab, replay and backtest count the same candidates.

The tracker observes the bars of **one stream**, the one the runtime has for its gate
(:func:`sigma9_runtime.streams.gate_bar_kind`): 1-second bars (``A``) when the FeatureSpec subscribes to
them, else 1-minute bars (``AM``). A symbol has crossed at the **end** of its first bar of that stream
whose high reaches ``prev_close * (1 + anchor)``: that is when a live scanner fed by bars knows it. A bar's
high is its highest eligible trade, so the bar holding T0 (the first eligible trade at or above the
threshold) is the first such bar and the cross time is ``floor(T0, 1 s) + 1 s`` on ``A``,
``floor(T0, 1 min) + 1 min`` on ``AM``, the time from which the lab's validation drops the symbol's rows
(see ``docs/runtime.md``).

Unknown previous close (none given, not finite or not positive): the symbol never crosses. ``anchor``
None: the rule is off (nothing ever crosses).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping

import numpy as np

from sigma9_runtime.feeds.events import AggBatch, AggEvent
from sigma9_runtime.streams import BarStream

SMALL_BATCH = 16
"""Bars of a batch up to which :meth:`CrossTracker.add_batch` observes them one by one."""

DEFAULT_ANCHOR = 0.10
"""The design's anchor: a symbol surges when it trades 10% above its previous close."""


class CrossTracker:
    """Per day, each symbol's threshold ``prev_close * (1 + anchor)`` and the time it first crossed it.

    Parameters
    ----------
    anchor
        The fraction above the previous close (the artifact's ``labeling.anchor_param``); None turns
        the rule off.
    kind
        The bar stream observed: ``"A"`` (1-second bars) or ``"AM"`` (1-minute bars); bars of the other
        stream are ignored.

    Examples
    --------
    >>> tracker = CrossTracker(0.10)
    >>> tracker.start_day(dt.date(2025, 1, 2), {"ABCD": 2.0})
    >>> tracker.threshold("ABCD")
    2.2
    >>> tracker.observe("ABCD", end_ns=5_000_000_000, high=2.25)
    True
    >>> tracker.crossed("ABCD", 4_000_000_000), tracker.crossed("ABCD", 5_000_000_000)
    (False, True)
    >>> minutes = CrossTracker(0.10, kind="AM")
    >>> minutes.start_day(dt.date(2025, 1, 2), {"ABCD": 2.0})
    >>> minutes.add_event(AggEvent("AM", "ABCD", 0, 60_000_000_000, 2.0, 2.3, 2.0, 2.1, 1e4, 2.1, 50))
    True
    >>> minutes.cross_ns("ABCD")  # the end of the minute bar
    60000000000
    """

    __slots__ = ("_anchor", "_cross_ns", "_high", "_kind", "_prev_close", "_threshold", "day")

    def __init__(self, anchor: float | None = DEFAULT_ANCHOR, kind: BarStream = "A") -> None:
        if kind not in ("A", "AM"):
            raise ValueError(f"CrossTracker: kind must be 'A' or 'AM', got {kind!r}")
        self._anchor = anchor
        self._kind: BarStream = kind
        self._prev_close: dict[str, float] = {}
        self._threshold: dict[str, float] = {}
        self._cross_ns: dict[str, int] = {}
        self._high: dict[str, float] = {}
        self.day: dt.date | None = None

    # --- set-up ---------------------------------------------------------------------------------

    @property
    def anchor(self) -> float | None:
        """The anchor in use (None: rule off)."""
        return self._anchor

    @property
    def kind(self) -> BarStream:
        """The bar stream observed (``A`` or ``AM``)."""
        return self._kind

    @property
    def enabled(self) -> bool:
        """Whether any symbol can cross (an anchor and at least one known previous close)."""
        return bool(self._threshold)

    def start_day(self, day: dt.date, previous_close: Mapping[str, float] | None = None) -> None:
        """Begin ``day`` with each symbol's previous close (symbols left out never cross)."""
        self.day = day
        self._prev_close = {
            str(s): float(p) for s, p in (previous_close or {}).items() if p is not None and 0 < float(p) < math.inf
        }
        self._cross_ns = {}
        self._high = {}
        self._thresholds()

    def set_anchor(self, anchor: float | None, at_ns: int) -> None:
        """Use ``anchor`` from ``at_ns`` on (a newer artifact's; hot reload, between steps).

        The bars seen are not kept, only each symbol's day high: a symbol whose day high reaches the new
        threshold stays crossed at its old time, or is crossed at ``at_ns`` when it had not crossed yet;
        a crossed symbol whose day high is below the new threshold is not crossed any more.
        """
        if anchor == self._anchor:
            return
        self._anchor = anchor
        self._thresholds()
        crossed = {}
        for symbol, threshold in self._threshold.items():
            if self._high.get(symbol, -math.inf) >= threshold:
                crossed[symbol] = min(self._cross_ns.get(symbol, int(at_ns)), int(at_ns))
        self._cross_ns = crossed

    def _thresholds(self) -> None:
        anchor = self._anchor
        if anchor is None:
            self._threshold = {}
            return
        # The lab's formula (sigma9_dag.lake.events.find_events), so the floats are identical.
        self._threshold = {s: p * (1 + anchor) for s, p in self._prev_close.items()}

    # --- bars -----------------------------------------------------------------------------------

    def observe(self, symbol: str, end_ns: int, high: float) -> bool:
        """One bar of ``symbol`` ending at ``end_ns`` (of the observed stream; not checked here); True when it
        is the symbol's first cross."""
        threshold = self._threshold.get(symbol)
        if threshold is None or not math.isfinite(high):
            return False
        if high > self._high.get(symbol, -math.inf):
            self._high[symbol] = high
        if high < threshold:
            return False
        first = self._cross_ns.get(symbol)
        if first is not None and first <= end_ns:
            return False
        self._cross_ns[symbol] = int(end_ns)
        return first is None

    def add_event(self, event: AggEvent) -> bool:
        """Observe a bar of this tracker's stream (bars of the other are ignored); True when the symbol first
        crossed with it."""
        if event.kind != self._kind:
            return False
        return self.observe(event.symbol, event.end_ns, event.high)

    def add_batch(self, batch: AggBatch) -> int:
        """Observe the bars of a batch of this tracker's stream at once (a batch of the other stream is
        ignored); returns how many symbols first crossed.

        Equal to :meth:`add_event` for each bar in turn (a test proves it): per symbol the day high is the
        largest finite high and the cross time the earliest end of a bar at or above its threshold.
        """
        n = len(batch)
        if batch.kind != self._kind or n == 0 or not self._threshold:
            return 0
        if n <= SMALL_BATCH:  # a second's few bars: one look-up each costs less than the columns' set-up
            observe = self.observe
            return sum(
                observe(symbol, end, high)
                for symbol, end, high in zip(batch.symbols.tolist(), batch.end_ns.tolist(), batch.high.tolist())
            )
        get = self._threshold.get
        threshold = np.fromiter((get(s, math.nan) for s in batch.symbols.tolist()), dtype=np.float64, count=n)
        high = np.asarray(batch.high, dtype=np.float64)
        known = np.isfinite(threshold) & np.isfinite(high)
        if not known.any():
            return 0
        symbols, inverse = np.unique(batch.symbols[known], return_inverse=True)
        peak = np.full(symbols.size, -np.inf)
        np.maximum.at(peak, inverse, high[known])
        for symbol, value in zip(symbols.tolist(), peak.tolist()):
            if value > self._high.get(symbol, -math.inf):
                self._high[symbol] = value
        hit = high[known] >= threshold[known]
        if not hit.any():
            return 0
        first = np.full(symbols.size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, inverse[hit], np.asarray(batch.end_ns, dtype=np.int64)[known][hit])
        new = 0
        for k in np.unique(inverse[hit]).tolist():
            symbol, end = symbols[k], int(first[k])
            before = self._cross_ns.get(symbol)
            if before is None or end < before:
                self._cross_ns[symbol] = end
                new += before is None
        return new

    # --- questions ------------------------------------------------------------------------------

    def threshold(self, symbol: str) -> float | None:
        """``symbol``'s threshold today (None: unknown previous close or rule off)."""
        return self._threshold.get(symbol)

    def cross_ns(self, symbol: str) -> int | None:
        """When ``symbol`` first crossed today (end of the bar), or None."""
        return self._cross_ns.get(symbol)

    @property
    def crossings(self) -> Mapping[str, int]:
        """Every symbol that crossed today and when (a copy)."""
        return dict(self._cross_ns)

    def crossed(self, symbol: str, at_ns: int) -> bool:
        """Whether ``symbol`` had crossed at or before ``at_ns``."""
        first = self._cross_ns.get(symbol)
        return first is not None and first <= at_ns

    def crossed_many(self, symbols: Iterable[str], at_ns: int) -> np.ndarray:
        """:meth:`crossed` of each symbol, as a bool array."""
        symbols = list(symbols)
        if not self._cross_ns:
            return np.zeros(len(symbols), dtype=bool)
        never = np.iinfo(np.int64).max
        get = self._cross_ns.get
        first = np.fromiter((get(s, never) for s in symbols), dtype=np.int64, count=len(symbols))
        return first <= at_ns
