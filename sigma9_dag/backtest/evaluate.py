"""The backtest's alert metrics: the model's from its Nautilus trades, the baselines' from the same candidates.

Definitions are the evaluation's (``docs/metrics.md``), reused, never rewritten:

* **model**: the alerts the hosted plugin raised live through the MLGate, labelled by
  :func:`~sigma9_dag.evaluation.label_hits`; each alert's **net return** is its Nautilus round trip:
  ``(exit_px - entry_px) x shares - commissions`` over ``entry_px x shares`` (slippage is inside the fill
  prices); :func:`~sigma9_dag.evaluation.compute_metrics` turns them into the manifest's metrics.
* **model_lab_costs**: the same alerts traded by the evaluation's cost formula
  (:func:`~sigma9_dag.evaluation.alert_outcomes`), the like-for-like reference for the baselines.
* **seismograph_only** and **random_budget_matched**: the evaluation's baselines
  (:func:`~sigma9_dag.evaluation.match_alert_count`, :func:`~sigma9_dag.evaluation.simulate_alerts`,
  :func:`~sigma9_dag.evaluation.random_alerts`) over the candidate rows the strategy recorded in the same
  run (tradeability attached from the lake by the runtime's functions), matched to the model's alert count
  (in total, or per day), traded by the evaluation's cost formula.

Evaluated days are the scored days (a day without a candidate still counts in ``utility_score``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sigma9_dag.backtest.records import TradeRecord
from sigma9_dag.evaluation import (
    EvaluationSettings,
    LakePrices,
    alert_outcomes,
    attach_tradeability,
    compute_metrics,
    label_hits,
    match_alert_count,
    ny_dates,
    random_alerts,
    simulate_alerts,
)
from sigma9_dag.evaluation.simulate import ALERT_COLUMNS
from sigma9_runtime.contracts.artifact_manifest import Metrics
from sigma9_runtime.gates import MLGate

TRADE_COLUMNS: tuple[str, ...] = (
    "alert",
    "symbol",
    "alert_ts_ns",
    "shares",
    "entry_order_ts_ns",
    "entry_ts_ns",
    "entry_price",
    "entry_commission",
    "exit_order_ts_ns",
    "exit_ts_ns",
    "exit_price",
    "exit_commission",
    "pnl",
    "net_return",
)


@dataclass(frozen=True)
class StreamResult:
    """One alert stream: its alerts with outcomes and its metrics."""

    name: str
    alerts: pd.DataFrame
    metrics: Metrics
    threshold: float | None = None


def alerts_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The strategy's alerts as an alerts frame (columns of ``ALERT_COLUMNS``)."""
    frame = pd.DataFrame(rows, columns=[c for c in ALERT_COLUMNS if c != "day"])
    frame["ts_ns"] = frame["ts_ns"].astype(np.int64)
    frame.insert(2, "day", ny_dates(frame["ts_ns"].to_numpy()))
    return frame


def trades_frame(records: list[TradeRecord]) -> pd.DataFrame:
    """One row per alert's round trip, with its P&L after commissions and its net return."""
    base = [c for c in TRADE_COLUMNS if c not in ("pnl", "net_return")]
    frame = pd.DataFrame([{name: getattr(r, name) for name in base} for r in records], columns=base)
    filled = (frame["entry_ts_ns"] >= 0) & (frame["exit_ts_ns"] >= 0)
    gross = (frame["exit_price"] - frame["entry_price"]) * frame["shares"]
    pnl = gross - frame["entry_commission"] - frame["exit_commission"]
    frame["pnl"] = np.where(filled, pnl, np.nan)
    frame["net_return"] = np.where(filled, pnl / (frame["entry_price"] * frame["shares"]), np.nan)
    for column in ("alert", "alert_ts_ns", "entry_order_ts_ns", "entry_ts_ns", "exit_order_ts_ns", "exit_ts_ns"):
        frame[column] = frame[column].astype(np.int64)
    return frame


def model_stream(
    alerts: pd.DataFrame, trades: pd.DataFrame, events: pd.DataFrame, settings: EvaluationSettings, days: int
) -> StreamResult:
    """The model's alerts labelled (hits and actionable hits by ``settings``) and joined with their Nautilus
    trades."""
    labelled = label_hits(alerts, events, settings.horizon_ns, settings.actionable_ns)
    joined = labelled.join(
        trades.set_index("alert")[
            ["shares", "entry_ts_ns", "entry_price", "exit_ts_ns", "exit_price", "pnl", "net_return"]
        ]
    )
    if len(joined):
        joined["gross_return"] = joined["exit_price"] / joined["entry_price"] - 1.0
        joined["cost"] = joined["gross_return"] - joined["net_return"]
    else:
        joined["gross_return"] = pd.Series(dtype=float)
        joined["cost"] = pd.Series(dtype=float)
    return StreamResult("model", joined, compute_metrics(joined, days))


def candidates_frame(columns: dict[str, np.ndarray], prices: LakePrices) -> pd.DataFrame:
    """Recorded candidates with the lake's tradeability inputs attached."""
    frame = pd.DataFrame(columns)
    return attach_tradeability(frame, prices)


def baseline_streams(
    candidates: pd.DataFrame,
    model_alerts: pd.DataFrame,
    names: list[str],
    *,
    gate: MLGate,
    prices: LakePrices,
    events: pd.DataFrame,
    settings: EvaluationSettings,
    days: int,
) -> dict[str, StreamResult]:
    """The run's baselines over ``candidates``, matched to the model's alerts."""
    out: dict[str, StreamResult] = {}
    for name in names:
        if name == "seismograph_only":
            threshold = match_alert_count(candidates, len(model_alerts), gate, score_column="seismograph_score")
            alerts = simulate_alerts(candidates, threshold, gate, score_column="seismograph_score").alerts
        else:
            keys, counts = np.unique(ny_dates(model_alerts["ts_ns"].to_numpy()), return_counts=True)
            alerts = random_alerts(candidates, dict(zip(keys, counts.tolist())), gate, settings.seed)
            threshold = None
        outcomes = alert_outcomes(alerts, events, prices, settings)
        out[name] = StreamResult(name, outcomes, compute_metrics(outcomes, days), threshold)
    return out


def lab_cost_stream(
    alerts: pd.DataFrame, events: pd.DataFrame, prices: LakePrices, settings: EvaluationSettings, days: int
) -> StreamResult:
    """The model's alerts traded by the evaluation's cost formula."""
    outcomes = alert_outcomes(alerts, events, prices, settings)
    return StreamResult("model_lab_costs", outcomes, compute_metrics(outcomes, days))


def fold_metrics(stream: pd.DataFrame, days: tuple) -> Metrics:
    """Metrics of the alerts of ``stream`` that fall on ``days``."""
    wanted = np.array([np.datetime64(d, "D") for d in days])
    mask = np.isin(ny_dates(stream["ts_ns"].to_numpy()), wanted) if len(stream) else np.zeros(0, bool)
    return compute_metrics(stream[mask], len(days))
