"""What followed each alert: was it a hit (and how early), and what did trading it return after costs.

Definitions (``docs/metrics.md``):

* **hit**: the alert's symbol has an event whose T0 falls in ``(t, t + horizon]`` (strictly after the
  alert time ``t``, at most the horizon later). An alert after the day's T0 is not a hit.
* **lead time** of a hit alert: ``T0 - t`` in minutes. An event's lead time is that of its *first* hit alert.
* **actionable hit**: a hit early enough to act on, ``actionable_min <= T0 - t <= horizon`` (the run's
  ``evaluation.lead_time`` target band, 5-15 minutes by default).
* **trade**: buy ``notional_usd`` at the fill of an order sent at ``t + feed latency + order latency``;
  sell at the fill of an order sent at ``t + horizon + order latency``, or at the day's last 1-second close
  when no bar comes after that. Fills per :class:`~sigma9_dag.evaluation.settings.EvaluationSettings`.
* **net return** = ``exit / entry - 1 - 2 * slippage - 2 * commission / notional`` with, per side,
  ``slippage = spread_mult * spread_pct / 100 / 2 + fixed_bps / 10_000`` (the alert's spread estimate) and
  ``commission = max(commission_min, commission_per_share * notional / entry)``. NaN when the entry does
  not fill (no bar after the alert that day).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sigma9_dag.evaluation.candidates import normalize_events
from sigma9_dag.evaluation.prices import LakePrices
from sigma9_dag.evaluation.settings import EvaluationSettings
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.units import MINUTE_NS

OUTCOME_COLUMNS: tuple[str, ...] = (
    "hit",
    "actionable",
    "t0_ns",
    "lead_min",
    "entry_ts_ns",
    "entry_price",
    "exit_ts_ns",
    "exit_price",
    "gross_return",
    "cost",
    "net_return",
)
"""Columns :func:`alert_outcomes` adds to an alerts frame."""


def load_events(layout: LakeLayout) -> pd.DataFrame:
    """The lake's events as the lab finds them (:func:`sigma9_dag.lake.events.lake_events`, cached: T0 at the finest
    resolution the lake holds), never a synthetic lake's ground truth (a minute-bar copy of a synthetic
    lake must be judged by what its minute bars show)."""
    from sigma9_dag.lake.events import lake_events

    return normalize_events(lake_events(layout).events)


def label_hits(alerts: pd.DataFrame, events: pd.DataFrame, horizon_ns: int, actionable_ns: int = 0) -> pd.DataFrame:
    """``alerts`` with ``hit``, ``actionable`` (a hit at least ``actionable_ns`` before its T0), ``t0_ns`` (-1 when
    no hit) and ``lead_min`` (NaN when no hit)."""
    events = normalize_events(events)
    out = alerts.reset_index(drop=True).copy()
    ts = out["ts_ns"].to_numpy(np.int64)
    t0 = np.full(len(out), -1, np.int64)
    by_symbol = {s: g.to_numpy() for s, g in events.groupby("symbol")["t0_ns"]}
    for symbol, rows in out.groupby("symbol").indices.items():
        times = by_symbol.get(symbol)
        if times is None or not times.size:
            continue
        after = np.searchsorted(times, ts[rows], side="right")  # first T0 strictly after t
        found = after < times.size
        candidate = times[np.minimum(after, times.size - 1)]
        ok = found & (candidate - ts[rows] <= horizon_ns)
        t0[rows[ok]] = candidate[ok]
    hit = t0 >= 0
    out["hit"] = hit
    out["actionable"] = hit & (t0 - ts >= actionable_ns)
    out["t0_ns"] = t0
    out["lead_min"] = np.where(hit, (t0 - ts) / MINUTE_NS, np.nan)
    return out


def trade_returns(alerts: pd.DataFrame, prices: LakePrices, settings: EvaluationSettings) -> pd.DataFrame:
    """``alerts`` (symbol, ts_ns, spread_pct) with entry/exit fills, gross return, cost and net return."""
    out = alerts.reset_index(drop=True).copy()
    n = len(out)
    ts = out["ts_ns"].to_numpy(np.int64)
    columns = {
        "entry_ts_ns": np.full(n, -1, np.int64),
        "entry_price": np.full(n, np.nan),
        "exit_ts_ns": np.full(n, -1, np.int64),
        "exit_price": np.full(n, np.nan),
    }
    entry_delay = (settings.feed_latency_ms + settings.order_latency_ms) * 1_000_000
    exit_delay = settings.horizon_ns + settings.order_latency_ms * 1_000_000
    conservative = settings.fill_model == "conservative"
    for (symbol, day), rows in prices.by_symbol_day(out["symbol"].to_numpy(), ts):
        entry = prices.fills(symbol, day, ts[rows] + entry_delay, side="buy", conservative=conservative)
        exit_order = np.maximum(ts[rows] + exit_delay, entry.ts_ns)
        exit_ = prices.fills(symbol, day, exit_order, side="sell", conservative=conservative)
        last_ts, last_close = prices.last_close(symbol, day)
        late = (exit_.ts_ns < 0) & (entry.ts_ns >= 0)  # no bar after the exit time: out at the day's last close
        columns["entry_ts_ns"][rows] = entry.ts_ns
        columns["entry_price"][rows] = entry.price
        columns["exit_ts_ns"][rows] = np.where(late, last_ts, np.where(entry.ts_ns >= 0, exit_.ts_ns, -1))
        columns["exit_price"][rows] = np.where(late, last_close, np.where(entry.ts_ns >= 0, exit_.price, np.nan))
    for name, values in columns.items():
        out[name] = values
    entry_price = out["entry_price"].to_numpy()
    slippage = settings.spread_mult * out["spread_pct"].to_numpy() / 100.0 / 2.0 + settings.fixed_bps / 10_000.0
    shares = settings.notional_usd / entry_price
    commission = np.maximum(settings.commission_min, settings.commission_per_share * shares)
    out["gross_return"] = out["exit_price"].to_numpy() / entry_price - 1.0
    out["cost"] = 2.0 * slippage + 2.0 * commission / settings.notional_usd
    out["net_return"] = out["gross_return"] - out["cost"]
    return out


def alert_outcomes(
    alerts: pd.DataFrame, events: pd.DataFrame, prices: LakePrices, settings: EvaluationSettings
) -> pd.DataFrame:
    """``alerts`` with every column of :data:`OUTCOME_COLUMNS`."""
    labelled = label_hits(alerts, events, settings.horizon_ns, settings.actionable_ns)
    return trade_returns(labelled, prices, settings)
