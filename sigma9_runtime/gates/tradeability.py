"""Tradeability: can a person actually trade the symbol at the alert? (FeatureSpec ``runtime_gates.tradeability``)

Two inputs, both computed from **1-second bars** (``A.*`` live, ``1s/{ticker}.parquet`` in the lake), the
only resolution both sides have; only bars *completed* by the time asked (``ts + 1 s <= at``) are read,
so a value at ``at`` never looks ahead.

* **Dollar volume of the last minute**: ``sum(vwap * volume)`` of the bars stamped in ``[at - 60 s, at)``.
  At a whole minute it equals the dollar volume of the last completed 1-minute bar.
* **Spread estimate (percent).** The streams carry no quotes (``T``, ``A``, ``AM`` only), so the spread is
  read from the bid-ask bounce of consecutive 1-second closes::

      spread_pct = 100 * 2 * mean(|ln(close[i] / close[i-1])|)

  over consecutive bars stamped in ``[at - 300 s, at)``; NaN with fewer than 5 such pairs. When prints fall
  on the bid or the ask at random, half of consecutive prints switch side and move by one spread, the other
  half do not move, so twice the mean absolute move is the spread. **Bias**: upward by the price's own
  moves between the two bars (volatility, long gaps of thin names, a trend), downward when flow is
  one-sided (few side switches) or prints fall inside the quote (midpoint, hidden liquidity); it cannot
  go below what the tick grid allows. On the synthetic market it reads about 1.1x the traded (effective)
  spread, about 0.9x the quoted one.

:func:`tradeability_inputs` is the reference (one symbol, one time, direct sums); :func:`tradeability_batch`
computes many times of one symbol at once with prefix sums and equals it to rounding (a test checks 1e-9
relative); :func:`tradeability_many` computes many symbols at one time (a runtime step's candidates) and equals
it bit for bit (same terms, same reductions, a test checks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from sigma9_runtime.gates.decision import Reason

NANOS_PER_SECOND = 1_000_000_000
BAR_NS = NANOS_PER_SECOND
"""Length of the bars read (1 second)."""
DOLLAR_VOLUME_WINDOW_NS = 60 * NANOS_PER_SECOND
"""Window of the dollar volume: the last minute."""
SPREAD_WINDOW_NS = 300 * NANOS_PER_SECOND
"""Window of the spread estimate: the last five minutes (a minute holds too few bars of a thin name)."""
MIN_SPREAD_PAIRS = 5
"""Fewest consecutive-bar pairs the spread estimate needs; below it the estimate is NaN."""


class TradeabilityInputs(NamedTuple):
    """What the tradeability gate reads for one candidate.

    Attributes
    ----------
    dollar_volume_1m
        Dollar volume of the last minute (USD); NaN or 0 when nothing traded.
    spread_pct
        Estimated bid/ask spread in percent of price (``2.0`` = 2%); NaN when unknown.
    """

    dollar_volume_1m: float
    spread_pct: float


class TradeabilityGate:
    """The liquidity gate: dollar volume at least ``min_dollar_volume_1m``, spread at most ``max_spread_pct``.

    A NaN input fails its check: tradeability has to be shown, not assumed.

    Examples
    --------
    >>> gate = TradeabilityGate(min_dollar_volume_1m=200_000, max_spread_pct=2.0)
    >>> gate.check(TradeabilityInputs(350_000.0, 0.8))
    >>> gate.check(TradeabilityInputs(350_000.0, float("nan")))
    'not_tradeable_spread'
    """

    __slots__ = ("max_spread_pct", "min_dollar_volume_1m")

    def __init__(self, min_dollar_volume_1m: float, max_spread_pct: float) -> None:
        self.min_dollar_volume_1m = float(min_dollar_volume_1m)
        self.max_spread_pct = float(max_spread_pct)

    def check(self, inputs: TradeabilityInputs) -> Reason | None:
        """``not_tradeable_dollar_volume``, ``not_tradeable_spread`` (checked in that order) or None."""
        # "not (x >= min)" so NaN fails, exactly as in :meth:`screen`.
        if not inputs.dollar_volume_1m >= self.min_dollar_volume_1m:
            return "not_tradeable_dollar_volume"
        if not inputs.spread_pct <= self.max_spread_pct:
            return "not_tradeable_spread"
        return None

    def screen(
        self, dollar_volume_1m: npt.NDArray[np.float64], spread_pct: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Vectorized :meth:`check`: (fails on dollar volume, fails on spread and not on dollar volume)."""
        dollar_volume_1m = np.asarray(dollar_volume_1m, dtype=np.float64)
        spread_pct = np.asarray(spread_pct, dtype=np.float64)
        low_volume = ~(dollar_volume_1m >= self.min_dollar_volume_1m)
        wide = ~(spread_pct <= self.max_spread_pct) & ~low_volume
        return low_volume, wide


