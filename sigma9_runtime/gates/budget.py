"""Alert budget: at most ``max_alerts_per_day`` alerts per session day.

The day of an alert is the **America/New_York calendar date** of its time (int64 ns UTC), so the budget
renews at New York midnight whatever the UTC offset (EST or EDT) and sessions (04:00-20:00 New York)
never straddle two days. O(1) per call: the bounds of the last day seen are cached, so the time-zone
conversion runs once per day, not once per candidate.
"""

from __future__ import annotations

import datetime as dt

from sigma9_runtime.calendar import local_to_ns, session_date


class DailyAlertBudget:
    """Counts alerts per New York date and says whether one more fits.

    Examples
    --------
    >>> budget = DailyAlertBudget(max_alerts_per_day=1)
    >>> t = 1_736_173_800_000_000_000  # 2025-01-06 09:30 New York
    >>> budget.available(t)
    True
    >>> budget.record(t); budget.available(t + 60_000_000_000)
    False
    """

    __slots__ = ("_counts", "_day", "_day_end", "_day_start", "max_alerts_per_day")

    def __init__(self, max_alerts_per_day: int) -> None:
        if max_alerts_per_day < 1:
            raise ValueError(f"max_alerts_per_day must be >= 1, got {max_alerts_per_day}")
        self.max_alerts_per_day = int(max_alerts_per_day)
        self._counts: dict[dt.date, int] = {}
        self._day = dt.date.min
        self._day_start = 0
        self._day_end = 0

    def day_of(self, ts_ns: int) -> dt.date:
        """New York date of ``ts_ns`` (cached per day)."""
        if not self._day_start <= ts_ns < self._day_end:
            day = session_date(ts_ns)
            # Midnights are never skipped nor repeated by US DST changes (they happen at 02:00).
            self._day = day
            self._day_start = local_to_ns(day, dt.time(0))
            self._day_end = local_to_ns(day + dt.timedelta(days=1), dt.time(0))
        return self._day

    def used(self, ts_ns: int) -> int:
        """Alerts already counted on the day of ``ts_ns``."""
        return self._counts.get(self.day_of(ts_ns), 0)

    def available(self, ts_ns: int) -> bool:
        """Whether one more alert fits the budget of the day of ``ts_ns``."""
        return self.used(ts_ns) < self.max_alerts_per_day

    def record(self, ts_ns: int) -> None:
        """Count one alert on the day of ``ts_ns``."""
        day = self.day_of(ts_ns)
        self._counts[day] = self._counts.get(day, 0) + 1

    def reset(self) -> None:
        """Forget every count."""
        self._counts.clear()
