"""Offline features: the FeatureSpec's vectors for many symbols and days straight from the lake.

Per symbol-day the lake's trades (when the plan reads them), 1 s and 1 m bars become arrays over
the day's seconds and minutes (the same series the online builder keeps in its rings); a
:class:`DayView` copies each step's window out of them and the shared kernels
(:class:`~sigma9_runtime.features.plan.FeaturePlan`) compute every step at once. Rules shared with
the online builder, applied the same way:

* trades outside the spec's sessions are ignored; a trade with the same timestamp and a sequence
  number at or below the previous one is a duplicate; only eligible trades enter series;
* trade direction by the tick rule over the day's eligible trades (the first trades of a day are
  unsigned until the price moves);
* a coarse feature (window step above the emission step) holds its value from its last due step;
* normalization parameters and baselines come from :func:`~sigma9_runtime.features.warmup.load_warmup`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.features.baselines import BaselineKey
from sigma9_runtime.features.grid import DayGrid, day_grid
from sigma9_runtime.features.kernels import clv_signed_volume, tick_signs
from sigma9_runtime.features.normalization import DailyStats, NormParams, daily_stats, normalize
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.post import (
    NO_TRADE,
    forward_fill_day,
    hold_during_halts,
    is_halted,
    missing_flags,
)
from sigma9_runtime.features.warmup import Warmup
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import TRADES_SCHEMA, eligible_trades_mask, read_bars, read_trades
from sigma9_runtime.units import MINUTE_NS, NANOS_PER_SECOND

BAR_FIELDS = ("open", "high", "low", "close", "volume", "vwap", "transactions")
"""Columns of a lake bars table that become per-unit series."""


@dataclass
class DayArrays:
    """One symbol-day as series arrays: ``s`` per second of the span, ``m`` per minute."""

    grid: DayGrid
    series: dict[str, dict[str, np.ndarray]]
    close_ff: dict[str, np.ndarray]
    trade_seconds: np.ndarray  # seconds of accepted eligible trades, ascending
    pad: dict[str, int] = field(default_factory=dict)
    """Zeros before each padded series of a group: its longest window (every view of the day shares them)."""
    padded: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    """(group, series or derived name) -> the day's series behind ``pad`` zeros, built once for every view."""

    def padded_series(self, group: str, name: str, build: Callable[[], np.ndarray] | None = None) -> np.ndarray:
        """The day's ``name`` series of ``group`` behind ``pad[group]`` zeros, zeros after it up to the day's
        end (``build``: a derived series made from padded ones, elementwise); built once per day."""
        key = (group, name)
        padded = self.padded.get(key)
        if padded is None:
            if build is not None:
                padded = build()
            else:
                units = self.grid.included.size // (1 if group == "s" else 60)
                values = self.series[group].get(name)
                if values is None:
                    values = np.zeros(0)
                pad = self.pad[group]
                padded = np.zeros(pad + max(values.size, units))
                padded[pad : pad + values.size] = values
            self.padded[key] = padded
        return padded


def _forward_filled(present: np.ndarray, close: np.ndarray) -> np.ndarray:
    index = np.maximum.accumulate(np.where(present > 0, np.arange(present.size), -1))
    return np.where(index >= 0, close[np.maximum(index, 0)], np.nan)


