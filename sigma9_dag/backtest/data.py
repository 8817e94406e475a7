"""Lake data as NautilusTrader data: equity instruments, trade ticks and close-stamped bars, one day at a time.

Conversions at this edge (and nowhere else):

* **Bars.** The lake stamps a bar at the *start* of its interval; Nautilus at its *close*:
  ``ts_event = start + interval``. :func:`bar_start` undoes it for the runtime's builder.
* **Feed latency.** ``ts_init`` (when the engine delivers a data point to the strategy and the venue) is
  ``ts_event + feed_ms``; ticks keep their exchange time as ``ts_event``.
* **Trades.** Nautilus trade ticks carry no sale conditions, so only prints that count by the project's
  one bar rule (:func:`sigma9_runtime.lake.tables.eligible_trades_mask`) become ticks: what the runtime's
  builder would keep anyway. Sizes are whole shares (an equity's size precision is 0): fractional prints
  are rounded half up to at least one share. The aggressor side is the tick rule's (up-tick: buyer,
  down-tick: seller, zero tick: the previous side), so Nautilus' L1 book tracks a bid and an ask.
* **Prices** are rounded to 0.0001 (sub-dollar names trade on that grid).

One extra bar of a clock instrument (``CLOCK.<venue>``, never traded) closes each day, so the engine's
clock reaches the day's end and every timer and in-flight order of the day is processed before the next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar, BarType, TradeTick
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Price, Quantity

from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.features.kernels import tick_signs
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import bars_table_from_trades, eligible_trades_mask, read_bars, read_trades
from sigma9_runtime.units import MINUTE_NS, SECOND_NS

PRICE_PRECISION = 4
SIZE_PRECISION = 0
VENUE = Venue("XNAS")
CLOCK_SYMBOL = "CLOCK"
BAR_SPECS: dict[str, tuple[str, int]] = {
    "1s": ("1-SECOND-LAST-EXTERNAL", SECOND_NS),
    "1m": ("1-MINUTE-LAST-EXTERNAL", MINUTE_NS),
}


def instrument_id(symbol: str, venue: Venue = VENUE) -> InstrumentId:
    """``SYMBOL.XNAS``."""
    return InstrumentId(Symbol(symbol), venue)


def equity(symbol: str, venue: Venue = VENUE) -> Equity:
    """A USD equity on ``venue`` with a 0.0001 price grid and one-share lots."""
    return Equity(
        instrument_id=instrument_id(symbol, venue),
        raw_symbol=Symbol(symbol),
        currency=USD,
        price_precision=PRICE_PRECISION,
        price_increment=Price.from_str("0.0001"),
        lot_size=Quantity.from_int(1),
        ts_event=0,
        ts_init=0,
    )


def bar_type(symbol: str, kind: str, venue: Venue = VENUE) -> BarType:
    """``SYMBOL.XNAS-1-SECOND-LAST-EXTERNAL`` (``kind`` ``1s``) or the 1-minute one."""
    return BarType.from_str(f"{instrument_id(symbol, venue)}-{BAR_SPECS[kind][0]}")


def bar_start(bar: Bar) -> int:
    """The lake's stamp (interval start) of a close-stamped Nautilus bar."""
    return int(bar.ts_event) - int(bar.bar_type.spec.timedelta.value)


def tick_rule_sides(price: np.ndarray) -> np.ndarray:
    """Aggressor sides by the tick rule: 1 buyer (up-tick), 2 seller (down-tick), the previous on a zero
    tick, 0 (no aggressor) before the first move."""
    sign = tick_signs(price)
    return np.where(sign > 0, 1, np.where(sign < 0, 2, 0)).astype(np.uint8)


