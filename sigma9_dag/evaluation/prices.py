"""Prices from the lake for the evaluation: 1-second bars per symbol-day, fills, and tradeability inputs.

Bars come from ``1s/{ticker}.parquet`` (the layout's template), or, when a ticker has no 1-second file,
are rebuilt from its trades by the one bar rule (:func:`sigma9_runtime.lake.tables.bars_table_from_trades`).
A symbol-day covers the trading day's whole span (04:00-20:00 New York); a day that is not a trading
day has no bars. Every lookup is vectorized per symbol-day (``numpy.searchsorted``); bars of recent
symbol-days are cached.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from sigma9_dag.evaluation.candidates import ny_dates
from sigma9_runtime.bars import SECOND_NS
from sigma9_runtime.calendar import is_trading_day, session_bounds
from sigma9_runtime.errors import DataError
from sigma9_runtime.gates import tradeability_batch
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import bars_table_from_trades, read_bars, read_trades

FillSide = Literal["buy", "sell"]


@dataclass(frozen=True)
class DayBars:
    """One symbol-day of 1-second bars as arrays (``ts`` ns UTC, interval start, strictly increasing)."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    vwap: np.ndarray
    volume: np.ndarray

    @classmethod
    def empty(cls) -> DayBars:
        """No bars."""
        return cls(np.zeros(0, np.int64), *(np.zeros(0) for _ in range(6)))


@dataclass(frozen=True)
class Fills:
    """Fills of orders: ``price`` NaN (and ``ts_ns`` -1) where no bar came at or after the order."""

    ts_ns: np.ndarray
    price: np.ndarray


class LakePrices:
    """1-second bars of a lake, per symbol-day, with fills and tradeability inputs.

    Parameters
    ----------
    layout
        The lake.
    cache_days
        Symbol-days kept in memory.
    """

    def __init__(self, layout: LakeLayout, *, cache_days: int = 256) -> None:
        self.layout = layout
        self._cache: OrderedDict[tuple[str, dt.date], DayBars] = OrderedDict()
        self._cache_days = cache_days

    def day_bars(self, symbol: str, day: dt.date) -> DayBars:
        """1-second bars of ``symbol`` on the trading day ``day`` (empty when none)."""
        key = (symbol, day)
        bars = self._cache.get(key)
        if bars is not None:
            self._cache.move_to_end(key)
            return bars
        bars = self._read(symbol, day)
        self._cache[key] = bars
        if len(self._cache) > self._cache_days:
            self._cache.popitem(last=False)
        return bars

    def _read(self, symbol: str, day: dt.date) -> DayBars:
        if not is_trading_day(day):
            return DayBars.empty()
        bounds = session_bounds(day)
        if self.layout.bars("1s", symbol).exists():
            table = read_bars(self.layout, "1s", symbol, bounds.start, bounds.end)
        else:
            table = bars_table_from_trades(read_trades(self.layout, symbol, day), SECOND_NS)
        frame = table.select(["ts", "open", "high", "low", "close", "vwap", "volume"]).to_pandas()
        frame = frame[(frame["ts"] >= bounds.start) & (frame["ts"] < bounds.end)].sort_values("ts")
        return DayBars(*(frame[c].to_numpy() for c in ("ts", "open", "high", "low", "close", "vwap", "volume")))

    def fills(
        self, symbol: str, day: dt.date, order_ns: np.ndarray, *, side: FillSide, conservative: bool = False
    ) -> Fills:
        """Fill of each order of ``symbol`` on ``day`` at the first 1-second bar stamped at or after it:
        its open, or with ``conservative`` its high (buy) or low (sell)."""
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
        """Dollar volume of the last minute and spread estimate at each time (the runtime's functions)."""
        bars = self.day_bars(symbol, day)
        return tradeability_batch(bars.ts, bars.close, bars.vwap, bars.volume, ts_ns)


def group_by_symbol_day(symbols: np.ndarray, ts_ns: np.ndarray) -> dict[tuple[str, dt.date], np.ndarray]:
    """Row positions per (symbol, New York date), keys sorted."""
    keys = pd.DataFrame({"symbol": np.asarray(symbols, dtype=object), "day": ny_dates(ts_ns)})
    groups = keys.groupby(["symbol", "day"], sort=True).indices
    return {(str(symbol), pd.Timestamp(day).date()): rows for (symbol, day), rows in groups.items()}


def attach_tradeability(candidates: pd.DataFrame, prices: LakePrices) -> pd.DataFrame:
    """A copy of ``candidates`` (columns symbol, ts_ns, ...) with ``dollar_volume_1m`` and ``spread_pct``
    computed from the lake's 1-second bars at each row's time, by the runtime's functions."""
    out = candidates.reset_index(drop=True).copy()
    for column in ("symbol", "ts_ns"):
        if column not in out.columns:
            raise DataError(f"candidates: missing column {column!r}")
    ts = out["ts_ns"].to_numpy(np.int64)
    dollar = np.full(len(out), np.nan)
    spread = np.full(len(out), np.nan)
    for (symbol, day), rows in group_by_symbol_day(out["symbol"].to_numpy(), ts).items():
        dollar[rows], spread[rows] = prices.tradeability(symbol, day, ts[rows])
    out["dollar_volume_1m"] = dollar
    out["spread_pct"] = spread
    return out
