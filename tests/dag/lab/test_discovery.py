"""Discovery: events embedded by their pre-window trajectory, clusters, profiles, missing offsets, fallbacks."""

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sigma9_dag.lab.discovery import NOISE, DiscoverySettings, archetype_mix, discover, trajectories

DAY = dt.date(2025, 3, 3)
MINUTE = 60_000_000_000
MINUTES = np.arange(-30, -4)  # the dataset's positives: every minute from T0-30 to T0-5
NAMES = ["f.ramp", "f.noise"]


def _positives(paths: dict[str, np.ndarray], seed: int = 0) -> pd.DataFrame:
    """Positive rows of one event per trajectory: ``paths[archetype]`` is (events x minutes) of ``f.ramp``;
    ``f.noise`` is N(0, 0.5²) everywhere."""
    rng = np.random.default_rng(seed)
    frames = []
    for archetype, ramps in paths.items():
        for ramp in ramps:
            t0 = (len(frames) + 1) * 3_600 * 1_000_000_000
            frames.append(
                pd.DataFrame(
                    {
                        "ticker": f"T{len(frames):03d}",
                        "date": DAY,
                        "ts_ns": t0 + MINUTES * MINUTE,
                        "label": 1,
                        "kind": "positive",
                        "part": "train",
                        "t_ref_ns": t0,
                        "archetype": archetype,
                        "f.ramp": ramp,
                        "f.noise": rng.normal(0.0, 0.5, MINUTES.size),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _rising_and_falling(events: int = 30, seed: int = 0) -> pd.DataFrame:
    """Half the events ramp up from -2 to +2 over the pre-window, the other half are the same ramps run backwards:
    every row's value is drawn alike in both groups, only the order in time tells them apart."""
    rng = np.random.default_rng(seed)
    rising = np.linspace(-2.0, 2.0, MINUTES.size) + rng.normal(0.0, 0.25, (events, MINUTES.size))
    return _positives({"rising": rising, "falling": rising[:, ::-1].copy()}, seed)


SETTINGS = DiscoverySettings(min_cluster_fraction=0.3)
"""Two shapes of 30 events each: a cluster holds at least 18 (the default 10% would let UMAP's noise split one)."""


@pytest.fixture(scope="module")
def found():  # type: ignore[no-untyped-def]
    """(positives, discovery) of 60 rising and falling events with the default settings."""
    positives = _rising_and_falling()
    return positives, discover(positives, NAMES, SETTINGS)


def test_trajectories_separate_events_a_single_row_cannot_tell_apart(found) -> None:  # type: ignore[no-untyped-def]
    positives, result = found
    by_group = {
        a: np.sort(positives.loc[positives["archetype"] == a, "f.ramp"].to_numpy()) for a in ("rising", "falling")
    }
    assert np.array_equal(by_group["rising"], by_group["falling"])  # the same rows, only in another order in time
    assert len(result.events) == 60 and result.dropped == 0 and result.note is None
    assert result.ari is not None and result.ari >= 0.9
    assert result.ari_with_noise is not None and result.ari_with_noise >= 0.8 and result.noise_fraction <= 0.1
    mix = archetype_mix(result.events)
    clustered = mix.drop(index="noise", errors="ignore")
    assert (clustered.gt(0).sum(axis=1) == 1).all()  # every cluster holds one group


def test_trajectories_separate_events_no_single_offset_can_tell_apart() -> None:
    rng = np.random.default_rng(1)
    level = 2.0 + rng.normal(0.0, 0.25, (15, MINUTES.size))
    flip = np.where(MINUTES < -17, 1.0, -1.0)  # the reversing events change sign half-way
    persisting = np.vstack([level, -level])
    reversing = np.vstack([level * flip, -level * flip])
    positives = _positives({"persisting": persisting, "reversing": reversing})
    for minute in range(MINUTES.size):  # at every offset both groups hold the same values
        np.testing.assert_array_equal(np.sort(persisting[:, minute]), np.sort(reversing[:, minute]))
    result = discover(positives, NAMES, DiscoverySettings(min_cluster_fraction=0.2))
    mix = archetype_mix(result.events).drop(index="noise", errors="ignore")
    assert len(mix) >= 2 and (mix.gt(0).sum(axis=1) == 1).all()  # each cluster one group: up and down, either way
    assert set(mix.columns) == {"persisting", "reversing"} and result.noise_fraction <= 0.1


def test_profiles_name_the_feature_and_offset_that_set_a_cluster_apart(found) -> None:  # type: ignore[no-untyped-def]
    _, result = found
    rising = next(p for p in result.profiles if set(p["archetypes"]) == {"rising"})
    shift = rising["shift_sd"]
    assert shift["f.ramp@T0-5m"] > 0.8 and shift["f.ramp@T0-30m"] < -0.8 and abs(shift["f.noise@T0-10m"]) < 0.5
    for text in rising["distinctive"]:  # the ramp, at an offset, high late and low early
        match = re.fullmatch(r"f\.ramp at T0-(\d+)m (high|low) \(([+-]\d\.\d\d) sd\)", text)
        assert match, text
        minutes, side, sd = int(match[1]), match[2], float(match[3])
        assert side == ("high" if minutes <= 10 else "low") and sd == round(shift[f"f.ramp@T0-{minutes}m"], 2)


def test_every_positive_of_an_embedded_event_carries_its_events_cluster(found) -> None:  # type: ignore[no-untyped-def]
    positives, result = found
    assert len(result.members) == len(positives)  # every event embedded
    joined = result.members.merge(result.events, on=["ticker", "date", "t0_ns"], suffixes=("", "_event"))
    assert len(joined) == len(result.members)
    assert (joined["cluster"] == joined["cluster_event"]).all() and (joined["x"] == joined["x_event"]).all()
    assert not result.members.duplicated(["ticker", "date", "ts_ns"]).any()  # distill joins one to one


def test_discovery_is_deterministic_with_its_seed(found) -> None:  # type: ignore[no-untyped-def]
    positives, result = found
    again = discover(positives, NAMES, SETTINGS)
    pd.testing.assert_frame_equal(again.events, result.events)
    assert again.ari == result.ari


def test_events_missing_more_offsets_than_allowed_are_left_out_and_a_missing_offset_reads_zero() -> None:
    positives = _rising_and_falling(events=3)
    t0s = positives["t_ref_ns"].unique()
    rel = (positives["ts_ns"] - positives["t_ref_ns"]) // MINUTE
    late, early = positives["t_ref_ns"] == t0s[0], positives["t_ref_ns"] == t0s[1]
    kept = ~(late & (rel > -10)) & ~(early & (rel > -20))  # the first misses T0-5m; the second T0-10m and T0-5m
    positives, rel = positives[kept].copy(), rel[kept]
    positives.loc[positives["t_ref_ns"] == t0s[2], "f.noise"] = np.nan  # no value anywhere: 0
    built = trajectories(positives, NAMES, DiscoverySettings(max_missing_offsets=1))
    assert built.dropped == 1 and len(built.events) == 5
    assert t0s[1] not in set(built.events["t0_ns"])
    row = built.events.index[built.events["t0_ns"] == t0s[0]][0]
    assert built.events.loc[row, "offsets_found"] == 3
    columns = {c: i for i, c in enumerate(built.columns)}
    assert built.matrix[row, columns["f.ramp@T0-5m"]] == 0.0
    ramp = positives.loc[(positives["t_ref_ns"] == t0s[0]) & (rel >= -14) & (rel <= -10), "f.ramp"].mean()
    assert built.matrix[row, columns["f.ramp@T0-10m"]] == pytest.approx(ramp)  # the mean of T0-14m .. T0-10m
    nan_row = built.events.index[built.events["t0_ns"] == t0s[2]][0]
    assert built.matrix[nan_row, columns["f.noise@T0-20m"]] == 0.0
    strict = trajectories(positives, NAMES, DiscoverySettings(max_missing_offsets=0))
    assert strict.dropped == 2


def test_differences_add_each_features_change_between_offsets() -> None:
    positives = _rising_and_falling(events=2)
    built = trajectories(positives, NAMES, DiscoverySettings(differences=True, smooth_min=0))
    columns = {c: i for i, c in enumerate(built.columns)}
    assert len(built.columns) == 2 * 4 + 2 * 3
    change = built.matrix[:, columns["f.ramp@T0-10m..T0-5m"]]
    np.testing.assert_allclose(
        change, built.matrix[:, columns["f.ramp@T0-5m"]] - built.matrix[:, columns["f.ramp@T0-10m"]]
    )
    assert (change[built.events["archetype"] == "rising"] > 0).all()


def test_too_few_events_leave_every_event_noise_with_a_note() -> None:
    positives = _rising_and_falling(events=4)
    result = discover(positives, NAMES, DiscoverySettings(n_neighbors=10))
    assert result.note is not None and "8 training events" in result.note and "from 20" in result.note
    assert (result.events["cluster"] == NOISE).all() and (result.members["cluster"] == NOISE).all()
    assert result.profiles == [] and result.ari is None and result.noise_fraction == 1.0
    assert np.isfinite(result.events[["x", "y"]].to_numpy()).all()
    with pytest.raises(ValueError, match="at least one training event"):
        discover(positives.iloc[:0], NAMES, DiscoverySettings())


def test_offsets_must_ascend_before_t0_and_leave_one_offset() -> None:
    with pytest.raises(ValidationError, match="ascending"):
        DiscoverySettings(offsets_min=(-10, -20))
    with pytest.raises(ValidationError, match="ascending"):
        DiscoverySettings(offsets_min=(-10, 5))
    with pytest.raises(ValidationError, match="max_missing_offsets"):
        DiscoverySettings(offsets_min=(-10,), max_missing_offsets=1)
