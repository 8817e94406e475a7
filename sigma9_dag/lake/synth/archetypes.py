"""Pre-surge footprints of the planted archetypes, as overlays on a ticker-day's quiet market.

An :class:`Overlay` says, per second of the day, how strongly the price is pinned to a target
level (log excess over the previous close) and how trade intensity, buyer share and trade sizes
deviate from a quiet day. The footprints (what a model can learn from, before T0):

- ``stealth_accumulation``: over 25-45 minutes trade intensity rises to about 4x, buyers take a
  growing share (50% -> 66%) with smaller prints, and the price creeps up to +4..7%.
- ``squeeze_breakout``: for 30-50 minutes the price is pinned and quiet (range contracts, volume
  dries up), then breaks out in 1-2.5 minutes with heavy buying.
- ``volume_drip_stairs``: 4-7 short bursts of buy volume, each lifting the price one stair
  (+1..2%), flat and quiet in between.
- ``shock``: nothing before T0; the price jumps +10% within 10-30 s on a burst of trades.

Every event then rallies to its planned peak (+15..60%) within 3-20 minutes and fades partially,
with intensity decaying over the rest of the day. A hard negative runs its archetype's footprint
to +4..7%, pops to +4..7.5% as if breaking out, then fades back - it never reaches +10%.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sigma9_dag.lake.synth.plan import DayPlan

CROSS_LEVEL = float(np.log(1.105))
"""Target level at the planned T0: a little over the +10% anchor, so the first cross lands at T0."""
CAP_LEVEL = float(np.log(1.08))
"""Ceiling (reflecting) of the quiet market and of every footprint before the final run-up."""


@dataclass
class Overlay:
    """Per-second deviations from a quiet day (arrays of the day's length)."""

    pin: np.ndarray  # weight in [0, 1] pulling the log price to prev_close * exp(level)
    level: np.ndarray  # target log excess over the previous close
    quiet: np.ndarray  # scale of the pinned path's noise
    intensity: np.ndarray  # trade intensity multiplier
    buy: np.ndarray  # probability that a trade is buyer-initiated
    size: np.ndarray  # trade size multiplier
    halt: tuple[int, int] | None  # [start, end) seconds without trades (LULD-like pause)
    cap_until: int  # the ceiling applies to seconds before this one
    onset: int


def quiet_overlay(n: int) -> Overlay:
    """A day with nothing planted."""
    return Overlay(
        pin=np.zeros(n),
        level=np.zeros(n),
        quiet=np.ones(n),
        intensity=np.ones(n),
        buy=np.full(n, 0.5),
        size=np.ones(n),
        halt=None,
        cap_until=n,
        onset=n,
    )


def _ramp(n: int, start: float, end: float) -> np.ndarray:
    """0 before ``start``, linear to 1 at ``end``, 1 after."""
    s = np.arange(n, dtype=np.float64)
    if end <= start:
        return (s >= start).astype(np.float64)
    return np.clip((s - start) / (end - start), 0.0, 1.0)


def _smooth(x: np.ndarray) -> np.ndarray:
    return x * x * (3.0 - 2.0 * x)


def _set(target: np.ndarray, start: int, end: int, values: np.ndarray | float) -> None:
    start, end = max(0, start), min(target.size, end)
    if end > start:
        target[start:end] = values if np.isscalar(values) else np.asarray(values)[: end - start]


def _segment(start: int, end: int, frm: float, to: float, shape: str = "linear") -> np.ndarray:
    x = np.linspace(0.0, 1.0, max(1, end - start), endpoint=False)
    if shape == "smooth":
        x = _smooth(x)
    elif shape == "convex":
        x = x**2
    elif shape == "concave":
        x = 1.0 - (1.0 - x) ** 2
    return frm + (to - frm) * x


def build_overlay(
    plan: DayPlan, n: int, regular: tuple[int, int], base_level: np.ndarray, rng: np.random.Generator
) -> Overlay:
    """The overlay of ``plan`` on a day of ``n`` seconds.

    ``regular`` is the regular session in seconds of the day; ``base_level`` the quiet market's
    log excess over the previous close (the footprint starts from where the market is).
    """
    ov = quiet_overlay(n)
    t0 = plan.t0_sec
    onset = t0 - plan.lead_sec
    ov.onset = onset
    c0 = float(np.clip(base_level[max(0, onset)], np.log(0.96), np.log(1.05)))
    final = int(rng.integers(90, 180))  # length of the final run-up (footprint archetypes)
    pre_end = t0 - final
    top = float(rng.uniform(np.log(1.04), np.log(1.075)))  # footprint plateau
    top = max(top, c0 + 0.01)
    archetype = plan.archetype

    if archetype == "stealth_accumulation":
        ov.pin = _ramp(n, onset, onset + 180)
        _set(ov.level, onset, pre_end, _segment(onset, pre_end, c0, top, "smooth"))
        progress = _segment(onset, pre_end, 0.0, 1.0)
        _set(ov.intensity, onset, pre_end, 1.0 + 3.0 * progress**1.2)
        _set(ov.buy, onset, pre_end, 0.5 + 0.16 * progress)
        _set(ov.size, onset, pre_end, 0.7)
        _set(ov.quiet, onset, pre_end, 0.6)
    elif archetype == "squeeze_breakout":
        top = float(np.clip(c0, np.log(0.98), np.log(1.06)))
        pre_end = t0 - int(rng.integers(60, 150))
        ov.pin = _ramp(n, onset, onset + 120)
        settle = onset + 180
        _set(ov.level, onset, settle, _segment(onset, settle, c0, top, "smooth"))
        _set(ov.level, settle, pre_end, top)
        _set(ov.quiet, onset, pre_end, _segment(onset, pre_end, 0.5, 0.08))
        _set(ov.intensity, onset, pre_end, _segment(onset, pre_end, 0.8, 0.45))
    elif archetype == "volume_drip_stairs":
        ov.pin = _ramp(n, onset, onset + 60)
        steps = int(rng.integers(4, 8))
        edges = np.linspace(onset + 60, pre_end, steps + 1).astype(int)
        level = c0
        _set(ov.level, onset, pre_end, c0)
        _set(ov.quiet, onset, pre_end, 0.35)
        _set(ov.intensity, onset, pre_end, 0.9)
        for k in range(steps):
            burst = int(rng.integers(25, 46))
            start = int(edges[k] + rng.integers(0, max(1, (edges[k + 1] - edges[k]) // 3)))
            nxt = c0 + (top - c0) * (k + 1) / steps
            _set(ov.level, start, start + burst, _segment(start, start + burst, level, nxt, "smooth"))
            _set(ov.level, start + burst, pre_end, nxt)
            _set(ov.intensity, start, start + burst, 6.0)
            _set(ov.buy, start, start + burst, 0.85)
            _set(ov.size, start, start + burst, 1.5)
            level = nxt
    elif archetype == "shock":
        final = int(rng.integers(10, 31))
        pre_end = t0 - final
        ov.pin = _ramp(n, pre_end, pre_end + 3)
        top = c0
        ov.onset = t0
    else:
        raise ValueError(f"unknown archetype {archetype!r}")

    if plan.kind == "hard_negative":
        _fade(ov, plan, n, pre_end, top, c0, rng)
        return ov
    _run_up(ov, plan, n, regular, pre_end, top, rng)
    return ov


def _run_up(
    ov: Overlay, plan: DayPlan, n: int, regular: tuple[int, int], pre_end: int, top: float, rng: np.random.Generator
) -> None:
    t0 = plan.t0_sec
    shock = plan.archetype == "shock"
    _set(ov.level, pre_end, t0, _segment(pre_end, t0, top, CROSS_LEVEL, "linear" if shock else "convex"))
    _set(ov.intensity, pre_end, t0, 15.0 if shock else _segment(pre_end, t0, 5.0, 10.0))
    _set(ov.buy, pre_end, t0, 0.85 if shock else 0.8)
    _set(ov.size, pre_end, t0, 1.4)
    _set(ov.quiet, pre_end, t0, 1.2)
    ov.cap_until = pre_end
    # After T0: rally to the peak, then fade partially by the end of the day.
    peak_level = float(np.log1p(plan.peak_pct))
    peak_at = t0 + int(rng.integers(180, 1201))
    _set(ov.level, t0, peak_at, _segment(t0, peak_at, CROSS_LEVEL, peak_level, "concave"))
    rest = np.arange(max(0, n - peak_at), dtype=np.float64)
    settle = float(np.log1p(plan.peak_pct * rng.uniform(0.3, 0.8)))
    decay = np.exp(-rest / rng.uniform(3600.0, 7200.0))
    _set(ov.level, peak_at, n, settle + (peak_level - settle) * decay)
    after = np.arange(max(0, n - t0), dtype=np.float64)
    _set(ov.intensity, t0, n, 2.5 + 6.0 * np.exp(-after / 2400.0))
    _set(ov.buy, t0, n, 0.5 + 0.12 * np.exp(-after / 1200.0))
    _set(ov.size, t0, n, 1.3)
    _set(ov.quiet, t0, n, 1.0 + 1.5 * np.exp(-after / 1800.0))
    ov.pin[t0:] = 1.0
    if plan.halt:
        start = t0 + int(rng.integers(60, 361))
        end = start + 300
        if regular[0] <= start and end <= regular[1]:
            ov.halt = (start, end)


def _fade(ov: Overlay, plan: DayPlan, n: int, pre_end: int, top: float, c0: float, rng: np.random.Generator) -> None:
    t0 = plan.t0_sec
    # The pop reaches the planned peak (+4..7.5%): it looks like the start of a breakout.
    pop = min(max(float(np.log1p(plan.peak_pct)), top + 0.005), CAP_LEVEL - 0.004)
    _set(ov.level, pre_end, t0, _segment(pre_end, t0, top, pop, "concave"))
    _set(ov.intensity, pre_end, t0, 4.0)
    _set(ov.buy, pre_end, t0, 0.72)
    _set(ov.size, pre_end, t0, 1.2)
    _set(ov.quiet, pre_end, t0, 0.8)
    fade_end = t0 + int(rng.integers(1200, 2400))
    back = c0 + (top - c0) * 0.3
    _set(ov.level, t0, fade_end, _segment(t0, fade_end, pop, back, "concave"))
    _set(ov.intensity, t0, fade_end, _segment(t0, fade_end, 2.5, 1.0))
    _set(ov.buy, t0, fade_end, 0.42)
    _set(ov.quiet, t0, fade_end, 1.0)
    # Let go of the pin after the fade: the quiet market takes over again.
    release = fade_end + 600
    ov.pin = np.minimum(ov.pin, 1.0 - _ramp(n, fade_end, release))
    _set(ov.level, fade_end, n, back)
