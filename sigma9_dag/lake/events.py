"""Surge events from the lake: split-adjusted previous close and the first cross of +anchor.

An event's T0 is the timestamp of the first **eligible** trade of a trading day (any session of
the calendar) whose price reaches ``prev_close * (1 + anchor)``, where ``prev_close`` is the
previous trading day's regular-session close, adjusted for splits executed since.

Splits: with a splits table (``reference/splits.parquet``), ``prev_close`` is multiplied by
``split_from / split_to`` of every split whose execution date falls after the previous day and on
or before the day (a 1-for-10 reverse split, ``split_from=10, split_to=1``, multiplies it by 10).
A day whose overnight move looks like an unrecorded split (see :func:`looks_like_split`) is
flagged, kept out of events and counted in the report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sigma9_runtime.lake.closes import (  # noqa: F401 (re-exported: the lab and the runtime share them)
    SPLIT_MAX_DOLLAR_VOLUME_RATIO,
    SPLIT_MIN_MOVE,
    SPLIT_RATIO_TOLERANCE,
    looks_like_split,
)
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import eligible_trades_mask, read_daily, read_splits, read_trades

DEFAULT_ANCHOR = 0.10


def previous_closes(daily: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Per (ticker, date): raw and split-adjusted previous close, the split factor and a split flag.

    Parameters
    ----------
    daily
        Daily bars (ticker, date, open, close, volume, vwap, ...).
    splits
        Splits table (ticker, execution_date, split_from, split_to); may be empty.

    Returns
    -------
    pandas.DataFrame
        Columns ticker, date, prev_date, prev_close_raw, split_factor, prev_close, split_suspect.
        ``split_suspect`` is True when no recorded split explains a split-like overnight move.
    """
    frame = (
        daily[["ticker", "date", "open", "close", "volume", "vwap"]]
        .sort_values(["ticker", "date"])
        .reset_index(drop=True)
    )
    dollar_volume = frame["volume"] * frame["vwap"]
    frame["prev_date"] = frame.groupby("ticker")["date"].shift(1)
    frame["prev_close_raw"] = frame.groupby("ticker")["close"].shift(1)
    factor = np.ones(len(frame))
    if len(splits):
        by_ticker = {t: g for t, g in splits.groupby("ticker")}
        for i, (ticker, day, prev_day) in enumerate(zip(frame["ticker"], frame["date"], frame["prev_date"])):
            group = by_ticker.get(ticker)
            if group is None or pd.isna(prev_day):
                continue
            hit = group[(group["execution_date"] > prev_day) & (group["execution_date"] <= day)]
            for split_from, split_to in zip(hit["split_from"], hit["split_to"]):
                factor[i] *= split_from / split_to
    frame["split_factor"] = factor
    frame["prev_close"] = frame["prev_close_raw"] * frame["split_factor"]
    price_ratio = (frame["open"] / frame["prev_close"]).to_numpy()
    volume_ratio = (dollar_volume / dollar_volume.groupby(frame["ticker"]).shift(1)).to_numpy()
    frame["split_suspect"] = [looks_like_split(p, v) for p, v in zip(price_ratio, volume_ratio)]
    return frame[["ticker", "date", "prev_date", "prev_close_raw", "split_factor", "prev_close", "split_suspect"]]


def first_cross(ts: np.ndarray, price: np.ndarray, threshold: float) -> int | None:
    """Index of the first price >= ``threshold`` (None when never reached)."""
    hits = np.flatnonzero(price >= threshold)
    return int(hits[0]) if hits.size else None


@dataclass
class EventScan:
    """Result of :func:`find_events`: events and what was left out."""

    events: pd.DataFrame
    near_misses: pd.DataFrame = field(default_factory=pd.DataFrame)
    split_flagged: list[tuple[str, dt.date]] = field(default_factory=list)
    no_prev_close: int = 0


def find_events(
    layout: LakeLayout,
    *,
    anchor: float = DEFAULT_ANCHOR,
    tickers: list[str] | None = None,
    days: list[dt.date] | None = None,
    near_miss_from: float | None = None,
) -> EventScan:
    """Find every event (first cross of ``prev_close * (1 + anchor)``) in the lake's trades.

    Returns an :class:`EventScan` whose ``events`` has columns ticker, date, t0_ns, prev_close,
    threshold, t0_price. With ``near_miss_from`` (a fraction below ``anchor``) it also lists the
    **near misses** — symbol-days without an event whose highest eligible trade reached
    ``prev_close * (1 + near_miss_from)`` — in ``near_misses`` (ticker, date, peak_ns,
    prev_close, peak_pct): the hard negatives of real data.
    """
    daily = read_daily(layout).to_pandas()
    splits = read_splits(layout).to_pandas()
    closes = previous_closes(daily, splits).set_index(["ticker", "date"])
    scan = EventScan(events=pd.DataFrame())
    rows, misses = [], []
    for ticker, day, _ in layout.trade_files():
        if (tickers is not None and ticker not in tickers) or (days is not None and day not in days):
            continue
        key = (ticker, day)
        if key not in closes.index or pd.isna(closes.at[key, "prev_close"]):
            scan.no_prev_close += 1
            continue
        if bool(closes.at[key, "split_suspect"]):
            scan.split_flagged.append(key)
            continue
        prev_close = float(closes.at[key, "prev_close"])
        trades = read_trades(layout, ticker, day)
        keep = eligible_trades_mask(trades)
        ts = trades.column("ts").to_numpy(zero_copy_only=False)[keep]
        price = trades.column("price").to_numpy(zero_copy_only=False)[keep]
        threshold = prev_close * (1 + anchor)
        index = first_cross(ts, price, threshold)
        if index is not None:
            rows.append((ticker, day, int(ts[index]), prev_close, threshold, float(price[index])))
        elif near_miss_from is not None and price.size:
            peak = int(np.argmax(price))
            if price[peak] >= prev_close * (1 + near_miss_from):
                misses.append((ticker, day, int(ts[peak]), prev_close, float(price[peak]) / prev_close - 1))
    scan.events = pd.DataFrame(rows, columns=["ticker", "date", "t0_ns", "prev_close", "threshold", "t0_price"])
    scan.near_misses = pd.DataFrame(misses, columns=["ticker", "date", "peak_ns", "prev_close", "peak_pct"])
    return scan
