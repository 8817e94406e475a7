"""The manifest's metrics on a hand-made set of alert outcomes."""

import numpy as np
import pandas as pd
import pytest

from sigma9_dag.evaluation import compute_metrics
from sigma9_runtime.contracts.artifact_manifest import Metrics

M = 60_000_000_000


def outcomes(rows: list[tuple[str, int, bool, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["symbol", "ts_ns", "hit", "t0_ns", "net_return"])


def test_metrics_of_a_hand_made_case() -> None:
    t0_a, t0_b = 100 * M, 500 * M
    frame = outcomes(
        [
            ("AAA", 88 * M, True, t0_a, 0.10),  # first hit of A: lead 12
            ("AAA", 95 * M, True, t0_a, 0.06),  # later hit of A: does not set its lead
            ("BBB", 496 * M, True, t0_b, 0.02),  # B: lead 4
            ("CCC", 10 * M, False, -1, -0.01),
            ("DDD", 20 * M, False, -1, -0.03),
            ("EEE", 30 * M, False, -1, np.nan),  # no fill: no return
        ]
    )
    frame["actionable"] = frame["hit"] & ((frame["t0_ns"] - frame["ts_ns"]) >= 5 * M)  # leads 12 and 5, not 4
    got = compute_metrics(frame, days=2)
    assert got.precision_at_budget == pytest.approx(3 / 6)
    assert got.actionable_precision_at_budget == pytest.approx(2 / 6)
    assert got.median_lead_time_min == pytest.approx((12 + 4) / 2)
    returns = np.array([0.10, 0.06, 0.02, -0.01, -0.03])
    # 5th percentile, linear interpolation: position 0.05 * 4 = 0.2 between -0.03 and -0.01.
    assert got.tail_loss_p95 == pytest.approx(-0.03 + 0.2 * 0.02)
    assert got.tail_loss_p95 == pytest.approx(np.percentile(returns, 5))
    assert got.utility_score == pytest.approx(returns.sum() / 2)


def test_metrics_are_none_where_undefined() -> None:
    empty = compute_metrics(outcomes([]), days=3)
    assert empty == Metrics(precision_at_budget=None, median_lead_time_min=None, tail_loss_p95=None, utility_score=0.0)
    misses = compute_metrics(outcomes([("AAA", 0, False, -1, np.nan)]), days=0)
    assert misses.precision_at_budget == 0.0
    assert misses.median_lead_time_min is None and misses.tail_loss_p95 is None and misses.utility_score is None
    assert misses.actionable_precision_at_budget is None  # outcomes labelled without an actionable band
