"""Previous closes of a trading day from the lake: the reference of the +anchor cross, as the lab defines it.

A symbol's previous close on ``day`` is the close of its last daily bar before ``day``, multiplied by
``split_from / split_to`` of every split executed after that bar's date and on or before ``day``. When
the lake holds ``day``'s own daily bar, a day whose overnight move looks like an unrecorded split
(:func:`looks_like_split`) has no previous close: the lab keeps such days out of its events
(``sigma9_dag.lake.events.find_events``), so a runtime given these closes keeps them out of its cross
rule too. A test proves the values equal ``sigma9_dag.lake.events.previous_closes``.
"""

from __future__ import annotations

import datetime as dt
import math

from sigma9_runtime.lake.layout import LakeLayout

SPLIT_MIN_MOVE = 1.8
"""Overnight ratio (either way) from which a move is checked against split ratios."""
SPLIT_RATIO_TOLERANCE = 0.06
"""Relative distance to a split ratio (N or 1/N, N = 2..100) that makes a move split-like."""
SPLIT_MAX_DOLLAR_VOLUME_RATIO = 4.0
"""A split-like move must keep dollar volume within this factor of the previous day's."""


def looks_like_split(price_ratio: float, dollar_volume_ratio: float) -> bool:
    """Whether an overnight move looks like an unrecorded split.

    ``price_ratio`` is the day's open over the previous close; ``dollar_volume_ratio`` the day's
    dollar volume over the previous day's. Split-like: the price moved at least 1.8x either way to
    within 6% of N or 1/N (N = 2..100), while dollar volume stayed within 4x either way (a split
    changes the share count, not the money traded; a real surge multiplies dollar volume).
    """
    if not (math.isfinite(price_ratio) and price_ratio > 0):
        return False
    big = price_ratio if price_ratio >= 1 else 1 / price_ratio
    if big < SPLIT_MIN_MOVE:
        return False
    nearest = max(2, min(100, round(big)))
    if abs(big / nearest - 1) > SPLIT_RATIO_TOLERANCE:
        return False
    if not (math.isfinite(dollar_volume_ratio) and dollar_volume_ratio > 0):
        return True
    return 1 / SPLIT_MAX_DOLLAR_VOLUME_RATIO <= dollar_volume_ratio <= SPLIT_MAX_DOLLAR_VOLUME_RATIO


def previous_closes(layout: LakeLayout, day: dt.date, tickers: list[str] | None = None) -> dict[str, float]:
    """Split-adjusted previous close of each ticker (all, or ``tickers``) on ``day`` (module docstring).

    Tickers without a daily bar before ``day``, with a close that is not finite and positive, or whose
    day looks like an unrecorded split are left out (unknown: the cross rule never applies to them).
    Needs pyarrow; an empty dict when the lake has no daily table.
    """
    from sigma9_runtime.lake.tables import read_daily, read_splits

    if not layout.daily.exists():
        return {}
    daily = read_daily(layout, tickers).to_pydict()
    splits = read_splits(layout).to_pydict()
    by_ticker: dict[str, list[tuple[float, float]]] = {}
    for ticker, executed, split_from, split_to in zip(
        splits["ticker"], splits["execution_date"], splits["split_from"], splits["split_to"]
    ):
        by_ticker.setdefault(ticker, []).append((executed, split_from / split_to))  # type: ignore[arg-type]
    last: dict[str, int] = {}  # the last row before day
    today: dict[str, int] = {}
    for i, (ticker, date) in enumerate(zip(daily["ticker"], daily["date"])):
        if date < day:
            j = last.get(ticker)
            if j is None or date > daily["date"][j]:
                last[ticker] = i
        elif date == day:
            today[ticker] = i
    out: dict[str, float] = {}
    for ticker, j in last.items():
        prev_date = daily["date"][j]
        factor = 1.0
        for executed, ratio in by_ticker.get(ticker, ()):
            if prev_date < executed <= day:  # type: ignore[operator]
                factor *= ratio
        close = daily["close"][j]
        if close is None:
            continue
        prev_close = close * factor
        if not (math.isfinite(prev_close) and prev_close > 0):
            continue
        i = today.get(ticker)
        if i is not None:
            price_ratio = _ratio(daily["open"][i], prev_close)
            volume_ratio = _ratio(_dollars(daily, i), _dollars(daily, j))
            if looks_like_split(price_ratio, volume_ratio):
                continue
        out[ticker] = prev_close
    return out


def _dollars(daily: dict[str, list], i: int) -> float:
    volume, vwap = daily["volume"][i], daily["vwap"][i]
    return math.nan if volume is None or vwap is None else volume * vwap


def _ratio(a: float | None, b: float | None) -> float:
    if a is None or b is None or b == 0 or a != a or b != b:
        return math.nan
    return a / b
