"""Durations as written in the contracts (``5s``, ``60s``, ``5m``, ``20d_tod``, ``60d``, ``30m``).

A duration string is parsed once, at the edge, into a :class:`Duration`; the rest of the code
reads ``.seconds``, ``.nanos`` or ``.days`` and never looks at the string again.

Grammar: ``<positive int><unit>[_tod]`` with unit ``s`` (seconds), ``m`` (minutes), ``h`` (hours)
or ``d`` (trading days); an intraday duration is at most a trading day's sessions (16 h) and a day duration at
most 260 trading days (:data:`MAX_INTRADAY_SECONDS`, :data:`MAX_TRADING_DAYS`). ``_tod`` ("time of day") is
allowed on day durations only and means
"the same minute of the day over that many trading days" (a time-of-day baseline).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer, PlainValidator, SerializationInfo, WithJsonSchema

from sigma9_runtime.units import NANOS_PER_SECOND

Unit = Literal["s", "m", "h", "d"]

_PATTERN = re.compile(r"^(?P<value>[1-9][0-9]*)(?P<unit>[smhd])(?P<tod>_tod)?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
MAX_INTRADAY_SECONDS = 16 * 3600
"""Longest intraday duration: a whole trading day's sessions, 04:00-20:00 (16 h)."""
MAX_TRADING_DAYS = 260
"""Longest duration in trading days (about a year): normalization and baseline lookbacks, history needs."""


@dataclass(frozen=True, eq=False)
class Duration:
    """A parsed duration.

    Attributes
    ----------
    value
        The positive count as written.
    unit
        ``s``, ``m``, ``h`` (intraday) or ``d`` (trading days).
    time_of_day
        True for ``<n>d_tod``: a baseline over the same time of day on ``n`` trading days.

    Examples
    --------
    >>> Duration.parse("5m").seconds
    300
    >>> Duration.parse("20d_tod").days, Duration.parse("20d_tod").time_of_day
    (20, True)
    """

    value: int
    unit: Unit
    time_of_day: bool = False

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``text``; raise ``ValueError`` naming the grammar when it does not fit."""
        if not isinstance(text, str):
            raise ValueError(f"expected a duration string like '5s', '5m', '60d' or '20d_tod', got {text!r}")
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(
                f"invalid duration {text!r}: expected <positive int><s|m|h|d>[_tod], e.g. '5s', '5m', '60d', '20d_tod'"
            )
        unit = match["unit"]
        tod = match["tod"] is not None
        if tod and unit != "d":
            raise ValueError(f"invalid duration {text!r}: '_tod' applies to day durations only (e.g. '20d_tod')")
        digits = match["value"]
        if unit == "d" and (len(digits) > 6 or int(digits) > MAX_TRADING_DAYS):
            raise ValueError(f"duration {text!r} is longer than {MAX_TRADING_DAYS} trading days (about a year)")
        if unit != "d" and (len(digits) > 9 or int(digits) * _UNIT_SECONDS[unit] > MAX_INTRADAY_SECONDS):
            raise ValueError(f"duration {text!r} is longer than a trading day's sessions (16h, 04:00-20:00)")
        return cls(int(digits), unit, tod)  # type: ignore[arg-type]

    @property
    def is_intraday(self) -> bool:
        """True for second/minute/hour durations, False for trading-day durations."""
        return self.unit != "d"

    @property
    def seconds(self) -> int:
        """Length in seconds (intraday durations only)."""
        if not self.is_intraday:
            raise ValueError(f"duration {self} counts trading days, not seconds")
        return self.value * _UNIT_SECONDS[self.unit]

    @property
    def nanos(self) -> int:
        """Length in nanoseconds (intraday durations only)."""
        return self.seconds * NANOS_PER_SECOND

    @property
    def days(self) -> int:
        """Number of trading days (day durations only)."""
        if self.is_intraday:
            raise ValueError(f"duration {self} is intraday, not a number of trading days")
        return self.value

    def canonical(self) -> str:
        """One spelling per length: intraday in seconds (``1m`` -> ``60s``), days as ``<n>d[_tod]``."""
        if self.is_intraday:
            return f"{self.seconds}s"
        return f"{self.value}d" + ("_tod" if self.time_of_day else "")

    def __str__(self) -> str:
        return f"{self.value}{self.unit}" + ("_tod" if self.time_of_day else "")

    def __repr__(self) -> str:
        return f"Duration({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self.canonical() == other.canonical()

    def __hash__(self) -> int:
        return hash(self.canonical())


def _serialize(value: Duration, info: SerializationInfo) -> str:
    # The schema hash asks for the canonical spelling so '60s' and '1m' hash the same.
    if info.context and info.context.get("canonical"):
        return value.canonical()
    return str(value)


def _validator(kind: Literal["any", "intraday", "days"], allow_tod: bool) -> Any:
    def validate(raw: Any) -> Duration:
        duration = raw if isinstance(raw, Duration) else Duration.parse(raw)
        if kind == "intraday" and not duration.is_intraday:
            raise ValueError(f"expected an intraday duration (s, m or h), got {str(duration)!r}")
        if kind == "days" and duration.is_intraday:
            raise ValueError(f"expected a duration in trading days (e.g. '60d'), got {str(duration)!r}")
        if duration.time_of_day and not allow_tod:
            raise ValueError(f"'_tod' is not allowed here, got {str(duration)!r}")
        return duration

    return validate


def _json_schema(kind: str, allow_tod: bool) -> dict[str, Any]:
    units = {"any": "smhd", "intraday": "smh", "days": "d"}[kind]
    tod = "(_tod)?" if allow_tod else ""
    return {"type": "string", "pattern": f"^[1-9][0-9]*[{units}]{tod}$", "description": "duration, e.g. 5s, 5m, 60d"}


def _duration_type(kind: Literal["any", "intraday", "days"], allow_tod: bool) -> Any:
    return Annotated[
        Duration,
        PlainValidator(_validator(kind, allow_tod)),
        PlainSerializer(_serialize, return_type=str),
        WithJsonSchema(_json_schema(kind, allow_tod)),
    ]


AnyDuration = _duration_type("any", allow_tod=False)
"""Intraday or trading-day duration without ``_tod`` (``60s``, ``20m``, ``60d``)."""
IntradayDuration = _duration_type("intraday", allow_tod=False)
"""Seconds, minutes or hours (``5s``, ``5m``, ``30m``)."""
DayDuration = _duration_type("days", allow_tod=False)
"""Trading days (``60d``)."""
BaselineDuration = _duration_type("days", allow_tod=True)
"""Trading days, optionally a time-of-day baseline (``20d_tod``)."""
