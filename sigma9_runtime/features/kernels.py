"""Feature kernels: one function per op, shared by the online builder and the offline batch.

A kernel reads a :class:`WindowView` — ``rows`` windows of ``length`` units (seconds or minutes,
the window's base), each series as a read-only ``rows x length`` block, oldest unit first — and
returns one value per row. Online a row is a symbol at one step (blocks are gathered from
per-symbol ring buffers); offline a row is one step of one symbol-day (blocks are strided views
of the day's arrays, nothing copied). Sums are **sequential** along the window (:func:`seq_sum`,
no pairwise reassociation), max/min and selections are exact, and every other operation is elementwise, so
both paths give bit-identical values from identical blocks.

Series (per second on ``bar_1s`` windows, per minute on ``bar_1m`` windows):

===================  ========================================================================
``t.count``          eligible trades (``T.*``), per second
``t.volume``         their shares
``t.signed_volume``  shares signed by the tick rule (Lee-Ready needs quotes; none are streamed)
``s.present``        1.0 where a 1-second bar (``A.*``) exists, else 0.0
``s.open ... vwap``  that bar's fields (0.0 where absent)
``s.transactions``   that bar's trade count
``s.signed_volume``  that bar's volume signed by its close location (:func:`clv_signed_volume`)
``m.*``              the same for 1-minute bars (``AM.*``)
===================  ========================================================================

Ops (window = ``rows x length`` blocks; "flow" = the series :func:`flow_series` names for the input):

================  ==============================================================================
``zscore``        (flow summed over the window - baseline mean) / baseline std, per-minute
                  baselines scaled to the window
``rvol_tod``      window volume / (time-of-day baseline volume x minutes)
``linreg_slope``  least-squares slope of ln(bar field) on time over the bars present, per minute
``ratio``         window value of one input / that of another (:func:`window_value`)
``range_pct``     (max high - min low) of the bars present / last close (or first open)
``log_return``    ln(last close in the window / close before the window): the window value of
                  ``<bars>.close_return``; NaN when the day has no bar before the window
``flow_change``   ln(flow over the newer half / flow over the older half), each half summed with
                  :func:`seq_sum`; NaN where either half sums to <= 0; an even ``length`` (the contract)
================  ==============================================================================

Adding an op: write ``kernel(view, feature, ctx) -> ndarray`` and register it in :data:`OPS`
with the series and baselines it reads (and add its parameter model to the FeatureSpec contract).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sigma9_runtime.contracts.feature_spec import (
    FeatureSpec,
    FlowChangeFeature,
    LinregSlopeFeature,
    LogReturnFeature,
    RangePctFeature,
    RatioFeature,
    RvolTodFeature,
    ZscoreFeature,
)
from sigma9_runtime.errors import SpecError
from sigma9_runtime.features.baselines import BaselineKey

TRADE_SERIES = ("t.count", "t.volume", "t.signed_volume")
BAR_FIELDS = ("present", "open", "high", "low", "close", "volume", "vwap", "transactions", "signed_volume")
"""Per-bar series of a bar group (``s.<field>``, ``m.<field>``), in the order the online builder writes them."""
GROUP_OF_SOURCE = {"tick": "t", "bar_1s": "s", "bar_1m": "m"}
GROUP_OF_BASE = {"bar_1s": "s", "bar_1m": "m"}
UNIT_SECONDS = {"s": 1, "m": 60}


class WindowView(Protocol):
    """``rows`` windows of ``length`` units over one resolution (1 s or 1 min)."""

    rows: int
    length: int
    unit_seconds: int

    def block(self, series: str) -> np.ndarray:
        """``rows x length`` values of ``series`` (column 0 = oldest unit); kernels never write into it."""

    def derived(self, name: str, fn: Callable[..., np.ndarray], *series: str) -> np.ndarray:
        """Block of ``fn(*series)``, an **elementwise** function of the named series, cached as ``name``.
        A view may apply ``fn`` to whole series before windowing them: elementwise, same bits."""

    def close_before(self, group: str) -> np.ndarray:
        """Forward-filled close of bar group ``group`` at the unit just before each window;
        NaN when the day has no bar before it."""


class KernelContext(Protocol):
    """Per-row inputs besides the window: time-of-day baselines."""

    def baseline(self, key: BaselineKey) -> tuple[np.ndarray, ...]:
        """Baseline arrays (one value per row) for the minute of day of each row's window end."""


# --- window reductions --------------------------------------------------------------------------


FOLD_MIN_ROWS = 64
"""From this many rows :func:`seq_sum` adds column by column instead of calling ``np.cumsum``."""


