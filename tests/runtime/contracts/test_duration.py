from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigma9_runtime.contracts.duration import Duration
from sigma9_runtime.units import NANOS_PER_SECOND


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5s", 5), ("60s", 60), ("5m", 300), ("30m", 1800), ("1h", 3600)],
)
def test_intraday_duration_parses_to_seconds_and_nanos(text: str, seconds: int) -> None:
    duration = Duration.parse(text)

    assert duration.is_intraday
    assert not duration.time_of_day
    assert duration.seconds == seconds
    assert duration.nanos == seconds * NANOS_PER_SECOND


def test_day_duration_parses_to_trading_days() -> None:
    duration = Duration.parse("60d")

    assert not duration.is_intraday
    assert duration.days == 60
    assert not duration.time_of_day
    assert duration.canonical() == "60d"


def test_time_of_day_baseline_parses_to_days_with_flag() -> None:
    duration = Duration.parse("20d_tod")

    assert duration.days == 20
    assert duration.time_of_day
    assert str(duration) == "20d_tod"
    assert duration.canonical() == "20d_tod"


def test_duration_keeps_its_spelling_as_written() -> None:
    assert str(Duration.parse("5m")) == "5m"
    assert repr(Duration.parse("5m")) == "Duration('5m')"


def test_intraday_duration_canonical_form_is_in_seconds() -> None:
    assert Duration.parse("1m").canonical() == "60s"
    assert Duration.parse("2h").canonical() == "7200s"


def test_one_minute_equals_sixty_seconds() -> None:
    assert Duration.parse("1m") == Duration.parse("60s")
    assert hash(Duration.parse("1m")) == hash(Duration.parse("60s"))
    assert Duration.parse("1h") == Duration.parse("60m") == Duration.parse("3600s")


def test_durations_of_different_length_are_not_equal() -> None:
    assert Duration.parse("5s") != Duration.parse("6s")
    assert Duration.parse("60s") != Duration.parse("2m")


def test_time_of_day_baseline_is_not_equal_to_plain_days() -> None:
    assert Duration.parse("20d") != Duration.parse("20d_tod")


def test_duration_is_not_equal_to_its_string() -> None:
    assert Duration.parse("5s") != "5s"


def test_day_duration_has_no_seconds() -> None:
    with pytest.raises(ValueError, match="trading days"):
        _ = Duration.parse("60d").seconds
    with pytest.raises(ValueError, match="trading days"):
        _ = Duration.parse("20d_tod").nanos


def test_intraday_duration_has_no_days() -> None:
    with pytest.raises(ValueError, match="intraday"):
        _ = Duration.parse("5m").days


@pytest.mark.parametrize("text", ["0s", "5x", "", "-1s", "05s", "5S", "5 s", "1.5s", "s", "5", "5m5s"])
def test_duration_rejects_text_outside_the_grammar(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        Duration.parse(text)


@pytest.mark.parametrize("text", ["5m_tod", "5s_tod", "1h_tod"])
def test_duration_rejects_time_of_day_on_intraday_units(text: str) -> None:
    with pytest.raises(ValueError, match="day durations only"):
        Duration.parse(text)


@pytest.mark.parametrize("value", [5, 5.0, None, True, b"5s"])
def test_duration_rejects_values_that_are_not_strings(value: object) -> None:
    with pytest.raises(ValueError, match="expected a duration string"):
        Duration.parse(value)  # type: ignore[arg-type]


@settings(database=None, max_examples=60, deadline=None)
@given(value=st.integers(min_value=1, max_value=57_600), unit=st.sampled_from(["s", "m", "h"]))
def test_every_intraday_spelling_equals_its_canonical_seconds(value: int, unit: str) -> None:
    value = max(1, value // {"s": 1, "m": 60, "h": 3600}[unit])  # at most a trading day's 16 h
    duration = Duration.parse(f"{value}{unit}")

    assert Duration.parse(duration.canonical()) == duration
    assert Duration.parse(duration.canonical()).seconds == duration.seconds
    assert duration.seconds == value * {"s": 1, "m": 60, "h": 3600}[unit]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("99999999999999999999s", "longer than a trading day's sessions (16h, 04:00-20:00)"),
        ("2000000h", "longer than a trading day's sessions"),
        ("961m", "longer than a trading day's sessions"),
        ("261d", "longer than 260 trading days (about a year)"),
        ("99999999999999999999d_tod", "longer than 260 trading days"),
    ],
)
def test_durations_longer_than_a_trading_day_or_a_year_of_days_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        Duration.parse(text)


def test_the_longest_durations_parse() -> None:
    assert Duration.parse("16h").seconds == Duration.parse("960m").seconds == 57_600
    assert Duration.parse("260d_tod").days == 260
