"""US equity trading calendar and sessions (America/New_York), in int64 nanoseconds UTC.

Sessions of a full trading day (local time): ``pre`` 04:00-09:30, ``regular`` 09:30-16:00,
``after`` 16:00-20:00. On an early-close day (July 3, the day after Thanksgiving, December 24, when
they are trading days) the regular session ends at 13:00 and the after session at 17:00.

Holidays follow NYSE rules: New Year's Day, Martin Luther King Jr. Day, Washington's Birthday,
Good Friday, Memorial Day, Juneteenth (from 2022), Independence Day, Labor Day, Thanksgiving and
Christmas, moved to Friday when on a Saturday (except New Year's Day) and to Monday when on a
Sunday; plus the special closures listed in ``SPECIAL_CLOSURES``. A test proves the trading days and early
closes equal ``exchange_calendars``' XNYS from 1995 to the end of its range (the runtime needs no pandas).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from sigma9_runtime.units import NANOS_PER_MINUTE, NANOS_PER_SECOND  # noqa: F401 (re-exported)

NY = ZoneInfo("America/New_York")
SessionName = Literal["pre", "regular", "after"]
SESSIONS: tuple[SessionName, ...] = ("pre", "regular", "after")

SPECIAL_CLOSURES: frozenset[dt.date] = frozenset(
    {
        dt.date(1994, 4, 27),  # President Nixon
        dt.date(2001, 9, 11),  # September 11
        dt.date(2001, 9, 12),
        dt.date(2001, 9, 13),
        dt.date(2001, 9, 14),
        dt.date(2004, 6, 11),  # President Reagan
        dt.date(2007, 1, 2),  # President Ford
        dt.date(2012, 10, 29),  # Hurricane Sandy
        dt.date(2012, 10, 30),
        dt.date(2018, 12, 5),  # President G. H. W. Bush
        dt.date(2025, 1, 9),  # President Carter
    }
)

SPECIAL_EARLY_CLOSES: frozenset[dt.date] = frozenset(
    {dt.date(1996, 7, 5), dt.date(1997, 12, 26), dt.date(1999, 12, 31), dt.date(2002, 7, 5), dt.date(2003, 12, 26)}
)
NOT_EARLY_CLOSES: frozenset[dt.date] = frozenset({dt.date(1996, 7, 3), dt.date(2002, 7, 3)})

_SESSION_TIMES: dict[SessionName, tuple[dt.time, dt.time]] = {
    "pre": (dt.time(4, 0), dt.time(9, 30)),
    "regular": (dt.time(9, 30), dt.time(16, 0)),
    "after": (dt.time(16, 0), dt.time(20, 0)),
}
_EARLY_CLOSE_TIMES: dict[SessionName, tuple[dt.time, dt.time]] = {
    "pre": (dt.time(4, 0), dt.time(9, 30)),
    "regular": (dt.time(9, 30), dt.time(13, 0)),
    "after": (dt.time(13, 0), dt.time(17, 0)),
}


def _easter(year: int) -> dt.date:
    # Anonymous Gregorian algorithm.
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date, *, saturday_to_friday: bool = True) -> dt.date | None:
    if day.weekday() == 5:
        return day - dt.timedelta(days=1) if saturday_to_friday else None
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


@cache
def holidays(year: int) -> frozenset[dt.date]:
    """NYSE full-day holidays of ``year`` (special closures included)."""
    days = {
        _observed(dt.date(year, 1, 1), saturday_to_friday=False),
        _nth_weekday(year, 2, 0, 3),
        _easter(year) - dt.timedelta(days=2),
        _last_weekday(year, 5, 0),
        _observed(dt.date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),
        _nth_weekday(year, 11, 3, 4),
        _observed(dt.date(year, 12, 25)),
    }
    if year >= 1998:  # Martin Luther King Jr. Day, a market holiday from 1998
        days.add(_nth_weekday(year, 1, 0, 3))
    if year >= 2022:
        days.add(_observed(dt.date(year, 6, 19)))
    # New Year's Day of next year on a Saturday is not observed on Dec 31 (NYSE rule).
    days.discard(None)
    days |= {d for d in SPECIAL_CLOSURES if d.year == year}
    return frozenset(d for d in days if d is not None)


def is_trading_day(day: dt.date) -> bool:
    """Weekday and not a holiday."""
    return day.weekday() < 5 and day not in holidays(day.year)


def is_early_close(day: dt.date) -> bool:
    """July 3, the day after Thanksgiving and December 24, when they are trading days; plus the early closes of
    ``SPECIAL_EARLY_CLOSES`` and minus ``NOT_EARLY_CLOSES`` (before 2004 the rule varied)."""
    if not is_trading_day(day) or day in NOT_EARLY_CLOSES:
        return False
    thanksgiving = _nth_weekday(day.year, 11, 3, 4)
    return day in SPECIAL_EARLY_CLOSES or day in (
        dt.date(day.year, 7, 3),
        thanksgiving + dt.timedelta(days=1),
        dt.date(day.year, 12, 24),
    )


def trading_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Trading days in ``[start, end]``."""
    out = []
    day = start
    while day <= end:
        if is_trading_day(day):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def iter_trading_days(start: dt.date, count: int) -> Iterator[dt.date]:
    """``count`` trading days from ``start`` on (``start`` included when it trades)."""
    day = start
    while count > 0:
        if is_trading_day(day):
            yield day
            count -= 1
        day += dt.timedelta(days=1)


