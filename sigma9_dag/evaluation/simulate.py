"""Alert simulation: candidates in time order through the runtime's :class:`~sigma9_runtime.gates.MLGate`.

The gate is the live one. For speed the stateless checks (threshold, dollar volume, spread) run over
every candidate at once (:meth:`MLGate.screen`) and only the survivors meet the stateful ones (cooldown,
budget) one by one (:meth:`MLGate.admit`); a runtime test proves this equal to deciding each candidate
in turn. Candidates are taken in :func:`~sigma9_dag.evaluation.candidates.processing_order`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sigma9_dag.evaluation.candidates import check_candidates, ny_dates, processing_order
from sigma9_runtime.contracts.artifact_manifest import Thresholds
from sigma9_runtime.gates import PASSED, REASONS, MLGate, Reason, threshold_for

ALERT_COLUMNS: tuple[str, ...] = (
    "symbol",
    "ts_ns",
    "day",
    "score",
    "threshold",
    "cluster_id",
    "dollar_volume_1m",
    "spread_pct",
)
"""Columns of an alerts frame (``day``: New York date, ``datetime64[D]``)."""


@dataclass(frozen=True)
class AlertSimulation:
    """What a simulation produced.

    Attributes
    ----------
    alerts
        One row per alert, in time order, columns :data:`ALERT_COLUMNS`.
    suppressed
        Suppressed candidates per reason (every reason present).
    candidates
        Candidates processed.
    """

    alerts: pd.DataFrame
    suppressed: dict[Reason, int]
    candidates: int


def row_thresholds(frame: pd.DataFrame, thresholds: Thresholds | float) -> np.ndarray:
    """Each candidate's threshold: its cluster's ``per_cluster_min``, else ``global_score_min``."""
    if not isinstance(thresholds, Thresholds) or not thresholds.per_cluster_min:
        return np.full(len(frame), threshold_for(thresholds))
    codes, uniques = pd.factorize(frame["cluster_id"], use_na_sentinel=True)
    table = np.array([threshold_for(thresholds, u) for u in uniques] + [threshold_for(thresholds, None)])
    return table[np.where(codes < 0, len(uniques), codes)]


def simulate_alerts(
    candidates: pd.DataFrame,
    thresholds: Thresholds | float,
    gate: MLGate,
    *,
    score_column: str = "score",
) -> AlertSimulation:
    """Run ``candidates`` through ``gate`` in time order (the gate is reset first).

    Parameters
    ----------
    candidates
        Columns per :mod:`sigma9_dag.evaluation.candidates`.
    thresholds
        One threshold, or a manifest's :class:`Thresholds` (per cluster, else global).
    gate
        The runtime gate (tradeability, cooldown, budget).
    score_column
        Column scored against the threshold (``seismograph_score`` for the heuristic).

    Examples
    --------
    >>> result = simulate_alerts(frame, 0.72, MLGate.from_feature_spec(spec))  # doctest: +SKIP
    >>> result.alerts[["symbol", "ts_ns"]], result.suppressed["cooldown"]  # doctest: +SKIP
    """
    frame = check_candidates(candidates)
    if score_column not in frame.columns:
        raise KeyError(f"candidates have no column {score_column!r}")
    # The stateless checks are per row, so they are screened in input order; only the rows that pass them
    # meet the stateful ones, in the gate's order (a stable order restricted to them: the same sequence).
    threshold_all = row_thresholds(frame, thresholds)
    gate.reset()
    codes = gate.screen(
        frame[score_column].to_numpy(),
        threshold_all,
        frame["dollar_volume_1m"].to_numpy(),
        frame["spread_pct"].to_numpy(),
    )
    for code, reason in enumerate(REASONS[:3]):  # the stateless reasons come first in REASONS
        gate.count_screened(reason, int(np.count_nonzero(codes == code)))
    survivors = np.flatnonzero(codes == PASSED)
    unordered = frame.iloc[survivors]
    order = processing_order(unordered, score_column)
    ordered = unordered.iloc[order].reset_index(drop=True)
    threshold = threshold_all[survivors][order]
    symbols = ordered["symbol"].to_numpy().tolist()
    times = ordered["ts_ns"].to_numpy().tolist()
    passed = [i for i, (symbol, ts) in enumerate(zip(symbols, times)) if gate.admit(symbol, ts) is None]
    alerts = ordered.iloc[passed]
    out = pd.DataFrame(
        {
            "symbol": alerts["symbol"].to_numpy(),
            "ts_ns": alerts["ts_ns"].to_numpy(),
            "day": ny_dates(alerts["ts_ns"].to_numpy()),
            "score": alerts[score_column].to_numpy(),
            "threshold": threshold[passed],
            "cluster_id": alerts["cluster_id"].to_numpy(),
            "dollar_volume_1m": alerts["dollar_volume_1m"].to_numpy(),
            "spread_pct": alerts["spread_pct"].to_numpy(),
        },
        columns=list(ALERT_COLUMNS),
    )
    return AlertSimulation(out, dict(gate.suppressed), len(frame))
