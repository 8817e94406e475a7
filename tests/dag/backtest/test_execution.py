"""Each execution option of a run config mapped onto Nautilus' fill, fee and latency models."""

from decimal import Decimal

import pytest
from nautilus_trader.model.objects import Price, Quantity

from sigma9_dag.backtest.data import equity, tick_rule_sides
from sigma9_dag.backtest.execution import ExecutionSettings, IBLikeFeeModel, LakeFillModel, latency_model
from sigma9_dag.evaluation import LakePrices
from sigma9_runtime.contracts.backtest_run_config import Execution
from tests.dag.backtest.conftest import START_NS, TICKER, tiny_prices

S = 1_000_000_000


def settings(fill_model: str = "next_bar_open", spread_mult: float = 0.0, fixed_bps: float = 0.0) -> ExecutionSettings:
    return ExecutionSettings.from_config(
        Execution.model_validate(
            {
                "fill_model": fill_model,
                "slippage": {
                    "model": "spread_pct_plus",
                    "params": {"spread_mult": spread_mult, "fixed_bps": fixed_bps},
                },
                "commission": {"model": "ib_like", "params": {"per_share": 0.005, "min": 1.0}},
                "latency": {"feed_ms": 250, "order_ms": 400},
            }
        )
    )


def test_latency_maps_order_ms_onto_the_base_latency_and_nothing_else() -> None:
    model = latency_model(settings())
    assert model.base_latency_nanos == 400_000_000
    # Nautilus reports each command's total (base + its own, here 0).
    assert (model.insert_latency_nanos, model.update_latency_nanos, model.cancel_latency_nanos) == (400_000_000,) * 3
    assert settings().feed_latency_ns == 250_000_000


def test_ib_like_commission_is_per_share_with_a_minimum_per_order() -> None:
    fees = IBLikeFeeModel(per_share=0.005, minimum=1.0)
    instrument = equity(TICKER)
    price = Price(10.0, 4)
    assert fees.get_commission(None, Quantity(100, 0), price, instrument).as_decimal() == Decimal("1.00")
    assert fees.get_commission(None, Quantity(1000, 0), price, instrument).as_decimal() == Decimal("5.00")


@pytest.mark.parametrize(
    ("kind", "side", "expected"),
    [
        ("next_bar_open", "buy", 10.02),  # arrival 10:00:06.4 -> bar 10:00:07 opens at 10.02
        ("next_bar_open", "sell", 10.02),
        ("conservative", "buy", 10.02),  # one trade a bar: high = low = open
        ("mid", "buy", 10.01),  # Nautilus' L1 midpoint when the order is matched
    ],
)
def test_fill_models_price_an_order_as_documented(tiny_lake, kind: str, side: str, expected: float) -> None:
    model = LakeFillModel(settings(kind), LakePrices(tiny_lake), seed=7)
    assert model.fill_price(TICKER, side, START_NS + 6 * S, mid=10.01) == pytest.approx(expected)


def test_spread_pct_plus_moves_the_fill_against_the_order(tiny_lake) -> None:
    model = LakeFillModel(settings(spread_mult=2.0, fixed_bps=10.0), LakePrices(tiny_lake), seed=7)
    at = START_NS + 100 * S
    spread = LakePrices(tiny_lake).tradeability(TICKER, tiny_lake.trade_dates()[0], [at])[1][0]
    slip = 2.0 * spread / 100 / 2 + 10 / 10_000
    base = tiny_prices()[101]
    assert model.fill_price(TICKER, "buy", at, None) == pytest.approx(base * (1 + slip))
    assert model.fill_price(TICKER, "sell", at, None) == pytest.approx(base * (1 - slip))


def test_an_order_after_the_last_bar_fills_at_the_days_last_close(tiny_lake) -> None:
    model = LakeFillModel(settings(), LakePrices(tiny_lake), seed=7)
    assert model.fill_price(TICKER, "sell", START_NS + 3600 * S, None) == pytest.approx(tiny_prices()[-1])


def test_fill_model_seeds_pythons_random_with_the_run_seed(tiny_lake) -> None:
    import random

    LakeFillModel(settings(), LakePrices(tiny_lake), seed=123)
    first = random.random()
    LakeFillModel(settings(), LakePrices(tiny_lake), seed=123)
    assert random.random() == first


def test_trade_ticks_carry_tick_rule_aggressor_sides() -> None:
    import numpy as np

    assert tick_rule_sides(np.array([10.0, 10.0, 10.1, 10.1, 10.0, 10.0, 10.2])).tolist() == [0, 0, 1, 1, 2, 2, 1]
