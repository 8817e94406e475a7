"""The online feature builder: T / A / AM events in, the FeatureSpec's feature vector out at each step.

Feed it events in arrival order — typed (:meth:`OnlineFeatureBuilder.on_trade`,
:meth:`~OnlineFeatureBuilder.on_agg`), columnar batches (:meth:`~OnlineFeatureBuilder.on_trades`,
:meth:`~OnlineFeatureBuilder.on_aggs`, the fast path) or raw Massive WebSocket frames
(:meth:`~OnlineFeatureBuilder.on_frame`) — and call :meth:`~OnlineFeatureBuilder.step` at every
emission step ``t`` of the day's grid (:func:`~sigma9_runtime.features.grid.day_grid`). A step
reads only data stamped before ``t`` (windows cover ``[t - length, t)``), through the same kernels
as the offline batch.

Bad events never raise out of the dispatch methods and never touch state; each is counted in
:attr:`OnlineFeatureBuilder.dropped` by reason:

``bad_price`` / ``bad_size`` / ``bad_timestamp``
    NaN, infinite or non-positive price; non-finite or non-positive size (negative bar volume or
    trade count); a bar not aligned to its interval.
``out_of_order``
    a trade stamped before the symbol's last accepted trade.
``duplicate_sequence``
    a trade with the same timestamp as the symbol's last accepted one and a sequence number at or
    below it (a re-sent trade).
``duplicate_bar``
    a second bar for a (symbol, interval) already filled.
``late``
    an event older than the ring buffers keep (its column already holds a newer unit).
``no_day``
    an event before :meth:`~OnlineFeatureBuilder.start_day`.

Raw-frame drops (``malformed_json``, ``missing_field``, ``unknown_ev``, ...) are counted in the same
counter by :mod:`sigma9_runtime.feeds.massive_ws`. Events that are fine but unused are counted
in :attr:`OnlineFeatureBuilder.ignored` (``ineligible`` trade conditions, ``outside_session``,
``unused_stream``: bars of a resolution no feature reads, and trades when no feature reads them and
halts are gaps — a spec over minute bars alone).

Memory per symbol: one ring of ``max window + slack`` units per series read (about 70 seconds x
a few series for the shipped spec), the baselines of the day (1440 minutes each) and the state of
the tick rule and ordering checks — bounded, whatever the length of the day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sigma9_runtime.bars import is_eligible
from sigma9_runtime.calendar import NANOS_PER_SECOND, session_bounds
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.baselines import MINUTES_PER_DAY, BaselineKey
from sigma9_runtime.features.grid import DayGrid, day_grid
from sigma9_runtime.features.kernels import BAR_FIELDS, clv_signed_volume
from sigma9_runtime.features.normalization import NormParams, normalize
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.post import NO_TRADE, HaltHold, MissingFill, is_halted, missing_flags
from sigma9_runtime.features.ring import Ring, RingView
from sigma9_runtime.features.warmup import Warmup
from sigma9_runtime.feeds.events import AggBatch, AggEvent, TradeBatch, TradeEvent

MINUTE_NS = 60 * NANOS_PER_SECOND
DEFAULT_SLACK_SECONDS = 8
"""Seconds the event clock may run ahead of the step being computed (and events may lag)."""
SMALL_BATCH = 16
"""Up to this many trades :meth:`OnlineFeatureBuilder.on_trades` takes them one by one (the reference
path; cheaper than the columnar one's fixed cost for the few trades of a thin second)."""
_REFUSED, _CHECKED, _LATE, _ENTERED = range(4)


@dataclass(frozen=True)
class FeatureFrame:
    """The feature vectors of one step: ``values[i]`` belongs to ``symbols[i]``; columns are ``names``."""

    ts_ns: int
    symbols: list[str]
    names: list[str]
    values: np.ndarray

    def row(self, symbol: str) -> np.ndarray | None:
        """The vector of ``symbol`` (None when it has no row at this step)."""
        try:
            return self.values[self.symbols.index(symbol)]
        except ValueError:
            return None


class _Context:
    def __init__(self, baselines: dict[BaselineKey, tuple[np.ndarray, ...]], rows: int, minute: int) -> None:
        self._baselines = baselines
        self._rows = rows
        self._minute = minute

    def baseline(self, key: BaselineKey) -> tuple[np.ndarray, ...]:
        return tuple(a[: self._rows, self._minute] for a in self._baselines[key])


class OnlineFeatureBuilder:
    """Incremental features of one FeatureSpec for a growing set of symbols, one trading day at a time.

    Parameters
    ----------
    spec
        The FeatureSpec (its schema hash is what an artifact is checked against).
    symbols
        Symbols known up front (others are added on their first event).
    slack_seconds
        How far the event clock may run ahead of a step (ring size = longest window + slack + 2).

    Examples
    --------
    >>> builder = OnlineFeatureBuilder(spec, ["ABCD"])  # doctest: +SKIP
    >>> builder.start_day(day, warmup)
    >>> builder.on_frame(raw_websocket_frame)
    >>> frame = builder.step(t_ns)
    """

    def __init__(self, spec: FeatureSpec, symbols: Iterable[str] = (), *, slack_seconds: int = DEFAULT_SLACK_SECONDS):
        self.spec = spec
        self.plan = FeaturePlan.from_spec(spec)
        self.names = list(self.plan.names)
        features = len(self.plan.features)
        self._rings: dict[str, Ring] = {
            "s": Ring("s", self.plan.series["s"], self.plan.max_length["s"] + slack_seconds + 2, 1),
            "m": Ring("m", self.plan.series["m"], self.plan.max_length["m"] + slack_seconds // 60 + 3, 60),
        }
        # Ring series of a bar's fields, in BAR_FIELDS order (None where the spec reads no such series).
        self._bar_series = {
            group: tuple(f"{group}.{field}" if f"{group}.{field}" in ring.data else None for field in BAR_FIELDS)
            for group, ring in self._rings.items()
        }
        self._reads_trades = self.plan.reads_trades
        self.symbols: list[str] = []
        self._index: dict[str, int] = {}
        self._capacity = 0
        self._last_ts = np.zeros(0, dtype=np.int64)
        self._last_seq = np.zeros(0, dtype=np.int64)
        self._last_price = np.zeros(0)
        self._last_sign = np.zeros(0)
        self._trade_sec = np.zeros(0, dtype=np.int64)
        self._prev_trade_sec = np.zeros(0, dtype=np.int64)
        self._raw = np.full((0, features), np.nan)
        self._norm = {name: np.full((0, features), np.nan) for name in ("mean", "std", "low", "high")}
        self._baselines: dict[BaselineKey, tuple[np.ndarray, ...]] = {
            key: tuple(np.full((0, MINUTES_PER_DAY), np.nan) for _ in range(2 if key.stat == "mean_std" else 1))
            for key in self.plan.baselines
        }
        self._missing = MissingFill(features)
        self._halts = HaltHold(len(self.names))
        self._warmup: Warmup | None = None
        self.grid: DayGrid | None = None
        self._regular = (0, 0)
        self.dropped: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()
        self.small_batch = SMALL_BATCH
        self._due_period = math.lcm(*(f.step_seconds for f in self.plan.features))
        self._due: dict[int, list] = {}
        self.add_symbols(symbols)

    # --- symbols and days -----------------------------------------------------------------------

    def add_symbols(self, symbols: Iterable[str]) -> None:
        """Register symbols (existing ones are kept)."""
        new = [s for s in dict.fromkeys(symbols) if s not in self._index]
        if not new:
            return
        for symbol in new:
            self._index[symbol] = len(self.symbols)
            self.symbols.append(symbol)
        self._grow(len(self.symbols))
        if self._warmup is not None:
            for symbol in new:
                self._load_symbol(symbol)

    def _grow(self, needed: int) -> None:
        if needed <= self._capacity:
            return
        capacity = max(needed, 2 * self._capacity, 16)
        old = self._capacity

        def grow(array: np.ndarray, fill: float | int) -> np.ndarray:
            out = np.full((capacity, *array.shape[1:]), fill, dtype=array.dtype)
            out[:old] = array[:old]
            return out

        self._last_ts = grow(self._last_ts, NO_TRADE)
        self._last_seq = grow(self._last_seq, -1)
        self._last_price = grow(self._last_price, np.nan)
        self._last_sign = grow(self._last_sign, 0.0)
        self._trade_sec = grow(self._trade_sec, NO_TRADE)
        self._prev_trade_sec = grow(self._prev_trade_sec, NO_TRADE)
        self._raw = grow(self._raw, np.nan)
        self._norm = {k: grow(v, np.nan) for k, v in self._norm.items()}
        self._baselines = {k: tuple(grow(a, np.nan) for a in arrays) for k, arrays in self._baselines.items()}
        for ring in self._rings.values():
            ring.resize(capacity)
        self._missing.resize(capacity)
        self._halts.resize(capacity)
        self._capacity = capacity

    def start_day(self, day: dt.date, warmup: Warmup | None = None) -> None:
        """Begin ``day``: clear every window and per-day state, load baselines and normalization."""
        self.grid = day_grid(self.spec, day)
        bounds = session_bounds(day)
        start = self.grid.start_ns
        self._regular = (
            (bounds.regular[0] - start) // NANOS_PER_SECOND,
            (bounds.regular[1] - start) // NANOS_PER_SECOND,
        )
        for ring in self._rings.values():
            ring.reset()
        self._last_ts[:] = NO_TRADE
        self._last_seq[:] = -1
        self._last_price[:] = np.nan
        self._last_sign[:] = 0.0
        self._trade_sec[:] = NO_TRADE
        self._prev_trade_sec[:] = NO_TRADE
        self._raw[:] = np.nan
        self._missing.reset()
        self._halts.reset()
        self._warmup = warmup if warmup is not None else Warmup(day)
        for symbol in self.symbols:
            self._load_symbol(symbol)

    def _load_symbol(self, symbol: str) -> None:
        assert self._warmup is not None
        i = self._index[symbol]
        for key, arrays in self._baselines.items():
            for target, values in zip(arrays, self._warmup.baseline(key, symbol), strict=True):
                target[i] = values
        params = self._warmup.params(symbol, len(self.plan.features))
        for name in self._norm:
            self._norm[name][i] = getattr(params, name)

    def _symbol(self, symbol: str) -> int:
        index = self._index.get(symbol)
        if index is None:
            self.add_symbols([symbol])
            index = self._index[symbol]
        return index

    # --- typed events (the reference path) ------------------------------------------------------

    def on_trade(self, event: TradeEvent) -> bool:
        """Ingest one trade; True when it entered the windows."""
        if self.grid is None:
            self.dropped["no_day"] += 1
            return False
        if not self._reads_trades:
            self.ignored["unused_stream"] += 1
            return False
        stage = self._trade(event.symbol, event.ts_ns, event.price, event.size, event.sequence, event.conditions, None)
        return stage == _ENTERED

    def _trade(
        self, symbol: str, ts: int, price: float, size: float, seq: int, conditions: object, eligible: bool | None
    ) -> int:
        """One trade of a started day (eligibility from ``eligible``, else from ``conditions``); returns the
        stage it reached: refused before the order checks, refused at them or at eligibility, late, entered."""
        grid = self.grid
        assert grid is not None
        if not (price > 0 and price < np.inf):
            self.dropped["bad_price"] += 1
            return _REFUSED
        if not (size > 0 and size < np.inf):
            self.dropped["bad_size"] += 1
            return _REFUSED
        sec = (ts - grid.start_ns) // NANOS_PER_SECOND
        if not (0 <= sec < grid.included.size and grid.included[sec]):
            self.ignored["outside_session"] += 1
            return _REFUSED
        i = self._symbol(symbol)
        last_ts, last_seq = int(self._last_ts[i]), int(self._last_seq[i])
        if ts < last_ts:
            self.dropped["out_of_order"] += 1
            return _CHECKED
        if ts == last_ts and 0 <= seq <= last_seq:
            self.dropped["duplicate_sequence"] += 1
            return _CHECKED
        if ts > last_ts or seq > last_seq:
            self._last_ts[i], self._last_seq[i] = ts, seq
        if not (is_eligible(conditions) if eligible is None else eligible):  # type: ignore[arg-type]
            self.ignored["ineligible"] += 1
            return _CHECKED
        ring = self._rings["s"]
        if not ring.claim(sec):
            self.dropped["late"] += 1
            return _LATE
        last_price = self._last_price[i]
        sign = self._last_sign[i]
        if price > last_price:
            sign = 1.0
        elif price < last_price:
            sign = -1.0
        self._last_price[i], self._last_sign[i] = price, sign
        col = sec % ring.size
        data = ring.data
        if "t.count" in data:
            data["t.count"][i, col] += 1.0
        if "t.volume" in data:
            data["t.volume"][i, col] += size
        if "t.signed_volume" in data:
            data["t.signed_volume"][i, col] += size * sign
        if sec > self._trade_sec[i]:
            self._prev_trade_sec[i], self._trade_sec[i] = self._trade_sec[i], sec
        return _ENTERED

    def on_agg(self, event: AggEvent) -> bool:
        """Ingest one ``A`` (1-second) or ``AM`` (1-minute) bar; True when it entered the windows."""
        grid = self.grid
        if grid is None:
            self.dropped["no_day"] += 1
            return False
        group, unit_ns = ("s", NANOS_PER_SECOND) if event.kind == "A" else ("m", MINUTE_NS)
        o, h, l, c = event.open, event.high, event.low, event.close
        if not all(0 < v < np.inf for v in (o, h, l, c)) or h < l:
            self.dropped["bad_price"] += 1
            return False
        if not (0 <= event.volume < np.inf) or event.transactions < 0:
            self.dropped["bad_size"] += 1
            return False
        offset = event.start_ns - grid.start_ns
        if offset % unit_ns:
            self.dropped["bad_timestamp"] += 1
            return False
        unit = offset // unit_ns
        sec = unit * (unit_ns // NANOS_PER_SECOND)
        if not (0 <= sec < grid.included.size and grid.included[sec]):
            self.ignored["outside_session"] += 1
            return False
        ring = self._rings[group]
        if not ring.has_bars:
            self.ignored["unused_stream"] += 1
            return False
        i = self._symbol(event.symbol)
        if not ring.claim(unit):
            self.dropped["late"] += 1
            return False
        col = unit % ring.size
        data = ring.data
        if data[f"{group}.present"][i, col] > 0:
            self.dropped["duplicate_bar"] += 1
            return False
        series = self._bar_series[group]
        values = (1.0, o, h, l, c, event.volume, event.vwap, float(event.transactions))
        for name, value in zip(series[:-1], values, strict=True):
            if name is not None:
                data[name][i, col] = value
        if series[-1] is not None:  # the signed volume, computed only when the spec reads it
            data[series[-1]][i, col] = clv_signed_volume(h, l, c, event.volume)
        return True

    def on_event(self, event: TradeEvent | AggEvent) -> bool:
        """Ingest a trade or a bar."""
        if isinstance(event, TradeEvent):
            return self.on_trade(event)
        return self.on_agg(event)

    # --- batches (the fast path, equal to the reference path) -----------------------------------

    def on_trades(self, batch: TradeBatch) -> int:
        """Ingest trades in columns (arrival order); returns how many entered the windows.

        Equal to calling :meth:`on_trade` for each trade in order (a test proves it).
        """
        grid = self.grid
        n = len(batch)
        if n == 0:
            return 0
        if grid is None:
            self.dropped["no_day"] += n
            return 0
        if not self._reads_trades:
            self.ignored["unused_stream"] += n
            return 0
        if n <= self.small_batch:
            return self._trades_one_by_one(batch)
        price, size, ts, seq = batch.price, batch.size, batch.ts_ns, batch.sequence
        with np.errstate(invalid="ignore"):
            bad_price = ~((price > 0) & (price < np.inf))
            bad_size = ~bad_price & ~((size > 0) & (size < np.inf))
        self.dropped["bad_price"] += int(bad_price.sum())
        self.dropped["bad_size"] += int(bad_size.sum())
        sec = (ts - grid.start_ns) // NANOS_PER_SECOND
        inside = (sec >= 0) & (sec < grid.included.size)
        inside[inside] = grid.included[sec[inside]]
        valid = ~bad_price & ~bad_size
        outside = valid & ~inside
        self.ignored["outside_session"] += int(outside.sum())
        keep = np.flatnonzero(valid & inside)
        if keep.size == 0:
            return 0
        index = np.fromiter((self._symbol(s) for s in batch.symbols[keep]), dtype=np.int64, count=keep.size)
        accepted = self._order_checks(index, ts[keep], seq[keep])
        keep, index = keep[accepted], index[accepted]
        eligible = batch.eligible[keep]
        self.ignored["ineligible"] += int((~eligible).sum())
        keep, index = keep[eligible], index[eligible]
        if keep.size == 0:
            return 0
        ring = self._rings["s"]
        units = sec[keep]
        on_time = ring.claim_many(units)
        self.dropped["late"] += int((~on_time).sum())
        keep, index, units = keep[on_time], index[on_time], units[on_time]
        if keep.size == 0:
            return 0
        signs = self._tick_rule(index, price[keep])
        self._update_trade_seconds(index, units)
        accepted = int(keep.size)
        held = ring.holds(units)  # a unit evicted within this batch would have been cleared event by event
        keep, index, units, signs = keep[held], index[held], units[held], signs[held]
        cols = units % ring.size
        data = ring.data
        if "t.count" in data:
            np.add.at(data["t.count"], (index, cols), 1.0)
        if "t.volume" in data:
            np.add.at(data["t.volume"], (index, cols), size[keep])
        if "t.signed_volume" in data:
            np.add.at(data["t.signed_volume"], (index, cols), size[keep] * signs)
        return accepted

    def _trades_one_by_one(self, batch: TradeBatch) -> int:
        """:meth:`on_trades` through the per-event path, counters keyed as the columnar path keys them."""
        stages = [
            self._trade(symbol, ts, price, size, seq, None, eligible)
            for symbol, ts, price, size, seq, eligible in zip(
                batch.symbols.tolist(),
                batch.ts_ns.tolist(),
                batch.price.tolist(),
                batch.size.tolist(),
                batch.sequence.tolist(),
                batch.eligible.tolist(),
            )
        ]
        furthest = max(stages)
        # The columnar path adds (possibly zero) counts under these reasons as far as the batch gets.
        for reason in ("bad_price", "bad_size"):
            self.dropped[reason] += 0
        self.ignored["outside_session"] += 0
        if furthest >= _CHECKED:
            self.dropped["out_of_order"] += 0
            self.dropped["duplicate_sequence"] += 0
            self.ignored["ineligible"] += 0
        if furthest >= _LATE:
            self.dropped["late"] += 0
        return stages.count(_ENTERED)

    @staticmethod
    def _segments(index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stable order by symbol, the first-of-symbol flags and segment numbers in that order."""
        order = np.argsort(index, kind="stable")
        idx = index[order]
        first = np.r_[True, idx[1:] != idx[:-1]]
        return order, first, np.cumsum(first) - 1

    def _order_checks(self, index: np.ndarray, ts: np.ndarray, seq: np.ndarray) -> np.ndarray:
        """Out-of-order and duplicate checks of a batch against each symbol's running (ts, seq) maximum.

        The running lexicographic maximum over *all* earlier trades equals the one over accepted
        trades (a refused trade is never above it), so it is a segmented cumulative maximum.
        """
        order, first, segment = self._segments(index)
        idx, t, q = index[order], ts[order], seq[order]
        owners = idx[first]
        pairs_ts = np.r_[self._last_ts[owners], t]
        pairs_seq = np.r_[self._last_seq[owners], q]
        ranking = np.lexsort((pairs_seq, pairs_ts))
        rank = np.empty(ranking.size, dtype=np.int64)
        rank[ranking] = np.arange(ranking.size)
        state_rank, trade_rank = rank[: owners.size], rank[owners.size :]
        offset = segment * (ranking.size + 1)
        running = np.maximum.accumulate(trade_rank + offset) - offset
        previous = np.maximum(np.where(first, -1, np.r_[-1, running[:-1]]), state_rank[segment])
        prev_ts, prev_seq = pairs_ts[ranking[previous]], pairs_seq[ranking[previous]]
        out_of_order = t < prev_ts
        duplicate = ~out_of_order & (t == prev_ts) & (q >= 0) & (q <= prev_seq)
        self.dropped["out_of_order"] += int(out_of_order.sum())
        self.dropped["duplicate_sequence"] += int(duplicate.sum())
        last = np.r_[np.flatnonzero(first)[1:] - 1, idx.size - 1]
        final = ranking[np.maximum(running[last], state_rank)]
        self._last_ts[owners], self._last_seq[owners] = pairs_ts[final], pairs_seq[final]
        accepted = np.empty(idx.size, dtype=bool)
        accepted[order] = ~(out_of_order | duplicate)
        return accepted

    def _tick_rule(self, index: np.ndarray, price: np.ndarray) -> np.ndarray:
        """Tick-rule signs of accepted eligible trades (arrival order), updating each symbol's state."""
        order, first, _ = self._segments(index)
        idx, p = index[order], price[order]
        before = np.where(first, self._last_price[idx], np.r_[np.nan, p[:-1]])
        with np.errstate(invalid="ignore"):
            move = np.where(p > before, 1.0, np.where(p < before, -1.0, 0.0))
        # A zero move repeats the previous sign; at a segment's start that is the stored sign.
        position = np.arange(idx.size)
        source = np.maximum.accumulate(np.where((move != 0) | first, position, -1))
        signs = np.where(move[source] != 0, move[source], self._last_sign[idx])
        last = np.r_[np.flatnonzero(first)[1:] - 1, idx.size - 1]
        self._last_price[idx[last]] = p[last]
        self._last_sign[idx[last]] = signs[last]
        out = np.empty_like(signs)
        out[order] = signs
        return out

    def _update_trade_seconds(self, index: np.ndarray, units: np.ndarray) -> None:
        """Last and previous distinct trade seconds per symbol (units are non-decreasing per symbol)."""
        order, first, segment = self._segments(index)
        idx, u = index[order], units[order]
        starts = np.flatnonzero(first)
        owners = idx[starts]
        final = np.maximum.reduceat(u, starts)
        below = np.where(u < final[segment], u, NO_TRADE)
        candidate = np.maximum.reduceat(below, starts)
        stored, stored_prev = self._trade_sec[owners], self._prev_trade_sec[owners]
        raised = final > stored
        self._prev_trade_sec[owners] = np.where(raised, np.maximum(candidate, stored), stored_prev)
        self._trade_sec[owners] = np.maximum(final, stored)

    def on_aggs(self, batch: AggBatch) -> int:
        """Ingest bars in columns (arrival order); equal to :meth:`on_agg` per bar."""
        accepted = 0
        for event in batch.to_events():
            accepted += self.on_agg(event)
        return accepted

    def on_frame(self, frame: str | bytes) -> int:
        """Ingest one raw Massive WebSocket frame (never raises); returns the events that entered windows."""
        from sigma9_runtime.feeds.massive_ws import parse_frame_columnar

        parsed = parse_frame_columnar(frame)
        self.dropped.update(parsed.dropped)
        return self.on_trades(parsed.trades) + self.on_aggs(parsed.seconds) + self.on_aggs(parsed.minutes)

    # --- steps ----------------------------------------------------------------------------------

    def step(self, ts_ns: int) -> FeatureFrame:
        """Feature vectors of every symbol at step ``ts_ns`` (a time of the day's grid)."""
        grid = self.grid
        if grid is None:
            raise RuntimeError("start_day() must be called before step()")
        step_ns = self.plan.emission_step * NANOS_PER_SECOND
        end_sec = (ts_ns - grid.start_ns) // NANOS_PER_SECOND
        if ts_ns % step_ns or not (0 < end_sec <= grid.included.size) or not grid.included[end_sec - 1]:
            raise ValueError(f"{ts_ns} is not an emission step of {grid.day} for this FeatureSpec")
        rows = len(self.symbols)
        minute = int(grid.minute_of_day(ts_ns))
        context = _Context(self._baselines, rows, minute)

        def views(group: str, length: int) -> RingView:
            unit = end_sec if group == "s" else end_sec // 60
            return RingView(self._rings, group, rows, unit, length)

        second = ts_ns // NANOS_PER_SECOND
        due = self._due.get(second % self._due_period)
        if due is None:  # the same features are due at every step with the same remainder
            due = self._due[second % self._due_period] = self.plan.due(ts_ns)
        self.plan.raw(due, views, context, self._raw[:rows])
        params = NormParams(*(self._norm[k][:rows] for k in ("mean", "std", "low", "high")))
        values = normalize(self._raw[:rows], params, self.spec.normalization)
        if self.spec.normalization.missing.policy == "forward_fill":
            values = self._missing.apply(values)
        else:
            values = np.concatenate([values, missing_flags(values)], axis=1)
        symbols = list(self.symbols)
        policy = self.spec.calendar.treat_halts_as
        if policy != "gap":
            last_trade = np.where(self._trade_sec[:rows] < end_sec, self._trade_sec[:rows], self._prev_trade_sec[:rows])
            halted = is_halted(end_sec, last_trade, self._regular)
            if policy == "forward_fill":
                values = self._halts.apply(values, halted)
            else:
                values = values[~halted]
                symbols = [s for s, h in zip(symbols, halted, strict=True) if not h]
        return FeatureFrame(ts_ns, symbols, self.names, values)

    def steps(self) -> np.ndarray:
        """Emission times of the current day."""
        if self.grid is None:
            raise RuntimeError("start_day() must be called first")
        return self.grid.steps_ns

    def memory_bytes(self) -> int:
        """Bytes held by per-symbol state (rings, baselines, normalization, tick and order state)."""
        total = sum(a.nbytes for ring in self._rings.values() for a in ring.data.values())
        total += sum(a.nbytes for arrays in self._baselines.values() for a in arrays)
        total += sum(a.nbytes for a in self._norm.values()) + self._raw.nbytes
        total += sum(a.nbytes for a in (self._last_ts, self._last_seq, self._last_price, self._last_sign))
        return int(total)
