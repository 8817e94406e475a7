"""The time grid of one trading day: which seconds carry data and at which steps features are emitted.

For a FeatureSpec and a trading day:

* the **span** runs from the start of the first session in ``calendar.sessions`` to the end of the
  last one; per-second (and per-minute) series are indexed over it;
* data of seconds outside the spec's sessions is ignored (a trade at 03:59 or in an excluded session
  never enters a window);
* **steps** are emitted every ``emission_step`` (the smallest window step) at times ``t`` inside an
  included session, ``start < t <= end``; the window of a step covers ``[t - length, t)``, i.e. only
  completed seconds, so a feature at ``t`` reads nothing stamped at or after ``t``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sigma9_runtime.calendar import SESSIONS, local_to_ns, session_bounds
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.units import NANOS_PER_MINUTE, NANOS_PER_SECOND


def emission_step_seconds(spec: FeatureSpec) -> int:
    """The emission step: the smallest step of any window used by a feature."""
    used = {feature.window for feature in spec.features}
    return min(window.step.seconds for window in spec.windows if window.name in used)


@dataclass(frozen=True)
class DayGrid:
    """Seconds and steps of one trading day for one spec.

    Attributes
    ----------
    day
        The trading day.
    start_ns, end_ns
        The span (first included session start, last included session end).
    included
        Boolean per second of the span: inside an included session.
    steps_ns
        Emission times (ns UTC), ascending.
    midnight_ns
        Local (New York) midnight of the day, for minute-of-day lookups.
    """

    day: dt.date
    start_ns: int
    end_ns: int
    included: np.ndarray
    steps_ns: np.ndarray
    midnight_ns: int

    @property
    def seconds(self) -> int:
        """Number of seconds in the span."""
        return (self.end_ns - self.start_ns) // NANOS_PER_SECOND

    def second_index(self, ts_ns: int | np.ndarray) -> int | np.ndarray:
        """Index of the second containing ``ts_ns`` (may fall outside ``[0, seconds)``)."""
        return (ts_ns - self.start_ns) // NANOS_PER_SECOND

    def minute_of_day(self, step_ns: int | np.ndarray) -> int | np.ndarray:
        """Local minute of day (0..1439) of the last second of a step's window."""
        return (step_ns - NANOS_PER_SECOND - self.midnight_ns) // NANOS_PER_MINUTE

    def is_included(self, ts_ns: int) -> bool:
        """Whether ``ts_ns`` falls in an included session of the day."""
        index = (ts_ns - self.start_ns) // NANOS_PER_SECOND
        return 0 <= index < self.included.size and bool(self.included[index])


def day_grid(spec: FeatureSpec, day: dt.date) -> DayGrid:
    """The :class:`DayGrid` of ``day`` for ``spec``."""
    bounds = session_bounds(day)
    sessions = [name for name in SESSIONS if name in spec.calendar.sessions]
    start = bounds.get(sessions[0])[0]
    end = bounds.get(sessions[-1])[1]
    seconds = (end - start) // NANOS_PER_SECOND
    included = np.zeros(seconds, dtype=bool)
    step_ns = emission_step_seconds(spec) * NANOS_PER_SECOND
    steps: list[np.ndarray] = []
    for name in sessions:
        s_start, s_end = bounds.get(name)
        included[(s_start - start) // NANOS_PER_SECOND : (s_end - start) // NANOS_PER_SECOND] = True
        first = (s_start // step_ns + 1) * step_ns
        steps.append(np.arange(first, s_end + 1, step_ns, dtype=np.int64))
    midnight = local_to_ns(day, dt.time(0, 0))
    return DayGrid(day, start, end, included, np.concatenate(steps), midnight)