def _bar_arrays(
    bars: object, grid: DayGrid, group: str, units: int, unit_ns: int, wanted: frozenset[str] = frozenset()
) -> dict[str, np.ndarray]:
    """Per-unit series of a bars table: ``present``, the bar fields and, when ``wanted`` names them,
    ``transactions`` and ``signed_volume`` (:func:`~sigma9_runtime.features.kernels.clv_signed_volume`)."""
    ts = bars.column("ts").to_numpy()  # type: ignore[attr-defined]
    offset = ts - grid.start_ns
    unit = offset // unit_ns
    seconds = unit * (unit_ns // NANOS_PER_SECOND)
    keep = (offset % unit_ns == 0) & (unit >= 0) & (unit < units)
    keep[keep] = grid.included[seconds[keep]]
    out = {f"{group}.present": np.zeros(units)}
    out[f"{group}.present"][unit[keep]] = 1.0
    kept: dict[str, np.ndarray] = {}
    for column in BAR_FIELDS:
        kept[column] = bars.column(column).to_numpy()[keep].astype(np.float64)  # type: ignore[attr-defined]
    if f"{group}.signed_volume" in wanted:
        kept["signed_volume"] = clv_signed_volume(kept["high"], kept["low"], kept["close"], kept["volume"])
    for column, bar_values in kept.items():
        if column in ("transactions", "signed_volume") and f"{group}.{column}" not in wanted:
            continue
        values = np.zeros(units)
        values[unit[keep]] = bar_values
        out[f"{group}.{column}"] = values
    return out


def day_arrays(
    layout: LakeLayout, plan: FeaturePlan, ticker: str, day: dt.date, bars: dict[str, object] | None = None
) -> DayArrays:
    """Series arrays of ``ticker`` on ``day`` from the lake (``bars`` may pass pre-read 1 s / 1 m tables)."""
    grid = day_grid(plan.spec, day)
    seconds = grid.included.size
    minutes = seconds // 60
    series: dict[str, dict[str, np.ndarray]] = {"s": {}, "m": {}}
    # A plan over bars alone never reads trades (a lake of minute bars may hold none).
    trades = read_trades(layout, ticker, day) if plan.reads_trades else TRADES_SCHEMA.empty_table()
    ts = trades.column("ts").to_numpy()
    sec = (ts - grid.start_ns) // NANOS_PER_SECOND
    inside = (sec >= 0) & (sec < seconds)
    inside[inside] = grid.included[sec[inside]]
    seq = trades.column("sequence").to_numpy()
    # Corrections are not delivered as trades by a live feed: they never enter the series.
    delivered = trades.column("correction").to_numpy(zero_copy_only=False) == 0
    keep = np.flatnonzero(inside & delivered)
    if keep.size > 1:
        t, q = ts[keep], seq[keep]
        duplicate = np.r_[False, (t[1:] == t[:-1]) & (q[1:] >= 0) & (q[1:] <= q[:-1])]
        keep = keep[~duplicate]
    keep = keep[eligible_trades_mask(trades)[keep]]
    price = trades.column("price").to_numpy()[keep]
    size = trades.column("size").to_numpy()[keep]
    units = sec[keep]
    signs = tick_signs(price)
    s = series["s"]
    s["t.count"] = np.bincount(units, weights=np.ones(units.size), minlength=seconds)
    s["t.volume"] = np.bincount(units, weights=size, minlength=seconds)
    s["t.signed_volume"] = np.bincount(units, weights=size * signs, minlength=seconds)
    close_ff: dict[str, np.ndarray] = {}
    for group, kind, count, unit_ns in (("s", "1s", seconds, NANOS_PER_SECOND), ("m", "1m", minutes, MINUTE_NS)):
        if not any(name.startswith(f"{group}.") for name in plan.series[group]):
            continue
        table = (bars or {}).get(kind)
        if table is None:
            path = layout.bars(kind, ticker)  # type: ignore[arg-type]
            table = read_bars(layout, kind, ticker, grid.start_ns, grid.end_ns) if path.exists() else None
        if table is None:
            from sigma9_runtime.lake.tables import BARS_SCHEMA

            table = BARS_SCHEMA.empty_table()
        series[group].update(_bar_arrays(table, grid, group, count, unit_ns, plan.series[group]))
        close_ff[group] = _forward_filled(series[group][f"{group}.present"], series[group][f"{group}.close"])
    return DayArrays(grid, series, close_ff, units, pad=dict(plan.max_length))


class DayView:
    """:class:`~sigma9_runtime.features.kernels.WindowView` over one symbol-day: one row per step.

    Row ``r`` of a block is the day's series over ``[end_r - length, end_r)``: a sliding-window
    view of the zero-padded series (no copy) when the steps are evenly spaced (every second, every minute),
    else a gather.
    """

    def __init__(self, arrays: DayArrays, group: str, end_units: np.ndarray, length: int) -> None:
        self.rows = int(end_units.size)
        self.length = length
        self.unit_seconds = 1 if group == "s" else 60
        self._arrays = arrays
        self._group = group
        self._first = end_units - length
        self._start = int(self._first[0]) if self.rows else 0
        gaps = np.unique(np.diff(end_units)) if self.rows > 1 else np.ones(1, np.int64)
        self._stride = int(gaps[0]) if self.rows and gaps.size == 1 and gaps[0] > 0 else 0
        """Units between two rows' windows when evenly spaced (every second, every minute), else 0."""
        if length > arrays.pad.get(group, 0):
            raise ValueError(f"a {length}-unit window is longer than the day's padding of group {group!r}")
        self._pad = arrays.pad[group]
        self._blocks: dict[str, np.ndarray] = {}

    def block(self, series: str) -> np.ndarray:
        """``rows x length`` read-only values (0 outside the day)."""
        block = self._blocks.get(series)
        if block is None:
            block = self._blocks[series] = self._windows(self._arrays.padded_series(self._group, series))
        return block

    def derived(self, name: str, fn: Callable[..., np.ndarray], *series: str) -> np.ndarray:
        """Block of ``fn`` applied once to the whole (padded) day series, then windowed."""
        block = self._blocks.get(name)
        if block is None:
            arrays, group = self._arrays, self._group
            padded = arrays.padded_series(
                group, f"derived:{name}", lambda: fn(*(arrays.padded_series(group, s) for s in series))
            )
            block = self._blocks[name] = self._windows(padded)
        return block

    def _windows(self, padded: np.ndarray) -> np.ndarray:
        if self._stride:
            start = self._start + self._pad
            stop = start + (self.rows - 1) * self._stride + 1
            return sliding_window_view(padded, self.length)[start : stop : self._stride]
        block = padded[(self._first + self._pad)[:, None] + np.arange(self.length)[None, :]]
        block.flags.writeable = False
        return block

    def close_before(self, group: str) -> np.ndarray:
        """Forward-filled close at the unit before each window (NaN before the day's first bar)."""
        ff = self._arrays.close_ff[group]
        before = self._first - 1
        return np.where(before >= 0, ff[np.maximum(before, 0)], np.nan)


class _Context:
    def __init__(self, warmup: Warmup, ticker: str, minutes: np.ndarray) -> None:
        self._warmup = warmup
        self._ticker = ticker
        self._minutes = minutes

    def baseline(self, key: BaselineKey) -> tuple[np.ndarray, ...]:
        return tuple(a[self._minutes] for a in self._warmup.baseline(key, self._ticker))


def raw_features(plan: FeaturePlan, arrays: DayArrays, warmup: Warmup, ticker: str, steps_ns: np.ndarray) -> np.ndarray:
    """Raw (not normalized) values at ``steps_ns`` (grid steps, ascending): rows x features.

    A coarse feature takes its value at its last due grid step at or before each step.
    """
    grid = arrays.grid
    out = np.full((steps_ns.size, len(plan.features)), np.nan)
    by_step: dict[int, list] = {}
    for feature in plan.features:
        by_step.setdefault(feature.step_seconds, []).append(feature)
    for step_seconds, features in by_step.items():  # features due together share their windows' views
        step_ns = step_seconds * NANOS_PER_SECOND
        due_steps = grid.steps_ns[grid.steps_ns % step_ns == 0]
        position = np.searchsorted(due_steps, steps_ns, side="right") - 1
        valid = position >= 0
        when = due_steps[np.maximum(position, 0)]
        unique, inverse = np.unique(when[valid], return_inverse=True)
        if unique.size == 0:
            continue
        end_sec = (unique - grid.start_ns) // NANOS_PER_SECOND

        def views(group: str, length: int, end_sec: np.ndarray = end_sec) -> DayView:
            return DayView(arrays, group, end_sec if group == "s" else end_sec // 60, length)

        context = _Context(warmup, ticker, grid.minute_of_day(unique))
        block = np.full((unique.size, len(plan.features)), np.nan)
        plan.raw(features, views, context, block)  # type: ignore[arg-type]
        columns = [f.index for f in features]
        out[np.ix_(np.flatnonzero(valid), columns)] = block[inverse][:, columns]
    return out


def finish(
    plan: FeaturePlan, raw: np.ndarray, params: NormParams, arrays: DayArrays, steps_ns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Normalization, missing and halt policies over a whole day's steps (``steps_ns`` = every grid step).

    Returns the kept steps and their rows (columns = ``plan.names``).
    """
    spec = plan.spec
    values = normalize(raw, params, spec.normalization)
    if spec.normalization.missing.policy == "forward_fill":
        values = forward_fill_day(values)
    else:
        values = np.concatenate([values, missing_flags(values)], axis=1)
    policy = spec.calendar.treat_halts_as
    if policy == "gap":
        return steps_ns, values
    grid = arrays.grid
    end_sec = (steps_ns - grid.start_ns) // NANOS_PER_SECOND
    position = np.searchsorted(arrays.trade_seconds, end_sec, side="left") - 1
    last_trade = np.where(position >= 0, arrays.trade_seconds[np.maximum(position, 0)], NO_TRADE)
    bounds = session_bounds(grid.day)
    regular = (
        (bounds.regular[0] - grid.start_ns) // NANOS_PER_SECOND,
        (bounds.regular[1] - grid.start_ns) // NANOS_PER_SECOND,
    )
    halted = is_halted(end_sec, last_trade, regular)
    if policy == "forward_fill":
        return steps_ns, hold_during_halts(values, halted)
    return steps_ns[~halted], values[~halted]


def needs_whole_day(plan: FeaturePlan) -> bool:
    """Whether rows depend on earlier steps (forward fill of missing values or of halts)."""
    spec = plan.spec
    return spec.normalization.missing.policy == "forward_fill" or spec.calendar.treat_halts_as == "forward_fill"


def symbol_day_features(
    layout: LakeLayout,
    plan: FeaturePlan,
    warmup: Warmup,
    ticker: str,
    day: dt.date,
    steps_ns: np.ndarray | None = None,
    bars: dict[str, object] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Final feature rows of ``ticker`` on ``day`` at ``steps_ns`` (default: every grid step).

    Returns ``(steps kept, rows)``; under ``treat_halts_as: drop`` halted steps have no row.
    """
    return arrays_features(plan, day_arrays(layout, plan, ticker, day, bars), warmup, ticker, steps_ns)


def arrays_features(
    plan: FeaturePlan,
    arrays: DayArrays,
    warmup: Warmup,
    ticker: str,
    steps_ns: np.ndarray | None = None,
    known: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`symbol_day_features` of a symbol-day's arrays; ``known`` = (steps, raw rows) already computed for
    this symbol-day (the statistics' whole minutes): the wanted steps among them take those rows (a raw row
    depends on its step alone), the others are computed."""
    grid = arrays.grid
    wanted = grid.steps_ns if steps_ns is None else np.asarray(steps_ns, dtype=np.int64)
    compute = grid.steps_ns if needs_whole_day(plan) else wanted
    if known is None:
        raw = raw_features(plan, arrays, warmup, ticker, compute)
    else:
        known_steps, known_raw = known
        reused = np.isin(compute, known_steps)
        raw = np.empty((compute.size, len(plan.features)))
        raw[reused] = known_raw[np.searchsorted(known_steps, compute[reused])]
        raw[~reused] = raw_features(plan, arrays, warmup, ticker, compute[~reused])
    params = warmup.params(ticker, len(plan.features))
    kept, rows = finish(plan, raw, params, arrays, compute)
    if compute is not wanted:
        select = np.isin(kept, wanted)
        kept, rows = kept[select], rows[select]
    return kept, rows


STATS_STEP_NS = MINUTE_NS
"""Normalization statistics are taken over a day's grid steps at whole minutes."""


def symbol_day_stats(
    layout: LakeLayout,
    plan: FeaturePlan,
    warmup: Warmup,
    ticker: str,
    day: dt.date,
    bars: dict[str, object] | None = None,
) -> DailyStats:
    """One symbol-day's normalization statistics (raw values at whole-minute steps)."""
    return arrays_stats(plan, day_arrays(layout, plan, ticker, day, bars), warmup, ticker)[0]


def arrays_stats(
    plan: FeaturePlan, arrays: DayArrays, warmup: Warmup, ticker: str
) -> tuple[DailyStats, tuple[np.ndarray, np.ndarray]]:
    """:func:`symbol_day_stats` of a symbol-day's arrays, and the (steps, raw rows) they were taken over."""
    steps = arrays.grid.steps_ns[arrays.grid.steps_ns % STATS_STEP_NS == 0]
    raw = raw_features(plan, arrays, warmup, ticker, steps)
    clip = plan.spec.normalization.clip
    return daily_stats(raw, clip.p_low, clip.p_high), (steps, raw)
