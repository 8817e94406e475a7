"""Time-of-day baselines from the 1-minute bars of previous trading days.

A baseline answers "what is normal for this symbol at this minute of the day": for each local
minute of day (0..1439) a statistic of one 1-minute series (``transactions`` = eligible trade
count, or ``volume``) over the symbol's last ``lookback_days`` trading days **that have data**
before the day being computed (minutes without a bar count as 0 on such a day). With fewer than
:data:`BASELINE_MIN_DAYS` such days every minute is NaN.

The same function serves the offline batch and the online warm-up loader, on the same lake bars,
so both see identical baselines.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sigma9_runtime.calendar import NY, local_to_ns, previous_trading_day
from sigma9_runtime.units import NANOS_PER_MINUTE

MINUTES_PER_DAY = 1440
BASELINE_MIN_DAYS = 5
"""Fewer days with data than this leave the baseline undefined (NaN)."""

BaselineSeries = Literal["transactions", "volume"]
BaselineStat = Literal["mean_std", "median", "mean"]


@dataclass(frozen=True)
class BaselineKey:
    """Which baseline a feature needs: series, number of days and statistic."""

    series: BaselineSeries
    lookback_days: int
    stat: BaselineStat


class MinuteBars:
    """One symbol's 1-minute bars (start ns sorted, as lake bar files are) by local day: each day's slice and each
    day's row of 1440 minutes of a series (0 where no bar) are found once and reused, so a batch over many days
    of one symbol builds each day's row once instead of once per day it is a baseline of.

    Parameters
    ----------
    ts_ns
        Bar start times, sorted.
    columns
        Series name -> values (``transactions``, ``volume``), aligned with ``ts_ns``.
    """

    def __init__(self, ts_ns: np.ndarray, columns: Mapping[str, np.ndarray]) -> None:
        self.ts_ns = ts_ns
        self.columns = columns
        self._first = (
            local_to_ns(dt.datetime.fromtimestamp(int(ts_ns[0]) // 10**9, tz=NY).date(), dt.time(0, 0))
            if ts_ns.size
            else None
        )
        self._slices: dict[dt.date, slice] = {}
        self._rows: dict[tuple[str, dt.date], np.ndarray] = {}

    def day_slice(self, day: dt.date) -> slice:
        """The bars of local ``day``."""
        part = self._slices.get(day)
        if part is None:
            midnight = local_to_ns(day, dt.time(0, 0))
            lo = int(np.searchsorted(self.ts_ns, midnight, side="left"))
            hi = int(np.searchsorted(self.ts_ns, midnight + MINUTES_PER_DAY * NANOS_PER_MINUTE, side="left"))
            part = self._slices[day] = slice(lo, hi)
        return part

    def days_with_data(self, before: dt.date, lookback_days: int) -> list[dt.date]:
        """The last ``lookback_days`` trading days before ``before`` with at least one bar, ascending."""
        days: list[dt.date] = []
        if self._first is None:
            return days
        day = before
        while len(days) < lookback_days:
            day = previous_trading_day(day)
            if local_to_ns(day, dt.time(0, 0)) < self._first:
                break
            part = self.day_slice(day)
            if part.stop > part.start:
                days.append(day)
        return days[::-1]

    def matrix(self, series: str, days: list[dt.date]) -> np.ndarray:
        """``(len(days), 1440)`` matrix of ``series`` by (day, local minute of day), 0 where no bar."""
        matrix = np.zeros((len(days), MINUTES_PER_DAY), dtype=np.float64)
        for i, day in enumerate(days):
            row = self._rows.get((series, day))
            if row is None:
                part = self.day_slice(day)
                minutes = (self.ts_ns[part] - local_to_ns(day, dt.time(0, 0))) // NANOS_PER_MINUTE
                row = np.zeros(MINUTES_PER_DAY, dtype=np.float64)
                np.add.at(row, minutes, self.columns[series][part])
                self._rows[(series, day)] = row
            matrix[i] = row
        return matrix

    def baseline(self, before: dt.date, key: BaselineKey) -> tuple[np.ndarray, ...]:
        """Baseline arrays over the 1440 minutes of ``before``, from earlier days only (:func:`tod_baseline`)."""
        days = self.days_with_data(before, key.lookback_days)
        count = 2 if key.stat == "mean_std" else 1
        if len(days) < BASELINE_MIN_DAYS:
            return tuple(np.full(MINUTES_PER_DAY, np.nan) for _ in range(count))
        matrix = self.matrix(key.series, days)
        if key.stat == "median":
            return (np.median(matrix, axis=0),)
        mean = matrix.mean(axis=0)
        if key.stat == "mean":
            return (mean,)
        return mean, np.sqrt(((matrix - mean) ** 2).mean(axis=0))


def tod_baseline(ts_ns: np.ndarray, values: np.ndarray, before: dt.date, key: BaselineKey) -> tuple[np.ndarray, ...]:
    """Baseline arrays over the 1440 minutes of day.

    Parameters
    ----------
    ts_ns, values
        1-minute bars of one symbol (start ns, sorted; series values), any days.
    before
        The day being computed: only earlier days are used.
    key
        Series, lookback and statistic.

    Returns
    -------
    tuple of numpy.ndarray
        ``(mean, std)`` for ``mean_std`` (std with ddof 0), ``(median,)`` or ``(mean,)``.
    """
    return MinuteBars(ts_ns, {key.series: values}).baseline(before, key)
