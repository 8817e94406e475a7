"""The online feature builder: T / A / AM events in, the FeatureSpec's feature vector out at each step.

Feed it events in arrival order — typed (:meth:`OnlineFeatureBuilder.on_trade`,
:meth:`~OnlineFeatureBuilder.on_agg`), columnar batches (:meth:`~OnlineFeatureBuilder.on_trades`,
:meth:`~OnlineFeatureBuilder.on_aggs`, the fast path) or a parsed frame's columns
(:meth:`~OnlineFeatureBuilder.ingest`; a raw Massive frame or any other tick becomes one through
:func:`~sigma9_runtime.feeds.ticks.to_frame`) — and call :meth:`~OnlineFeatureBuilder.step` at every
emission step ``t`` of the day's grid (:func:`~sigma9_runtime.features.grid.day_grid`). A step
reads only data stamped before ``t`` (windows cover ``[t - length, t)``), through the same kernels
as the offline batch.

Bad events never raise out of the dispatch methods and never touch state (no ordering state, no
ring column, no symbol registered); each is counted in :attr:`OnlineFeatureBuilder.dropped` under the
first reason that applies, in this order:

``bad_price`` / ``bad_size``
    A price that is NaN, not above 0 or above :data:`~sigma9_runtime.bounds.MAX_PRICE` (a bar's open,
    high, low and close, its VWAP when given, or ``high < low``); a trade size not above 0 or above
    :data:`~sigma9_runtime.bounds.MAX_TRADE_SIZE`; a bar volume below 0 or above
    :data:`~sigma9_runtime.bounds.MAX_BAR_VOLUME`, or a negative trade count. The same bounds as the
    lake's importers.
``bad_timestamp``
    A bar not aligned to its interval.
``future_timestamp``
    An event stamped beyond the feed's *horizon*: the next emission step after the **feed clock**
    plus ``max_skew_seconds``. The feed clock is the latest step computed
    (:meth:`~OnlineFeatureBuilder.step`) or passed over (:meth:`~OnlineFeatureBuilder.advance_clock`)
    today, the day's start before any. A trade is judged by its timestamp; a bar by its end (the
    later of ``end_ns`` and its start plus its length): a bar is complete, and sent, only at its end,
    so a bar ending beyond the horizon cannot be real yet. Such an event (a trade stamped 15:59 sent at
    09:35) would otherwise become the symbol's last timestamp and refuse every later trade as
    ``out_of_order``, and claim ring columns other symbols still need.
``bad_symbol``
    A symbol of a first event that is not a ticker
    (:data:`~sigma9_runtime.lake.layout.TICKER_PATTERN`: an upper-case letter, then up to 15 letters,
    digits, ``.`` or ``-``), as the importers require. Checked only when a symbol is first seen (a
    known symbol is one dict look-up), so the hot path does not pay for it.
``symbol_cap``
    An event of a new symbol when the builder already tracks ``max_symbols``; the symbol is not
    registered, so memory stays bounded whatever the feed sends.
``out_of_order``
    A trade stamped before the symbol's last accepted trade.
``duplicate_sequence``
    A trade with the same timestamp as the symbol's last accepted one and a sequence number at or
    below it (a re-sent trade).
``duplicate_bar``
    A second bar for a (symbol, interval) already filled.
``late``
    An event older than the ring buffers keep (its column already holds a newer unit). Rings are
    shared by all symbols, so they are sized to make this depend on an event's own age only: an
    accepted event is at most ``emission step + max_skew_seconds`` ahead of the feed clock, and the
    rings hold ``max(longest window, emission step) + max_skew_seconds`` units and a margin, so no
    accepted event (of any symbol) evicts a unit an on-time event or a coming step still needs.
``no_day``
    An event before :meth:`~OnlineFeatureBuilder.start_day`.

Raw-frame drops (``malformed_json``, ``missing_field``, ``unknown_ev``, ...) are counted in the same
counter by :mod:`sigma9_runtime.feeds.massive_ws`. Events that are fine but unused are counted
in :attr:`OnlineFeatureBuilder.ignored` (``ineligible`` trade conditions, ``outside_session``,
``unused_stream``: bars of a resolution no feature reads, and trades when no feature reads them and
halts are gaps — a spec over minute bars alone).

The feed clock moves with the steps. A driver that computes only some steps (``sigma9 replay --from``,
a backtest skipping idle steps) calls :meth:`~OnlineFeatureBuilder.advance_clock` for the others, as
:class:`~sigma9_runtime.replay.TickDispatcher` does before every tick, so a replay feeds the builder
the same clock as stepping every second.

Memory per symbol: one ring of ``max(longest window, emission step) + max_skew_seconds + 2`` units per
series read, the baselines of the day (1440 minutes each), the normalization parameters and the state
of the tick rule and ordering checks — bounded, whatever the length of the day; and at most
``max_symbols`` symbols (default :data:`~sigma9_runtime.bounds.MAX_SYMBOLS`), so bounded whatever the
feed sends. :meth:`~OnlineFeatureBuilder.memory_bytes` of the shipped specs at the default skew (a test
keeps these figures true; tracemalloc sees 1-2% more: the halt and missing-value state it leaves out):

=====================  ==============  =====================================
spec                   bytes / symbol  at the default cap (20,000 symbols)
=====================  ==============  =====================================
``FS_2026-01-16_001``  39,272          785 MB
``FS_2026-01-16_002``  79,616          1.59 GB
``FS_2026-01-16_003``  62,264          1.25 GB
``FS_2026-12-05_001``  81,416          1.63 GB
=====================  ==============  =====================================

Most of it is the time-of-day baselines (11,520 bytes per array of 1440 minutes). A step's time grows
with the symbols too (``benchmarks/features.py`` measures it for 5,000), so set ``max_symbols`` to the
universe the runtime is meant to watch.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sigma9_runtime.bars import is_eligible
from sigma9_runtime.bounds import MAX_BAR_VOLUME, MAX_PRICE, MAX_SYMBOLS, MAX_TRADE_SIZE
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.baselines import MINUTES_PER_DAY, BaselineKey
from sigma9_runtime.features.grid import DayGrid, day_grid
from sigma9_runtime.features.kernels import BAR_FIELDS, clv_signed_volume
from sigma9_runtime.features.normalization import NormParams, normalize
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.post import HaltHold, MissingFill, is_halted, missing_flags
from sigma9_runtime.features.ring import Ring, RingView
from sigma9_runtime.features.trade_state import DUPLICATE, OUT_OF_ORDER, TradeState
from sigma9_runtime.features.warmup import Warmup
from sigma9_runtime.feeds.events import AggBatch, AggEvent, TradeBatch, TradeEvent
from sigma9_runtime.feeds.massive_ws import ColumnarFrame
from sigma9_runtime.lake.layout import TICKER_PATTERN
from sigma9_runtime.units import MINUTE_NS, NANOS_PER_SECOND

DEFAULT_MAX_SKEW_SECONDS = 8
"""Seconds an event may be stamped beyond the next emission step after the feed clock (clock drift between
the feed and the steps); later ones are ``future_timestamp``. The rings' slack is the same number, so
replays and backtests (which deliver every event before the step that covers it) are unchanged."""
MAX_SKEW_SECONDS = 300
"""Largest ``max_skew_seconds`` accepted: every second of skew is one more ring column per series and symbol."""
MAX_TICKER_LENGTH = 16
"""Longest ticker :data:`~sigma9_runtime.lake.layout.TICKER_PATTERN` accepts."""
_SAFE_NS = 1 << 62
"""Bars stamped within +-2**62 ns (years 1824-2116) are checked in int64 columns without overflow."""
SMALL_BATCH = 16
"""Up to this many trades :meth:`OnlineFeatureBuilder.on_trades` takes them one by one (the reference
path; cheaper than the columnar one's fixed cost for the few trades of a thin second)."""
# How far a trade got in OnlineFeatureBuilder._trade: refused before its symbol was looked at, refused
# at it (bad_symbol, symbol_cap), refused at the ordering checks or eligibility, late, entered.
_REFUSED, _ADMISSION, _CHECKED, _LATE, _ENTERED = range(5)
# OnlineFeatureBuilder._symbol's answers for a symbol it does not register.
_BAD_SYMBOL, _SYMBOL_CAP, _UNKNOWN = -1, -2, -3


def is_ticker(symbol: object) -> bool:
    """Whether ``symbol`` is a ticker as the lake stores them (:data:`~sigma9_runtime.lake.layout.TICKER_PATTERN`).

    The length is checked first, so a megabyte of text costs no more than a ticker.

    >>> is_ticker("BRK.A"), is_ticker("brk.a"), is_ticker("A" * 17)
    (True, False, False)
    """
    return isinstance(symbol, str) and len(symbol) <= MAX_TICKER_LENGTH and TICKER_PATTERN.fullmatch(symbol) is not None


def ring_sizes(plan: FeaturePlan, max_skew_seconds: int) -> dict[str, int]:
    """Units each ring keeps (``s``: seconds, ``m``: minutes) so that the rings cannot make an event late
    because of another symbol's.

    An accepted event is at most ``emission step + skew`` seconds ahead of the feed clock; the oldest unit
    still needed is the next step's window start or the feed clock, whichever is older. A ring longer than
    their distance never evicts a needed unit: ``max(window, step - 1) + skew + 2`` seconds, and
    ``max(window, ceil((step + skew) / 60)) + skew // 60 + 3`` minutes (bars are judged by their end, one
    minute after the unit they fill).
    """
    step = plan.emission_step
    seconds = max(plan.max_length["s"], step - 1) + max_skew_seconds + 2
    minutes = max(plan.max_length["m"], -(-(step + max_skew_seconds) // 60)) + max_skew_seconds // 60 + 3
    return {"s": seconds, "m": minutes}


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
        Symbols known up front (others are added on their first event); each must be a ticker
        (:func:`is_ticker`), at most ``max_symbols`` of them (``ValueError`` naming the symbol otherwise).
    max_skew_seconds
        How far beyond the next emission step after the feed clock an event may be stamped (later ones are
        dropped as ``future_timestamp``); also the rings' slack (:func:`ring_sizes`). 0 to
        :data:`MAX_SKEW_SECONDS`.
    max_symbols
        Most symbols tracked; an event of a new symbol beyond it is dropped as ``symbol_cap``.

    Examples
    --------
    >>> builder = OnlineFeatureBuilder(spec, ["ABCD"])  # doctest: +SKIP
    >>> builder.start_day(day, warmup)
    >>> builder.ingest(to_frame(raw_websocket_frame))
    >>> frame = builder.step(t_ns)
    """

    def __init__(
        self,
        spec: FeatureSpec,
        symbols: Iterable[str] = (),
        *,
        max_skew_seconds: int = DEFAULT_MAX_SKEW_SECONDS,
        max_symbols: int = MAX_SYMBOLS,
    ):
        if not isinstance(max_skew_seconds, int) or not 0 <= max_skew_seconds <= MAX_SKEW_SECONDS:
            raise ValueError(
                f"OnlineFeatureBuilder: max_skew_seconds must be an integer 0..{MAX_SKEW_SECONDS}, "
                f"got {max_skew_seconds!r}"
            )
        if not isinstance(max_symbols, int) or max_symbols < 1:
            raise ValueError(f"OnlineFeatureBuilder: max_symbols must be a positive integer, got {max_symbols!r}")
        self.spec = spec
        self.plan = FeaturePlan.from_spec(spec)
        self.names = list(self.plan.names)
        self.max_skew_seconds = max_skew_seconds
        """Seconds an event may be stamped beyond the next step after the feed clock."""
        self.max_symbols = max_symbols
        """Most symbols tracked (events of further new symbols: ``symbol_cap``)."""
        features = len(self.plan.features)
        sizes = ring_sizes(self.plan, max_skew_seconds)
        self._rings: dict[str, Ring] = {
            "s": Ring("s", self.plan.series["s"], sizes["s"], 1),
            "m": Ring("m", self.plan.series["m"], sizes["m"], 60),
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
        self._trades = TradeState()
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
        self._clock_ns = 0
        self._horizon_ns = 0
        self.dropped: Counter[str] = Counter()
        self.ignored: Counter[str] = Counter()
        self.small_batch = SMALL_BATCH
        self._due_period = math.lcm(*(f.step_seconds for f in self.plan.features))
        self._due: dict[tuple[int, bool], list] = {}  # (second % period, held only) -> features due
        self._last_refusals: tuple[AggBatch, int, list[tuple[str, np.ndarray]] | None] | None = None
        self.add_symbols(symbols)

    # --- symbols and days -----------------------------------------------------------------------

    def add_symbols(self, symbols: Iterable[str]) -> None:
        """Register symbols (existing ones are kept).

        Raises ``ValueError`` naming the first symbol that is not a ticker, or when the symbols would
        exceed ``max_symbols`` (nothing is registered then).
        """
        new = [s for s in dict.fromkeys(symbols) if s not in self._index]
        if not new:
            return
        for symbol in new:
            if not is_ticker(symbol):
                shown = symbol[:40] if isinstance(symbol, str) else symbol
                raise ValueError(f"OnlineFeatureBuilder: symbol {shown!r} is not a ticker ({TICKER_PATTERN.pattern})")
        if len(self.symbols) + len(new) > self.max_symbols:
            raise ValueError(
                f"OnlineFeatureBuilder: {len(self.symbols) + len(new)} symbols exceed max_symbols={self.max_symbols}"
            )
        self._register(new)

    def _register(self, new: list[str]) -> None:
        """Add checked, unknown symbols."""
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
        capacity = min(max(needed, 2 * self._capacity, 16), max(needed, self.max_symbols))  # never past the cap
        old = self._capacity

        def grow(array: np.ndarray, fill: float | int) -> np.ndarray:
            out = np.full((capacity, *array.shape[1:]), fill, dtype=array.dtype)
            out[:old] = array[:old]
            return out

        self._trades.grow(capacity, old)
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
        self._clock_ns = -1
        self._last_refusals = None
        self._advance(self.grid.start_ns)
        self._trades.reset()
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
        """Row of ``symbol``, registering a new one; ``_BAD_SYMBOL`` or ``_SYMBOL_CAP`` (nothing registered)
        when it is not a ticker or there is no room."""
        try:
            index = self._index.get(symbol)
        except TypeError:  # unhashable: no ticker
            return _BAD_SYMBOL
        if index is not None:
            return index
        if not is_ticker(symbol):
            return _BAD_SYMBOL
        if len(self.symbols) >= self.max_symbols:
            return _SYMBOL_CAP
        self._register([symbol])
        return self._index[symbol]

    def _count_symbol_refusal(self, index: int) -> None:
        self.dropped["bad_symbol" if index == _BAD_SYMBOL else "symbol_cap"] += 1

    # --- the feed clock -------------------------------------------------------------------------

    @property
    def feed_clock_ns(self) -> int:
        """The latest step computed or passed over today (the day's start before any)."""
        return self._clock_ns

    @property
    def horizon_ns(self) -> int:
        """The latest time an event may be stamped (a bar: end) without being ``future_timestamp``."""
        return self._horizon_ns

    def advance_clock(self, ts_ns: int) -> None:
        """Move the feed clock to ``ts_ns`` without computing a step (a step the driver does not score).

        The clock never goes back; without a day (before :meth:`start_day`) this does nothing.
        """
        if self.grid is not None and ts_ns > self._clock_ns:
            self._advance(int(ts_ns))

    def _advance(self, ts_ns: int) -> None:
        grid = self.grid
        assert grid is not None
        self._clock_ns = ts_ns
        steps = grid.steps_ns
        k = int(np.searchsorted(steps, ts_ns, side="right"))
        following = int(steps[k]) if k < steps.size else ts_ns + self.plan.emission_step * NANOS_PER_SECOND
        self._horizon_ns = following + self.max_skew_seconds * NANOS_PER_SECOND

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
        stage it reached: refused before its symbol was looked at, refused at it, refused at the order checks
        or at eligibility, late, entered."""
        grid = self.grid
        assert grid is not None
        if not (0 < price <= MAX_PRICE):
            self.dropped["bad_price"] += 1
            return _REFUSED
        if not (0 < size <= MAX_TRADE_SIZE):
            self.dropped["bad_size"] += 1
            return _REFUSED
        if ts > self._horizon_ns:
            self.dropped["future_timestamp"] += 1
            return _REFUSED
        sec = (ts - grid.start_ns) // NANOS_PER_SECOND
        if not (0 <= sec < grid.included.size and grid.included[sec]):
            self.ignored["outside_session"] += 1
            return _REFUSED
        i = self._symbol(symbol)
        if i < 0:
            self._count_symbol_refusal(i)
            return _ADMISSION
        refusal = self._trades.order_check(i, ts, seq)
        if refusal is not None:
            self.dropped[refusal] += 1
            return _CHECKED
        if not (is_eligible(conditions) if eligible is None else eligible):  # type: ignore[arg-type]
            self.ignored["ineligible"] += 1
            return _CHECKED
        ring = self._rings["s"]
        if not ring.claim(sec):
            self.dropped["late"] += 1
            return _LATE
        sign = self._trades.enter(i, price, sec)
        col = sec % ring.size
        data = ring.data
        if "t.count" in data:
            data["t.count"][i, col] += 1.0
        if "t.volume" in data:
            data["t.volume"][i, col] += size
        if "t.signed_volume" in data:
            data["t.signed_volume"][i, col] += size * sign
        return _ENTERED

    def on_agg(self, event: AggEvent) -> bool:
        """Ingest one ``A`` (1-second) or ``AM`` (1-minute) bar; True when it entered the windows."""
        grid = self.grid
        if grid is None:
            self.dropped["no_day"] += 1
            return False
        group, unit_ns = ("s", NANOS_PER_SECOND) if event.kind == "A" else ("m", MINUTE_NS)
        o, h, l, c = event.open, event.high, event.low, event.close
        reason = self._bar_refusal(event, unit_ns)
        if reason is not None:
            self.dropped[reason] += 1
            return False
        offset = event.start_ns - grid.start_ns
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
        if i < 0:
            self._count_symbol_refusal(i)
            return False
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

    def _bar_refusal(self, event: AggEvent, unit_ns: int) -> str | None:
        """The drop reason of a bar's values and time (``bad_price``, ``bad_size``, ``bad_timestamp``,
        ``future_timestamp``), None when they are fine; a day is started."""
        o, h, l, c = event.open, event.high, event.low, event.close
        if not all(0 < v <= MAX_PRICE for v in (o, h, l, c)) or h < l or event.vwap > MAX_PRICE:
            return "bad_price"
        if not (0 <= event.volume <= MAX_BAR_VOLUME) or event.transactions < 0:
            return "bad_size"
        assert self.grid is not None
        if (event.start_ns - self.grid.start_ns) % unit_ns:
            return "bad_timestamp"
        if max(event.end_ns, event.start_ns + unit_ns) > self._horizon_ns:
            return "future_timestamp"
        return None

    def admits_bar(self, event: AggEvent) -> bool:
        """Whether ``event`` passes the builder's data checks: values in bounds, aligned, not beyond the
        horizon, a ticker. What the strategy's tradeability bars and cross rule may see (they keep their
        own per-symbol state; a bar refused here must not poison it). Counts nothing."""
        if self.grid is None:
            return False
        unit_ns = NANOS_PER_SECOND if event.kind == "A" else MINUTE_NS
        return self._bar_refusal(event, unit_ns) is None and self._is_symbol(event.symbol)

    def admits_bars(self, batch: AggBatch) -> np.ndarray:
        """:meth:`admits_bar` of each bar of ``batch`` (a bool mask, computed in columns)."""
        n = len(batch)
        if self.grid is None or n == 0:
            return np.zeros(n, dtype=bool)
        refusals = self._bar_refusals(batch)
        if refusals is None:
            return np.fromiter(map(self.admits_bar, batch.to_events()), dtype=bool, count=n)
        ok = ~np.logical_or.reduce([mask for _, mask in refusals])
        if ok.any():
            ok[ok] = np.fromiter(map(self._is_symbol, batch.symbols[ok].tolist()), dtype=bool, count=int(ok.sum()))
        return ok

    def _bar_refusals(self, batch: AggBatch) -> list[tuple[str, np.ndarray]] | None:
        """:meth:`_bar_refusal` in columns: each reason and the bars it is the first reason of (disjoint masks);
        None when a stamp lies beyond +-2**62 ns (no real feed), where int64 columns could overflow. A day is
        started and the batch is not empty. The strategy asks for the same batch twice in a row (its gate bars,
        then the builder's): the answer is kept for the last batch at the same horizon."""
        last = self._last_refusals
        if last is not None and last[0] is batch and last[1] == self._horizon_ns:
            return last[2]
        refusals = self._column_refusals(batch)
        self._last_refusals = (batch, self._horizon_ns, refusals)
        return refusals

    def _column_refusals(self, batch: AggBatch) -> list[tuple[str, np.ndarray]] | None:
        grid = self.grid
        assert grid is not None
        start, end = batch.start_ns.astype(np.int64), batch.end_ns.astype(np.int64)
        if min(int(start.min()), int(end.min())) < -_SAFE_NS or max(int(start.max()), int(end.max())) > _SAFE_NS:
            return None
        unit_ns = NANOS_PER_SECOND if batch.kind == "A" else MINUTE_NS
        o, h, l, c, volume = batch.open, batch.high, batch.low, batch.close, batch.volume
        with np.errstate(invalid="ignore"):
            prices_ok = (o > 0) & (o <= MAX_PRICE) & (h > 0) & (h <= MAX_PRICE)
            prices_ok &= (l > 0) & (l <= MAX_PRICE) & (c > 0) & (c <= MAX_PRICE)
            bad_price = ~prices_ok | (h < l) | (batch.vwap > MAX_PRICE)
            bad_size = ~bad_price & (~((volume >= 0) & (volume <= MAX_BAR_VOLUME)) | (batch.transactions < 0))
        rest = ~bad_price & ~bad_size
        bad_time = rest & ((start - grid.start_ns) % unit_ns != 0)
        rest &= ~bad_time
        future = rest & ((end > self._horizon_ns) | (start > self._horizon_ns - unit_ns))
        return [
            ("bad_price", bad_price),
            ("bad_size", bad_size),
            ("bad_timestamp", bad_time),
            ("future_timestamp", future),
        ]

    def _is_symbol(self, symbol: object) -> bool:
        """A known symbol (one look-up: every known symbol is a ticker) or a ticker."""
        try:
            if symbol in self._index:
                return True
        except TypeError:  # unhashable
            return False
        return is_ticker(symbol)

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
            bad_price = ~((price > 0) & (price <= MAX_PRICE))
            bad_size = ~bad_price & ~((size > 0) & (size <= MAX_TRADE_SIZE))
        self.dropped["bad_price"] += int(bad_price.sum())
        self.dropped["bad_size"] += int(bad_size.sum())
        valid = ~bad_price & ~bad_size
        if ts.max() > self._horizon_ns:
            future = valid & (ts > self._horizon_ns)
            self.dropped["future_timestamp"] += int(future.sum())
            valid &= ~future
        else:
            self.dropped["future_timestamp"] += 0
        sec = (ts - grid.start_ns) // NANOS_PER_SECOND
        inside = (sec >= 0) & (sec < grid.included.size)
        inside[inside] = grid.included[sec[inside]]
        outside = valid & ~inside
        self.ignored["outside_session"] += int(outside.sum())
        keep = np.flatnonzero(valid & inside)
        if keep.size == 0:
            return 0
        index = self._symbol_rows(batch.symbols[keep].tolist())
        admitted = index >= 0
        if not admitted.all():
            keep, index = keep[admitted], index[admitted]
            if keep.size == 0:
                return 0
        accepted, out_of_order, duplicate = self._trades.order_checks(index, ts[keep], seq[keep])
        self.dropped[OUT_OF_ORDER] += out_of_order
        self.dropped[DUPLICATE] += duplicate
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
        signs = self._trades.tick_rule(index, price[keep])
        self._trades.update_trade_seconds(index, units)
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

    def _symbol_rows(self, symbols: list[str]) -> np.ndarray:
        """:meth:`_symbol` of each symbol, in order (new symbols registered, refusals counted).

        Known symbols are one dict look-up each; the others go through :meth:`_symbol` in arrival order, as
        the per-event path registers them and meets the cap.
        """
        get = self._index.get
        try:
            index = np.array([get(s, _UNKNOWN) for s in symbols], dtype=np.int64)
        except TypeError:  # an unhashable symbol: every one goes the slow way
            index = np.full(len(symbols), _UNKNOWN, dtype=np.int64)
        unknown = np.flatnonzero(index == _UNKNOWN)
        if unknown.size:
            index[unknown] = [self._symbol(symbols[k]) for k in unknown.tolist()]
            refused = index[unknown]
            self.dropped["bad_symbol"] += int((refused == _BAD_SYMBOL).sum())
            self.dropped["symbol_cap"] += int((refused == _SYMBOL_CAP).sum())
        else:
            self.dropped["bad_symbol"] += 0
            self.dropped["symbol_cap"] += 0
        return index

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
        for reason in ("bad_price", "bad_size", "future_timestamp"):
            self.dropped[reason] += 0
        self.ignored["outside_session"] += 0
        if furthest >= _ADMISSION:
            self.dropped["bad_symbol"] += 0
            self.dropped["symbol_cap"] += 0
        if furthest >= _CHECKED:
            self.dropped["out_of_order"] += 0
            self.dropped["duplicate_sequence"] += 0
            self.ignored["ineligible"] += 0
        if furthest >= _LATE:
            self.dropped["late"] += 0
        return stages.count(_ENTERED)

    def on_aggs(self, batch: AggBatch) -> int:
        """Ingest bars in columns (arrival order); equal to :meth:`on_agg` per bar (a test proves it).

        The checks that read no per-symbol state (values, time, session, stream) run in columns; the symbol,
        lateness and duplicate checks and the writes then go bar by bar, in arrival order, on plain scalars.
        A batch with a timestamp beyond +-2**62 ns (no real feed) goes through :meth:`on_agg` bar by bar.
        """
        n = len(batch)
        if n == 0:
            return 0
        grid = self.grid
        if grid is None:
            self.dropped["no_day"] += n
            return 0
        refusals = self._bar_refusals(batch)
        if refusals is None:
            return sum(self.on_agg(event) for event in batch.to_events())
        group, unit_ns = ("s", NANOS_PER_SECOND) if batch.kind == "A" else ("m", MINUTE_NS)
        o, h, l, c, volume = batch.open, batch.high, batch.low, batch.close, batch.volume
        rest = ~np.logical_or.reduce([mask for _, mask in refusals])
        unit = (batch.start_ns.astype(np.int64) - grid.start_ns) // unit_ns
        sec = unit * (unit_ns // NANOS_PER_SECOND)
        inside = rest & (sec >= 0) & (sec < grid.included.size)
        inside[inside] = grid.included[sec[inside]]
        outside = rest & ~inside
        for counter, reason, mask in (
            *((self.dropped, reason, mask) for reason, mask in refusals),
            (self.ignored, "outside_session", outside),
        ):
            count = int(mask.sum())
            if count:
                counter[reason] += count
        rows = np.flatnonzero(inside)
        if rows.size == 0:
            return 0
        ring = self._rings[group]
        if not ring.has_bars:
            self.ignored["unused_stream"] += int(rows.size)
            return 0
        series = self._bar_series[group]
        signed = clv_signed_volume(h[rows], l[rows], c[rows], volume[rows]) if series[-1] is not None else None
        columns = (
            batch.symbols[rows].tolist(),
            unit[rows].tolist(),
            o[rows].tolist(),
            h[rows].tolist(),
            l[rows].tolist(),
            c[rows].tolist(),
            volume[rows].tolist(),
            batch.vwap[rows].tolist(),
            batch.transactions[rows].tolist(),
        )
        data = ring.data
        present = data[f"{group}.present"]
        written = [(name, data[name]) for name in series[:-1] if name is not None]
        accepted = 0
        for k, (symbol, u, o_, h_, l_, c_, v_, vw_, tx_) in enumerate(zip(*columns, strict=True)):
            i = self._symbol(symbol)
            if i < 0:
                self._count_symbol_refusal(i)
                continue
            if not ring.claim(u):
                self.dropped["late"] += 1
                continue
            col = u % ring.size
            if present[i, col] > 0:
                self.dropped["duplicate_bar"] += 1
                continue
            values = dict(zip(series[:-1], (1.0, o_, h_, l_, c_, v_, vw_, float(tx_)), strict=True))
            for name, target in written:
                target[i, col] = values[name]
            if signed is not None:
                data[series[-1]][i, col] = signed[k]
            accepted += 1
        return accepted

    def ingest(self, frame: ColumnarFrame) -> int:
        """Ingest one frame's columns (trades, then 1-second, then 1-minute bars) and count the parser's drops
        (:func:`~sigma9_runtime.feeds.ticks.to_frame` makes one of any tick); returns the events that entered
        windows. The strategy's :meth:`~sigma9_runtime.strategies.base.ScoringStrategy.ingest` calls this and
        also feeds its tradeability bars and cross rule: a host ingests through the strategy."""
        if frame.dropped:
            self.dropped.update(frame.dropped)
        return self.on_trades(frame.trades) + self.on_aggs(frame.seconds) + self.on_aggs(frame.minutes)

    # --- steps ----------------------------------------------------------------------------------

    def step(self, ts_ns: int) -> FeatureFrame:
        """Feature vectors of every symbol at step ``ts_ns`` (a time of the day's grid)."""
        rows, end_sec = self._raw_step(ts_ns, held_only=False)
        params = NormParams(*(self._norm[k][:rows] for k in ("mean", "std", "low", "high")))
        values = normalize(self._raw[:rows], params, self.spec.normalization)
        if self.spec.normalization.missing.policy == "forward_fill":
            values = self._missing.apply(values)
        else:
            values = np.concatenate([values, missing_flags(values)], axis=1)
        symbols = list(self.symbols)
        policy = self.spec.calendar.treat_halts_as
        if policy != "gap":
            last_trade = self._trades.last_trade_before(rows, end_sec)
            halted = is_halted(end_sec, last_trade, self._regular)
            if policy == "forward_fill":
                values = self._halts.apply(values, halted)
            else:
                values = values[~halted]
                symbols = [s for s, h in zip(symbols, halted, strict=True) if not h]
        return FeatureFrame(ts_ns, symbols, self.names, values)

    def pass_step(self, ts_ns: int) -> None:
        """Move to step ``ts_ns`` without computing its rows (a driver that knows no row of it matters): the feed
        clock moves, and the features that hold their value across steps (window step above the emission step)
        and are due now are computed, so every later step reads what it would have read had this one been
        computed. Under ``missing.policy: forward_fill`` or ``treat_halts_as: forward_fill`` a step also carries
        values forward: such a spec's steps cannot be passed over (``ValueError``)."""
        if not self.steps_passable:
            raise ValueError(f"{self.spec.id}: a step carries values forward; it cannot be passed over")
        self._raw_step(ts_ns, held_only=True)

    @property
    def steps_passable(self) -> bool:
        """Whether :meth:`pass_step` may stand for a step: no step carries values forward (neither missing values
        nor halts are forward-filled)."""
        spec = self.spec
        return spec.normalization.missing.policy != "forward_fill" and spec.calendar.treat_halts_as != "forward_fill"

    def _raw_step(self, ts_ns: int, *, held_only: bool) -> tuple[int, int]:
        """Check ``ts_ns``, move the clock and compute the raw values due at it (``held_only``: only those of
        features held across steps); returns (rows, the step's second of the day's grid)."""
        grid = self.grid
        if grid is None:
            raise RuntimeError("start_day() must be called before step()")
        step_ns = self.plan.emission_step * NANOS_PER_SECOND
        end_sec = (ts_ns - grid.start_ns) // NANOS_PER_SECOND
        if ts_ns % step_ns or not (0 < end_sec <= grid.included.size) or not grid.included[end_sec - 1]:
            raise ValueError(f"{ts_ns} is not an emission step of {grid.day} for this FeatureSpec")
        if ts_ns > self._clock_ns:
            self._advance(int(ts_ns))
        rows = len(self.symbols)
        second = ts_ns // NANOS_PER_SECOND
        key = (second % self._due_period, held_only)
        due = self._due.get(key)
        if due is None:  # the same features are due at every step with the same remainder
            due = self.plan.due(ts_ns)
            if held_only:
                due = [f for f in due if f.step_seconds != self.plan.emission_step]
            self._due[key] = due
        if due:
            context = _Context(self._baselines, rows, int(grid.minute_of_day(ts_ns)))

            def views(group: str, length: int) -> RingView:
                unit = end_sec if group == "s" else end_sec // 60
                return RingView(self._rings, group, rows, unit, length)

            self.plan.raw(due, views, context, self._raw[:rows])
        return rows, int(end_sec)

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
        total += self._trades.nbytes()
        return int(total)
