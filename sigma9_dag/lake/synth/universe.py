"""The synthetic universe: ticker symbols, per-ticker market parameters and daily history.

Every draw comes from a generator seeded by ``(seed, stream, ticker index, ...)``, so a ticker's
market does not depend on how many tickers or worker processes there are.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass

import numpy as np

UNIVERSE_STREAM = 0
HISTORY_STREAM = 1
DAY_STREAM = 2
PLAN_STREAM = 3


@dataclass(frozen=True)
class TickerProfile:
    """Market parameters of one synthetic ticker.

    Attributes
    ----------
    ticker
        Symbol (2-4 upper-case letters).
    index
        Position in the universe; part of every seed of this ticker.
    price
        Regular-session close of the trading day before the first intraday day.
    trades_per_day
        Expected eligible-and-not trades in a quiet regular session.
    spread_pct
        Quoted spread as a fraction of the mid price (regular session; wider outside).
    intraday_vol
        Stationary standard deviation of the intraday log-price excursion.
    size_median
        Median trade size in shares.
    """

    ticker: str
    index: int
    price: float
    trades_per_day: float
    spread_pct: float
    intraday_vol: float
    size_median: float


def _symbols(rng: np.random.Generator, count: int) -> list[str]:
    letters = np.array(list(string.ascii_uppercase))
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        length = int(rng.choice([3, 4, 4, 4]))
        symbol = "".join(rng.choice(letters, size=length))
        if symbol not in seen:
            seen.add(symbol)
            out.append(symbol)
    return out


def make_universe(seed: int, count: int) -> list[TickerProfile]:
    """``count`` small- and mid-cap tickers: price mostly $0.5-$30, liquidity 400-15,000 trades a day."""
    rng = np.random.default_rng([seed, UNIVERSE_STREAM])
    symbols = _symbols(rng, count)
    price = np.clip(rng.lognormal(np.log(4.0), 1.0, count), 0.4, 80.0)
    trades = np.clip(rng.lognormal(np.log(2000.0), 0.6, count), 400.0, 15_000.0)
    # Thin names trade wider: spread falls with liquidity and price.
    spread = np.clip(0.012 * (2000.0 / trades) ** 0.35 * (4.0 / price) ** 0.15, 0.002, 0.015)
    vol = rng.uniform(0.008, 0.016, count)
    size = np.clip(rng.lognormal(np.log(150.0), 0.4, count) * (4.0 / price) ** 0.3, 40.0, 2_000.0)
    return [
        TickerProfile(
            ticker=symbols[i],
            index=i,
            price=float(round_to_tick(np.array([price[i]]))[0]),
            trades_per_day=float(trades[i]),
            spread_pct=float(spread[i]),
            intraday_vol=float(vol[i]),
            size_median=float(size[i]),
        )
        for i in range(count)
    ]


def round_to_tick(price: np.ndarray) -> np.ndarray:
    """Round prices to the tick grid: $0.01 at or above $1, $0.0001 below (Reg NMS sub-penny rule)."""
    tick = np.where(price >= 1.0, 0.01, 0.0001)
    rounded = np.maximum(np.round(price / tick), 1.0) * tick
    return np.round(rounded, 4)


def daily_history(profile: TickerProfile, days: list[dt.date], seed: int) -> dict[str, list[object]]:
    """Daily bars of ``profile`` on ``days`` (oldest first), ending at ``profile.price`` on the last day.

    History days carry daily bars only (no trades): they exist so daily look-backs (60-day dollar
    volume, previous close of the first intraday day) have data.
    """
    rng = np.random.default_rng([seed, HISTORY_STREAM, profile.index])
    n = len(days)
    returns = rng.normal(0.0, 0.03, n)
    closes = np.empty(n)
    closes[-1] = profile.price
    for k in range(n - 1, 0, -1):
        closes[k - 1] = closes[k] / np.exp(returns[k])
    opens = closes * np.exp(rng.normal(0.0, 0.015, n))
    highs = np.maximum(opens, closes) * np.exp(np.abs(rng.normal(0.0, 0.012, n)))
    lows = np.minimum(opens, closes) * np.exp(-np.abs(rng.normal(0.0, 0.012, n)))
    opens, highs, lows, closes = (round_to_tick(a) for a in (opens, highs, lows, closes))
    closes[-1] = profile.price
    highs = np.maximum(highs, np.maximum(opens, closes))
    lows = np.minimum(lows, np.minimum(opens, closes))
    transactions = np.maximum(1, rng.poisson(profile.trades_per_day * 1.08, n))
    volume = np.round(transactions * profile.size_median * rng.lognormal(0.2, 0.2, n))
    vwap = np.round((highs + lows + closes) / 3.0, 6)
    return {
        "ticker": [profile.ticker] * n,
        "date": list(days),
        "open": opens.tolist(),
        "high": highs.tolist(),
        "low": lows.tolist(),
        "close": closes.tolist(),
        "volume": volume.tolist(),
        "vwap": vwap.tolist(),
        "transactions": transactions.astype(np.int64).tolist(),
    }
