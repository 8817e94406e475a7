"""Previous closes from the lake: the reference of the +anchor cross, one implementation for the lab, replay
and backtest.

A symbol's **previous close** on ``day`` is the close of its daily bar on the **previous exchange trading
day** (:func:`sigma9_runtime.calendar.previous_trading_day`, the NYSE calendar), multiplied by
``split_from / split_to`` of every recorded split (``reference/splits.parquet``) executed after that day and
on or before ``day`` (a 1-for-10 reverse split, ``split_from=10, split_to=1``, multiplies it by 10). Never an
older close: when the lake lacks that day's bar for the symbol, the ticker-day has no previous close.

Each ticker-day gets a **status** (:data:`CLOSE_STATUSES`):

* ``ok``: the previous close is known and usable;
* ``first_day``: the lake holds no daily bar of the symbol before ``day``;
* ``prev_day_missing``: it holds an older bar, but not the previous trading day's (``prev_date``, the day
  whose close is missing);
* ``bad_close``: the previous day's close is not a finite positive number;
* ``split_suspect``: the overnight move looks like a split no recorded split explains
  (:func:`judge_split`); the lab keeps such days out of its events and the runtime out of its cross rule.

**Split suspects** (no splits table row needed): a move of the day's open over the previous close of at least
:data:`SPLIT_MIN_MOVE` either way is a *candidate*, judged on its evidence (:class:`SplitVerdict`):

* the price ratio's closeness to a plausible split ratio: ``1:N`` reverse (N = 2 .. 1000) or ``N:1`` forward
  (N = 2 .. 20), within :data:`SPLIT_RATIO_TOLERANCE`;
* the change of *share* volume against the ratio: a 1:N reverse split makes every share worth N old ones,
  so the shares traded fall unless the money traded rises N-fold; a surge of the same size trades more
  shares, not fewer. Reverse: split-like while shares traded rose less than ``max(1, N / 2)``-fold. Forward:
  the dollar volume stays within :data:`FORWARD_SPLIT_MAX_DOLLAR_VOLUME_RATIO` either way (a split changes
  the share count, not the money; a crash of the same size multiplies it);
* the day before: a reverse move under :data:`CONTINUATION_MAX_RATIO` the day after a day that itself rose
  :data:`CONTINUATION_MIN_PRIOR_MOVE`-fold continues a surge (reverse splits follow declines).

Every candidate's verdict, with its evidence and reason, is a row of :func:`close_table` (``sigma9 lake
splits --suspects`` and the import report list them). :func:`previous_closes` is what the runtime's cross
rule gets; :func:`close_table` what the lab's events use: the same rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import numpy as np

from sigma9_runtime.calendar import previous_trading_day
from sigma9_runtime.lake.layout import LakeLayout

if TYPE_CHECKING:
    import pyarrow as pa

CloseStatus = Literal["ok", "first_day", "prev_day_missing", "bad_close", "split_suspect"]
CLOSE_STATUSES: tuple[CloseStatus, ...] = ("ok", "first_day", "prev_day_missing", "bad_close", "split_suspect")

SPLIT_MIN_MOVE = 1.8
"""Overnight ratio (either way) from which a move is judged as a possible split."""
SPLIT_RATIO_TOLERANCE = 0.06
"""Relative distance to a split ratio (N or 1/N) within which a move is split-like."""
REVERSE_SPLIT_MAX = 1000
"""Largest reverse split ratio 1:N considered (real ones reach 1:187 and beyond)."""
FORWARD_SPLIT_MAX = 20
"""Largest forward split ratio N:1 considered."""
FORWARD_SPLIT_MAX_DOLLAR_VOLUME_RATIO = 4.0
"""A forward-split-like move keeps the dollar volume within this factor of the previous day's, either way."""
CONTINUATION_MIN_PRIOR_MOVE = 1.5
"""A previous day that closed at least this multiple of its own previous close was a surge day."""
CONTINUATION_MAX_RATIO = 5.0
"""Reverse moves below this ratio after a surge day are continuations, not splits."""


@dataclass(frozen=True)
class SplitVerdict:
    """The guard's decision on one overnight move.

    Attributes
    ----------
    candidate
        The move is at least :data:`SPLIT_MIN_MOVE` either way (only candidates are judged and reported).
    suspect
        It looks like a split no recorded split explains.
    ratio
        The nearest plausible split ratio as text (``"1:10"`` reverse, ``"2:1"`` forward), ``""`` when none.
    reason
        Why, in words, with the evidence.
    """

    candidate: bool
    suspect: bool
    ratio: str
    reason: str