def seq_sum(block: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Row sums of ``block`` (times ``weights[j]`` in column ``j`` if given), oldest to newest.

    Both ways of computing it — ``np.cumsum`` along the row for few rows, one vector add per
    column for many — add the same terms (each ``block * weight`` rounded once) in the same
    order, so they give identical bits. Column by column suits the offline views, whose
    columns are contiguous.
    """
    rows, length = block.shape
    if length == 0:
        return np.zeros(rows)
    if rows < FOLD_MIN_ROWS:
        terms = block if weights is None else block * weights
        return np.cumsum(terms, axis=1)[:, -1]
    if weights is None:
        total = np.array(block[:, 0], dtype=np.float64)
        for j in range(1, length):
            total += block[:, j]
    else:
        total = block[:, 0] * weights[0]
        for j in range(1, length):
            total += block[:, j] * weights[j]
    return total


def seq_extreme(block: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    """Row max or min (``np.maximum`` / ``np.minimum``): exact in any order."""
    if block.shape[0] < FOLD_MIN_ROWS:
        return ufunc.reduce(block, axis=1)
    out = np.array(block[:, 0], dtype=np.float64)
    for j in range(1, block.shape[1]):
        ufunc(out, block[:, j], out=out)
    return out


def clv_signed_volume(high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """A bar-based signed-volume proxy: each bar's volume signed by where its close sits in its range.

    ``volume * ((close - low) - (high - close)) / (high - low)``, and 0 where ``high == low``: the close
    location value of Chaikin's accumulation/distribution line times the bar's volume. A close at the
    high counts the whole volume as bought, at the low as sold, mid-range as neither. It needs only
    the bar (no quotes, no trades), so it exists on a lake of minute bars. Elementwise, so the online
    builder (one bar at a time) and the offline batch (a day's bars at once) get the same bits.

    Examples
    --------
    >>> float(clv_signed_volume(10.5, 10.0, 10.4, 1000.0))
    600.0
    """
    high, low, close, volume = (np.asarray(a, dtype=np.float64) for a in (high, low, close, volume))
    span = high - low
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(span > 0, volume * ((close - low) - (high - close)) / span, 0.0)


def tick_sign(price: float, last_price: float, last_sign: float) -> float:
    """The tick rule for one trade: +1 above the symbol's last trade price, -1 below, else its last sign (0
    before any move; a first trade, ``last_price`` NaN, keeps ``last_sign``). The scalar form of
    :func:`tick_signs`, for the per-event hot path (a test proves them equal)."""
    if price > last_price:
        return 1.0
    if price < last_price:
        return -1.0
    return last_sign


def tick_signs(
    price: np.ndarray,
    first: np.ndarray | None = None,
    last_price: np.ndarray | float = np.nan,
    last_sign: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Tick-rule signs (:func:`tick_sign`) of trades in order, grouped in segments (one symbol each).

    ``first`` marks each segment's first trade (default: one segment); ``last_price`` and ``last_sign``
    (scalars, or per trade where ``first``) are the state each segment starts from: a day's first trades,
    with NaN and 0, are signed 0 until the first move. One implementation for the online builder's batches,
    the offline batch and the backtest's aggressor sides.
    """
    n = price.size
    if first is None:
        first = np.zeros(n, dtype=bool)
        first[:1] = True
    previous = np.empty(n)
    previous[1:] = price[:-1]
    before = np.where(first, last_price, previous)
    with np.errstate(invalid="ignore"):
        move = np.where(price > before, 1.0, np.where(price < before, -1.0, 0.0))
    # A zero move repeats the previous sign; at a segment's start that is the stored sign.
    source = np.maximum.accumulate(np.where((move != 0) | first, np.arange(n), -1)) if n else np.zeros(0, np.int64)
    return np.where(move[source] != 0, move[source], last_sign)


def window_sum(view: WindowView, series: str) -> np.ndarray:
    """Sum of ``series`` over each window."""
    return seq_sum(view.block(series))


def last_close(view: WindowView, group: str) -> np.ndarray:
    """Close of the newest bar of each window, else the forward-filled close before it."""
    present = view.block(f"{group}.present") > 0
    close = view.block(f"{group}.close")
    newest = view.length - 1 - np.argmax(present[:, ::-1], axis=1)
    picked = close[np.arange(view.rows), newest]
    return np.where(present.any(axis=1), picked, view.close_before(group))


def _group_and_series(ref: str) -> tuple[str, str]:
    source, _, series = ref.partition(".")
    return GROUP_OF_SOURCE[source], series


FLOW_OF_TICK = {"": "count", "trade_count": "count", "volume": "volume", "signed_volume_proxy": "signed_volume"}
FLOW_OF_BARS = {
    "": "volume",
    "volume": "volume",
    "transactions": "transactions",
    "signed_volume_proxy": "signed_volume",
}
COUNT_SERIES = frozenset({"count", "transactions"})
"""Flow series that count trades (their baseline is the 1-minute ``transactions``)."""


def flow_series(ref: str) -> str:
    """Series summed for a flow input (``tick`` = trade count, bars = volume)."""
    group, series = _group_and_series(ref)
    name = (FLOW_OF_TICK if group == "t" else FLOW_OF_BARS).get(series)
    if name is None:
        raise SpecError(f"input {ref!r} is not a flow (trade count, volume or signed volume) this op can sum")
    return f"{group}.{name}"


def window_value(view: WindowView, ref: str) -> np.ndarray:
    """Window value of an input: flows are summed, ``<bars>.close_return`` is ln(last close / close
    before the window), ``<bars>.close`` is the last close."""
    group, series = _group_and_series(ref)
    if group != "t" and series == "close_return":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(last_close(view, group) / view.close_before(group))
    if group != "t" and series == "close":
        return last_close(view, group)
    return window_sum(view, flow_series(ref))


def _minutes(view: WindowView) -> float:
    return view.length * view.unit_seconds / 60.0


# --- ops ----------------------------------------------------------------------------------------


def zscore(view: WindowView, feature: ZscoreFeature, ctx: KernelContext) -> np.ndarray:
    """(window sum - baseline mean) / baseline std, the per-minute baseline scaled to the window."""
    x = window_sum(view, flow_series(feature.input))
    mean, std = ctx.baseline(zscore_baseline(feature))
    scale = _minutes(view)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > 0, (x - mean * scale) / (std * scale), np.nan)


