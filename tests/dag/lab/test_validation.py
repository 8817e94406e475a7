"""Validation and distill helpers: threshold choice, candidates ending at the cross, blend weight, summaries."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sigma9_dag.lab.distill import cluster_ids, passes_threshold
from sigma9_dag.lab.summary import curve_table, manifest_table, performance_table, performance_text, precision_ratios
from sigma9_dag.lab.validation import (
    SweepPoint,
    before_cross,
    cross_known_ns,
    learned_samples,
    ml_weight_of,
    pick_threshold,
    quantile_thresholds,
)
from sigma9_runtime.contracts import load_backtest_run_config
from sigma9_runtime.contracts.artifact_manifest import Thresholds
from tests.stubs import SHIPPED_RUN_CONFIG

DAY = dt.date(2025, 3, 3)


def _point(threshold: float, per_day: float, precision: float | None, actionable: float | None = None) -> SweepPoint:
    return SweepPoint(threshold, int(per_day * 10), per_day, precision, actionable, None, 0, 0)


def test_the_threshold_is_the_most_precise_one_that_alerts_often_enough() -> None:
    points = [_point(0.9, 2.0, 0.9), _point(0.8, 6.0, 0.4), _point(0.7, 9.0, 0.4), _point(0.6, 20.0, 0.2)]
    assert pick_threshold(points, 5.0, "precision_at_budget").threshold == 0.7  # 0.9 too rare; ties: the lower
    assert pick_threshold(points, 50.0, "precision_at_budget").threshold == 0.6  # none enough: the one alerting most


def test_the_threshold_maximizes_actionable_precision_when_tuned_for_it() -> None:
    # 0.8 is the most precise, but most of its hits come in the last minutes; 0.7 hits earlier
    points = [_point(0.8, 6.0, 0.5, 0.1), _point(0.7, 9.0, 0.4, 0.3), _point(0.6, 20.0, 0.2, 0.15)]
    assert pick_threshold(points, 5.0, "precision_at_budget").threshold == 0.8
    assert pick_threshold(points, 5.0, "actionable_precision_at_budget").threshold == 0.7
    assert pick_threshold(points, 5.0).threshold == 0.7  # the default


def test_quantile_thresholds_are_distinct_and_highest_first() -> None:
    scores = np.r_[np.zeros(90), np.linspace(0.5, 1.0, 10), np.nan]
    grid = quantile_thresholds(scores, (0.99, 0.95, 0.5, 0.4))
    assert grid == sorted(set(grid), reverse=True) and len(grid) == 3
    assert quantile_thresholds(np.array([np.nan]), (0.5,)) == [1.0]


def test_candidates_end_when_the_bar_holding_the_cross_completes() -> None:
    second = 1_000_000_000
    t0 = 20 * second + 300_000_000  # the cross trade, inside second 20; known when that bar ends, at 21 s
    scan = pd.DataFrame(
        {
            "ticker": ["A", "A", "A", "A", "B"],
            "date": [DAY] * 5,
            "ts_ns": [19 * second, 20 * second, 21 * second, 22 * second, 30 * second],
        }
    )
    events = pd.DataFrame({"ticker": ["A"], "date": [DAY], "t0_ns": [t0]})
    kept = before_cross(scan, events)
    assert kept[["ticker", "ts_ns"]].values.tolist() == [["A", 19 * second], ["A", 20 * second], ["B", 30 * second]]


def test_a_minute_bar_runtime_knows_the_cross_at_the_end_of_the_minute_holding_it() -> None:
    second, minute = 1_000_000_000, 60_000_000_000
    trade_t0 = 10 * minute + 20 * second + 5  # a trade inside minute 10
    bar_t0 = 11 * minute  # the same cross read from 1-minute bars: the end of minute 10
    second_t0 = 10 * minute + 21 * second  # read from 1-second bars: the end of second 20 of minute 10
    known = cross_known_ns(
        np.array([trade_t0, bar_t0, second_t0, trade_t0, bar_t0]),
        np.array(["trade", "1m", "1s", "trade", "1m"]),
        minute,
    )
    assert known.tolist() == [11 * minute] * 3 + [11 * minute] * 2
    # a runtime on 1-second bars: the end of the second holding a trade, or T0 itself from a coarser lake
    assert cross_known_ns(np.array([trade_t0, bar_t0]), np.array(["trade", "1m"]), second).tolist() == [
        10 * minute + 21 * second,
        11 * minute,
    ]
    scan = pd.DataFrame({"ticker": ["A"] * 3, "date": [DAY] * 3, "ts_ns": [10 * minute, 11 * minute, 12 * minute]})
    events = pd.DataFrame({"ticker": ["A"], "date": [DAY], "t0_ns": [bar_t0], "t0_resolution": ["1m"]})
    assert before_cross(scan, events, minute)["ts_ns"].tolist() == [10 * minute]


def test_the_blend_weight_is_the_run_strategys() -> None:
    run = load_backtest_run_config(SHIPPED_RUN_CONFIG)
    assert ml_weight_of(run) == 1.0  # seismograph_ml without ml_weight: the model's score
    blended = run.model_copy(
        update={"strategy": run.strategy.model_copy(update={"params": {"use_ml_overlay": True, "ml_weight": 0.5}})}
    )
    assert ml_weight_of(blended) == 0.5
    off = run.model_copy(update={"strategy": run.strategy.model_copy(update={"params": {"use_ml_overlay": False}})})
    assert ml_weight_of(off) == 1.0


def test_a_candidate_meets_its_clusters_threshold() -> None:
    frame = pd.DataFrame({"score": [0.55, 0.55, 0.55], "cluster_id": ["C01", "C02", None]})
    thresholds = Thresholds(global_score_min=0.6, per_cluster_min={"C01": 0.5})
    assert passes_threshold(frame, thresholds).tolist() == [True, False, False]
    assert cluster_ids([-1, 0, 1]) == {-1: None, 0: "C01", 1: "C02"}


def test_the_summary_shows_the_model_beside_its_baselines() -> None:
    metrics = {"precision_at_budget": 0.3, "median_lead_time_min": 8.0, "tail_loss_p95": -0.05, "utility_score": 0.2}
    performance = {
        "metrics": metrics,
        "baselines": {
            "seismograph_only": {**metrics, "precision_at_budget": 0.2},
            "random_budget_matched": {**metrics, "precision_at_budget": 0.0},
        },
    }
    ratios = precision_ratios(performance)
    assert ratios["seismograph_only"] == pytest.approx(1.5) and ratios["random_budget_matched"] == float("inf")
    nothing = {"metrics": {**metrics, "precision_at_budget": 0.0}, "baselines": performance["baselines"]}
    assert precision_ratios(nothing)["random_budget_matched"] is None
    assert "| precision_at_budget | 0.300 | 0.200 | 0.000 |" in performance_table(performance)
    assert "1.500x" in performance_text(performance)


def test_the_scorer_learns_positives_of_the_lead_band_and_earlier_pre_window_rows_as_negatives() -> None:
    minute = 60_000_000_000
    t0 = 100 * minute
    samples = pd.DataFrame(
        {
            "ts_ns": [t0 - 30 * minute, t0 - 15 * minute, t0 - 10 * minute, t0 - 5 * minute, t0 - 4 * minute, 0],
            "t_ref_ns": [t0] * 5 + [t0],
            "label": [1, 1, 1, 1, 1, 0],
        }
    )
    kept = learned_samples(samples, (5.0, 15.0))
    assert kept.index.tolist() == [0, 1, 2, 3, 5]  # 4 min ahead is a hit too late to act on: left out
    assert kept["label"].tolist() == [0, 1, 1, 1, 0]  # 30 min ahead is no hit: a negative
    assert learned_samples(samples, None).equals(samples)


def test_the_curve_table_lists_each_stream_at_the_models_thresholds() -> None:
    model = [_point(0.8, 6.0, 0.5, 0.25).as_dict(), _point(0.6, 20.0, 0.2, 0.1).as_dict()]
    heuristic = [_point(0.8, 6.0, 0.4, 0.05).as_dict(), _point(0.6, 20.0, 0.25, None).as_dict()]
    table = curve_table({"model": model, "seismograph_only": heuristic})
    assert table.splitlines()[2:] == [
        "| 0.800 | 6.0 | 0.500 / 0.250 | 0.400 / 0.050 |",
        "| 0.600 | 20.0 | 0.200 / 0.100 | 0.250 / — |",
    ]


def test_the_manifest_table_shows_ids_thresholds_tuning_and_payload_digests() -> None:
    from sigma9_runtime.contracts import ArtifactManifest, parse_contract
    from tests.stubs import artifact_manifest_document

    document = artifact_manifest_document()
    document["artifact_manifest"]["model"]["threshold_tuning"] = {
        "metric": "actionable_precision_at_budget",
        "purge_days": 1,
        "embargo_days": 1,
        "folds": [
            {
                "train_start": "2025-02-03",
                "train_end": "2025-03-12",
                "train_days": 27,
                "validation_start": "2025-03-17",
                "validation_end": "2025-03-20",
                "validation_days": 4,
            }
        ],
    }
    manifest = parse_contract(ArtifactManifest, document)
    text = manifest_table(manifest)
    assert f"| artifact | `{manifest.id}`" in text
    assert f"`{manifest.feature_spec_ref.schema_hash}`" in text
    assert f"| global threshold | {manifest.model.thresholds.global_score_min:.4f} |" in text
    assert "train 2025-02-03..2025-03-12 (27 d) → 2025-03-17..2025-03-20" in text
    assert all(f"| payload `{f.name}` | sha256 `{f.sha256[:16]}…` |" in text for f in manifest.payload.files)
