"""The verdict on a published artifact's quality targets, met or missed, with its figures."""

import math

from sigma9_dag.lab.checks import quality_verdicts


def _metrics(precision: float | None, actionable: float | None = None, lead: float | None = None) -> dict:
    return {
        "precision_at_budget": precision,
        "actionable_precision_at_budget": actionable,
        "median_lead_time_min": lead,
    }


def test_each_target_is_met_or_missed_with_its_ratio() -> None:
    performance = {
        "metrics": _metrics(0.30, 0.15, 9.8),
        "baselines": {"seismograph_only": _metrics(0.25, 0.05, 0.7), "random_budget_matched": _metrics(0.0, 0.0)},
    }
    got = {v.name: v for v in quality_verdicts(performance, (5.0, 15.0))}
    assert got["precision_vs_random"].passed and got["precision_vs_random"].figures["ratio"] == math.inf
    assert got["precision_vs_random"].description == "precision over random_budget_matched's: inf (target >= 3x) met"
    assert not got["precision_vs_seismograph"].passed  # 1.2x
    assert (
        got["precision_vs_seismograph"].description
        == "precision over seismograph_only's: 1.20x (target >= 1.5x) missed"
    )
    assert got["actionable_precision_vs_seismograph"].passed  # 3x
    assert got["lead_time_in_target"].passed
    assert got["lead_time_in_target"].description == "median lead time 9.8 min (target 5-15 min) met"


def test_an_undefined_figure_misses_its_target() -> None:
    performance = {"metrics": _metrics(None), "baselines": {"seismograph_only": _metrics(0.0, 0.0)}}
    got = {v.name: v for v in quality_verdicts(performance, (5.0, 15.0))}
    assert not any(v.passed for v in got.values())
    assert got["precision_vs_random"].figures["ratio"] is None
    assert got["lead_time_in_target"].description == "median lead time undefined (no hit) (target 5-15 min) missed"
