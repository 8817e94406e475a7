"""The out-of-sample alert evaluation: the model and its baselines on the same candidates and days.

:func:`evaluate_oos` is the entry point of the lab's validation stage: it returns
``{"metrics": {...}, "baselines": {"seismograph_only": {...}, "random_budget_matched": {...}}}``, each
dict shaped like the manifest's :class:`~sigma9_runtime.contracts.artifact_manifest.Metrics`, so
``PerformanceOOS(split=..., alert_budget=..., **evaluate_oos(...))`` is a valid manifest section.
:func:`run_evaluation` gives the same with every alert and outcome (for reports and plots).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from sigma9_dag.evaluation.baselines import SEISMOGRAPH_COLUMN, match_alert_count, random_alerts
from sigma9_dag.evaluation.candidates import check_candidates, ny_dates
from sigma9_dag.evaluation.metrics import compute_metrics
from sigma9_dag.evaluation.outcomes import alert_outcomes, normalize_events
from sigma9_dag.evaluation.prices import LakePrices
from sigma9_dag.evaluation.settings import DEFAULT_NOTIONAL_USD, EvaluationSettings
from sigma9_dag.evaluation.simulate import simulate_alerts
from sigma9_runtime.contracts.artifact_manifest import Metrics, Thresholds
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import DataError
from sigma9_runtime.gates import MLGate, Reason
from sigma9_runtime.lake.layout import LakeLayout

BaselineName = Literal["seismograph_only", "random_budget_matched"]
BASELINES: tuple[BaselineName, ...] = ("seismograph_only", "random_budget_matched")


@dataclass(frozen=True)
class AlertRun:
    """One alert stream and what it earned.

    Attributes
    ----------
    name
        ``model`` or a baseline name.
    alerts
        Alerts with their outcomes (columns of the alerts frame and of ``OUTCOME_COLUMNS``).
    metrics
        The manifest's metrics of these alerts.
    threshold
        The global threshold used (the matched one for ``seismograph_only``; None for the random baseline).
    suppressed
        Suppressed candidates per reason (empty for the random baseline, which does not score).
    """

    name: str
    alerts: pd.DataFrame
    metrics: Metrics
    threshold: float | None
    suppressed: dict[Reason, int] = field(default_factory=dict)

    @property
    def events_hit(self) -> int:
        """Distinct events with at least one hit alert."""
        hits = self.alerts[self.alerts["hit"]]
        return int(hits[["symbol", "t0_ns"]].drop_duplicates().shape[0])

    @property
    def events_hit_actionable(self) -> int:
        """Distinct events with at least one actionable hit alert (5-15 minutes ahead by default)."""
        hits = self.alerts[self.alerts["actionable"]]
        return int(hits[["symbol", "t0_ns"]].drop_duplicates().shape[0])


@dataclass(frozen=True)
class OOSEvaluation:
    """The model and its baselines on the same candidates.

    Attributes
    ----------
    model
        The model's alert run.
    baselines
        Baseline runs by name.
    days
        New York days with at least one candidate (the ``utility_score`` denominator).
    events_in_scope
        Events on a (symbol, day) that has candidates: what a perfect alerter could catch.
    """

    model: AlertRun
    baselines: dict[str, AlertRun]
    days: int
    events_in_scope: int

    def performance(self) -> dict[str, Any]:
        """``{"metrics": ..., "baselines": {name: ...}}`` as plain dicts (the manifest's PerformanceOOS parts)."""
        return {
            "metrics": self.model.metrics.model_dump(),
            "baselines": {name: run.metrics.model_dump() for name, run in self.baselines.items()},
        }


def _events_in_scope(frame: pd.DataFrame, events: pd.DataFrame) -> int:
    if not len(events) or not len(frame):
        return 0
    scope = set(zip(frame["symbol"], ny_dates(frame["ts_ns"].to_numpy()).tolist()))
    return sum((s, d) in scope for s, d in zip(events["symbol"], ny_dates(events["t0_ns"].to_numpy()).tolist()))


def run_evaluation(
    candidates: pd.DataFrame,
    *,
    thresholds: Thresholds | float,
    gate: MLGate,
    prices: LakePrices | LakeLayout,
    settings: EvaluationSettings,
    events: pd.DataFrame | None = None,
    baselines: Sequence[BaselineName] = BASELINES,
    seismograph_threshold: float | None = None,
) -> OOSEvaluation:
    """Simulate the model's alerts and each baseline's, label them and compute their metrics.

    Parameters
    ----------
    candidates
        Scored rows (:mod:`sigma9_dag.evaluation.candidates`); ``seismograph_score`` is needed for the
        ``seismograph_only`` baseline.
    thresholds
        The model's thresholds (a manifest's :class:`Thresholds`, or one number).
    gate
        The runtime gate (tradeability, cooldown, budget); reset before each stream.
    prices
        The lake's prices (or its layout).
    settings
        Horizon, costs, fills and seed.
    events
        Events (ticker or symbol, t0_ns); default: the lake's, found once per ``prices`` (:func:`load_events`).
    baselines
        Baselines to run.
    seismograph_threshold
        Fixed threshold of the heuristic instead of the count-matched one.
    """
    prices = prices if isinstance(prices, LakePrices) else LakePrices(prices)
    frame = check_candidates(candidates)
    events = normalize_events(events) if events is not None else prices.events
    days = int(np.unique(ny_dates(frame["ts_ns"].to_numpy())).size)

    def finish(name: str, alerts: pd.DataFrame, threshold: float | None, suppressed: dict[Reason, int]) -> AlertRun:
        outcomes = alert_outcomes(alerts, events, prices, settings)
        return AlertRun(name, outcomes, compute_metrics(outcomes, days), threshold, suppressed)

    simulated = simulate_alerts(frame, thresholds, gate)
    global_threshold = thresholds.global_score_min if isinstance(thresholds, Thresholds) else float(thresholds)
    model = finish("model", simulated.alerts, global_threshold, simulated.suppressed)
    runs: dict[str, AlertRun] = {}
    for name in baselines:
        if name == "seismograph_only":
            if SEISMOGRAPH_COLUMN not in frame.columns:
                raise DataError(
                    f"candidates: the seismograph_only baseline needs column {SEISMOGRAPH_COLUMN!r} "
                    "(sigma9_runtime.strategies.seismograph.score(rows, feature_names(spec)))"
                )
            threshold = seismograph_threshold
            if threshold is None:
                threshold = match_alert_count(frame, len(model.alerts), gate, score_column=SEISMOGRAPH_COLUMN)
            heuristic = simulate_alerts(frame, threshold, gate, score_column=SEISMOGRAPH_COLUMN)
            runs[name] = finish(name, heuristic.alerts, threshold, heuristic.suppressed)
        elif name == "random_budget_matched":
            day_keys, counts = np.unique(ny_dates(model.alerts["ts_ns"].to_numpy()), return_counts=True)
            per_day = dict(zip(day_keys, counts.tolist()))
            runs[name] = finish(name, random_alerts(frame, per_day, gate, settings.seed), None, {})
        else:
            raise ValueError(f"unknown baseline {name!r} (known: {', '.join(BASELINES)})")
    return OOSEvaluation(model, runs, days, _events_in_scope(frame, events))


def evaluate_oos(
    candidates: pd.DataFrame,
    *,
    spec: FeatureSpec,
    run_config: BacktestRunConfig,
    thresholds: Thresholds | float,
    prices: LakePrices | LakeLayout,
    events: pd.DataFrame | None = None,
    horizon_min: float | None = None,
    notional_usd: float = DEFAULT_NOTIONAL_USD,
    seismograph_threshold: float | None = None,
) -> dict[str, Any]:
    """Metrics of the model and of the run's baselines, as ``{"metrics": {...}, "baselines": {...}}``.

    The gate is the spec's ``runtime_gates`` with the run's ``evaluation.alert_budget``; horizon, costs,
    latency, fill model and seed come from the run (:meth:`EvaluationSettings.from_run_config`); the
    baselines are the run's ``evaluation.baselines``.

    Examples
    --------
    >>> performance = evaluate_oos(candidates, spec=spec, run_config=run, thresholds=manifest.model.thresholds,
    ...                            prices=LakeLayout.from_run_config(run))  # doctest: +SKIP
    >>> performance["baselines"]["random_budget_matched"]["precision_at_budget"]  # doctest: +SKIP
    """
    return run_evaluation(
        candidates,
        thresholds=thresholds,
        gate=MLGate.from_feature_spec(spec, run_config),
        prices=prices,
        settings=EvaluationSettings.from_run_config(run_config, horizon_min=horizon_min, notional_usd=notional_usd),
        events=events,
        baselines=run_config.evaluation.baselines,
        seismograph_threshold=seismograph_threshold,
    ).performance()