NOT_A_CANDIDATE = SplitVerdict(False, False, "", "")


def _finite(x: float) -> bool:
    return isinstance(x, float | int) and math.isfinite(x) and x > 0


def judge_split(
    price_ratio: float, share_volume_ratio: float, dollar_volume_ratio: float, prior_move: float
) -> SplitVerdict:
    """Whether an overnight move looks like an unrecorded split (module docstring).

    ``price_ratio``: the day's open over the (recorded-split-adjusted) previous close; ``share_volume_ratio``:
    the day's share volume over the previous day's (adjusted likewise); ``dollar_volume_ratio``: the day's
    dollar volume over the previous day's; ``prior_move``: the previous day's close over its own previous
    close. A ratio that is unknown (NaN) is no evidence either way.
    """
    if not _finite(price_ratio):
        return NOT_A_CANDIDATE
    reverse = price_ratio >= 1
    big = price_ratio if reverse else 1 / price_ratio
    if big < SPLIT_MIN_MOVE:
        return NOT_A_CANDIDATE
    top = REVERSE_SPLIT_MAX if reverse else FORWARD_SPLIT_MAX
    n = max(2, min(top, round(big)))
    ratio = f"1:{n}" if reverse else f"{n}:1"
    error = abs(big / n - 1)
    move = f"x{price_ratio:.3g} overnight"
    if error > SPLIT_RATIO_TOLERANCE:
        return SplitVerdict(True, False, ratio, f"cleared: {move} is {error:.1%} from the nearest split ratio {ratio}")
    if reverse:
        if _finite(share_volume_ratio) and share_volume_ratio >= max(1.0, n / 2):
            return SplitVerdict(
                True,
                False,
                ratio,
                f"cleared: {move} with shares traded x{share_volume_ratio:.3g} (a {ratio} split would trade "
                f"fewer than x{max(1.0, n / 2):g} the shares; a surge trades more)",
            )
        if big < CONTINUATION_MAX_RATIO and _finite(prior_move) and prior_move >= CONTINUATION_MIN_PRIOR_MOVE:
            return SplitVerdict(
                True,
                False,
                ratio,
                f"cleared: {move} continues a x{prior_move:.3g} day (reverse splits follow declines)",
            )
        shares = f", shares traded x{share_volume_ratio:.3g}" if _finite(share_volume_ratio) else ""
        return SplitVerdict(True, True, ratio, f"suspect: {move} is {error:.1%} from {ratio}{shares}")
    bound = FORWARD_SPLIT_MAX_DOLLAR_VOLUME_RATIO
    if _finite(dollar_volume_ratio) and not 1 / bound <= dollar_volume_ratio <= bound:
        return SplitVerdict(
            True, False, ratio, f"cleared: {move} with dollar volume x{dollar_volume_ratio:.3g} (a split keeps it)"
        )
    money = f", dollar volume x{dollar_volume_ratio:.3g}" if _finite(dollar_volume_ratio) else ""
    return SplitVerdict(True, True, ratio, f"suspect: {move} is {error:.1%} from {ratio}{money}")


@lru_cache(maxsize=8192)
def _previous_trading_ordinal(ordinal: int) -> int:
    return previous_trading_day(dt.date.fromordinal(ordinal)).toordinal()


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a / b
    out[~np.isfinite(out) | (out <= 0)] = np.nan
    return out