def zscore_baseline(feature: ZscoreFeature) -> BaselineKey:
    """Baseline of a ``zscore`` feature: trade counts for trade-count inputs (``tick``, ``tick.trade_count``,
    ``<bars>.transactions``), else volume."""
    counts = flow_series(feature.input).partition(".")[2] in COUNT_SERIES
    series = "transactions" if counts else "volume"
    return BaselineKey(series, feature.params.lookback.days, "mean_std")


def rvol_tod(view: WindowView, feature: RvolTodFeature, ctx: KernelContext) -> np.ndarray:
    """Window volume over the baseline volume at the same minute of day (scaled to the window)."""
    group, _ = _group_and_series(feature.input)
    x = window_sum(view, f"{group}.volume")
    (base,) = ctx.baseline(rvol_baseline(feature))
    base = base * _minutes(view)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base > 0, x / base, np.nan)


def rvol_baseline(feature: RvolTodFeature) -> BaselineKey:
    """Baseline of a ``rvol_tod`` feature."""
    return BaselineKey("volume", feature.params.lookback_days, feature.params.baseline)


def _log_where_present(present: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.log(np.where(present > 0, values, 1.0))


def linreg_slope(view: WindowView, feature: LinregSlopeFeature, ctx: KernelContext) -> np.ndarray:
    """Least-squares slope of ln(bar field) on time over the bars present, per minute; NaN below 2 bars."""
    group, _ = _group_and_series(feature.input)
    field = f"{group}.{feature.params.on}"
    present = view.block(f"{group}.present")
    y = view.derived(f"ln {field} where present", _log_where_present, f"{group}.present", field)
    j = np.arange(view.length, dtype=np.float64)
    n = seq_sum(present)
    sx = seq_sum(present, j)
    sy = seq_sum(y)
    sxx = seq_sum(present, j * j)
    sxy = seq_sum(y, j)
    denominator = n * sxx - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (n * sxy - sx * sy) / denominator
    return np.where((n >= 2) & (denominator > 0), slope * (60.0 / view.unit_seconds), np.nan)


def ratio(view: WindowView, feature: RatioFeature, ctx: KernelContext) -> np.ndarray:
    """Window value of the first input over that of the second; NaN where the second is 0."""
    numerator = window_value(view, feature.inputs[0])
    denominator = window_value(view, feature.inputs[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator != 0, numerator / denominator, np.nan)


def _where_present(fill: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def where(present: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(present > 0, values, fill)

    return where


_HIGH_OR_LOW_FILL = {"high": -np.inf, "low": np.inf}


def range_pct(view: WindowView, feature: RangePctFeature, ctx: KernelContext) -> np.ndarray:
    """(max high - min low) of the bars present over the reference (last close or first open)."""
    group, _ = _group_and_series(feature.input)
    present = f"{group}.present"
    high, low = (
        view.derived(f"{group}.{name} where present", _where_present(fill), present, f"{group}.{name}")
        for name, fill in _HIGH_OR_LOW_FILL.items()
    )
    top, bottom = seq_extreme(high, np.maximum), seq_extreme(low, np.minimum)
    mask = view.block(present) > 0
    if feature.params.use[2] == "close":
        reference = last_close(view, group)
    else:
        first = np.argmax(mask, axis=1)
        reference = view.block(f"{group}.open")[np.arange(view.rows), first]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mask.any(axis=1) & (reference > 0), (top - bottom) / reference, np.nan)


def log_return(view: WindowView, feature: LogReturnFeature, ctx: KernelContext) -> np.ndarray:
    """ln(last close in the window / close before the window), as ``ratio`` reads ``<bars>.close_return``.

    The last close is the forward-filled one when no bar falls in the window (a return of 0); NaN when the
    day has no bar before the window.
    """
    return window_value(view, f"{feature.input}.close_return")


def flow_change(view: WindowView, feature: FlowChangeFeature, ctx: KernelContext) -> np.ndarray:
    """ln(flow over the newer half of the window / flow over the older half); NaN where either is <= 0.

    Each half is summed sequentially (:func:`seq_sum` of a column slice), so both drivers agree bit for bit.
    The contract keeps ``length`` even.
    """
    block = view.block(flow_series(feature.input))
    half = view.length // 2
    older = seq_sum(block[:, :half])
    newer = seq_sum(block[:, half:])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((older > 0) & (newer > 0), np.log(newer / older), np.nan)


SIGNED_FLOWS = frozenset({"t.signed_volume", "s.signed_volume", "m.signed_volume"})
"""Flow series that may be negative (``flow_change`` takes the log of a ratio of sums, so refuses them)."""


# --- registry -----------------------------------------------------------------------------------


def _bar_series(group: str, *fields: str) -> set[str]:
    return {f"{group}.{f}" for f in ("present", *fields)}


def _input_series(ref: str) -> set[str]:
    group, series = _group_and_series(ref)
    if group != "t" and series in ("close_return", "close"):
        return _bar_series(group, "close")
    return {flow_series(ref)}


@dataclass(frozen=True)
class Op:
    """A registered op: its kernel, the series it reads and the baselines it needs."""

    kernel: Callable[..., np.ndarray]
    series: Callable[[Any], set[str]]
    baselines: Callable[[Any], list[BaselineKey]]


OPS: dict[str, Op] = {
    "zscore": Op(zscore, lambda f: {flow_series(f.input)}, lambda f: [zscore_baseline(f)]),
    "rvol_tod": Op(rvol_tod, lambda f: {f"{_group_and_series(f.input)[0]}.volume"}, lambda f: [rvol_baseline(f)]),
    "linreg_slope": Op(linreg_slope, lambda f: _bar_series(_group_and_series(f.input)[0], f.params.on), lambda f: []),
    "ratio": Op(ratio, lambda f: _input_series(f.inputs[0]) | _input_series(f.inputs[1]), lambda f: []),
    "range_pct": Op(
        range_pct, lambda f: _bar_series(_group_and_series(f.input)[0], "high", "low", "open", "close"), lambda f: []
    ),
    "log_return": Op(log_return, lambda f: _input_series(f"{f.input}.close_return"), lambda f: []),
    "flow_change": Op(flow_change, lambda f: {flow_series(f.input)}, lambda f: []),
}
"""Op name -> implementation. Its keys equal the FeatureSpec contract's ops (a test checks)."""


def check_supported(spec: FeatureSpec) -> None:
    """Raise :class:`SpecError` for a feature the engine cannot compute, naming it."""
    for index, feature in enumerate(spec.features):
        where = f"feature_spec.features[{index}]"
        window = spec.window(feature.window)
        base_group = GROUP_OF_BASE[window.base]
        try:
            for ref in feature.input_refs():
                source = ref.partition(".")[0]
                if source == "daily":
                    raise SpecError(f"input {ref!r}: daily inputs are not supported on intraday windows")
                group = GROUP_OF_SOURCE[source]
                if group == "t" and base_group != "s":
                    raise SpecError(
                        f"input {ref!r}: trade inputs need a bar_1s window, {window.name} is on {window.base}"
                    )
                if group != "t" and group != base_group:
                    raise SpecError(f"input {ref!r} does not match window {window.name} on {window.base}")
            if feature.op in ("linreg_slope", "range_pct") and feature.input.startswith("tick"):  # type: ignore[union-attr]
                raise SpecError(f"{feature.op} needs a bar input, got {feature.input!r}")  # type: ignore[union-attr]
            # log_return's input is a bar source by contract; flow_change takes the log of a ratio of sums.
            if isinstance(feature, FlowChangeFeature) and flow_series(feature.input) in SIGNED_FLOWS:
                raise SpecError(
                    "flow_change needs a non-negative flow (trade count, volume, transactions), "
                    f"got the signed {feature.input!r}"
                )
            OPS[feature.op].series(feature)
        except SpecError as e:
            raise SpecError(e.reason, field=where) from e