def previous_trading_day(day: dt.date) -> dt.date:
    """The trading day before ``day``."""
    day -= dt.timedelta(days=1)
    while not is_trading_day(day):
        day -= dt.timedelta(days=1)
    return day


def local_to_ns(day: dt.date, time: dt.time) -> int:
    """Nanoseconds UTC of local New York ``time`` on ``day``."""
    stamp = dt.datetime.combine(day, time, tzinfo=NY)
    return int(stamp.timestamp()) * NANOS_PER_SECOND + stamp.microsecond * 1000


def ns_to_local(ts_ns: int) -> dt.datetime:
    """New York local datetime of a nanosecond UTC timestamp (microsecond precision)."""
    return dt.datetime.fromtimestamp(ts_ns / NANOS_PER_SECOND, tz=NY)


def session_date(ts_ns: int) -> dt.date:
    """The New York calendar date of ``ts_ns`` (the session day an alert budget counts against)."""
    return ns_to_local(ts_ns).date()


@dataclass(frozen=True)
class SessionBounds:
    """Start (inclusive) and end (exclusive) of each session of one trading day, ns UTC."""

    day: dt.date
    pre: tuple[int, int]
    regular: tuple[int, int]
    after: tuple[int, int]

    def get(self, session: SessionName) -> tuple[int, int]:
        """Bounds of ``session``."""
        return getattr(self, session)  # type: ignore[no-any-return]

    @property
    def start(self) -> int:
        """Start of the pre session."""
        return self.pre[0]

    @property
    def end(self) -> int:
        """End of the after session."""
        return self.after[1]

    def session_of(self, ts_ns: int) -> SessionName | None:
        """Session containing ``ts_ns``, or None outside trading hours."""
        for name in SESSIONS:
            start, end = self.get(name)
            if start <= ts_ns < end:
                return name
        return None


@lru_cache(maxsize=4096)
def session_bounds(day: dt.date) -> SessionBounds:
    """Session bounds of trading day ``day``; raise ``ValueError`` on a non-trading day."""
    if not is_trading_day(day):
        raise ValueError(f"{day} is not a trading day")
    times = _EARLY_CLOSE_TIMES if is_early_close(day) else _SESSION_TIMES
    bounds = {name: (local_to_ns(day, a), local_to_ns(day, b)) for name, (a, b) in times.items()}
    return SessionBounds(day=day, **bounds)
