"""Tradeability: can a person actually trade the symbol at the alert? (FeatureSpec ``runtime_gates.tradeability``)

Two inputs, both computed from the bars of **the gate's bar stream**
(:func:`sigma9_runtime.streams.gate_bar_kind`): 1-second bars (``A.*`` live, ``1s/{ticker}.parquet`` in the
lake) when the FeatureSpec subscribes to them, else 1-minute bars (``AM.*``, ``1m/{ticker}.parquet``). Only
bars *completed* by the time asked (``ts + bar <= at``) are read, so a value at ``at`` never looks ahead.

* **Dollar volume of the last minute**: ``sum(vwap * volume)`` of the bars completed in the last minute,
  those whose end falls in ``[at - 59 s, at]`` (:func:`dollar_volume_window`). For 1-second bars these are
  the bars stamped in ``[at - 60 s, at)``; at a whole minute they add up to the last completed 1-minute bar.
  For 1-minute bars it is the last completed minute bar at every whole second (the runtime's steps); at a
  time past the 59th second of a minute (``hh:mm:59.5``) the window holds no bar.
* **Spread estimate (percent).** The streams carry no quotes (``T``, ``A``, ``AM`` only), so the spread is
  read from the bars.

  *1-second bars*: the bid-ask bounce of consecutive closes::

      spread_pct = 100 * 2 * mean(|ln(close[i] / close[i-1])|)

  over consecutive bars stamped in ``[at - 300 s, at)``; NaN with fewer than 5 such pairs. When prints fall
  on the bid or the ask at random, half of consecutive prints switch side and move by one spread, the other
  half do not move, so twice the mean absolute move is the spread. **Bias**: upward by the price's own
  moves between the two bars (volatility, long gaps of thin names, a trend), downward when flow is
  one-sided (few side switches) or prints fall inside the quote (midpoint, hidden liquidity); it cannot
  go below what the tick grid allows. On the synthetic market it reads about 1.1x the traded (effective)
  spread, about 0.9x the quoted one.

  *1-minute bars*: the bounce estimator does not work on minute closes (a minute's own price move swamps a
  spread). The **Abdi-Ranaldo (2017) close-high-low estimator** is used instead: with ``c = ln close`` and
  the mid-range ``eta = (ln high + ln low) / 2`` of each bar::

      s2 = 4 * mean((c[t] - eta[t]) * (c[t] - eta[t+1]))
      spread_pct = 100 * sqrt(max(s2, 0))

  over consecutive bars (neighbouring bars, whatever the time between them) stamped in ``[at - 30 min, at)``;
  NaN with fewer than 5 such pairs. ``c - eta[t]`` and ``c - eta[t+1]`` share the close's bounce of half a
  spread; the efficient price's own moves in them are uncorrelated (the next bar's range lies in the
  future), so the mean of their product is the half spread squared. **Bias**: it assumes the close is a
  random draw from the bid or the ask and the efficient price a random walk without drift; a trend within
  the window biases it down, a bar of a single print (close = high = low) adds a zero term and biases it
  down, and gaps between the bars of a thin name make the mid-ranges noisy (large variance). A window's
  negative ``s2`` is floored at 0 (a spread of 0, which passes any ``max_spread_pct``), which biases the
  mean of many windows up. On the synthetic market (10 tickers x 24 days, every minute of 09:45-15:45 New
  York where both estimates exist) it reads at the median 0.86x the 1-second estimate of the same symbol
  and time (10%-90% of windows: 0.63x-1.14x) and 0.76x the quoted spread (the 1-second estimate: 0.89x);
  the thinnest names read lowest (0.7x-0.8x their 1-second estimate for the three under 2,000 trades a day,
  0.95x for the two near 4,000), 0.5% of windows read 0, and the two estimates' per-ticker medians
  correlate at 0.8.

:func:`tradeability_inputs` is the reference (one symbol, one time, direct sums); :func:`tradeability_batch`
computes many times of one symbol at once with prefix sums and equals it to rounding (a test checks 1e-9
relative); :func:`tradeability_many` computes many symbols at one time (a runtime step's candidates) and equals
it bit for bit (same terms, same reductions, a test checks). All three take ``bar_ns`` (1 s, or 60 s with
the bars' ``high=`` and ``low=``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from sigma9_runtime.gates.decision import Reason
from sigma9_runtime.units import NANOS_PER_SECOND

SECOND_BAR_NS = NANOS_PER_SECOND
"""Length of a 1-second bar (``A``)."""
MINUTE_BAR_NS = 60 * NANOS_PER_SECOND
"""Length of a 1-minute bar (``AM``)."""
BAR_NS = SECOND_BAR_NS
"""Length of the bars read by default (1 second)."""
DOLLAR_VOLUME_WINDOW_NS = 60 * NANOS_PER_SECOND
"""Window of the dollar volume: the last minute."""
SPREAD_WINDOW_NS = 300 * NANOS_PER_SECOND
"""Window of the spread estimate on 1-second bars: the last five minutes (a minute holds too few bars of a
thin name)."""
MINUTE_SPREAD_WINDOW_NS = 30 * 60 * NANOS_PER_SECOND
"""Window of the spread estimate on 1-minute bars: the last 30 minutes (at most 29 pairs)."""
MIN_SPREAD_PAIRS = 5
"""Fewest consecutive-bar pairs the spread estimate needs; below it the estimate is NaN."""

_SPREAD_WINDOW_NS = {SECOND_BAR_NS: SPREAD_WINDOW_NS, MINUTE_BAR_NS: MINUTE_SPREAD_WINDOW_NS}

_At = TypeVar("_At", int, np.ndarray)


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


def spread_window_ns(bar_ns: int) -> int:
    """Window of the spread estimate on bars of ``bar_ns`` (300 s for 1-second bars, 30 min for 1-minute bars);
    ValueError for another bar length."""
    window = _SPREAD_WINDOW_NS.get(int(bar_ns))
    if window is None:
        raise ValueError(f"bar_ns must be {SECOND_BAR_NS} (1 s) or {MINUTE_BAR_NS} (1 min), got {bar_ns}")
    return window


def dollar_volume_window(at_ns: _At, bar_ns: int) -> tuple[_At, _At]:
    """Stamps ``(first, last)``, both included, of the bars completed in the last minute at ``at_ns``: bars of
    ``bar_ns`` whose end falls in ``[at - 59 s, at]``, i.e. stamped in ``[at - 60 s - bar + 1 s, at - bar]``.

    The one window of the dollar volume, used by every variant. For 1-second bars it is ``[at - 60 s, at)``;
    for 1-minute bars the last completed minute bar (at a whole second).

    Examples
    --------
    >>> dollar_volume_window(120_000_000_000, 1_000_000_000)
    (60000000000, 119000000000)
    >>> dollar_volume_window(150_000_000_000, 60_000_000_000)  # the bar stamped at 60 s, ended at 120 s
    (31000000000, 90000000000)
    """
    return at_ns - DOLLAR_VOLUME_WINDOW_NS - bar_ns + NANOS_PER_SECOND, at_ns - bar_ns


def _dollar_range(ts: np.ndarray, at_ns: int | np.ndarray, bar_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Index range ``[lo, hi)`` of the bars in :func:`dollar_volume_window`."""
    first, last = dollar_volume_window(np.asarray(at_ns, dtype=np.int64), bar_ns)
    lo = np.searchsorted(ts, first, side="left")
    hi = np.searchsorted(ts, last, side="right")
    return lo, np.maximum(hi, lo)


