"""Daily alert budget: the day is the New York date, across midnight and DST changes."""

import datetime as dt

import pytest

from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.gates import DailyAlertBudget

H = 3600 * 1_000_000_000


def _utc_ns(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp()) * 1_000_000_000


def test_budget_allows_max_alerts_on_one_day_then_refuses() -> None:
    budget = DailyAlertBudget(2)
    t = local_to_ns(dt.date(2025, 1, 6), dt.time(9, 30))
    for i in range(2):
        assert budget.available(t + i * H)
        budget.record(t + i * H)
    assert not budget.available(t + 3 * H)
    assert budget.used(t) == 2


def test_budget_renews_at_new_york_midnight_not_utc_midnight() -> None:
    budget = DailyAlertBudget(1)
    evening = local_to_ns(dt.date(2025, 1, 6), dt.time(19, 0))  # 2025-01-07 00:00 UTC: a new UTC day
    budget.record(local_to_ns(dt.date(2025, 1, 6), dt.time(9, 30)))
    assert not budget.available(evening)
    assert budget.available(local_to_ns(dt.date(2025, 1, 7), dt.time(0, 0)))
    assert not budget.available(local_to_ns(dt.date(2025, 1, 6), dt.time(23, 59, 59)))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # Spring forward (2025-03-09): 23:30 EDT on the 9th and 00:30 EDT on the 10th; with a fixed
        # EST offset both would fall on the 9th.
        (_utc_ns(2025, 3, 10, 3, 30), _utc_ns(2025, 3, 10, 4, 30)),
        # Fall back (2025-11-02): 23:30 EST on the 2nd is 04:30 UTC on the 3rd, 00:30 EST on the 3rd is 05:30.
        (_utc_ns(2025, 11, 3, 4, 30), _utc_ns(2025, 11, 3, 5, 30)),
    ],
)
def test_budget_day_follows_dst_around_midnight(before: int, after: int) -> None:
    budget = DailyAlertBudget(1)
    budget.record(before)
    assert budget.day_of(after) == budget.day_of(before) + dt.timedelta(days=1)
    assert budget.available(after)


def test_the_25_hour_fall_back_day_is_one_budget_day() -> None:
    budget = DailyAlertBudget(1)
    budget.record(local_to_ns(dt.date(2025, 11, 2), dt.time(0, 30)))
    # 01:30 happens twice on 2025-11-02; 23:30 is 24 h after 00:30 on the clock, 25 h in real time.
    assert not budget.available(local_to_ns(dt.date(2025, 11, 2), dt.time(23, 30)))
    assert budget.day_of(local_to_ns(dt.date(2025, 11, 2), dt.time(23, 30))) == dt.date(2025, 11, 2)


def test_earlier_days_keep_their_counts_when_time_goes_back() -> None:
    budget = DailyAlertBudget(1)
    monday = local_to_ns(dt.date(2025, 1, 6), dt.time(10))
    budget.record(monday)
    budget.record(monday + 24 * H)
    assert not budget.available(monday + H)


def test_reset_forgets_every_count() -> None:
    budget = DailyAlertBudget(1)
    t = local_to_ns(dt.date(2025, 1, 6), dt.time(10))
    budget.record(t)
    budget.reset()
    assert budget.available(t)


def test_budget_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_alerts_per_day"):
        DailyAlertBudget(0)
