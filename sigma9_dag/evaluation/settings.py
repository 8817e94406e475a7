"""Settings of an alert evaluation, read once from a BacktestRunConfig (``evaluation`` and ``execution``)."""

from __future__ import annotations

from typing import Literal

from pydantic import NonNegativeFloat, NonNegativeInt, PositiveFloat

from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.base import ContractModel
from sigma9_runtime.errors import SpecError

DEFAULT_NOTIONAL_USD = 10_000.0
"""Dollars bought per alert when costs are applied (commission minimums weigh more on small orders)."""


class EvaluationSettings(ContractModel):
    """How alerts are judged and traded (definitions in ``docs/metrics.md``)."""

    horizon_min: PositiveFloat
    """Look-ahead horizon in minutes: an alert is a hit when its symbol's T0 comes within it; the
    trade of an alert is closed at its end. From ``evaluation.lead_time.target_max``."""
    actionable_min: NonNegativeFloat = 0.0
    """Shortest lead time in minutes at which a hit is still actionable (an **actionable hit** comes
    ``actionable_min <= T0 - t <= horizon_min`` before its event). From ``evaluation.lead_time.target_min``."""
    notional_usd: PositiveFloat = DEFAULT_NOTIONAL_USD
    """Dollars bought per alert."""
    fill_model: Literal["next_bar_open", "conservative"] = "next_bar_open"
    """``next_bar_open``: fill at the open of the first 1-second bar at or after the order time;
    ``conservative``: buy at that bar's high, sell at its low."""
    spread_mult: NonNegativeFloat = 1.0
    """Slippage: multiple of the half spread paid per side."""
    fixed_bps: NonNegativeFloat = 0.0
    """Slippage: basis points paid per side on top."""
    commission_per_share: NonNegativeFloat = 0.0
    """Commission in USD per share, per order."""
    commission_min: NonNegativeFloat = 0.0
    """Minimum commission in USD per order."""
    feed_latency_ms: NonNegativeInt = 0
    """Delay from the alert's data to the alert (market data latency)."""
    order_latency_ms: NonNegativeInt = 0
    """Delay from a decision to the order reaching the market."""
    seed: NonNegativeInt = 0
    """Seed of the random baseline."""

    @classmethod
    def from_run_config(
        cls, run: BacktestRunConfig, *, horizon_min: float | None = None, notional_usd: float = DEFAULT_NOTIONAL_USD
    ) -> EvaluationSettings:
        """Settings of ``run``; ``horizon_min`` overrides ``evaluation.lead_time.target_max``."""
        execution = run.execution
        if execution.fill_model == "mid":
            raise SpecError(
                "fill model 'mid' needs quotes, which the lake does not hold; use 'next_bar_open' or 'conservative'",
                field="backtest_run.execution.fill_model",
            )
        return cls(
            horizon_min=horizon_min if horizon_min is not None else run.evaluation.lead_time.target_max,
            actionable_min=run.evaluation.lead_time.target_min,
            notional_usd=notional_usd,
            fill_model=execution.fill_model,
            spread_mult=execution.slippage.params.spread_mult,
            fixed_bps=execution.slippage.params.fixed_bps,
            commission_per_share=execution.commission.params.per_share,
            commission_min=execution.commission.params.min,
            feed_latency_ms=execution.latency.feed_ms,
            order_latency_ms=execution.latency.order_ms,
            seed=run.seed,
        )

    @property
    def horizon_ns(self) -> int:
        """The horizon in nanoseconds."""
        return round(self.horizon_min * 60e9)

    @property
    def actionable_ns(self) -> int:
        """The shortest actionable lead time in nanoseconds."""
        return round(self.actionable_min * 60e9)
