"""The lab's alert evaluation: candidates through the runtime's gate in time order."""

from sigma9_dag.evaluation.candidates import check_candidates, ny_dates, processing_order
from sigma9_dag.evaluation.simulate import AlertSimulation, simulate_alerts

__all__ = ["AlertSimulation", "check_candidates", "ny_dates", "processing_order", "simulate_alerts"]
