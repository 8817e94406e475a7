"""One synthetic ticker-day: a latent mid-price path per second, then the trades printed on it.

The quiet market: an Ornstein-Uhlenbeck excursion of the log price (stationary sd 0.8-1.6%,
reverting over 40 minutes) around an overnight gap, more volatile at the open; trades arrive as
an inhomogeneous Poisson process with U-shaped regular-session intensity and thin pre/after
sessions; each trade prints at the bid or the ask (tick grid, wider spread outside regular
hours), with lognormal sizes in round and odd lots, Massive condition codes and a few
ineligible prints (average-price, cash, qualified contingent, corrected). The quiet market is
reflected below +8% of the previous close, so only a planted event ever reaches +10%.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
from scipy.signal import lfilter

from sigma9_dag.lake.synth.archetypes import CAP_LEVEL, build_overlay, quiet_overlay
from sigma9_dag.lake.synth.plan import DayPlan
from sigma9_dag.lake.synth.universe import DAY_STREAM, TickerProfile, round_to_tick
from sigma9_runtime.bars import EXCLUDED_CONDITIONS
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.lake.tables import TRADES_SCHEMA
from sigma9_runtime.units import SECOND_NS

OU_TAU_SEC = 2400.0
PINNED_NOISE_SD = 0.004
PINNED_TAU_SEC = 600.0
EXCHANGES = np.array([1, 2, 3, 4, 7, 8, 10, 11, 12, 15, 19, 21], dtype=np.int32)
EXCHANGE_WEIGHTS = np.array([3, 1, 1, 30, 6, 4, 6, 10, 15, 12, 8, 4], dtype=np.float64)
ODD_LOT = 37
EXTENDED_HOURS = 12
INELIGIBLE_CODES = np.array([2, 7, 53], dtype=np.int32)
INELIGIBLE_SHARE = 0.01
CORRECTED_SHARE = 0.001
assert set(INELIGIBLE_CODES.tolist()) <= EXCLUDED_CONDITIONS


@dataclass(frozen=True)
class DayShape:
    """Seconds of one trading day and its quiet intensity/volatility profile."""

    start_ns: int
    n: int
    regular: tuple[int, int]
    intensity: np.ndarray  # expected trades per second for a 1-trade-per-day ticker (sums to ~1.08)
    vol: np.ndarray  # volatility multiplier per second


@lru_cache(maxsize=16)
def _shape(n: int, reg0: int, reg1: int) -> tuple[np.ndarray, np.ndarray]:
    s = np.arange(n, dtype=np.float64)
    u = np.clip((s - reg0) / (reg1 - reg0), 0.0, 1.0)
    u_shape = 1.0 + 2.5 * np.exp(-u * 12.0) + 1.0 * np.exp(-(1.0 - u) * 10.0)
    regular = (s >= reg0) & (s < reg1)
    weight = np.where(regular, u_shape, np.where(s < reg0, 0.05, 0.035))
    weight /= weight[regular].sum()
    vol = np.sqrt(np.where(regular, u_shape / 1.4, 0.6))
    weight.setflags(write=False)
    vol.setflags(write=False)
    return weight, vol


def day_shape(day: dt.date) -> DayShape:
    """The second grid of ``day`` from the start of the pre session to the end of the after session."""
    bounds = session_bounds(day)
    n = (bounds.end - bounds.start) // SECOND_NS
    reg = ((bounds.regular[0] - bounds.start) // SECOND_NS, (bounds.regular[1] - bounds.start) // SECOND_NS)
    weight, vol = _shape(int(n), int(reg[0]), int(reg[1]))
    return DayShape(start_ns=bounds.start, n=int(n), regular=(int(reg[0]), int(reg[1])), intensity=weight, vol=vol)


def _ou(rng: np.random.Generator, n: int, sd: float, tau: float, scale: np.ndarray | None = None) -> np.ndarray:
    a = np.exp(-1.0 / tau)
    shocks = rng.standard_normal(n) * (sd * np.sqrt(1.0 - a * a))
    if scale is not None:
        shocks *= scale
    return lfilter([1.0], [1.0, -a], shocks)


def _reflect_below(x: np.ndarray, cap: float) -> np.ndarray:
    return np.where(x > cap, 2.0 * cap - x, x)


@dataclass
class SimulatedDay:
    """Trades of one ticker-day and what the plan put there."""

    trades: pa.Table
    onset_ns: int | None
    halt_ns: tuple[int, int] | None


def simulate_day(
    profile: TickerProfile,
    day: dt.date,
    day_index: int,
    prev_close: float,
    plan: DayPlan | None,
    seed: int,
) -> SimulatedDay:
    """Simulate the trades of ``profile`` on ``day`` given the (split-adjusted) previous close."""
    rng = np.random.default_rng([seed, DAY_STREAM, profile.index, day_index])
    shape = day_shape(day)
    n = shape.n
    gap = float(np.clip(rng.normal(0.0, 0.02), -0.05, 0.05))
    drift = rng.normal(0.0, 0.006) * np.linspace(0.0, 1.0, n)
    base = gap + drift + _ou(rng, n, profile.intraday_vol, OU_TAU_SEC, shape.vol)
    overlay = build_overlay(plan, n, shape.regular, base, rng) if plan is not None else quiet_overlay(n)
    pinned = overlay.level + overlay.quiet * _ou(rng, n, PINNED_NOISE_SD, PINNED_TAU_SEC)
    level = (1.0 - overlay.pin) * base + overlay.pin * pinned
    cap_until = overlay.cap_until
    level[:cap_until] = _reflect_below(level[:cap_until], CAP_LEVEL)

    # Arrivals: an inhomogeneous Poisson process, drawn as a count then placed by inverse CDF.
    day_factor = rng.lognormal(0.0, 0.25)
    rate = shape.intensity * (profile.trades_per_day * day_factor) * overlay.intensity
    if overlay.halt is not None:
        rate[overlay.halt[0] : overlay.halt[1]] = 0.0
    cumulative = np.cumsum(rate)
    count = int(rng.poisson(cumulative[-1]))
    seconds = np.searchsorted(cumulative, rng.random(count) * cumulative[-1], side="right")
    seconds = np.minimum(seconds, n - 1)
    ts = np.sort(shape.start_ns + seconds.astype(np.int64) * SECOND_NS + rng.integers(0, SECOND_NS, count))
    seconds = (ts - shape.start_ns) // SECOND_NS

    # Prices: bid or ask around the mid, on the tick grid.
    regular = (seconds >= shape.regular[0]) & (seconds < shape.regular[1])
    buy = rng.random(count) < overlay.buy[seconds]
    half_spread = 0.5 * profile.spread_pct * np.where(regular, 1.0, 1.6) * rng.uniform(0.6, 1.0, count)
    mid = prev_close * np.exp(level[seconds])
    price = round_to_tick(mid * (1.0 + np.where(buy, half_spread, -half_spread)))

    # Sizes: lognormal, mostly round lots; a few odd lots.
    raw = rng.lognormal(np.log(profile.size_median), 0.9, count) * overlay.size[seconds]
    round_lot = rng.random(count) < 0.6
    size = np.where(round_lot, np.maximum(100.0, np.round(raw / 100.0) * 100.0), np.clip(np.round(raw), 1.0, None))

    # Conditions: odd lot (37), extended hours (12), and a few ineligible prints.
    ineligible = rng.random(count) < INELIGIBLE_SHARE
    corrected = rng.random(count) < CORRECTED_SHARE
    special = np.where(ineligible, rng.choice(INELIGIBLE_CODES, count), -1).astype(np.int32)
    # Ineligible prints are often off the market (average-price, contingent): up to 1% away.
    price = np.where(ineligible, round_to_tick(price * (1.0 + rng.uniform(-0.01, 0.01, count))), price)
    codes = np.stack(
        [
            np.where(size < 100.0, ODD_LOT, -1).astype(np.int32),
            np.where(~regular, EXTENDED_HOURS, -1).astype(np.int32),
            special,
        ],
        axis=1,
    )
    present = codes >= 0
    offsets = np.r_[0, np.cumsum(present.sum(axis=1))].astype(np.int32)
    conditions = pa.ListArray.from_arrays(pa.array(offsets), pa.array(codes[present], pa.int32()))

    exchange = rng.choice(EXCHANGES, count, p=EXCHANGE_WEIGHTS / EXCHANGE_WEIGHTS.sum())
    sequence = int(rng.integers(1_000, 100_000)) + np.cumsum(rng.integers(1, 40, count))
    trades = pa.table(
        {
            "ticker": pa.array([profile.ticker] * count, pa.string()),
            "ts": ts,
            "price": price,
            "size": size,
            "exchange": exchange.astype(np.int32),
            "conditions": conditions,
            "sequence": sequence.astype(np.int64),
            "correction": np.where(corrected, 1, 0).astype(np.int32),
        },
        schema=TRADES_SCHEMA,
    )
    onset_ns = shape.start_ns + overlay.onset * SECOND_NS if plan is not None else None
    halt = overlay.halt
    halt_ns = (shape.start_ns + halt[0] * SECOND_NS, shape.start_ns + halt[1] * SECOND_NS) if halt else None
    return SimulatedDay(trades=trades, onset_ns=onset_ns, halt_ns=halt_ns)