@dataclass(frozen=True)
class BarFields:
    """What a live ``A``/``AM`` message carries and a Nautilus bar does not, for one symbol's bars of a day:
    the VWAP and the trade count, by bar start (ascending)."""

    start_ns: np.ndarray
    vwap: np.ndarray
    transactions: np.ndarray

    @classmethod
    def of(cls, table: pa.Table) -> BarFields:
        """The fields of a lake bars table."""
        start = table.column("ts").to_numpy(zero_copy_only=False).astype(np.int64)
        order = np.argsort(start, kind="stable")
        return cls(
            start[order],
            table.column("vwap").to_numpy(zero_copy_only=False).astype(np.float64)[order],
            table.column("transactions").to_numpy(zero_copy_only=False).astype(np.int64)[order],
        )

    def restore(self, start_ns: np.ndarray, close: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """VWAP and trade count of the bars starting at ``start_ns`` (their close and 0 where none is known)."""
        vwap = close.copy()
        transactions = np.zeros(close.size, np.int64)
        if self.start_ns.size:
            at = np.minimum(np.searchsorted(self.start_ns, start_ns), self.start_ns.size - 1)
            found = self.start_ns[at] == start_ns
            vwap[found] = self.vwap[at[found]]
            transactions[found] = self.transactions[at[found]]
        return vwap, transactions


@dataclass
class DayData:
    """One day of Nautilus data in delivery order, with what was loaded."""

    day: dt.date
    data: list[object]
    trades: int
    bars_1s: int
    bars_1m: int
    end_ns: int
    """``ts_init`` of the day's closing clock bar (after every other data point of the day)."""
    bar_fields: dict[tuple[str, str], BarFields] = field(default_factory=dict)
    """(``A`` or ``AM``, symbol) -> the VWAP and trade count of the bars sent (:class:`BarFields`)."""

    @property
    def events(self) -> int:
        """Market data points (ticks and bars, not the clock bar)."""
        return self.trades + self.bars_1s + self.bars_1m


def _ticks(symbol: str, trades: pa.Table, start_ns: int, end_ns: int, feed_ns: int) -> tuple[np.ndarray, list]:
    keep = eligible_trades_mask(trades)
    ts = trades.column("ts").to_numpy(zero_copy_only=False)
    keep &= (ts >= start_ns) & (ts < end_ns)
    ts = ts[keep].astype(np.int64)
    if not ts.size:
        return np.zeros(0, np.int64), []
    price = np.round(trades.column("price").to_numpy(zero_copy_only=False)[keep], PRICE_PRECISION)
    size = np.maximum(np.floor(trades.column("size").to_numpy(zero_copy_only=False)[keep] + 0.5), 1.0)
    sequence = trades.column("sequence").to_numpy(zero_copy_only=False)[keep]
    ids = [f"{symbol}-{q}" for q in sequence.tolist()]
    ts_init = ts + feed_ns
    ticks = TradeTick.from_raw_arrays_to_list(
        instrument_id(symbol),
        PRICE_PRECISION,
        SIZE_PRECISION,
        price.astype(np.float64),
        size.astype(np.float64),
        tick_rule_sides(price),
        ids,
        ts.astype(np.uint64),
        ts_init.astype(np.uint64),
    )
    return ts_init, ticks


def _bars(symbol: str, kind: str, table: pa.Table, start_ns: int, end_ns: int, feed_ns: int) -> tuple[np.ndarray, list]:
    ts = table.column("ts").to_numpy(zero_copy_only=False).astype(np.int64)
    keep = (ts >= start_ns) & (ts < end_ns)
    if not keep.any():
        return np.zeros(0, np.int64), []
    length = BAR_SPECS[kind][1]
    close_ts = ts[keep] + length
    columns = [
        np.round(table.column(c).to_numpy(zero_copy_only=False)[keep], PRICE_PRECISION).astype(np.float64)
        for c in ("open", "high", "low", "close")
    ]
    volume = np.maximum(np.floor(table.column("volume").to_numpy(zero_copy_only=False)[keep] + 0.5), 0.0)
    ts_init = close_ts + feed_ns
    bars = Bar.from_raw_arrays_to_list(
        bar_type(symbol, kind),
        PRICE_PRECISION,
        SIZE_PRECISION,
        *columns,
        volume.astype(np.float64),
        close_ts.astype(np.uint64),
        ts_init.astype(np.uint64),
    )
    return ts_init, bars


def load_day(
    layout: LakeLayout,
    symbols: Sequence[str],
    day: dt.date,
    *,
    start_ns: int,
    end_ns: int,
    feed_ns: int,
    bars_1s: bool,
    bars_1m: bool,
    bar_1s_from_lake: bool = True,
    trades: bool = True,
) -> DayData:
    """Trades and 1 s / 1 m bars (each when asked) of ``symbols`` stamped in ``[start_ns, end_ns)`` on
    ``day``, merged by delivery time (ties: trades, then 1 s bars, then 1 m bars, each symbol in ``symbols``
    order), then the closing clock bar; with the VWAP and trade count of every bar sent (``bar_fields``).

    ``bar_1s_from_lake=False`` rebuilds 1-second bars from the day's trades by the one bar rule (a run
    config whose ``bar_1s`` is null).
    """
    bounds = session_bounds(day)
    times: list[np.ndarray] = []
    ranks: list[np.ndarray] = []
    items: list[object] = []
    counts = {"t": 0, "1s": 0, "1m": 0}
    fields: dict[tuple[str, str], BarFields] = {}
    for position, symbol in enumerate(symbols):
        parts: list[tuple[int, str, np.ndarray, list]] = []
        day_trades = read_trades(layout, symbol, day) if trades or (bars_1s and not bar_1s_from_lake) else None
        if trades and day_trades is not None:
            parts.append((0, "t", *_ticks(symbol, day_trades, start_ns, end_ns, feed_ns)))
        if bars_1s:
            if bar_1s_from_lake:
                table = _day_bars(layout, "1s", symbol, bounds.start, bounds.end)
            else:
                table = bars_table_from_trades(day_trades, SECOND_NS) if day_trades.num_rows else None  # type: ignore[union-attr]
            if table is not None and table.num_rows:
                parts.append((1, "1s", *_bars(symbol, "1s", table, start_ns, end_ns, feed_ns)))
                fields[("A", symbol)] = BarFields.of(table)
        if bars_1m:
            table = _day_bars(layout, "1m", symbol, bounds.start, bounds.end)
            if table is not None and table.num_rows:
                parts.append((2, "1m", *_bars(symbol, "1m", table, start_ns - MINUTE_NS, end_ns, feed_ns)))
                fields[("AM", symbol)] = BarFields.of(table)
        for kind_rank, kind, ts_init, values in parts:
            counts[kind] += len(values)
            times.append(ts_init)
            ranks.append(np.full(ts_init.size, kind_rank * 100_000 + position, np.int64))
            items.extend(values)
    time = np.concatenate(times) if times else np.zeros(0, np.int64)
    rank = np.concatenate(ranks) if ranks else np.zeros(0, np.int64)
    order = np.lexsort((rank, time))
    data = [items[i] for i in order.tolist()]
    last = int(time.max()) if time.size else end_ns
    clock_end = max(last, end_ns + feed_ns) + SECOND_NS
    data.append(clock_bar(clock_end))
    return DayData(day, data, counts["t"], counts["1s"], counts["1m"], clock_end, fields)


def _day_bars(layout: LakeLayout, kind: str, symbol: str, start_ns: int, end_ns: int) -> pa.Table | None:
    """The symbol's bars of ``kind`` in ``[start_ns, end_ns)`` (None when it has no such bar file)."""
    if not layout.bars(kind, symbol).exists():  # type: ignore[arg-type]
        return None
    return read_bars(layout, kind, symbol, start_ns, end_ns)  # type: ignore[arg-type]


def clock_instrument(venue: Venue = VENUE) -> Equity:
    """The never-traded instrument whose bars only advance the engine's clock."""
    return equity(CLOCK_SYMBOL, venue)


def clock_bar(ts_ns: int, venue: Venue = VENUE) -> Bar:
    """A bar of the clock instrument closing at ``ts_ns``."""
    one = Price(1.0, PRICE_PRECISION)
    return Bar(bar_type(CLOCK_SYMBOL, "1s", venue), one, one, one, one, Quantity(1, SIZE_PRECISION), ts_ns, ts_ns)
