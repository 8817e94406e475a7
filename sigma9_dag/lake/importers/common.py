"""What every importer reads with: timestamp sanity, New York session days, progress, the summary.

Sanity checks every importer shares (docs/importers.md, "Sanity at import"): :func:`check_timestamps`
refuses timestamps that are not plausible times in the unit the source writes (naming the unit they look like)
or, for a file named by its date, not of that date; the importers refuse a file without rows with
:func:`no_rows` (and :func:`~sigma9_dag.lake.importers.finish.import_files` a 0-byte file).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa

from sigma9_dag.lake.writer import (
    ROW_COLUMN,
)
from sigma9_runtime.calendar import is_trading_day, session_date
from sigma9_runtime.errors import DataError
from sigma9_runtime.units import SECOND_NS

HOUR_NS = 3600 * SECOND_NS
_MIN_TS = 0
_MAX_TS = 2**62  # year 2116: beyond it a timestamp cannot be a session day we import
PLAUSIBLE_FIRST_DAY = dt.date(1990, 1, 1)
PLAUSIBLE_END_DAY = dt.date(2100, 1, 1)
"""Timestamps are plausible from 1990-01-01 (before any tick data these sources sell) to 2100-01-01 UTC, end
exclusive. The span is narrow enough that a value is plausible in at most one unit (see :func:`time_unit`)."""
TIME_UNITS: dict[str, int] = {
    "nanoseconds": 1,
    "microseconds": 1_000,
    "milliseconds": 1_000_000,
    "seconds": 1_000_000_000,
}
"""Units a file may write epoch timestamps in, with their length in nanoseconds."""
_EPOCH = dt.date(1970, 1, 1)
_PLAUSIBLE_NS = (
    (PLAUSIBLE_FIRST_DAY - _EPOCH).days * 86_400 * SECOND_NS,
    (PLAUSIBLE_END_DAY - _EPOCH).days * 86_400 * SECOND_NS,
)

T = TypeVar("T")


@dataclass
class ImportSummary:
    """What one import wrote.

    Attributes
    ----------
    source
        Importer name (``massive-flat``, ``massive-ws``, ``databento``).
    files
        Input files read.
    tickers, days
        Distinct tickers and session days with imported rows.
    trades, bars_1s, bars_1m, daily
        Rows written (bars and daily rows include those rebuilt from trades).
    splits
        Rows merged into the splits table (``sigma9 lake import splits``).
    quarantined
        Rows (or WebSocket messages) left out, all reasons.
    report
        Path of the JSON report.
    """

    source: str
    files: int = 0
    tickers: int = 0
    days: int = 0
    trades: int = 0
    bars_1s: int = 0
    bars_1m: int = 0
    daily: int = 0
    splits: int = 0
    quarantined: int = 0
    report: Path | str | None = None

    def __str__(self) -> str:
        splits = f"{self.splits:,} splits, " if self.splits else ""
        return (
            f"{self.source}: {self.files} file(s), {self.tickers} ticker(s), {self.days} day(s): "
            f"{self.trades:,} trades, {self.bars_1s:,} 1s bars, {self.bars_1m:,} 1m bars, {self.daily:,} daily rows, "
            f"{splits}{self.quarantined:,} quarantined (report: {self.report})"
        )


def progress_iter(items: Iterable[T], *, enabled: bool, total: int | None = None, desc: str = "") -> Iterator[T]:
    """``items`` with a tqdm progress bar on stderr when ``enabled``."""
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False)


# --- sanity -------------------------------------------------------------------------------------


def no_rows(path: Path, why: str) -> DataError:
    """The error every importer raises for a file that holds no rows (``why``: empty, header only, ...)."""
    return DataError(f"{path}: holds no rows ({why})")


def time_unit(value: int) -> str | None:
    """The unit of :data:`TIME_UNITS` in which epoch ``value`` falls in the plausible span, else None.

    >>> time_unit(1735830000000)
    'milliseconds'
    """
    for unit, scale in TIME_UNITS.items():
        if _PLAUSIBLE_NS[0] <= value * scale < _PLAUSIBLE_NS[1]:
            return unit
    return None


def check_timestamps(
    values: np.ndarray,
    rows: np.ndarray,
    unit: str,
    where: Callable[[int], str],
    *,
    day: dt.date | None = None,
) -> None:
    """Refuse a file whose epoch timestamps are not plausible times in ``unit``.

    ``values`` are the (non-null) timestamps as the file writes them, ``rows`` their row numbers
    and ``where(row)`` names the file, line and field of a row. Raises
    :class:`~sigma9_runtime.errors.DataError` at the first value outside 1990..2100 in ``unit``
    (naming the unit it looks like, e.g. milliseconds where nanoseconds are expected) or, with
    ``day``, the first one whose New York date is not ``day`` (a file named by its date).
    """
    values = np.asarray(values, dtype=np.int64)
    scale = TIME_UNITS[unit]
    low, high = -(-_PLAUSIBLE_NS[0] // scale), _PLAUSIBLE_NS[1] // scale
    implausible = np.flatnonzero((values < low) | (values >= high))
    if implausible.size:
        i = int(implausible[0])
        value = int(values[i])
        guess = time_unit(value)
        if guess is not None:
            seen = session_date(value * TIME_UNITS[guess])
            raise DataError(
                f"{where(int(rows[i]))}: timestamps look like {guess} ({value} → {seen}), "
                f"expected {unit} since the epoch"
            )
        raise DataError(
            f"{where(int(rows[i]))}: timestamp {value} is not a time from {PLAUSIBLE_FIRST_DAY.year} to "
            f"{PLAUSIBLE_END_DAY.year} in {unit} since the epoch"
        )
    if day is not None and values.size:
        ordinals = session_ordinals(values * scale)
        other = np.flatnonzero(ordinals != day.toordinal())
        if other.size:
            i = int(other[0])
            seen = dt.date.fromordinal(int(ordinals[i]))
            raise DataError(
                f"{where(int(rows[i]))}: timestamp {int(values[i])} is on {seen} (New York), "
                f"not on {day}, the date the file is named for"
            )


# --- days ---------------------------------------------------------------------------------------


def session_ordinals(ts: np.ndarray) -> np.ndarray:
    """New York session date (``date.toordinal()``) of each ns timestamp; -1 where out of range.

    Computed once per distinct UTC hour: New York's UTC offset only changes on hour boundaries.
    """
    ts = np.asarray(ts, dtype=np.int64)
    out = np.full(ts.size, -1, dtype=np.int64)
    valid = (ts > _MIN_TS) & (ts < _MAX_TS)
    if not valid.any():
        return out
    hours, inverse = np.unique(ts[valid] // HOUR_NS, return_inverse=True)
    days = np.array([session_date(int(h) * HOUR_NS).toordinal() for h in hours], dtype=np.int64)
    out[valid] = days[inverse]
    return out


def trading_ordinals(ordinals: np.ndarray) -> np.ndarray:
    unique = np.unique(ordinals)
    trading = {int(o) for o in unique if o > 0 and is_trading_day(dt.date.fromordinal(int(o)))}
    return np.isin(ordinals, np.array(sorted(trading), dtype=np.int64))


def with_rows(table: pa.Table, rows: np.ndarray | None = None) -> pa.Table:
    """``table`` with the ``__row`` column of original row numbers (0-based data rows by default)."""
    values = np.arange(table.num_rows, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    return table.append_column(ROW_COLUMN, pa.array(values, pa.int64()))