def _window(ts: np.ndarray, at_ns: int | np.ndarray, window_ns: int, bar_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Index range ``[lo, hi)`` of bars stamped in ``[at - window, at)`` and completed by ``at``."""
    hi = np.searchsorted(ts, np.asarray(at_ns, dtype=np.int64) - bar_ns, side="right")
    lo = np.searchsorted(ts, np.asarray(at_ns, dtype=np.int64) - window_ns, side="left")
    return lo, np.maximum(hi, lo)


def _as_bars(
    bar_ts: npt.ArrayLike, close: npt.ArrayLike, vwap: npt.ArrayLike, volume: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ts = np.asarray(bar_ts, dtype=np.int64)
    arrays = [np.asarray(a, dtype=np.float64) for a in (close, vwap, volume)]
    if any(a.shape != ts.shape for a in arrays):
        raise ValueError(f"bar arrays differ in length: ts {ts.shape}, close/vwap/volume {[a.shape for a in arrays]}")
    if ts.size > 1 and np.any(np.diff(ts) <= 0):
        raise ValueError("bar_ts must be strictly increasing (one bar per interval, sorted)")
    return ts, arrays[0], arrays[1], arrays[2]


def tradeability_inputs(
    bar_ts: npt.ArrayLike,
    close: npt.ArrayLike,
    vwap: npt.ArrayLike,
    volume: npt.ArrayLike,
    at_ns: int,
    *,
    bar_ns: int = BAR_NS,
) -> TradeabilityInputs:
    """Dollar volume of the last minute and the spread estimate at ``at_ns`` from recent 1-second bars.

    Parameters
    ----------
    bar_ts, close, vwap, volume
        One symbol's bars, ``bar_ts`` (ns UTC, interval start) strictly increasing. Bars at or after
        ``at_ns - bar_ns`` are ignored (not completed yet), so a runtime may pass its whole ring.
    at_ns
        Time of the candidate (ns UTC).
    bar_ns
        Bar length (1 s).

    Examples
    --------
    >>> ts = np.arange(10) * 1_000_000_000
    >>> tradeability_inputs(ts, [10.0, 10.1] * 5, [10.0] * 10, [100.0] * 10, 10_000_000_000).dollar_volume_1m
    10000.0
    """
    ts, close_, vwap_, volume_ = _as_bars(bar_ts, close, vwap, volume)
    lo, hi = _window(ts, at_ns, DOLLAR_VOLUME_WINDOW_NS, bar_ns)
    dollar = float(np.sum(vwap_[int(lo) : int(hi)] * volume_[int(lo) : int(hi)]))
    lo, hi = _window(ts, at_ns, SPREAD_WINDOW_NS, bar_ns)
    closes = close_[int(lo) : int(hi)]
    if closes.size - 1 < MIN_SPREAD_PAIRS:
        return TradeabilityInputs(dollar, math.nan)
    moves = np.abs(np.diff(np.log(closes)))
    return TradeabilityInputs(dollar, float(200.0 * np.mean(moves)))


def tradeability_batch(
    bar_ts: npt.ArrayLike,
    close: npt.ArrayLike,
    vwap: npt.ArrayLike,
    volume: npt.ArrayLike,
    at_ns: npt.ArrayLike,
    *,
    bar_ns: int = BAR_NS,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`tradeability_inputs` at many times over one symbol's bars (e.g. a lake day): ``(dollar, spread)``.

    Prefix sums make it O(bars + times); results equal the per-time function to rounding.
    """
    ts, close_, vwap_, volume_ = _as_bars(bar_ts, close, vwap, volume)
    at = np.asarray(at_ns, dtype=np.int64)
    cum_dollar = np.concatenate([[0.0], np.cumsum(vwap_ * volume_)])
    lo, hi = _window(ts, at, DOLLAR_VOLUME_WINDOW_NS, bar_ns)
    dollar = cum_dollar[hi] - cum_dollar[lo]
    # move[i] = |ln(close[i+1] / close[i])|: the pair (i, i+1) lies in [lo, hi) when lo <= i and i + 1 < hi.
    moves = np.abs(np.diff(np.log(close_))) if ts.size > 1 else np.zeros(0)
    cum_moves = np.concatenate([[0.0], np.cumsum(moves)])
    lo, hi = _window(ts, at, SPREAD_WINDOW_NS, bar_ns)
    pairs = np.maximum(hi - lo - 1, 0)
    # Where there is no pair the indexes may point past the end; those values become NaN below.
    last = cum_moves.size - 1
    end, start = np.minimum(np.maximum(hi - 1, lo), last), np.minimum(lo, last)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = 200.0 * (cum_moves[end] - cum_moves[start]) / pairs
    spread = np.where(pairs >= MIN_SPREAD_PAIRS, spread, np.nan)
    return dollar, spread


def tradeability_many(
    bars: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    at_ns: int,
    *,
    bar_ns: int = BAR_NS,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`tradeability_inputs` of many symbols at one time ``at_ns``: ``(dollar, spread)`` per symbol.

    ``bars[k]`` is symbol ``k``'s ``(bar_ts, close, vwap, volume)`` (int64 / float64 arrays, ``bar_ts``
    strictly increasing). Bit-identical to calling :func:`tradeability_inputs` per symbol: windows of the
    same length are stacked into one matrix and reduced along its rows, which numpy sums exactly as it
    sums one row alone (same pairwise blocking; a test checks).
    """
    n = len(bars)
    dollar = np.full(n, np.nan)
    spread = np.full(n, np.nan)
    if n == 0:
        return dollar, spread
    at = int(at_ns)
    completed, dollar_from, spread_from = at - bar_ns, at - DOLLAR_VOLUME_WINDOW_NS, at - SPREAD_WINDOW_NS
    dollar_groups: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
    spread_groups: dict[int, list[tuple[int, np.ndarray]]] = {}
    for k, (ts, close, vwap, volume) in enumerate(bars):
        hi = int(ts.searchsorted(completed, side="right"))
        lo = int(ts.searchsorted(dollar_from, side="left"))
        hi_d = max(hi, lo)
        dollar_groups.setdefault(hi_d - lo, []).append((k, vwap[lo:hi_d], volume[lo:hi_d]))
        lo = int(ts.searchsorted(spread_from, side="left"))
        hi_s = max(hi, lo)
        if hi_s - lo - 1 >= MIN_SPREAD_PAIRS:
            spread_groups.setdefault(hi_s - lo, []).append((k, close[lo:hi_s]))
    for length, members in dollar_groups.items():
        rows = np.fromiter((m[0] for m in members), dtype=np.int64, count=len(members))
        if length == 0:
            dollar[rows] = 0.0
            continue
        vwap_ = np.stack([m[1] for m in members])
        volume_ = np.stack([m[2] for m in members])
        dollar[rows] = np.sum(vwap_ * volume_, axis=1)
    for members_ in spread_groups.values():
        rows = np.fromiter((m[0] for m in members_), dtype=np.int64, count=len(members_))
        moves = np.abs(np.diff(np.log(np.stack([m[1] for m in members_])), axis=1))
        spread[rows] = 200.0 * np.mean(moves, axis=1)
    return dollar, spread
