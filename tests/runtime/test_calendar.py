import datetime as dt

import pytest

from sigma9_runtime.calendar import (
    holidays,
    is_early_close,
    is_trading_day,
    iter_trading_days,
    local_to_ns,
    ns_to_local,
    previous_trading_day,
    session_bounds,
    session_date,
    trading_days,
)


def test_nyse_holidays_of_2025_match_the_published_list() -> None:
    assert sorted(holidays(2025)) == [
        dt.date(2025, 1, 1),
        dt.date(2025, 1, 9),
        dt.date(2025, 1, 20),
        dt.date(2025, 2, 17),
        dt.date(2025, 4, 18),
        dt.date(2025, 5, 26),
        dt.date(2025, 6, 19),
        dt.date(2025, 7, 4),
        dt.date(2025, 9, 1),
        dt.date(2025, 11, 27),
        dt.date(2025, 12, 25),
    ]


def test_holiday_on_a_weekend_is_observed_on_the_nearest_weekday() -> None:
    assert dt.date(2026, 7, 3) in holidays(2026)  # July 4, 2026 is a Saturday
    assert dt.date(2022, 12, 26) in holidays(2022)  # Christmas 2022 is a Sunday
    assert dt.date(2021, 12, 31) not in holidays(2021)  # New Year 2022 on a Saturday: not observed


def test_trading_days_skip_weekends_and_holidays() -> None:
    days = trading_days(dt.date(2025, 1, 1), dt.date(2025, 1, 10))
    assert days == [
        dt.date(2025, 1, 2),
        dt.date(2025, 1, 3),
        dt.date(2025, 1, 6),
        dt.date(2025, 1, 7),
        dt.date(2025, 1, 8),
        dt.date(2025, 1, 10),
    ]
    assert list(iter_trading_days(dt.date(2025, 1, 1), 3)) == days[:3]
    assert previous_trading_day(dt.date(2025, 1, 21)) == dt.date(2025, 1, 17)


def test_sessions_are_in_new_york_time_across_daylight_saving() -> None:
    winter = session_bounds(dt.date(2025, 3, 7))
    summer = session_bounds(dt.date(2025, 3, 10))
    assert ns_to_local(winter.regular[0]).strftime("%H:%M %z") == "09:30 -0500"
    assert ns_to_local(summer.regular[0]).strftime("%H:%M %z") == "09:30 -0400"
    assert ns_to_local(summer.pre[0]).hour == 4 and ns_to_local(summer.after[1]).hour == 20
    assert summer.session_of(summer.regular[0]) == "regular"
    assert summer.session_of(summer.regular[0] - 1) == "pre"
    assert summer.session_of(summer.after[1]) is None
    assert session_date(summer.after[1] - 1) == dt.date(2025, 3, 10)


def test_early_close_days_end_the_regular_session_at_one() -> None:
    day = dt.date(2025, 11, 28)
    assert is_early_close(day)
    bounds = session_bounds(day)
    assert ns_to_local(bounds.regular[1]).hour == 13
    assert ns_to_local(bounds.after[1]).hour == 17


def test_session_bounds_refuse_a_non_trading_day() -> None:
    assert not is_trading_day(dt.date(2025, 12, 25))
    with pytest.raises(ValueError, match="not a trading day"):
        session_bounds(dt.date(2025, 12, 25))


def test_trading_days_and_early_closes_equal_exchange_calendars_xnys() -> None:
    """The hand-written calendar against the well-kept one, over 1995 to the end of its range (a year ahead)."""
    import exchange_calendars

    xnys = exchange_calendars.get_calendar("XNYS", start="1995-01-01")
    start, end = xnys.first_session.date(), xnys.last_session.date()
    assert trading_days(start, end) == [d.date() for d in xnys.sessions]
    early = [d for d in trading_days(start, end) if is_early_close(d)]
    assert early == [d.date() for d in xnys.early_closes if start <= d.date() <= end]
    closes = xnys.schedule.loc[xnys.early_closes, "close"].dt.tz_convert("America/New_York")
    assert {t.time() for t in closes} == {dt.time(13, 0)}
    assert all(session_bounds(d).regular[1] == local_to_ns(d, dt.time(13, 0)) for d in early[-5:])
