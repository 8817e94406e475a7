"""The manifest's alert metrics from alert outcomes (definitions in ``docs/metrics.md``).

* ``precision_at_budget`` = hits / alerts (alerts already under the daily budget and cooldown);
  None without alerts.
* ``actionable_precision_at_budget`` = actionable hits / alerts, an actionable hit coming
  ``target_min <= T0 - t <= target_max`` before its event (column ``actionable``); None without alerts or
  without that column.
* ``median_lead_time_min`` = median over the events hit of (T0 - first hit alert of the event), minutes;
  None without hits.
* ``tail_loss_p95`` = 5th percentile (linear interpolation) of the alerts' net trade returns, a fraction
  of the notional (``-0.07`` = a 7% loss); the loss exceeded by only 5% of alerts. None without a filled
  trade.
* ``utility_score`` = sum of the alerts' net trade returns / number of evaluated days: the average daily
  profit of trading every alert with the same notional, in units of that notional (``1.42`` = 1.42 x
  notional a day). Hits earn their move into T0, misses pay their costs and drift, so hits, misses and the
  run's costs all enter it with no hand-set weight. 0.0 without alerts; None without evaluated days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sigma9_runtime.contracts.artifact_manifest import Metrics

TAIL_PERCENTILE = 5.0


def event_lead_times(outcomes: pd.DataFrame) -> pd.Series:
    """Lead time in minutes of each event hit, from its first hit alert (index: symbol, t0_ns)."""
    hits = outcomes[outcomes["hit"]]
    first = hits.groupby(["symbol", "t0_ns"])["ts_ns"].min()
    return (first.index.get_level_values("t0_ns") - first) / 60e9


def compute_metrics(outcomes: pd.DataFrame, days: int) -> Metrics:
    """Metrics of one alert stream (columns of :func:`~sigma9_dag.evaluation.outcomes.alert_outcomes`)
    over ``days`` evaluated session days."""
    alerts = len(outcomes)
    precision = float(outcomes["hit"].sum()) / alerts if alerts else None
    actionable = float(outcomes["actionable"].sum()) / alerts if alerts and "actionable" in outcomes else None
    leads = event_lead_times(outcomes) if alerts else pd.Series(dtype=float)
    returns = outcomes["net_return"].to_numpy(dtype=np.float64) if alerts else np.zeros(0)
    returns = returns[np.isfinite(returns)]
    return Metrics(
        precision_at_budget=precision,
        actionable_precision_at_budget=actionable,
        median_lead_time_min=float(np.median(leads.to_numpy())) if len(leads) else None,
        tail_loss_p95=float(np.percentile(returns, TAIL_PERCENTILE)) if returns.size else None,
        utility_score=float(returns.sum()) / days if days > 0 else None,
    )
