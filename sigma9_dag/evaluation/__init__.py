"""The lab's alert evaluation (``docs/metrics.md``): candidates through the runtime's gate in time order,
hits and lead times against the lake's events, trade returns after the run's costs, the manifest's
metrics, and the ``seismograph_only`` and ``random_budget_matched`` baselines.

Entry point: :func:`~sigma9_dag.evaluation.evaluate.evaluate_oos`.
"""

from sigma9_dag.evaluation.baselines import match_alert_count, random_alerts
from sigma9_dag.evaluation.candidates import check_candidates, ny_dates, processing_order
from sigma9_dag.evaluation.evaluate import BASELINES, AlertRun, OOSEvaluation, evaluate_oos, run_evaluation
from sigma9_dag.evaluation.metrics import compute_metrics
from sigma9_dag.evaluation.outcomes import alert_outcomes, label_hits, load_events, trade_returns
from sigma9_dag.evaluation.prices import LakePrices, attach_tradeability
from sigma9_dag.evaluation.settings import EvaluationSettings
from sigma9_dag.evaluation.simulate import AlertSimulation, simulate_alerts

__all__ = [
    "BASELINES",
    "AlertRun",
    "AlertSimulation",
    "EvaluationSettings",
    "LakePrices",
    "OOSEvaluation",
    "alert_outcomes",
    "attach_tradeability",
    "check_candidates",
    "compute_metrics",
    "evaluate_oos",
    "label_hits",
    "load_events",
    "match_alert_count",
    "ny_dates",
    "processing_order",
    "random_alerts",
    "run_evaluation",
    "simulate_alerts",
    "trade_returns",
]