@dataclass(frozen=True)
class CloseTable:
    """Per ticker-day (sorted by ticker and date): the previous close, its status and the split guard's
    evidence (module docstring). Columns are numpy arrays of equal length; dates are :class:`datetime.date`."""

    ticker: np.ndarray
    date: np.ndarray
    prev_date: np.ndarray  # the previous exchange trading day, whose close is the reference
    prev_close_raw: np.ndarray
    split_factor: np.ndarray
    prev_close: np.ndarray  # NaN unless the previous trading day's close is known
    status: np.ndarray
    price_ratio: np.ndarray
    share_volume_ratio: np.ndarray
    dollar_volume_ratio: np.ndarray
    prior_move: np.ndarray
    split_ratio: np.ndarray
    split_reason: np.ndarray

    COLUMNS = (
        "ticker",
        "date",
        "prev_date",
        "prev_close_raw",
        "split_factor",
        "prev_close",
        "status",
        "price_ratio",
        "share_volume_ratio",
        "dollar_volume_ratio",
        "prior_move",
        "split_ratio",
        "split_reason",
    )

    def __len__(self) -> int:
        return len(self.ticker)

    def columns(self) -> dict[str, np.ndarray]:
        """The columns by name, in :attr:`COLUMNS` order."""
        return {name: getattr(self, name) for name in self.COLUMNS}

    def ok(self) -> np.ndarray:
        """Mask of the rows whose previous close is usable."""
        return self.status == "ok"

    def counts(self) -> dict[str, int]:
        """Rows per status (every status, zeros included)."""
        return {s: int(np.count_nonzero(self.status == s)) for s in CLOSE_STATUSES}


def close_table(
    daily: pa.Table,
    splits: pa.Table,
    *,
    add_days: Iterable[dt.date] = (),
    keep_days: Iterable[dt.date] | None = None,
) -> CloseTable:
    """The previous close of every ticker-day of ``daily`` (a lake daily table; module docstring).

    ``add_days``: also every ticker of ``daily`` on each of these days when the lake holds no bar of it (live,
    the day has no bar yet; or intraday data without a daily row): such a row has a previous close but no split
    evidence. ``keep_days``: return only rows of these days. ``splits`` is the lake's splits table (may be empty).
    """
    cols = daily.select(["ticker", "date", "open", "close", "volume", "vwap"]).to_pydict()
    tickers = list(cols["ticker"])
    dates = [d.toordinal() for d in cols["date"]]
    values = {
        k: np.array([np.nan if v is None else v for v in cols[k]], dtype=np.float64)
        for k in ("open", "close", "volume", "vwap")
    }
    real_rows = len(tickers)
    added = sorted({d.toordinal() for d in add_days})
    if added:  # placeholder rows for the added days the lake has no bar of
        have = set(zip(tickers, dates))
        extra = [(t, d) for t in sorted(set(tickers)) for d in added if (t, d) not in have]
        tickers += [t for t, _ in extra]
        dates += [d for _, d in extra]
        for k in values:
            values[k] = np.concatenate([values[k], np.full(len(extra), np.nan)])
    ticker = np.array(tickers, dtype=object)
    date = np.array(dates, dtype=np.int64)
    order = np.lexsort((date, ticker)) if len(ticker) else np.array([], dtype=np.int64)
    ticker, date = ticker[order], date[order]
    real = order < real_rows
    open_, close, volume, vwap = (values[k][order] for k in ("open", "close", "volume", "vwap"))
    n = len(ticker)
    index = np.arange(n)
    # the last real row before each row, when it is of the same ticker
    last_real = np.maximum.accumulate(np.where(real, index, -1)) if n else index
    prev = np.concatenate([[-1], last_real[:-1]]) if n else index
    has_prev = (prev >= 0) & (ticker[np.maximum(prev, 0)] == ticker)
    expected = np.array([_previous_trading_ordinal(int(d)) for d in date], dtype=np.int64)
    adjacent = has_prev & (date[np.maximum(prev, 0)] == expected)
    factor = _split_factors(ticker, date, expected, splits)
    prev_raw = np.full(n, np.nan)
    prev_raw[adjacent] = close[prev[adjacent]]
    prev_close = prev_raw * factor
    status = np.full(n, "ok", dtype=object)
    status[~has_prev] = "first_day"
    status[has_prev & ~adjacent] = "prev_day_missing"
    status[adjacent & ~(np.isfinite(prev_close) & (prev_close > 0))] = "bad_close"
    own = _ratio(close, prev_close)  # each day's own move: the next day's prior move
    prior = np.full(n, np.nan)
    prior[adjacent] = own[prev[adjacent]]
    price_ratio = _ratio(open_, prev_close)
    share_ratio = np.full(n, np.nan)
    dollar_ratio = np.full(n, np.nan)
    share_ratio[adjacent] = _ratio(volume[adjacent] * factor[adjacent], volume[prev[adjacent]])
    dollars = volume * vwap
    dollar_ratio[adjacent] = _ratio(dollars[adjacent], dollars[prev[adjacent]])
    split_ratio = np.full(n, "", dtype=object)
    split_reason = np.full(n, "", dtype=object)
    for i in np.flatnonzero((status == "ok") & np.isfinite(price_ratio)):
        verdict = judge_split(float(price_ratio[i]), float(share_ratio[i]), float(dollar_ratio[i]), float(prior[i]))
        if verdict.candidate:
            split_ratio[i], split_reason[i] = verdict.ratio, verdict.reason
            if verdict.suspect:
                status[i] = "split_suspect"
    keep = np.ones(n, dtype=bool) if keep_days is None else np.isin(date, [d.toordinal() for d in keep_days])
    return CloseTable(
        ticker=ticker[keep],
        date=_dates(date[keep]),
        prev_date=_dates(expected[keep]),
        prev_close_raw=prev_raw[keep],
        split_factor=factor[keep],
        prev_close=prev_close[keep],
        status=status[keep],
        price_ratio=price_ratio[keep],
        share_volume_ratio=share_ratio[keep],
        dollar_volume_ratio=dollar_ratio[keep],
        prior_move=prior[keep],
        split_ratio=split_ratio[keep],
        split_reason=split_reason[keep],
    )


