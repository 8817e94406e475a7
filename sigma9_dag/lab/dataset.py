"""The lab's dataset: labelled point-in-time samples and scan candidates, from the lake.

* **Events** come from the lake (:func:`~sigma9_dag.lake.events.find_events`) at the finest resolution
  it holds for each ticker-day: T0 is the first eligible trade at or above previous close x (1 + anchor),
  else the end of the first 1-second (else 1-minute) bar whose high reaches it. Ground truth (synthetic
  lakes only) is joined for the archetype, never used for labels.
* **Positives**: every ``sample_every_s`` from T0 + ``pre_window[0]`` to T0 + ``pre_window[1]``.
* **Negatives**, the same number of each enabled type, ``negative_ratio`` per positive in all:
  ``hard_negative`` — near misses (a day whose peak reached ``near_miss_from`` but not the anchor),
  sampled over the same window before the peak; ``same_symbol_other_days`` — an event's symbol on
  another day of the same split part without an event, at the positive's time of day;
  ``time_of_day_matched`` — another symbol without an event on the positive's day and time.
* A sample's features are the final feature rows at the last grid step at or before its time,
  from :func:`~sigma9_dag.features.batch.features_at` (point in time by construction).
* **Date split**: the first ``warmup_days`` trade days only warm baselines up; the rest is cut into
  train, validation and test in date order with ``purge_days`` dropped before validation and before
  test. Label windows are intraday, so a purge of one day keeps every label window on one side.
* **Scan candidates**: every symbol at every ``scan_every_s`` step of every validation and test
  day — what a live scanner would have scored — for alert simulation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sigma9_dag.features.batch import batch_rows
from sigma9_dag.features.stats import missing_stats
from sigma9_dag.lake.coverage import LakeCoverage, intraday_tables, lake_coverage, require_sources
from sigma9_dag.lake.events import find_events
from sigma9_dag.lake.history import HistoryReport, history_sufficiency, usable_days_note
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import DataError
from sigma9_runtime.features.grid import day_grid
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_events
from sigma9_runtime.strategies.crossing import DEFAULT_ANCHOR
from sigma9_runtime.units import MINUTE_NS, NANOS_PER_SECOND

NegativeType = Literal["hard_negative", "same_symbol_other_days", "time_of_day_matched"]
SplitPart = Literal["warmup", "train", "validation", "test", "purged"]


class DatasetSettings(BaseModel):
    """How samples are drawn and dates split (defaults: the design's values); each field's docstring says what
    it means (the dataset asset's launchpad config shows them)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    anchor: Annotated[float, Field(gt=0)] = DEFAULT_ANCHOR
    """An event's T0: the first price at or above previous close x (1 + anchor)."""
    pre_window_min: tuple[int, int] = (-30, -5)
    """Positives' window, minutes from T0 (start, end)."""
    sample_every_s: Annotated[int, Field(gt=0)] = 60
    """Seconds between two positives of an event."""
    negatives: tuple[NegativeType, ...] = ("hard_negative", "same_symbol_other_days", "time_of_day_matched")
    """Negative types drawn, the same number of each."""
    negative_ratio: Annotated[float, Field(gt=0)] = 5.0
    """Negatives per positive, all types together."""
    near_miss_from: Annotated[float, Field(gt=0)] = 0.05
    """A hard negative's day peaked at least this far above previous close (below the anchor)."""
    warmup_days: Annotated[int, Field(ge=0)] = 20
    """First trade days that only warm baselines up."""
    validation_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.2
    """Share of the days after warm-up that validate."""
    test_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.3
    """Share of the days after warm-up that test."""
    purge_days: Annotated[int, Field(ge=0)] = 1
    """Days dropped before validation and before test."""
    scan_every_s: Annotated[int, Field(gt=0)] = 60
    """Seconds between two scan candidates of a symbol on validation and test days."""
    seed: int = 7
    """Random seed of the negatives' draw."""
    workers: Annotated[int, Field(ge=1)] = 2
    """Processes computing feature rows."""

    @model_validator(mode="after")
    def _consistent(self) -> DatasetSettings:
        start, end = self.pre_window_min
        if not start < end <= 0:
            raise ValueError(f"pre_window_min: need start < end <= 0, got {self.pre_window_min}")
        if self.near_miss_from >= self.anchor:
            raise ValueError(f"near_miss_from ({self.near_miss_from}) must be below anchor ({self.anchor})")
        if self.validation_fraction + self.test_fraction >= 1:
            raise ValueError("validation_fraction + test_fraction must leave days to train on")
        if not self.negatives:
            raise ValueError("negatives: at least one type")
        return self


@dataclass(frozen=True)
class DateSplit:
    """Which part each trade day belongs to."""

    part: dict[dt.date, SplitPart]

    def days(self, part: SplitPart) -> list[dt.date]:
        """Days of ``part``, ascending."""
        return sorted(d for d, p in self.part.items() if p == part)

    def bounds(self, part: SplitPart) -> tuple[dt.date, dt.date]:
        """First and last day of ``part``."""
        days = self.days(part)
        if not days:
            raise DataError(f"date split: no {part} days")
        return days[0], days[-1]


def part_days(split: dict[str, Any], samples: pd.DataFrame, scan: pd.DataFrame) -> dict[str, list[dt.date]]:
    """The train, validation and test days of a dataset's ``split.json`` (``days``); for a document written
    before it held them, the days its samples (train) and scan candidates (validation, test) fall on."""
    if "days" in split:
        return {
            part: [dt.date.fromisoformat(d) for d in split["days"][part]] for part in ("train", "validation", "test")
        }
    frames = {"train": samples, "validation": scan, "test": scan}
    return {
        part: sorted({pd.Timestamp(d).date() for d in frame.loc[frame["part"] == part, "date"].unique()})
        for part, frame in frames.items()
    }


def _part_sizes(days: int, settings: DatasetSettings) -> tuple[int, int, int]:
    """(train, validation, test) day counts of a split of ``days`` trade days (train may come out below 1)."""
    usable = max(days - settings.warmup_days, 0)
    n_test = max(1, round(usable * settings.test_fraction))
    n_validation = max(1, round(usable * settings.validation_fraction))
    return usable - n_test - n_validation - 2 * settings.purge_days, n_validation, n_test


def days_needed(settings: DatasetSettings) -> int:
    """The fewest trade days that leave at least one day to train on."""
    days = settings.warmup_days + 2 * settings.purge_days + 3
    while _part_sizes(days, settings)[0] < 1:
        days += 1
    return days


def split_dates(days: Sequence[dt.date], settings: DatasetSettings, *, usable: str | None = None) -> DateSplit:
    """Warm-up, train, validation and test parts in date order, ``purge_days`` between them.

    ``usable`` says which lake days ``days`` are and why the others are not
    (:func:`~sigma9_dag.lake.history.usable_days_note`); a refusal starts with it.
    """
    days = sorted(days)
    usable_days = days[settings.warmup_days :]
    purge = settings.purge_days
    n_train, n_validation, n_test = _part_sizes(len(days), settings)
    if n_train < 1:
        counted = f"{usable}; these {len(days)}" if usable else f"{len(days)} trade days"
        raise DataError(
            f"date split: {counted} leave none to train on after {settings.warmup_days} warm-up days, "
            f"{n_validation} validation, {n_test} test and 2 x {purge} purge days "
            f"(the split needs at least {days_needed(settings)} days)"
        )
    part: dict[dt.date, SplitPart] = dict.fromkeys(days[: settings.warmup_days], "warmup")
    order: list[tuple[SplitPart, int]] = [
        ("train", n_train),
        ("purged", purge),
        ("validation", n_validation),
        ("purged", purge),
        ("test", n_test),
    ]
    position = 0
    for name, count in order:
        for day in usable_days[position : position + count]:
            part[day] = name
        position += count
    return DateSplit(part)


@dataclass
class Dataset:
    """What the dataset stage produces."""

    samples: pd.DataFrame  # ticker, date, ts_ns, label, kind, part, t_ref_ns, archetype, <features>
    scan: pd.DataFrame  # ticker, date, ts_ns, part, <features>
    events: pd.DataFrame  # ticker, date, t0_ns, prev_close, part, archetype
    split: DateSplit
    names: list[str]
    history: HistoryReport  # warm-up sufficiency of the train, validation and test symbol-days
    left_out: dict[str, int] = field(default_factory=dict)
    """Ticker-days of intraday data searched for no event, per reason: ``split_suspect`` and the reasons of no
    previous close (``first_day``, ``prev_day_missing``, ``bad_close``)."""


def _window_times(ref_ns: int, settings: DatasetSettings) -> np.ndarray:
    start, end = settings.pre_window_min
    step = settings.sample_every_s * NANOS_PER_SECOND
    return np.arange(ref_ns + start * MINUTE_NS, ref_ns + end * MINUTE_NS + 1, step, dtype=np.int64)


def _time_of_day(ts_ns: np.ndarray, day: dt.date) -> np.ndarray:
    return ts_ns - int(pd.Timestamp(day).tz_localize("America/New_York").value)


def _on_day(offsets: np.ndarray, day: dt.date) -> np.ndarray:
    return offsets + int(pd.Timestamp(day).tz_localize("America/New_York").value)


def draw_samples(
    events: pd.DataFrame,
    near_misses: pd.DataFrame,
    tickers: Sequence[str],
    split: DateSplit,
    settings: DatasetSettings,
) -> pd.DataFrame:
    """Sample times (no features yet): ticker, date, ts_ns, label, kind, part, t_ref_ns."""
    rng = np.random.default_rng(settings.seed)
    rows: list[tuple[str, dt.date, int, int, str, str, int]] = []
    event_days = set(zip(events["ticker"], events["date"], strict=True))
    for part in ("train", "validation", "test"):
        days = split.days(part)  # type: ignore[arg-type]
        if not days:
            continue
        day_set = set(days)
        part_events = events[events["date"].isin(day_set)]
        positives: list[tuple[str, dt.date, np.ndarray, int]] = []
        for ticker, day, t0 in part_events[["ticker", "date", "t0_ns"]].itertuples(index=False):
            times = _window_times(int(t0), settings)
            positives.append((ticker, day, times, int(t0)))
            rows.extend((ticker, day, int(t), 1, "positive", part, int(t0)) for t in times)
        n_positive = sum(p[2].size for p in positives)
        if n_positive == 0:
            continue
        per_type = round(n_positive * settings.negative_ratio / len(settings.negatives))
        for kind in settings.negatives:
            pool: list[tuple[str, dt.date, int, int]] = []
            if kind == "hard_negative":
                misses = near_misses[near_misses["date"].isin(day_set)]
                for ticker, day, peak in misses[["ticker", "date", "peak_ns"]].itertuples(index=False):
                    pool.extend((ticker, day, int(t), int(peak)) for t in _window_times(int(peak), settings))
            elif kind == "same_symbol_other_days":
                for ticker, day, times, t0 in positives:
                    offsets = _time_of_day(times, day)
                    for other in days:
                        if other != day and (ticker, other) not in event_days:
                            pool.extend((ticker, other, int(t), int(t0)) for t in _on_day(offsets, other))
            else:
                for ticker, day, times, t0 in positives:
                    for other in tickers:
                        if other != ticker and (other, day) not in event_days:
                            pool.extend((other, day, int(t), int(t0)) for t in times)
            if not pool:
                continue
            chosen = rng.choice(len(pool), size=min(per_type, len(pool)), replace=False)
            rows.extend((pool[i][0], pool[i][1], pool[i][2], 0, kind, part, pool[i][3]) for i in sorted(chosen))
    frame = pd.DataFrame(rows, columns=["ticker", "date", "ts_ns", "label", "kind", "part", "t_ref_ns"])
    return frame.drop_duplicates(["ticker", "ts_ns", "label"]).reset_index(drop=True)


def _grid_steps(spec: FeatureSpec, day: dt.date, times: np.ndarray) -> np.ndarray:
    """The last grid step at or before each time (-1 where none)."""
    steps = day_grid(spec, day).steps_ns
    position = np.searchsorted(steps, times, side="right") - 1
    return np.where(position >= 0, steps[np.maximum(position, 0)], -1)


@dataclass(frozen=True)
class _Stepped:
    """A frame of sample times with each time's grid step, and the steps each (ticker, day) needs."""

    frame: pd.DataFrame  # the frame (index 0..n-1) with step_ns (-1: no grid step)
    groups: dict[tuple[str, dt.date], np.ndarray]  # (ticker, day) -> positions of its rows with a step
    requests: dict[str, dict[dt.date, np.ndarray]]  # ticker -> day -> steps (unique, ascending)


def _stepped(spec: FeatureSpec, frame: pd.DataFrame) -> _Stepped:
    frame = frame.reset_index(drop=True)
    times = frame["ts_ns"].to_numpy(np.int64)
    dates = frame["date"].to_numpy()
    steps = np.full(len(frame), -1, np.int64)
    for day in pd.unique(dates):
        rows = np.flatnonzero(dates == day)
        steps[rows] = _grid_steps(spec, day, times[rows])
    frame = frame.assign(step_ns=steps)
    at = np.flatnonzero(steps >= 0)
    groups = {
        key: at[positions] for key, positions in frame.iloc[at].groupby(["ticker", "date"], sort=True).indices.items()
    }
    requests: dict[str, dict[dt.date, np.ndarray]] = {}
    for (ticker, day), index in groups.items():
        requests.setdefault(ticker, {})[day] = np.unique(steps[index])
    return _Stepped(frame, groups, requests)


def _joined(
    stepped: _Stepped, results: dict[tuple[str, dt.date], tuple[np.ndarray, np.ndarray]], names: list[str]
) -> pd.DataFrame:
    frame = stepped.frame
    steps = frame["step_ns"].to_numpy(np.int64)
    values = np.full((len(frame), len(names)), np.nan)
    found = np.zeros(len(frame), bool)
    for key, index in stepped.groups.items():
        result = results.get(key)
        if result is None:
            continue
        kept, rows = result
        wanted = steps[index]
        position = np.searchsorted(kept, wanted)
        ok = (position < kept.size) & (kept[np.minimum(position, kept.size - 1)] == wanted)
        values[index[ok]] = rows[position[ok]]
        found[index[ok]] = True
    if not found.any():
        return pd.DataFrame(columns=[*frame.columns, *names])
    features = pd.DataFrame(values[found], columns=names)
    joined = pd.concat([frame[found].reset_index(drop=True), features], axis=1)
    return joined.sort_values(["ts_ns", "ticker"], kind="stable").reset_index(drop=True)


def attach_features(
    layout: LakeLayout,
    spec: FeatureSpec,
    frames: Sequence[pd.DataFrame],
    names: list[str],
    workers: int,
    coverage: LakeCoverage | None = None,
    stats_days: dict[str, tuple[dt.date, ...]] | None = None,
) -> list[pd.DataFrame]:
    """Each of ``frames`` (ticker, date, ts_ns, ...) with a ``step_ns`` column and the feature columns, ordered
    by time then ticker; rows whose time has no grid step (or a dropped halted step) are removed. One pass per
    ticker computes every frame's rows and the statistics of ``stats_days`` (:func:`batch_rows`)."""
    stepped = [_stepped(spec, frame) for frame in frames]
    requests: dict[str, dict[dt.date, np.ndarray]] = {}
    for part in stepped:
        for ticker, days in part.requests.items():
            mine = requests.setdefault(ticker, {})
            for day, steps in days.items():
                mine[day] = np.union1d(mine[day], steps) if day in mine else steps
    results, _ = batch_rows(layout, spec, requests, stats_days, workers=workers, coverage=coverage)
    return [_joined(part, results, names) for part in stepped]


def scan_times(spec: FeatureSpec, tickers: Sequence[str], days: Sequence[dt.date], every_s: int) -> pd.DataFrame:
    """Every ticker at every ``every_s`` grid step of ``days``: ticker, date, ts_ns."""
    rows = []
    for day in days:
        steps = day_grid(spec, day).steps_ns
        steps = steps[(steps // NANOS_PER_SECOND) % every_s == 0]
        for ticker in tickers:
            rows.append(pd.DataFrame({"ticker": ticker, "date": day, "ts_ns": steps}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["ticker", "date", "ts_ns"])


def spec_split(coverage: LakeCoverage, spec: FeatureSpec, settings: DatasetSettings) -> DateSplit:
    """The date split of the lake days holding every intraday table ``spec`` reads; a refusal names which lake
    days count and why the others do not."""
    tables = intraday_tables(spec)
    days = coverage.days(tables)
    if not days or not coverage.tickers(tables):
        raise DataError(f"{coverage.root}: the lake holds no day of {', '.join(tables)} for {spec.id}")
    return split_dates(days, settings, usable=usable_days_note(coverage, spec))


def dataset_history(coverage: LakeCoverage, spec: FeatureSpec, split: DateSplit) -> HistoryReport:
    """Warm-up sufficiency of the symbol-days the dataset draws samples and scan rows from (train, validation
    and test days; warm-up and purged days only feed the history)."""
    days = split.days("train") + split.days("validation") + split.days("test")
    return history_sufficiency(coverage, spec, days)


def build_dataset(
    layout: LakeLayout,
    spec: FeatureSpec,
    settings: DatasetSettings,
    *,
    alternatives: Sequence[FeatureSpec] = (),
    strict: bool = False,
) -> Dataset:
    """Events, samples with features and scan candidates for ``spec`` from the lake at ``layout``.

    The days and tickers are those holding every intraday table the spec reads (``trades``, ``1s``,
    ``1m``: :func:`~sigma9_dag.lake.coverage.intraday_tables`); a lake lacking one of the spec's tables is
    refused first, in one line naming what is missing and which of ``alternatives`` would work. With
    ``strict``, a dataset in which a symbol-day's features would be NaN for lack of history
    (:func:`dataset_history`) is refused before any feature is computed.
    """
    coverage = lake_coverage(layout)
    require_sources(spec, coverage, alternatives=alternatives)
    tables = intraday_tables(spec)
    split = spec_split(coverage, spec, settings)
    days = coverage.days(tables)
    tickers = coverage.tickers(tables)
    history = dataset_history(coverage, spec, split)
    history.check(strict=strict)
    names = feature_names(spec)
    stats_days = missing_stats(layout, spec, tickers, days, coverage)
    scan = find_events(layout, anchor=settings.anchor, near_miss_from=settings.near_miss_from)
    events = scan.events.copy()
    events["part"] = [split.part.get(d, "warmup") for d in events["date"]]
    truth = read_events(layout).to_pandas()
    if len(truth):
        events = events.merge(truth[["ticker", "date", "archetype"]], on=["ticker", "date"], how="left")
    else:
        events["archetype"] = None
    events["archetype"] = events["archetype"].fillna("")
    times = draw_samples(events, scan.near_misses, tickers, split, settings)
    candidates = scan_times(spec, tickers, split.days("validation") + split.days("test"), settings.scan_every_s)
    candidates["part"] = [split.part[d] for d in candidates["date"]]
    # one pass per ticker: the statistics the store lacks, the samples' rows and the scan's rows
    samples, scan_rows = attach_features(
        layout, spec, [times, candidates], names, settings.workers, coverage, stats_days=stats_days
    )
    samples = samples.merge(
        events[["ticker", "date", "archetype"]].rename(columns={"archetype": "event_archetype"}),
        on=["ticker", "date"],
        how="left",
    )
    samples["archetype"] = np.where(samples["label"] == 1, samples["event_archetype"].fillna(""), "")
    meta = ["ticker", "date", "ts_ns", "step_ns", "label", "kind", "part", "t_ref_ns", "archetype"]
    samples = samples[[*meta, *names]]
    left_out = {"split_suspect": len(scan.split_flagged), **scan.no_prev_close_counts()}
    return Dataset(
        samples=samples, scan=scan_rows, events=events, split=split, names=names, history=history, left_out=left_out
    )
