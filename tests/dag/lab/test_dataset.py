"""Dataset stage: date split with purge, sampling rules, point-in-time features on a synthetic lake."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigma9_dag.features.batch import day_bars, day_warmup, ticker_bars
from sigma9_dag.features.offline import symbol_day_features
from sigma9_dag.lab.dataset import (
    Dataset,
    DatasetSettings,
    build_dataset,
    days_needed,
    draw_samples,
    split_dates,
)
from sigma9_runtime.calendar import trading_days
from sigma9_runtime.contracts.io import load_feature_spec
from sigma9_runtime.errors import DataError
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.stats_store import FeatureStatsStore

SPEC = load_feature_spec(Path(__file__).parents[3] / "feature_specs" / "FS_2026-01-16_001.yaml")
DAYS = trading_days(dt.date(2025, 1, 2), dt.date(2025, 3, 31))
SMALL = DatasetSettings(warmup_days=8, scan_every_s=300, seed=3)


def test_split_keeps_date_order_and_purges_between_parts() -> None:
    split = split_dates(DAYS, DatasetSettings(warmup_days=10, purge_days=2))
    parts = [split.part[d] for d in sorted(DAYS)]
    order = [p for i, p in enumerate(parts) if i == 0 or p != parts[i - 1]]
    assert order == ["warmup", "train", "purged", "validation", "purged", "test"]
    assert parts.count("purged") == 4
    assert split.bounds("train")[1] < split.bounds("validation")[0] < split.bounds("test")[0]


def test_split_refuses_too_few_days() -> None:
    with pytest.raises(DataError, match="none to train on"):
        split_dates(DAYS[:25], DatasetSettings(warmup_days=20))


def test_split_refusal_says_which_days_count_and_how_many_it_needs() -> None:
    note = "3 of 126 lake days are usable for FS_x (the days holding trades, which its tick source reads)"
    with pytest.raises(DataError) as refused:
        split_dates(DAYS[:3], DatasetSettings(), usable=note)
    assert str(refused.value) == (
        f"date split: {note}; these 3 leave none to train on after 20 warm-up days, 1 validation, 1 test and "
        "2 x 1 purge days (the split needs at least 26 days)"
    )
    assert days_needed(DatasetSettings()) == 26
    split_dates(DAYS[:26], DatasetSettings())  # exactly enough
    with pytest.raises(DataError, match="at least 26 days"):
        split_dates(DAYS[:25], DatasetSettings())


def test_settings_refuse_a_pre_window_after_t0() -> None:
    with pytest.raises(ValueError, match="pre_window_min"):
        DatasetSettings(pre_window_min=(-30, 5))


def _events(rows: list[tuple[str, dt.date, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["ticker", "date", "t0_ns"])


def test_samples_follow_the_pre_window_and_never_cross_parts() -> None:
    split = split_dates(DAYS, DatasetSettings(warmup_days=10))
    train_day, test_day = split.days("train")[3], split.days("test")[2]
    t0 = {d: int(pd.Timestamp(f"{d} 11:00", tz="America/New_York").value) for d in (train_day, test_day)}
    events = _events([("AAA", train_day, t0[train_day]), ("BBB", test_day, t0[test_day])])
    misses = pd.DataFrame(
        [("CCC", train_day, t0[train_day] + 600 * 10**9, 1.0, 0.06)],
        columns=["ticker", "date", "peak_ns", "prev_close", "peak_pct"],
    )
    samples = draw_samples(events, misses, ["AAA", "BBB", "CCC"], split, DatasetSettings(warmup_days=10))
    positives = samples[samples["label"] == 1]
    offsets = (positives["ts_ns"] - positives["t_ref_ns"]) / 60e9
    assert offsets.min() == -30 and offsets.max() == -5 and len(positives) == 2 * 26
    assert set(samples["kind"]) == {"positive", "hard_negative", "same_symbol_other_days", "time_of_day_matched"}
    for part, group in samples.groupby("part"):
        assert all(split.part[d] == part for d in group["date"])
    negatives = samples[samples["label"] == 0]
    event_days = {("AAA", train_day), ("BBB", test_day)}
    assert not any((t, d) in event_days for t, d in zip(negatives["ticker"], negatives["date"], strict=True))
    same = negatives[negatives["kind"] == "same_symbol_other_days"]
    ref_days = pd.to_datetime(same["t_ref_ns"], utc=True).dt.tz_convert("America/New_York").dt.date
    assert (ref_days != same["date"]).all() and set(same["ticker"]) <= {"AAA", "BBB"}


@pytest.fixture(scope="module")
def built(synthetic_lake) -> Dataset:  # type: ignore[no-untyped-def]
    return build_dataset(synthetic_lake, SPEC, SMALL)


def test_dataset_on_a_synthetic_lake_has_every_part_and_kind(built: Dataset) -> None:
    samples = built.samples
    assert {"train", "validation", "test"} <= set(samples["part"])
    assert set(samples["kind"]) >= {"positive", "same_symbol_other_days", "time_of_day_matched"}
    assert (samples.loc[samples["label"] == 1, "archetype"] != "").all()
    assert list(samples.columns[-len(built.names) :]) == built.names
    assert (samples["step_ns"] <= samples["ts_ns"]).all()  # point in time
    assert set(built.scan["part"]) == {"validation", "test"}
    assert set(built.scan["date"]) == set(built.split.days("validation") + built.split.days("test"))


def test_sample_features_equal_the_offline_rows_at_their_step(synthetic_lake, built: Dataset) -> None:  # type: ignore[no-untyped-def]
    plan = FeaturePlan.from_spec(SPEC)
    store = FeatureStatsStore(synthetic_lake, plan)
    sample = built.samples[built.samples["label"] == 1].iloc[len(built.samples) % 7]
    ticker, day = sample["ticker"], sample["date"]
    tables = ticker_bars(synthetic_lake, ticker)
    warmup = day_warmup(plan, store, ticker, day, tables["1m"])
    steps, rows = symbol_day_features(
        synthetic_lake, plan, warmup, ticker, day, np.array([sample["step_ns"]]), day_bars(tables, day)
    )
    assert steps.tolist() == [sample["step_ns"]]
    assert np.array_equal(rows[0], sample[built.names].to_numpy(dtype=float), equal_nan=True)


def test_dataset_history_covers_the_sampled_days_and_says_none_is_nan(built: Dataset) -> None:
    history = built.history
    sampled = set(built.split.days("train") + built.split.days("validation") + built.split.days("test"))
    assert {r.day for r in history.rows} == sampled and len(history.rows) == 10 * len(sampled)
    # 8 warm-up days: every sampled day has at least 8 earlier days, short of the spec's 60 but never NaN
    assert not history.insufficient and len(history.short) == len(history.rows)
    assert min(r.normalization_have for r in history.rows) == 8
    values = built.samples[[n for n in built.names if not n.endswith(":missing")]]
    assert values.notna().to_numpy().any(axis=0).all()  # the report's "defined": every feature has values