def _spread_range(ts: np.ndarray, at_ns: int | np.ndarray, bar_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Index range ``[lo, hi)`` of bars stamped in ``[at - spread window, at)`` and completed by ``at``."""
    at = np.asarray(at_ns, dtype=np.int64)
    hi = np.searchsorted(ts, at - bar_ns, side="right")
    lo = np.searchsorted(ts, at - spread_window_ns(bar_ns), side="left")
    return lo, np.maximum(hi, lo)


def _as_bars(
    bar_ts: npt.ArrayLike,
    close: npt.ArrayLike,
    vwap: npt.ArrayLike,
    volume: npt.ArrayLike,
    bar_ns: int,
    high: npt.ArrayLike | None,
    low: npt.ArrayLike | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    spread_window_ns(bar_ns)  # refuses another bar length
    ts = np.asarray(bar_ts, dtype=np.int64)
    arrays = [np.asarray(a, dtype=np.float64) for a in (close, vwap, volume)]
    if any(a.shape != ts.shape for a in arrays):
        raise ValueError(f"bar arrays differ in length: ts {ts.shape}, close/vwap/volume {[a.shape for a in arrays]}")
    if ts.size > 1 and np.any(np.diff(ts) <= 0):
        raise ValueError("bar_ts must be strictly increasing (one bar per interval, sorted)")
    if bar_ns == SECOND_BAR_NS:
        return ts, arrays[0], arrays[1], arrays[2], None, None  # the bounce estimator reads closes only
    if high is None or low is None:
        raise ValueError("1-minute bars need high= and low= (the close-high-low spread estimator)")
    high_, low_ = np.asarray(high, dtype=np.float64), np.asarray(low, dtype=np.float64)
    if high_.shape != ts.shape or low_.shape != ts.shape:
        raise ValueError(f"bar arrays differ in length: ts {ts.shape}, high {high_.shape}, low {low_.shape}")
    return ts, arrays[0], arrays[1], arrays[2], high_, low_


def _bounce_spread(closes: np.ndarray) -> np.ndarray:
    """The 1-second estimate of each row (last axis: a window's closes, at least two)."""
    return 200.0 * np.mean(np.abs(np.diff(np.log(closes), axis=-1)), axis=-1)


def _close_high_low_terms(close: np.ndarray, high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """``(c[t] - eta[t]) * (c[t] - eta[t+1])`` of each pair of consecutive bars along the last axis."""
    c = np.log(close)
    eta = (np.log(high) + np.log(low)) / 2.0
    return (c[..., :-1] - eta[..., :-1]) * (c[..., :-1] - eta[..., 1:])


def _close_high_low_spread(close: np.ndarray, high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """The Abdi-Ranaldo estimate of each row (last axis: a window's bars, at least two)."""
    s2 = 4.0 * np.mean(_close_high_low_terms(close, high, low), axis=-1)
    return 100.0 * np.sqrt(np.maximum(s2, 0.0))


def tradeability_inputs(
    bar_ts: npt.ArrayLike,
    close: npt.ArrayLike,
    vwap: npt.ArrayLike,
    volume: npt.ArrayLike,
    at_ns: int,
    *,
    bar_ns: int = BAR_NS,
    high: npt.ArrayLike | None = None,
    low: npt.ArrayLike | None = None,
) -> TradeabilityInputs:
    """Dollar volume of the last minute and the spread estimate at ``at_ns`` from one symbol's recent bars.

    Parameters
    ----------
    bar_ts, close, vwap, volume
        One symbol's bars, ``bar_ts`` (ns UTC, interval start) strictly increasing. Bars at or after
        ``at_ns - bar_ns`` are ignored (not completed yet), so a runtime may pass its whole ring.
    at_ns
        Time of the candidate (ns UTC).
    bar_ns
        Bar length: 1 s (``A``, the bounce spread estimator) or 60 s (``AM``, the close-high-low one).
    high, low
        The bars' highs and lows, needed for 1-minute bars (ignored for 1-second bars).

    Examples
    --------
    >>> ts = np.arange(10) * 1_000_000_000
    >>> tradeability_inputs(ts, [10.0, 10.1] * 5, [10.0] * 10, [100.0] * 10, 10_000_000_000).dollar_volume_1m
    10000.0
    >>> minute = 60_000_000_000
    >>> got = tradeability_inputs(
    ...     np.arange(7) * minute, [10.1, 10.0] * 3 + [10.1], [10.0] * 7, [1e4] * 7, 7 * minute,
    ...     bar_ns=minute, high=[10.1] * 7, low=[10.0] * 7,
    ... )
    >>> got.dollar_volume_1m, round(got.spread_pct, 3)  # the last bar's dollar volume; close at bid/ask
    (100000.0, 0.995)
    """
    ts, close_, vwap_, volume_, high_, low_ = _as_bars(bar_ts, close, vwap, volume, bar_ns, high, low)
    lo, hi = _dollar_range(ts, at_ns, bar_ns)
    dollar = float(np.sum(vwap_[int(lo) : int(hi)] * volume_[int(lo) : int(hi)]))
    lo, hi = _spread_range(ts, at_ns, bar_ns)
    window = slice(int(lo), int(hi))
    if int(hi) - int(lo) - 1 < MIN_SPREAD_PAIRS:
        return TradeabilityInputs(dollar, math.nan)
    if high_ is None or low_ is None:
        return TradeabilityInputs(dollar, float(_bounce_spread(close_[window])))
    return TradeabilityInputs(dollar, float(_close_high_low_spread(close_[window], high_[window], low_[window])))


def tradeability_batch(
    bar_ts: npt.ArrayLike,
    close: npt.ArrayLike,
    vwap: npt.ArrayLike,
    volume: npt.ArrayLike,
    at_ns: npt.ArrayLike,
    *,
    bar_ns: int = BAR_NS,
    high: npt.ArrayLike | None = None,
    low: npt.ArrayLike | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`tradeability_inputs` at many times over one symbol's bars (e.g. a lake day): ``(dollar, spread)``.

    Prefix sums make it O(bars + times); results equal the per-time function to rounding.
    """
    ts, close_, vwap_, volume_, high_, low_ = _as_bars(bar_ts, close, vwap, volume, bar_ns, high, low)
    at = np.asarray(at_ns, dtype=np.int64)
    cum_dollar = np.concatenate([[0.0], np.cumsum(vwap_ * volume_)])
    lo, hi = _dollar_range(ts, at, bar_ns)
    dollar = cum_dollar[hi] - cum_dollar[lo]
    # term[i] belongs to the pair (i, i+1), which lies in [lo, hi) when lo <= i and i + 1 < hi:
    # |ln(close[i+1] / close[i])| for 1-second bars, the close-high-low product for 1-minute bars.
    if ts.size < 2:
        terms = np.zeros(0)
    elif high_ is None or low_ is None:
        terms = np.abs(np.diff(np.log(close_)))
    else:
        terms = _close_high_low_terms(close_, high_, low_)
    cum_terms = np.concatenate([[0.0], np.cumsum(terms)])
    lo, hi = _spread_range(ts, at, bar_ns)
    pairs = np.maximum(hi - lo - 1, 0)
    # Where there is no pair the indexes may point past the end; those values become NaN below.
    last = cum_terms.size - 1
    end, start = np.minimum(np.maximum(hi - 1, lo), last), np.minimum(lo, last)
    with np.errstate(invalid="ignore", divide="ignore"):
        if high_ is None or low_ is None:
            spread = 200.0 * (cum_terms[end] - cum_terms[start]) / pairs
        else:
            spread = 100.0 * np.sqrt(np.maximum(4.0 * (cum_terms[end] - cum_terms[start]) / pairs, 0.0))
    spread = np.where(pairs >= MIN_SPREAD_PAIRS, spread, np.nan)
    return dollar, spread


def tradeability_many(
    bars: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    at_ns: int,
    *,
    bar_ns: int = BAR_NS,
    high: Sequence[np.ndarray] | None = None,
    low: Sequence[np.ndarray] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`tradeability_inputs` of many symbols at one time ``at_ns``: ``(dollar, spread)`` per symbol.

    ``bars[k]`` is symbol ``k``'s ``(bar_ts, close, vwap, volume)`` (int64 / float64 arrays, ``bar_ts``
    strictly increasing); for 1-minute bars ``high[k]`` and ``low[k]`` are its highs and lows. Bit-identical
    to calling :func:`tradeability_inputs` per symbol: windows of the same length are stacked into one matrix
    and reduced along its rows, which numpy sums exactly as it sums one row alone (same pairwise blocking; a
    test checks).
    """
    spread_window = spread_window_ns(bar_ns)
    minute = bar_ns == MINUTE_BAR_NS
    if minute and (high is None or low is None or len(high) != len(bars) or len(low) != len(bars)):
        raise ValueError("1-minute bars need high= and low=, one array per symbol")
    n = len(bars)
    dollar = np.full(n, np.nan)
    spread = np.full(n, np.nan)
    if n == 0:
        return dollar, spread
    at = int(at_ns)
    (dollar_from, dollar_to), completed, spread_from = dollar_volume_window(at, bar_ns), at - bar_ns, at - spread_window
    dollar_groups: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
    spread_groups: dict[int, list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]] = {}
    for k, (ts, close, vwap, volume) in enumerate(bars):
        lo = int(ts.searchsorted(dollar_from, side="left"))
        hi_d = max(int(ts.searchsorted(dollar_to, side="right")), lo)
        dollar_groups.setdefault(hi_d - lo, []).append((k, vwap[lo:hi_d], volume[lo:hi_d]))
        hi = int(ts.searchsorted(completed, side="right"))
        lo = int(ts.searchsorted(spread_from, side="left"))
        hi_s = max(hi, lo)
        if hi_s - lo - 1 >= MIN_SPREAD_PAIRS:
            if minute:
                high_, low_ = high[k][lo:hi_s], low[k][lo:hi_s]  # type: ignore[index]
            else:
                high_ = low_ = close[lo:hi_s]  # unused by the bounce estimator
            spread_groups.setdefault(hi_s - lo, []).append((k, close[lo:hi_s], high_, low_))
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
        closes = np.stack([m[1] for m in members_])
        if minute:
            spread[rows] = _close_high_low_spread(
                closes, np.stack([m[2] for m in members_]), np.stack([m[3] for m in members_])
            )
        else:
            spread[rows] = _bounce_spread(closes)
    return dollar, spread
