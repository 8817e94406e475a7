"""TickDispatcher: ticks in, the scanner and ignition-monitor loops run once per second of event time.

The live flow is ``Massive on_tick -> TickDispatcher.dispatch() -> strategy.on_tick()``, with a
RealtimeScanner and an IgnitionMonitor each polling once a second. In a replay (and in the lab's
backtest) the second is **event time**: before a tick delivered at ``d`` is ingested, every step
``t < d`` of the day's grid that has not run yet runs, in order; :meth:`TickDispatcher.finish` runs
the remaining ones. A step runs

1. the scanner loop: :meth:`ScoringStrategy.score_step` (the safe point for hot reload, the feature step,
   scoring and the gate, every watched symbol) — its alerts are collected and passed to ``on_alert``;
2. the ignition-monitor loop: :meth:`ScoringStrategy.calculate_ignition_score` for every symbol that
   alerted within ``ignition_window_sec``, its peak kept per alert.

So a step sees exactly the messages delivered by its time, whatever the frame sizes, and nothing reads
the wall clock: the same frames give the same alerts. A tick's delivery time is its trades' time and
its bars' end; a frame takes its earliest message's. Before a tick is ingested the feature builder's feed
clock is moved to the last grid step before its delivery time, scored or not
(:meth:`~sigma9_runtime.features.online.OnlineFeatureBuilder.advance_clock`), so a replay of some steps
(``steps_ns``) refuses as ``future_timestamp`` exactly what a replay of every step would. :meth:`dispatch`
never raises: malformed frames and messages are counted by reason in ``strategy.features.dropped``,
anything else unexpected in ``errors``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigma9_runtime.features.warmup import Warmup
from sigma9_runtime.feeds.ticks import to_frame
from sigma9_runtime.strategies.base import ScoringStrategy
from sigma9_runtime.strategies.candidates import ScoredCandidate
from sigma9_runtime.units import NANOS_PER_SECOND

log = logging.getLogger(__name__)


@dataclass
class Ignition:
    """What the ignition monitor saw of one alert."""

    symbol: str
    alert_ns: int
    peak_score: float = float("nan")
    peak_ns: int | None = None
    polls: int = 0


class TickDispatcher:
    """Routes ticks to a strategy and drives its 1-second loops by event time (module docstring).

    Parameters
    ----------
    strategy
        The scoring strategy (from the container).
    ignition_window_sec
        How long after an alert the ignition monitor follows the symbol.
    on_alert
        Called with each alert as it is raised.
    steps_ns
        Steps to run (default: every step of the day's grid). A subset must keep the FeatureSpec's
        whole-day state right: with forward-fill policies, start at the first step.

    Examples
    --------
    >>> dispatcher = TickDispatcher(container.strategy)  # doctest: +SKIP
    >>> dispatcher.start_day(day, warmup)                # doctest: +SKIP
    >>> for frame in frames: dispatcher.dispatch(frame)  # doctest: +SKIP
    >>> dispatcher.finish(); dispatcher.alerts           # doctest: +SKIP
    """

    def __init__(
        self,
        strategy: ScoringStrategy,
        *,
        ignition_window_sec: int = 900,
        on_alert: Callable[[ScoredCandidate], None] | None = None,
    ) -> None:
        self.strategy = strategy
        self.ignition_window_ns = int(ignition_window_sec) * NANOS_PER_SECOND
        self.on_alert = on_alert
        self.alerts: list[ScoredCandidate] = []
        self.ignitions: list[Ignition] = []
        self.errors: Counter[str] = Counter()
        self.ticks = 0
        self.steps_run = 0
        self.day: dt.date | None = None
        self._steps = np.zeros(0, dtype=np.int64)
        self._grid = np.zeros(0, dtype=np.int64)
        self._next = 0

    # --- days -----------------------------------------------------------------------------------

    def start_day(
        self,
        day: dt.date,
        warmup: Warmup | None = None,
        *,
        steps_ns: np.ndarray | None = None,
        previous_close: Mapping[str, float] | None = None,
    ) -> None:
        """Begin ``day`` (the strategy's windows cleared, its baselines from ``warmup``, its cross rule armed
        with ``previous_close``: see :meth:`ScoringStrategy.start_day`)."""
        self.strategy.start_day(day, warmup, previous_close)
        grid_steps = self.strategy.features.steps()
        self._grid = grid_steps
        self._steps = grid_steps if steps_ns is None else np.asarray(steps_ns, dtype=np.int64)
        self._next = 0
        self.day = day

    @property
    def next_step(self) -> int | None:
        """The next step to run (None when the day is done)."""
        return int(self._steps[self._next]) if self._next < self._steps.size else None

    # --- ticks ----------------------------------------------------------------------------------

    def dispatch(self, tick: Any) -> None:
        """Run the steps due before ``tick``'s delivery time, then hand it to the strategy. Never raises.

        The tick becomes one parsed frame (:func:`~sigma9_runtime.feeds.ticks.to_frame`), dated by its earliest
        message (:attr:`~sigma9_runtime.feeds.massive_ws.ColumnarFrame.delivered_ns`), and goes in through
        :meth:`ScoringStrategy.ingest`: decoded once, whatever its kind.
        """
        self.ticks += 1
        try:
            frame = to_frame(tick)
            delivered = frame.delivered_ns
            if delivered is not None and self.day is not None:
                self.run_until(delivered)
            self.strategy.ingest(frame)
        except Exception:  # the live loop must outlive any tick; the log and the count show the bug
            log.exception("dispatch failed")
            self.errors["dispatch_error"] += 1

    # --- steps ----------------------------------------------------------------------------------

    def run_until(self, ts_ns: int) -> int:
        """Run every pending step before ``ts_ns`` and move the feed clock to the last grid step before it
        (also when that step is not run); returns how many ran."""
        ran = 0
        steps = self._steps
        while self._next < steps.size and steps[self._next] < ts_ns:
            self._step(int(steps[self._next]))
            self._next += 1
            ran += 1
        passed = int(np.searchsorted(self._grid, ts_ns, side="left"))
        if passed:
            self.strategy.features.advance_clock(int(self._grid[passed - 1]))
        return ran

    def finish(self) -> int:
        """Run the day's remaining steps (end of the feed); returns how many ran."""
        ran = 0
        while self._next < self._steps.size:
            self._step(int(self._steps[self._next]))
            self._next += 1
            ran += 1
        return ran

    def _step(self, ts_ns: int) -> None:
        """One second of event time: the scanner loop, then the ignition-monitor loop."""
        try:
            candidates = self.strategy.score_step(ts_ns)
        except Exception:
            log.exception("scanner step %d failed", ts_ns)
            self.errors["step_error"] += 1
            return
        self.steps_run += 1
        for candidate in candidates:
            if candidate.alert:
                self.alerts.append(candidate)
                self.ignitions.append(Ignition(candidate.symbol, ts_ns))
                if self.on_alert is not None:
                    self.on_alert(candidate)
        self._ignition_loop(ts_ns)

    def _ignition_loop(self, ts_ns: int) -> None:
        for ignition in reversed(self.ignitions):
            if ts_ns - ignition.alert_ns > self.ignition_window_ns:
                break  # alerts are in time order: every earlier one is out of the window too
            score = self.strategy.calculate_ignition_score(ignition.symbol, {"ts_ns": ts_ns})
            ignition.polls += 1
            if score == score and not score <= ignition.peak_score:  # NaN never becomes the peak
                ignition.peak_score, ignition.peak_ns = score, ts_ns
