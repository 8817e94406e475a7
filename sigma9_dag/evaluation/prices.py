"""Prices from the lake for the evaluation: bars per symbol-day, fills, and tradeability inputs.

One bar stream is read for fills and tradeability: the one the runtime's gate reads for the FeatureSpec
(:func:`sigma9_runtime.streams.gate_bar_kind`; :meth:`LakePrices.for_spec`): 1-second bars (``A``) when
the spec subscribes to them, else 1-minute bars (``AM``), so the lab judges a minute-bar spec with what
its runtime sees. Bars come from ``1s/{ticker}.parquet`` / ``1m/{ticker}.parquet`` (the layout's
templates), or, when a ticker has no such file, are rebuilt from its trades by the one bar rule
(:func:`sigma9_runtime.lake.tables.bars_table_from_trades`). A symbol-day covers the trading day's whole
span (04:00-20:00 New York); a day that is not a trading day has no bars. Every lookup is vectorized per
symbol-day (``numpy.searchsorted``); bars of recent symbol-days are cached.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sigma9_dag.evaluation.candidates import normalize_events, ny_dates
from sigma9_runtime.calendar import is_trading_day, session_bounds
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import DataError
from sigma9_runtime.gates import tradeability_batch
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import bars_table_from_trades, read_bars, read_trades
from sigma9_runtime.streams import BAR_KIND, BAR_NS, BarStream, gate_bar_kind

FillSide = Literal["buy", "sell"]


BAR_COLUMNS = ("ts", "open", "high", "low", "close", "vwap", "volume", "transactions")


@dataclass(frozen=True)
class DayBars:
    """One symbol-day of bars as arrays (``ts`` ns UTC, interval start, strictly increasing)."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    vwap: np.ndarray
    volume: np.ndarray
    transactions: np.ndarray

    @classmethod
    def empty(cls) -> DayBars:
        """No bars."""
        return cls(np.zeros(0, np.int64), *(np.zeros(0) for _ in range(6)), np.zeros(0, np.int64))


@dataclass(frozen=True)
class Fills:
    """Fills of orders: ``price`` NaN (and ``ts_ns`` -1) where no bar came at or after the order."""

    ts_ns: np.ndarray
    price: np.ndarray


