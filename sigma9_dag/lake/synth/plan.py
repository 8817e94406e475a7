"""What the synthetic market plants where: surge events, hard negatives and splits.

The plan is drawn once from the seed, before any trade is simulated, so it does not depend on the
number of worker processes. Times are seconds after 04:00 New York (the start of the pre session).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sigma9_dag.lake.synth.universe import PLAN_STREAM

EVENT_ARCHETYPES: tuple[str, ...] = ("stealth_accumulation", "squeeze_breakout", "volume_drip_stairs", "shock")
"""Archetypes of planted surges; ``shock`` has no pre-surge footprint (no model should foresee it)."""
EVENT_WEIGHTS: tuple[float, ...] = (0.3, 0.25, 0.25, 0.2)
HARD_NEGATIVE_ARCHETYPES: tuple[str, ...] = ("stealth_accumulation", "squeeze_breakout", "volume_drip_stairs")
"""Footprints a hard negative imitates before it fades below +10%."""

EVENT_RATE = 0.05
"""Chance that a ticker-day after the warm-up carries a planted event."""
HARD_NEGATIVE_RATE = 0.05
"""Chance that a ticker-day after the warm-up carries a hard negative."""
SPLIT_TICKER_SHARE = 0.03
"""Share of tickers that execute one split inside the intraday range."""
PRE_MARKET_SHARE = 0.15
"""Share of events whose T0 is planned in the pre session (the rest: regular session)."""
HALT_SHARE = 0.35
"""Share of regular-session events followed by a 5-minute LULD-like pause."""
WARMUP_DAYS = 20
"""Intraday days at the start that carry no planted event (time-of-day baselines need 20 days)."""

HOUR = 3600
MINUTE = 60
PRE_T0_RANGE = (2 * HOUR + 30 * MINUTE, 5 * HOUR + 15 * MINUTE)  # 06:30-09:15
REGULAR_T0_RANGE = (5 * HOUR + 50 * MINUTE, 11 * HOUR + 30 * MINUTE)  # 09:50-15:30
LEAD_RANGE_SEC: dict[str, tuple[int, int]] = {
    "stealth_accumulation": (25 * MINUTE, 45 * MINUTE),
    "squeeze_breakout": (30 * MINUTE, 50 * MINUTE),
    "volume_drip_stairs": (30 * MINUTE, 50 * MINUTE),
    "shock": (0, 0),
}


@dataclass(frozen=True)
class DayPlan:
    """One planted footprint on one ticker-day.

    ``t0_sec`` is the planned first cross of +10% for events and the planned peak for hard
    negatives; the ground truth is measured from the simulated trades, not taken from the plan.
    """

    kind: Literal["event", "hard_negative"]
    archetype: str
    t0_sec: int
    lead_sec: int
    peak_pct: float
    halt: bool


@dataclass(frozen=True)
class MarketPlan:
    """Everything planted in one synthetic market, keyed by (ticker index, day index)."""

    days: dict[tuple[int, int], DayPlan]
    splits: dict[tuple[int, int], tuple[float, float]]  # -> (split_from, split_to)
    warmup_days: int


def effective_warmup(days: int) -> int:
    """Warm-up days for a market of ``days`` intraday days: 20, or a third of a short market."""
    return min(WARMUP_DAYS, max(1, days // 3))


def _day_plan(rng: np.random.Generator, kind: Literal["event", "hard_negative"], archetype: str) -> DayPlan:
    pre_market = kind == "event" and archetype != "shock" and rng.random() < PRE_MARKET_SHARE
    low, high = PRE_T0_RANGE if pre_market else REGULAR_T0_RANGE
    t0 = int(rng.integers(low, high))
    lead_low, lead_high = LEAD_RANGE_SEC[archetype]
    lead = int(rng.integers(lead_low, lead_high + 1))
    if kind == "event":
        peak = float(rng.uniform(0.15, 0.6))
        halt = (not pre_market) and rng.random() < HALT_SHARE
    else:
        peak = float(rng.uniform(0.04, 0.075))
        halt = False
    return DayPlan(kind=kind, archetype=archetype, t0_sec=t0, lead_sec=lead, peak_pct=peak, halt=halt)


def make_plan(seed: int, tickers: int, days: int) -> MarketPlan:
    """Draw the market's plan: splits first, then events and hard negatives on other ticker-days.

    When the market is big enough, every event archetype and every hard-negative footprint appears
    at least once, so small test markets still carry each kind.
    """
    rng = np.random.default_rng([seed, PLAN_STREAM])
    warmup = effective_warmup(days)
    splits: dict[tuple[int, int], tuple[float, float]] = {}
    if days > 5:
        n_split = max(1, round(SPLIT_TICKER_SHARE * tickers)) if tickers >= 5 else 0
        for ticker in rng.choice(tickers, size=n_split, replace=False):
            day = int(rng.integers(5, days))
            ratio = (10.0, 1.0) if rng.random() < 0.7 else (1.0, 2.0)  # 1-for-10 reverse, 2-for-1 forward
            splits[(int(ticker), day)] = ratio
    slots = [(t, d) for t in range(tickers) for d in range(warmup, days) if (t, d) not in splits]
    order = rng.permutation(len(slots))
    plans: dict[tuple[int, int], DayPlan] = {}
    required: list[tuple[Literal["event", "hard_negative"], str]] = []
    if len(slots) >= 2 * (len(EVENT_ARCHETYPES) + len(HARD_NEGATIVE_ARCHETYPES)):
        required = [("event", a) for a in EVENT_ARCHETYPES] + [("hard_negative", a) for a in HARD_NEGATIVE_ARCHETYPES]
    for position, slot_index in enumerate(order):
        slot = slots[int(slot_index)]
        if position < len(required):
            kind, archetype = required[position]
        else:
            draw = rng.random()
            if draw < EVENT_RATE:
                kind, archetype = "event", str(rng.choice(EVENT_ARCHETYPES, p=EVENT_WEIGHTS))
            elif draw < EVENT_RATE + HARD_NEGATIVE_RATE:
                kind, archetype = "hard_negative", str(rng.choice(HARD_NEGATIVE_ARCHETYPES))
            else:
                continue
        plans[slot] = _day_plan(rng, kind, archetype)
    return MarketPlan(days=plans, splits=splits, warmup_days=warmup)