def _dates(ordinals: np.ndarray) -> np.ndarray:
    return np.array([dt.date.fromordinal(int(d)) for d in ordinals], dtype=object)


def _split_factors(ticker: np.ndarray, date: np.ndarray, expected: np.ndarray, splits: pa.Table) -> np.ndarray:
    """Per row: the product of ``split_from / split_to`` of the ticker's splits executed after the previous
    trading day and on or before the row's day."""
    factor = np.ones(len(ticker))
    if not splits.num_rows:
        return factor
    by_ticker: dict[str, list[tuple[int, float]]] = {}
    rows = splits.select(["ticker", "execution_date", "split_from", "split_to"]).to_pydict()
    for t, executed, split_from, split_to in zip(
        rows["ticker"], rows["execution_date"], rows["split_from"], rows["split_to"]
    ):
        by_ticker.setdefault(t, []).append((executed.toordinal(), split_from / split_to))
    for i in np.flatnonzero(np.isin(ticker, list(by_ticker))):
        for executed, ratio in by_ticker[ticker[i]]:
            if expected[i] < executed <= date[i]:
                factor[i] *= ratio
    return factor


@dataclass(frozen=True)
class DayCloses:
    """The previous closes of one day (:func:`day_closes`): usable ones, and why the others are not."""

    day: dt.date
    closes: dict[str, float]
    missing: dict[str, CloseStatus]
    """Ticker -> status of every asked ticker without a usable close (``first_day`` also for a ticker the
    lake has no daily bar of at all)."""

    def summary(self) -> str:
        """One line: how many closes are known, and why the others are not."""
        counts: dict[str, int] = {}
        for status in self.missing.values():
            counts[status] = counts.get(status, 0) + 1
        why = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items()))
        total = len(self.closes) + len(self.missing)
        text = f"previous closes on {self.day}: {len(self.closes)} of {total} symbols"
        return f"{text}; none for {why} (their cross rule stays off)" if why else text


def day_closes(layout: LakeLayout, day: dt.date, tickers: list[str] | None = None) -> DayCloses:
    """The previous closes of ``tickers`` (default: every ticker of the daily table) on ``day``
    (:func:`close_table` restricted to the day). Needs pyarrow; none known when the lake has no daily table.
    """
    from sigma9_runtime.lake.tables import read_daily, read_splits

    asked = list(tickers) if tickers is not None else None
    if not layout.daily.exists():
        return DayCloses(day, {}, dict.fromkeys(asked or [], "first_day"))
    table = close_table(read_daily(layout, asked), read_splits(layout), add_days=[day], keep_days=[day])
    closes: dict[str, float] = {}
    missing: dict[str, CloseStatus] = {}
    for ticker, status, prev_close in zip(table.ticker, table.status, table.prev_close):
        if status == "ok":
            closes[ticker] = float(prev_close)
        else:
            missing[ticker] = status
    for ticker in asked or []:
        if ticker not in closes and ticker not in missing:
            missing[ticker] = "first_day"
    return DayCloses(day, closes, missing)


def previous_closes(layout: LakeLayout, day: dt.date, tickers: list[str] | None = None) -> dict[str, float]:
    """The usable previous closes of ``tickers`` (default: all) on ``day``: the runtime cross rule's
    (:func:`day_closes`)."""
    return day_closes(layout, day, tickers).closes
