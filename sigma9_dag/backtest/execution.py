"""Execution realism: a run config's ``execution`` section mapped onto NautilusTrader's models.

=================================  ===========================================================================
run config                         Nautilus
=================================  ===========================================================================
``fill_model: next_bar_open``      :class:`LakeFillModel` (a ``FillModel`` subclass): a market order fills at
                                   the **open** of the first bar (of the prices' stream: 1-second, or
                                   1-minute for a minute-bar spec) stamped at or after its arrival
                                   (``order.ts_init + order_ms``), the evaluation's rule
                                   (:meth:`sigma9_dag.evaluation.LakePrices.fills`)
``fill_model: conservative``       same bar, its **high** for a buy and its **low** for a sell
``fill_model: mid``                the midpoint of Nautilus' own L1 book when the order is matched (the lake
                                   has no quotes; trade ticks carry tick-rule aggressor sides, so the book's
                                   bid and ask are the last down- and up-tick prices)
no bar after the order that day    the day's last bar close (as the evaluation exits)
``slippage: spread_pct_plus``      the fill price moves against the order by ``s = spread_mult x spread / 2 +
                                   fixed_bps / 10 000`` (fraction of price), where ``spread`` is the runtime's
                                   spread estimate (``sigma9_runtime.gates.tradeability``) at the order time
                                   (NaN counts 0); buy ``p x (1 + s)``, sell ``p x (1 - s)``, rounded to the
                                   instrument's 0.0001 price grid
``commission: ib_like``            :class:`IBLikeFeeModel` (a ``FeeModel`` subclass): ``max(min, per_share x
                                   shares)`` USD per fill; every order here fills once, so per order
``latency.order_ms``               ``LatencyModel(base_latency_nanos=order_ms x 1e6)``; insert, update and
                                   cancel add nothing to it (Nautilus' default base latency of 1 s is
                                   never used)
``latency.feed_ms``                Nautilus has no feed-latency model: every data point's ``ts_init`` (when
                                   the engine delivers it) is its ``ts_event`` + ``feed_ms``
                                   (:mod:`sigma9_dag.backtest.data`)
``seed``                           ``FillModel(random_seed=seed)`` (it seeds Python's global ``random``); the
                                   fill itself draws nothing
=================================  ===========================================================================

The simulated book :class:`LakeFillModel` returns holds one level per side with more size than any order,
so a market order fills completely at that one price: one fill per order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from nautilus_trader.backtest.models import FeeModel, FillModel, LatencyModel
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.enums import BookType, OrderSide
from nautilus_trader.model.objects import Money, Price, Quantity

from sigma9_dag.evaluation.prices import LakePrices
from sigma9_runtime.calendar import session_date
from sigma9_runtime.contracts.backtest_run_config import Execution

FillKind = Literal["next_bar_open", "mid", "conservative"]
MS = 1_000_000
UNLIMITED_SHARES = 1_000_000_000


@dataclass(frozen=True)
class ExecutionSettings:
    """The run's ``execution`` section as plain numbers (parsed once)."""

    fill_model: FillKind
    spread_mult: float
    fixed_bps: float
    commission_per_share: float
    commission_min: float
    feed_latency_ns: int
    order_latency_ns: int

    @classmethod
    def from_config(cls, execution: Execution) -> ExecutionSettings:
        """Settings of a run config's ``execution``."""
        return cls(
            fill_model=execution.fill_model,
            spread_mult=execution.slippage.params.spread_mult,
            fixed_bps=execution.slippage.params.fixed_bps,
            commission_per_share=execution.commission.params.per_share,
            commission_min=execution.commission.params.min,
            feed_latency_ns=execution.latency.feed_ms * MS,
            order_latency_ns=execution.latency.order_ms * MS,
        )

    def slippage_fraction(self, spread_pct: float) -> float:
        """Slippage per side as a fraction of price (``spread_pct`` NaN counts 0)."""
        half_spread = 0.0 if not math.isfinite(spread_pct) else spread_pct / 100.0 / 2.0
        return self.spread_mult * half_spread + self.fixed_bps / 10_000.0

    def commission(self, shares: float) -> float:
        """``ib_like`` commission of one order of ``shares`` (USD)."""
        return max(self.commission_min, self.commission_per_share * shares)


