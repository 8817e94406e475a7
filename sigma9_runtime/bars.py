"""The one rule that turns trades into bars (1-second ``A.*`` and 1-minute ``AM.*``).

Rule (documented in ``docs/lake.md``):

1. A trade is **eligible** when its correction code is 0 and none of its condition codes is in
   :data:`EXCLUDED_CONDITIONS` (trades that are not regular last-sale prints: average-price,
   cash, next-day, prior-reference, out-of-sequence, official open/close, contingent, ...).
2. Eligible trades are bucketed by ``floor(ts / interval) * interval``; a bar is stamped at the
   **start** of its interval. An interval without an eligible trade has **no bar**.
3. Within a bucket, in arrival order: open = first price, close = last price, high/low = max/min
   price, volume = sum of sizes, vwap = sum(price * size) / volume, transactions = trade count.

The batch kernel :func:`bars_from_trades` (lake, importers, synthetic market) and the incremental
:class:`BarAccumulator` (runtime) implement the same rule; a test proves them equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EXCLUDED_CONDITIONS: frozenset[int] = frozenset(
    {
        2,  # average price trade
        7,  # cash sale
        10,  # derivatively priced
        13,  # extended hours, sold out of sequence
        15,  # market center official close
        16,  # market center official open
        20,  # next day
        21,  # price variation trade
        22,  # prior reference price
        29,  # seller
        33,  # sold out of sequence
        52,  # contingent trade
        53,  # qualified contingent trade
    }
)
"""Massive (CTA/UTP) trade condition codes whose trades are left out of bars."""

BAR_COLUMNS: tuple[str, ...] = ("ts", "open", "high", "low", "close", "volume", "vwap", "transactions")


def is_eligible(conditions: Iterable[int] | None, correction: int = 0) -> bool:
    """Whether one trade counts towards bars (rule 1)."""
    if correction != 0:
        return False
    return not conditions or EXCLUDED_CONDITIONS.isdisjoint(conditions)


def bars_from_trades(
    ts: npt.NDArray[np.int64],
    price: npt.NDArray[np.float64],
    size: npt.NDArray[np.float64],
    interval_ns: int,
) -> dict[str, np.ndarray]:
    """Bars of ``interval_ns`` from eligible trades sorted by ``ts`` (rules 2 and 3).

    Parameters
    ----------
    ts, price, size
        Eligible trades in arrival order (``ts`` non-decreasing, ns UTC).
    interval_ns
        Bar length (``SECOND_NS``, ``MINUTE_NS``).

    Returns
    -------
    dict
        Column name -> array, columns :data:`BAR_COLUMNS`; ``ts`` is the interval start.
    """
    ts = np.asarray(ts, dtype=np.int64)
    price = np.asarray(price, dtype=np.float64)
    size = np.asarray(size, dtype=np.float64)
    if ts.size == 0:
        empty_f = np.empty(0, dtype=np.float64)
        return {
            "ts": np.empty(0, dtype=np.int64),
            **{c: empty_f.copy() for c in ("open", "high", "low", "close", "volume", "vwap")},
            "transactions": np.empty(0, dtype=np.int64),
        }
    if ts.size > 1 and np.any(np.diff(ts) < 0):
        raise ValueError("trades must be sorted by ts")
    bucket = (ts // interval_ns) * interval_ns
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], ts.size]
    # bincount adds weights in element order, exactly like the incremental accumulator
    # (np.add.reduceat sums pairwise and differs in the last bits).
    group = np.cumsum(np.r_[True, bucket[1:] != bucket[:-1]]) - 1
    volume = np.bincount(group, weights=size, minlength=starts.size)
    notional = np.bincount(group, weights=price * size, minlength=starts.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        vwap = np.where(volume > 0, notional / volume, price[ends - 1])
    return {
        "ts": bucket[starts],
        "open": price[starts],
        "high": np.maximum.reduceat(price, starts),
        "low": np.minimum.reduceat(price, starts),
        "close": price[ends - 1],
        "volume": volume,
        "vwap": vwap,
        "transactions": (ends - starts).astype(np.int64),
    }


@dataclass
class Bar:
    """One bar, stamped at the start of its interval."""

    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    vwap: float
    transactions: int


class BarAccumulator:
    """Incremental form of :func:`bars_from_trades` for one symbol and one interval.

    ``update`` takes eligible trades in arrival order and returns the bar of the previous interval
    when a trade opens a new one; ``flush`` returns the open bar (e.g. at a clock tick past its end).
    """

    def __init__(self, interval_ns: int) -> None:
        self.interval_ns = interval_ns
        self._bucket: int | None = None
        self._open = self._high = self._low = self._close = 0.0
        self._volume = self._notional = 0.0
        self._count = 0

    def update(self, ts: int, price: float, size: float) -> Bar | None:
        """Add one trade; return the completed previous bar, if this trade starts a new interval."""
        bucket = (ts // self.interval_ns) * self.interval_ns
        done = None
        if self._bucket is not None and bucket != self._bucket:
            if bucket < self._bucket:
                raise ValueError(f"trade at {ts} is before the open bar at {self._bucket}")
            done = self.flush()
        if self._bucket is None:
            self._bucket = bucket
            self._open = self._high = self._low = price
            self._volume = self._notional = 0.0
            self._count = 0
        self._high = max(self._high, price)
        self._low = min(self._low, price)
        self._close = price
        self._volume += size
        self._notional += price * size
        self._count += 1
        return done

    def flush(self) -> Bar | None:
        """Close and return the open bar (None when there is none)."""
        if self._bucket is None:
            return None
        vwap = self._notional / self._volume if self._volume > 0 else self._close
        bar = Bar(self._bucket, self._open, self._high, self._low, self._close, self._volume, vwap, self._count)
        self._bucket = None
        return bar

    @property
    def open_bucket(self) -> int | None:
        """Start of the bar being built, if any."""
        return self._bucket