class LakePrices:
    """Bars of a lake, per symbol-day, with fills and tradeability inputs.

    Parameters
    ----------
    layout
        The lake.
    kind
        The bar stream fills and tradeability read: ``A`` (1-second bars) or ``AM`` (1-minute bars).
    cache_days
        Symbol-days kept in memory (per stream).
    events
        The lake's events the evaluation labels alerts with (ticker or symbol, t0_ns), when already found
        (the dataset stage's); default: found on first use.
    """

    def __init__(
        self,
        layout: LakeLayout,
        *,
        kind: BarStream = "A",
        cache_days: int = 256,
        events: pd.DataFrame | None = None,
    ) -> None:
        self.layout = layout
        self.kind: BarStream = kind
        self.bar_ns = BAR_NS[kind]
        self._cache: OrderedDict[tuple[str, dt.date, BarStream], DayBars] = OrderedDict()
        self._cache_days = cache_days
        self._events = None if events is None else normalize_events(events)

    @classmethod
    def for_spec(cls, layout: LakeLayout, spec: FeatureSpec, *, events: pd.DataFrame | None = None) -> LakePrices:
        """Prices of ``layout`` read on the bar stream ``spec``'s runtime gate reads."""
        return cls(layout, kind=gate_bar_kind(spec), events=events)

    @property
    def events(self) -> pd.DataFrame:
        """The lake's events (symbol, t0_ns), found once (:func:`sigma9_dag.evaluation.outcomes.load_events`)."""
        if self._events is None:
            from sigma9_dag.evaluation.outcomes import load_events

            self._events = load_events(self.layout)
        return self._events

    def day_bars(self, symbol: str, day: dt.date, kind: BarStream | None = None) -> DayBars:
        """Bars of ``symbol`` on the trading day ``day`` (empty when none), of ``kind`` (default: this
        reader's stream)."""
        key = (symbol, day, kind or self.kind)
        bars = self._cache.get(key)
        if bars is not None:
            self._cache.move_to_end(key)
            return bars
        bars = self._read(symbol, day, key[2])
        self._remember(key, bars)
        return bars

    def preload(self, symbol: str, days: list[dt.date], kind: BarStream | None = None) -> None:
        """Cache the bars of ``symbol`` on ``days`` read in one pass over its bars file (the same bars
        :meth:`day_bars` reads one day at a time; days already cached, or beyond the cache, are read as
        needed)."""
        kind = kind or self.kind
        lake_kind = BAR_KIND[kind]
        wanted = sorted({d for d in days if is_trading_day(d) and (symbol, d, kind) not in self._cache})
        wanted = wanted[-self._cache_days :]  # the cache keeps no more
        if len(wanted) < 2 or not self.layout.bars(lake_kind, symbol).exists():
            return
        bounds = [session_bounds(d) for d in wanted]
        table = read_bars(self.layout, lake_kind, symbol, bounds[0].start, bounds[-1].end)
        frame = table.select(list(BAR_COLUMNS)).to_pandas().sort_values("ts", kind="stable")
        columns = [frame[c].to_numpy() for c in BAR_COLUMNS]
        ts = columns[0]
        for day, bound in zip(wanted, bounds, strict=True):
            first, last = np.searchsorted(ts, [bound.start, bound.end], side="left")
            self._remember((symbol, day, kind), DayBars(*(c[first:last] for c in columns)))

    def by_symbol_day(self, symbols: np.ndarray, ts_ns: np.ndarray) -> Iterator[tuple[tuple[str, dt.date], np.ndarray]]:
        """Row positions per (symbol, New York date), keys sorted (:func:`group_by_symbol_day`), each
        symbol's bars read in one pass (:meth:`preload`) before its first day is handed out."""
        groups = group_by_symbol_day(symbols, ts_ns)
        days_of: dict[str, list[dt.date]] = {}
        for symbol, day in groups:
            days_of.setdefault(symbol, []).append(day)
        for (symbol, day), rows in groups.items():
            if day == days_of[symbol][0]:
                self.preload(symbol, days_of[symbol])
            yield (symbol, day), rows

    def _remember(self, key: tuple[str, dt.date, BarStream], bars: DayBars) -> None:
        self._cache[key] = bars
        self._cache.move_to_end(key)
        if len(self._cache) > self._cache_days:
            self._cache.popitem(last=False)

    def _read(self, symbol: str, day: dt.date, kind: BarStream) -> DayBars:
        if not is_trading_day(day):
            return DayBars.empty()
        bounds = session_bounds(day)
        lake_kind = BAR_KIND[kind]
        if self.layout.bars(lake_kind, symbol).exists():
            table = read_bars(self.layout, lake_kind, symbol, bounds.start, bounds.end)
        else:
            table = bars_table_from_trades(read_trades(self.layout, symbol, day), BAR_NS[kind])
        frame = table.select(list(BAR_COLUMNS)).to_pandas()
        frame = frame[(frame["ts"] >= bounds.start) & (frame["ts"] < bounds.end)].sort_values("ts")
        return DayBars(*(frame[c].to_numpy() for c in BAR_COLUMNS))

    def fills(
        self, symbol: str, day: dt.date, order_ns: np.ndarray, *, side: FillSide, conservative: bool = False
    ) -> Fills:
        """Fill of each order of ``symbol`` on ``day`` at the first bar stamped at or after it: its open, or
        with ``conservative`` its high (buy) or low (sell)."""
        bars = self.day_bars(symbol, day)
        order_ns = np.asarray(order_ns, dtype=np.int64)
        index = np.searchsorted(bars.ts, order_ns, side="left")
        found = index < bars.ts.size
        at = np.minimum(index, max(bars.ts.size - 1, 0))
        if not bars.ts.size:
            return Fills(np.full(order_ns.size, -1, np.int64), np.full(order_ns.size, np.nan))
        source = bars.open if not conservative else (bars.high if side == "buy" else bars.low)
        return Fills(np.where(found, bars.ts[at], -1), np.where(found, source[at], np.nan))

    def last_close(self, symbol: str, day: dt.date) -> tuple[int, float]:
        """Time and close of the day's last bar ((-1, NaN) without bars)."""
        bars = self.day_bars(symbol, day)
        if not bars.ts.size:
            return -1, float("nan")
        return int(bars.ts[-1]), float(bars.close[-1])

    def tradeability(self, symbol: str, day: dt.date, ts_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dollar volume of the last minute and spread estimate at each time (the runtime's functions, on
        this reader's bar stream)."""
        bars = self.day_bars(symbol, day)
        if self.kind == "A":
            return tradeability_batch(bars.ts, bars.close, bars.vwap, bars.volume, ts_ns)
        return tradeability_batch(
            bars.ts, bars.close, bars.vwap, bars.volume, ts_ns, bar_ns=self.bar_ns, high=bars.high, low=bars.low
        )


def group_by_symbol_day(symbols: np.ndarray, ts_ns: np.ndarray) -> dict[tuple[str, dt.date], np.ndarray]:
    """Row positions per (symbol, New York date), keys sorted."""
    keys = pd.DataFrame({"symbol": np.asarray(symbols, dtype=object), "day": ny_dates(ts_ns)})
    groups = keys.groupby(["symbol", "day"], sort=True).indices
    return {(str(symbol), pd.Timestamp(day).date()): rows for (symbol, day), rows in groups.items()}


def attach_tradeability(candidates: pd.DataFrame, prices: LakePrices) -> pd.DataFrame:
    """A copy of ``candidates`` (columns symbol, ts_ns, ...) with ``dollar_volume_1m`` and ``spread_pct``
    computed from the lake's bars (``prices.kind``) at each row's time, by the runtime's functions."""
    out = candidates.reset_index(drop=True).copy()
    for column in ("symbol", "ts_ns"):
        if column not in out.columns:
            raise DataError(f"candidates: missing column {column!r}")
    ts = out["ts_ns"].to_numpy(np.int64)
    dollar = np.full(len(out), np.nan)
    spread = np.full(len(out), np.nan)
    for (symbol, day), rows in prices.by_symbol_day(out["symbol"].to_numpy(), ts):
        dollar[rows], spread[rows] = prices.tradeability(symbol, day, ts[rows])
    out["dollar_volume_1m"] = dollar
    out["spread_pct"] = spread
    return out