def latency_model(settings: ExecutionSettings) -> LatencyModel:
    """Order latency only: ``base_latency_nanos = order_ms``, nothing added per command."""
    return LatencyModel(
        base_latency_nanos=settings.order_latency_ns,
        insert_latency_nanos=0,
        update_latency_nanos=0,
        cancel_latency_nanos=0,
    )


class IBLikeFeeModel(FeeModel):
    """Interactive Brokers' fixed tier: ``per_share`` USD a share with a ``minimum`` per order.

    Nautilus calls :meth:`get_commission` per fill; orders of the backtest fill once, so the minimum applies
    per order. (IB also caps a commission at 1% of the trade value; the run config has no such field.)
    """

    def __init__(self, per_share: float, minimum: float) -> None:
        super().__init__()
        self.per_share = float(per_share)
        self.minimum = float(minimum)

    def get_commission(self, order, fill_qty, fill_px, instrument) -> Money:  # type: ignore[no-untyped-def,override]
        return Money(max(self.minimum, self.per_share * fill_qty.as_double()), USD)


class LakeFillModel(FillModel):
    """Fill prices of market orders from the lake's bars (``prices.kind``) plus the run's slippage.

    Parameters
    ----------
    settings
        The run's execution settings.
    prices
        The lake's bars (next bar after the order, spread estimate, last close).
    seed
        The run's seed (Nautilus seeds Python's global ``random`` with it).
    """

    def __init__(self, settings: ExecutionSettings, prices: LakePrices, *, seed: int) -> None:
        super().__init__(prob_fill_on_limit=1.0, prob_fill_on_stop=1.0, prob_slippage=0.0, random_seed=seed)
        self.settings = settings
        self.prices = prices

    def fill_price(self, symbol: str, side: Literal["buy", "sell"], order_ts_ns: int, mid: float | None) -> float:
        """The price an order of ``symbol`` sent at ``order_ts_ns`` fills at (before rounding)."""
        arrival = order_ts_ns + self.settings.order_latency_ns
        day = session_date(arrival)
        if self.settings.fill_model == "mid" and mid is not None:
            base = mid
        else:
            fills = self.prices.fills(
                symbol, day, [arrival], side=side, conservative=self.settings.fill_model == "conservative"
            )
            base = float(fills.price[0])
            if not math.isfinite(base):
                base = self.prices.last_close(symbol, day)[1]
        _, spread = self.prices.tradeability(symbol, day, [order_ts_ns])
        slip = self.settings.slippage_fraction(float(spread[0]))
        return base * (1.0 + slip) if side == "buy" else base * (1.0 - slip)

    def get_orderbook_for_fill_simulation(self, instrument, order, best_bid, best_ask):  # type: ignore[no-untyped-def]
        side: Literal["buy", "sell"] = "buy" if order.side == OrderSide.BUY else "sell"
        mid = None
        if best_bid is not None and best_ask is not None:
            mid = (best_bid.as_double() + best_ask.as_double()) / 2.0
        price = self.fill_price(instrument.id.symbol.value, side, order.ts_init, mid)
        if not math.isfinite(price) or price <= 0:
            return None  # no lake price at all: Nautilus' own L1 fill
        px = Price(price, instrument.price_precision)
        size = Quantity(UNLIMITED_SHARES, instrument.size_precision)
        book = OrderBook(instrument_id=instrument.id, book_type=BookType.L2_MBP)
        book.add(BookOrder(OrderSide.BUY, px, size, 1), 0, 0)
        book.add(BookOrder(OrderSide.SELL, px, size, 2), 0, 0)
        return book
