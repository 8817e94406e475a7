"""The whole evaluation on the tiny synthetic lake: a model that knows the future beats both baselines."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sigma9_dag.evaluation import LakePrices, attach_tradeability, evaluate_oos, load_events
from sigma9_runtime.calendar import session_bounds, session_date
from sigma9_runtime.contracts import load_backtest_run_config
from sigma9_runtime.contracts.artifact_manifest import Metrics, PerformanceOOS
from sigma9_runtime.errors import DataError
from sigma9_runtime.lake.layout import LakeLayout
from tests.stubs import SHIPPED_RUN_CONFIG, feature_spec

S = 1_000_000_000
M = 60 * S
# The synthetic market trades far less than $200k a minute; the gate is lowered to let its names through.
SPEC = feature_spec(
    **{"runtime_gates.tradeability.min_dollar_volume_1m": 100.0, "runtime_gates.tradeability.max_spread_pct": 3.0}
)


@pytest.fixture(scope="module")
def candidates(synthetic_lake: LakeLayout) -> pd.DataFrame:
    """Every minute of the regular session of three event days, all tickers; the 'model' scores 0.9
    in the 12 minutes before a T0 and below 0.7 elsewhere; the heuristic scores at random."""
    events = load_events(synthetic_lake)
    days = sorted({session_date(t) for t in events["t0_ns"].tolist()})[:3]
    tickers = synthetic_lake.bar_tickers("1s")
    rng = np.random.default_rng(0)
    frames = []
    for day in days:
        start, end = session_bounds(day).regular
        times = np.arange(start + M, end, M)
        for ticker in tickers:
            score = rng.uniform(0, 0.7, times.size)
            for t0 in events.loc[events["symbol"] == ticker, "t0_ns"].tolist():
                score[(times >= t0 - 12 * M) & (times < t0)] = 0.9
            frames.append(pd.DataFrame({"symbol": ticker, "ts_ns": times, "score": score}))
    frame = pd.concat(frames, ignore_index=True)
    frame["seismograph_score"] = rng.random(len(frame))
    return attach_tradeability(frame, LakePrices(synthetic_lake))


def test_evaluation_returns_manifest_shaped_metrics_for_the_model_and_both_baselines(
    synthetic_lake: LakeLayout, candidates: pd.DataFrame
) -> None:
    run = load_backtest_run_config(SHIPPED_RUN_CONFIG)
    got = evaluate_oos(candidates, spec=SPEC, run_config=run, thresholds=0.72, prices=synthetic_lake)
    assert set(got) == {"metrics", "baselines"}
    assert set(got["baselines"]) == {"seismograph_only", "random_budget_matched"}
    performance = PerformanceOOS(
        split={"train_end": dt.date(2025, 1, 1), "test_start": dt.date(2025, 1, 2), "test_end": dt.date(2025, 3, 1)},
        alert_budget={"max_alerts_per_day": 60},
        **got,
    )
    model = performance.metrics
    assert model.precision_at_budget == 1.0  # it only fires before a T0
    assert 0 < model.median_lead_time_min <= 15
    assert model.utility_score > 0
    for name in ("seismograph_only", "random_budget_matched"):
        baseline: Metrics = performance.baselines[name]
        assert baseline.precision_at_budget is not None and baseline.precision_at_budget < model.precision_at_budget
    # Determinism: the same inputs give the same numbers, the random baseline included.
    assert evaluate_oos(candidates, spec=SPEC, run_config=run, thresholds=0.72, prices=synthetic_lake) == got


def test_seismograph_baseline_needs_its_score_column(synthetic_lake: LakeLayout, candidates: pd.DataFrame) -> None:
    run = load_backtest_run_config(SHIPPED_RUN_CONFIG)
    with pytest.raises(DataError, match="seismograph_score"):
        evaluate_oos(
            candidates.drop(columns=["seismograph_score"]),
            spec=SPEC,
            run_config=run,
            thresholds=0.72,
            prices=synthetic_lake,
        )
