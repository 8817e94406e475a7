"""The backtest itself: a NautilusTrader ``BacktestEngine`` over the lake, one day per streaming chunk.

:func:`build_engine` sets up the venue (``XNAS``, hedging, a USD cash account), the execution models of
:mod:`sigma9_dag.backtest.execution` and one equity per ticker. :func:`run_engine` feeds each scored day
(:func:`sigma9_dag.backtest.data.load_day`) through the engine in streaming mode after starting the day in
the strategy (fresh windows, the day's warm-up, the previous closes of the cross rule, the step timer), so
memory holds one day of data at a time.

The day's data spans from the day's start (04:00 New York, as a live runtime and ``sigma9 replay`` see
it) to the end of the last scored session plus the horizon (exits need prices), capped at the day's end
(20:00 New York). Scoring starts at the first session of ``session_filter`` but never before
``intraday_warmup_min`` minutes of data, and covers exactly the grid steps of the ``session_filter``
sessions (the steps a replay of the same day runs with ``steps_ns``).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.enums import AccountType, OmsType
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Money
from nautilus_trader.trading.strategy import Strategy

from sigma9_dag.backtest.config import PreparedRun
from sigma9_dag.backtest.data import VENUE, clock_instrument, equity, load_day
from sigma9_dag.backtest.execution import ExecutionSettings, IBLikeFeeModel, LakeFillModel, latency_model
from sigma9_dag.evaluation.prices import LakePrices
from sigma9_runtime.calendar import SESSIONS, session_bounds
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.grid import day_grid
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.streams import gate_bar_kind
from sigma9_runtime.units import MINUTE_NS, SECOND_NS

TRADER_ID = "SIGMA9-001"


@dataclass(frozen=True)
class DayWindow:
    """What is loaded and scored on one day (ns UTC)."""

    data_start: int
    data_end: int
    steps: np.ndarray


def day_window(prepared: PreparedRun, day: dt.date, horizon_ns: int) -> DayWindow:
    """Data span and scored steps of ``day`` (see the module docstring)."""
    run, spec = prepared.run, prepared.spec
    bounds = session_bounds(day)
    sessions = [s for s in SESSIONS if s in run.time.session_filter]
    first = bounds.get(sessions[0])[0]
    last = bounds.get(sessions[-1])[1]
    warm_ns = run.time.warmup.intraday_warmup_min * MINUTE_NS
    # The whole day up to the last scored step, as the live runtime and the replay see it: the tick
    # rule's signs and the windows at the first steps depend on earlier prints.
    data_start = bounds.start
    score_start = max(first, data_start + warm_ns)
    grid = day_grid(spec, day)
    steps = grid.steps_ns
    inside = np.zeros(steps.size, bool)
    for name in sessions:
        start, end = bounds.get(name)
        inside |= (steps > start) & (steps <= end)
    steps = steps[inside & (steps > score_start)]
    data_end = min(bounds.end, last + horizon_ns + MINUTE_NS)
    return DayWindow(data_start, data_end, steps)


def build_engine(
    prepared: PreparedRun, execution: ExecutionSettings, prices: LakePrices, *, starting_cash: float
) -> BacktestEngine:
    """An engine with the venue, execution models and instruments of the run (no strategy yet).

    Orders are matched on trade ticks when the run streams them; without ticks (a spec on bars alone) on
    bars, so a market order is processed at the next bar (its price is :class:`LakeFillModel`'s either way).
    """
    ticks = data_needs(prepared.spec).trades
    engine = BacktestEngine(
        BacktestEngineConfig(trader_id=TraderId(TRADER_ID), logging=LoggingConfig(bypass_logging=True))
    )
    engine.add_venue(
        VENUE,
        OmsType.HEDGING,
        AccountType.CASH,
        [Money(Decimal(str(round(starting_cash, 2))), USD)],
        base_currency=USD,
        fill_model=LakeFillModel(execution, prices, seed=prepared.run.seed),
        fee_model=IBLikeFeeModel(execution.commission_per_share, execution.commission_min),
        latency_model=latency_model(execution),
        bar_execution=not ticks,
        trade_execution=ticks,
        use_random_ids=False,
    )
    for ticker in prepared.tickers:
        engine.add_instrument(equity(ticker))
    engine.add_instrument(clock_instrument())
    return engine


@dataclass
class EngineStats:
    """What the engine processed."""

    days: int = 0
    trades: int = 0
    bars: int = 0
    seconds: float = 0.0
    """Wall time inside the engine's runs."""
    start_seconds: float = 0.0
    """Wall time starting the days' scoring (warm-up, previous closes, the batch scores of a prescored host)."""
    symbol_days: int = 0
    """Symbol-days scored."""
    no_prev_close: dict[str, int] = field(default_factory=dict)
    """Scored symbol-days without a previous close (their cross rule off), per reason
    (:data:`sigma9_runtime.lake.closes.CLOSE_STATUSES`)."""

    @property
    def events(self) -> int:
        """Ticks and bars."""
        return self.trades + self.bars


@dataclass(frozen=True)
class DataNeeds:
    """What the engine streams for a spec: what its live runtime would subscribe to and read."""

    trades: bool
    bars_1s: bool
    bars_1m: bool


def data_needs(spec: FeatureSpec) -> DataNeeds:
    """Trade ticks when the spec's tick source is enabled; 1-second bars when ``bar_1s`` is (the gate's
    tradeability and the cross rule read them then); 1-minute bars when the features read them or the gate
    reads them (a spec without ``bar_1s``: :func:`sigma9_runtime.streams.gate_bar_kind`)."""
    plan = FeaturePlan.from_spec(spec)
    gate = gate_bar_kind(spec)
    return DataNeeds(
        trades=spec.sources.is_enabled("tick"),
        bars_1s=gate == "A",
        bars_1m=bool(plan.series["m"]) or gate == "AM",
    )


def run_engine(
    engine: BacktestEngine,
    prepared: PreparedRun,
    strategy: Strategy,
    execution: ExecutionSettings,
    horizon_ns: int,
    *,
    scoring: bool = True,
) -> EngineStats:
    """Stream every scored day through ``engine`` with ``strategy`` (a ScoringHost when ``scoring``)."""
    spec, layout = prepared.spec, prepared.layout
    needs = data_needs(spec)
    stats = EngineStats()
    engine.add_strategy(strategy)
    for day in prepared.days:
        window = day_window(prepared, day, horizon_ns)
        data = load_day(
            layout,
            prepared.tickers,
            day,
            start_ns=window.data_start,
            end_ns=window.data_end,
            feed_ns=execution.feed_latency_ns,
            trades=needs.trades,
            bars_1s=needs.bars_1s,
            bars_1m=needs.bars_1m,
            bar_1s_from_lake=prepared.run.data.intraday.bar_1s is not None,
        )
        if scoring and window.steps.size:
            flatten = data.end_ns - execution.order_latency_ns - SECOND_NS
            started = time.perf_counter()
            start = strategy.begin_day(day, window.steps, flatten, data.bar_fields)  # type: ignore[attr-defined]
            stats.start_seconds += time.perf_counter() - started
            stats.symbol_days += len(prepared.tickers)
            for reason in start.closes.missing.values():
                stats.no_prev_close[reason] = stats.no_prev_close.get(reason, 0) + 1
        engine.add_data(data.data, sort=False)
        started = time.perf_counter()
        engine.run(streaming=True)
        stats.seconds += time.perf_counter() - started
        engine.clear_data()
        stats.days += 1
        stats.trades += data.trades
        stats.bars += data.bars_1s + data.bars_1m
    engine.end()
    return stats
