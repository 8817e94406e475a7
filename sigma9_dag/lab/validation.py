"""Validation: the LightGBM scorer, trained on train dates and judged out of sample as an alerter.

The scorer is a binary LightGBM classifier on the dataset's training samples (label 1 = a row in an
event's pre-window). It is judged twice:

- as a **classifier**, ROC AUC on the validation and test samples;
- as an **alerter**, the way the runtime uses it: every scan candidate (each symbol every
  ``scan_every_s`` of the validation and test days) is scored by the runtime strategy's formula,
  ``ml_weight * model + (1 - ml_weight) * seismograph`` (``ml_weight`` from the run config's
  ``strategy.params``; 1.0 without an overlay blend), and run in time order through the runtime's
  gate (threshold, tradeability, cooldown, daily budget; :mod:`sigma9_dag.evaluation`).

**Candidates end at the cross.** A symbol that has already crossed the anchor today is not a
pre-surge candidate any more; its rows are dropped. The cross is known when the runtime's bar holding it
completes: for a spec whose gate reads 1-second bars, the 1-second bar holding T0 (the first trade at or
above previous close x 1.10), at ``floor(T0, 1 s) + 1 s``; for a spec on 1-minute bars alone, the end of
the 1-minute bar holding it (:func:`cross_known_ns`, from the event's ``t0_resolution``). That is exactly
when the runtime's :class:`~sigma9_runtime.strategies.crossing.CrossTracker` marks the symbol, so the
lab, the replay and the backtest drop the same steps; nothing from the future is read.

**Thresholds are tuned walk-forward** (:mod:`sigma9_dag.lab.folds`): the validation days are cut into
``folds`` blocks, each scored by a scorer trained only on earlier days (purged before the block, embargoed
after earlier blocks), so every validation candidate has an out-of-fold score. The sweep runs the alerter on
those pooled candidates at their score quantiles ``threshold_quantiles`` and keeps the threshold with the
best ``tune_metric`` (by default ``actionable_precision_at_budget``: hits 5-15 minutes ahead, early enough
to act on) among those raising at least ``min_alerts_per_day`` (ties: the lower threshold, which alerts
more). The scorer the artifact ships is then trained on every day before the test period
(``refit_on_validation``), and the test days are evaluated once at the tuned threshold, against the run's
baselines (``seismograph_only`` at a matched alert count, ``random_budget_matched``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sigma9_dag.evaluation import EvaluationSettings, LakePrices, attach_tradeability, run_evaluation
from sigma9_dag.evaluation.evaluate import AlertRun, OOSEvaluation
from sigma9_dag.lab.folds import WalkForwardFold
from sigma9_runtime.contracts.artifact_manifest import Thresholds, TuningMetric
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.gates import MLGate
from sigma9_runtime.strategies.plugins.seismograph_ml import SeismographMLParams, SeismographMLStrategy, gated_score
from sigma9_runtime.strategies.seismograph import score as seismograph_score
from sigma9_runtime.units import NANOS_PER_SECOND

SCORED_COLUMNS = ["symbol", "date", "ts_ns", "part", "ml_score", "seismograph_score", "score"]


class ValidationSettings(BaseModel):
    """LightGBM and threshold-tuning knobs; each field's docstring says what it means (the launchpad shows them)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    n_estimators: Annotated[int, Field(ge=1)] = 300
    """LightGBM trees."""
    learning_rate: Annotated[float, Field(gt=0)] = 0.05
    """LightGBM learning rate."""
    num_leaves: Annotated[int, Field(ge=2)] = 31
    """LightGBM leaves per tree."""
    min_child_samples: Annotated[int, Field(ge=1)] = 40
    """LightGBM minimum samples per leaf."""
    subsample: Annotated[float, Field(gt=0, le=1)] = 0.8
    """LightGBM row sampling per tree."""
    colsample_bytree: Annotated[float, Field(gt=0, le=1)] = 0.8
    """LightGBM feature sampling per tree."""
    threshold_quantiles: tuple[float, ...] = (0.9999, 0.9998, 0.9997, 0.9995, 0.999, 0.998, 0.996, 0.993, 0.99)
    """Candidate thresholds: these quantiles of the validation scores."""
    min_alerts_per_day: Annotated[float, Field(ge=0)] = 5.0
    """The tuned threshold raises at least this many alerts a validation day."""
    tune_metric: TuningMetric = "actionable_precision_at_budget"
    """Metric the thresholds maximize on the pooled walk-forward folds."""
    folds: Annotated[int, Field(ge=1)] = 3
    """Walk-forward folds the validation days are cut into."""
    embargo_days: Annotated[int, Field(ge=0)] = 1
    """Trade days after a fold's block that no later fold trains on (the purge before each block is the
    dataset's ``purge_days``)."""
    max_train_days: Annotated[int, Field(ge=1)] | None = None
    """A fold trains on at most this many days before its block (a rolling window); None: all of them."""
    positives_from: Literal["pre_window", "lead_time_target"] = "lead_time_target"
    """What the scorer learns as positive: every sample of the dataset's pre-window (``pre_window``), or
    only those from which an alert would be an actionable hit, ``target_min`` to ``target_max`` minutes
    before T0 (``lead_time_target``); pre-window samples earlier than ``target_max`` are then negatives
    (an alert there is no hit) and those later than ``target_min`` are left out."""
    refit_on_validation: bool = True
    """The shipped scorer trains on every day before the test period (train and validation days); False:
    on the train days only."""
    seed: int = 7
    """LightGBM random seed."""
    prediction_threads: Annotated[int, Field(ge=1)] = 2
    """Threads scoring the scan's rows (training stays on one; a row's score is the same for any count)."""


@dataclass(frozen=True)
class SweepPoint:
    """One threshold of a sweep: how many alerts a day and how precise."""

    threshold: float
    alerts: int
    alerts_per_day: float
    precision: float | None
    actionable_precision: float | None
    median_lead_time_min: float | None
    events_hit: int
    events_hit_actionable: int

    def as_dict(self) -> dict[str, Any]:
        """Plain values (for JSON)."""
        return dict(self.__dict__)

    def value(self, metric: TuningMetric) -> float | None:
        """The point's ``metric``."""
        return self.actionable_precision if metric == "actionable_precision_at_budget" else self.precision

    def events(self, metric: TuningMetric) -> int:
        """The events the point hit in the sense of ``metric``: actionably for actionable precision."""
        return self.events_hit_actionable if metric == "actionable_precision_at_budget" else self.events_hit


def on_days(frame: pd.DataFrame, days: Collection[dt.date]) -> pd.DataFrame:
    """Rows of ``frame`` whose ``date`` is one of ``days``."""
    wanted = {pd.Timestamp(d) for d in days}
    return frame[pd.to_datetime(frame["date"]).isin(wanted)]


def learned_samples(samples: pd.DataFrame, lead_band_min: tuple[float, float] | None) -> pd.DataFrame:
    """The samples a scorer learns from, labelled for an alerter whose hits count when ``lead_band_min`` =
    (shortest, longest) minutes before T0 (``t_ref_ns``): positives earlier than the band become negatives
    (an alert there is no hit), positives later than it are left out (a hit, but too late to act on), every
    other sample is kept as it is. All samples unchanged when None."""
    if lead_band_min is None:
        return samples
    lead = (samples["t_ref_ns"].to_numpy(np.int64) - samples["ts_ns"].to_numpy(np.int64)) / 60e9
    positive = samples["label"].to_numpy() == 1
    late = positive & (lead < lead_band_min[0])
    early = positive & (lead > lead_band_min[1])
    out = samples[~late].copy()
    out.loc[early[~late], "label"] = 0
    return out


def train_scorer(
    samples: pd.DataFrame, names: Sequence[str], settings: ValidationSettings, days: Collection[dt.date] | None = None
) -> Any:
    """A fitted binary ``lightgbm.LGBMClassifier`` on the samples of ``days`` (default: the train part; columns
    ``names``, NaN kept). Pass :func:`learned_samples` to keep the positives of a lead-time band."""
    import lightgbm

    train = samples[samples["part"] == "train"] if days is None else on_days(samples, days)
    if train["label"].nunique() < 2:
        where = "train part" if days is None else f"{len(days)} training days"
        raise ValueError(f"training samples need both labels, the {where} hold {sorted(train['label'].unique())}")
    model = lightgbm.LGBMClassifier(
        n_estimators=settings.n_estimators,
        learning_rate=settings.learning_rate,
        num_leaves=settings.num_leaves,
        min_child_samples=settings.min_child_samples,
        subsample=settings.subsample,
        subsample_freq=1,
        colsample_bytree=settings.colsample_bytree,
        random_state=settings.seed,
        n_jobs=1,
        verbose=-1,
    )
    # LightGBM refuses ':' in feature names (the missing flags); the order is the spec's, names are not needed.
    model.fit(train[list(names)].to_numpy(dtype=np.float64), train["label"].to_numpy())
    return model


def ml_scores(model: Any, rows: np.ndarray, threads: int = 1) -> np.ndarray:
    """P(label 1) of each row, on ``threads`` threads (each row is scored alone: the same for any count)."""
    return model.predict_proba(rows, num_threads=threads)[:, 1] if len(rows) else np.zeros(0)


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC (None where one label is absent)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if np.unique(labels).size == 2 else None


def part_auc(model: Any, samples: pd.DataFrame, names: Sequence[str], part: str) -> float | None:
    """ROC AUC of the scorer on the samples of ``part`` (None where one label is absent)."""
    rows = samples[samples["part"] == part]
    return auc(rows["label"].to_numpy(), ml_scores(model, rows[list(names)].to_numpy(np.float64)))


RESOLUTION_NS: dict[str, int] = {"trade": 0, "1s": NANOS_PER_SECOND, "1m": 60 * NANOS_PER_SECOND}
"""Length of the bar an event's T0 was read from (``t0_resolution``; a trade has none)."""


def cross_known_ns(t0_ns: np.ndarray, resolution: np.ndarray, bar_ns: int) -> np.ndarray:
    """When a runtime reading bars of ``bar_ns`` knows each event's symbol crossed: the end of its bar that
    holds the crossing, ``floor(T0 - r, bar) + bar`` where ``r`` is the length of the bar the lake's T0
    was read from (0 for a trade; T0 is then that bar's end), never before T0 itself (a lake coarser than
    the runtime's bars knows the cross only at T0)."""
    t0 = np.asarray(t0_ns, dtype=np.int64)
    start = t0 - np.array([RESOLUTION_NS[r] for r in resolution], dtype=np.int64)
    return np.maximum((start // bar_ns + 1) * bar_ns, t0)


def before_cross(scan: pd.DataFrame, events: pd.DataFrame, bar_ns: int = NANOS_PER_SECOND) -> pd.DataFrame:
    """Scan rows of symbols that have not crossed the anchor yet at their time (see the module docstring):
    the runtime whose gate reads bars of ``bar_ns`` (1 s for ``A``, 60 s for ``AM``) marks the cross at
    :func:`cross_known_ns`."""
    columns = ["ticker", "date", "t0_ns"] + (["t0_resolution"] if "t0_resolution" in events.columns else [])
    crossed = events[columns].drop_duplicates(["ticker", "date"]).copy()
    resolution = crossed["t0_resolution"] if "t0_resolution" in crossed.columns else ["trade"] * len(crossed)
    crossed["known_ns"] = cross_known_ns(crossed["t0_ns"].to_numpy(np.int64), np.asarray(resolution), bar_ns)
    merged = scan[["ticker", "date", "ts_ns"]].merge(
        crossed[["ticker", "date", "known_ns"]], on=["ticker", "date"], how="left"
    )
    known = merged["known_ns"].to_numpy(np.float64)  # NaN: no event that day
    keep = ~(merged["ts_ns"].to_numpy(np.int64) >= known)
    return scan.loc[keep]


def score_candidates(
    scan: pd.DataFrame,
    events: pd.DataFrame,
    model: Any,
    names: Sequence[str],
    ml_weight: float,
    prices: LakePrices,
    threads: int = 1,
) -> pd.DataFrame:
    """The scan's candidates before the cross, scored (:data:`SCORED_COLUMNS`) with their tradeability inputs.

    ``score`` is the gated score of the runtime's ``seismograph_ml`` strategy (its :func:`gated_score`); the
    cross and the tradeability are read on ``prices``' bar stream (the spec's gate stream).
    """
    rows = before_cross(scan, events, prices.bar_ns)
    values = rows[list(names)].to_numpy(dtype=np.float64)
    ml = ml_scores(model, values, threads)
    base = seismograph_score(values, list(names))
    frame = pd.DataFrame(
        {
            "symbol": rows["ticker"].to_numpy(),
            "date": rows["date"].to_numpy(),
            "ts_ns": rows["ts_ns"].to_numpy(np.int64),
            "part": rows["part"].to_numpy(),
            "ml_score": ml,
            "seismograph_score": base,
            "score": gated_score(ml, base, ml_weight),
        }
    )
    return attach_tradeability(frame, prices)


def _days(frame: pd.DataFrame) -> int:
    return max(1, int(frame["date"].nunique()))


def _point(run: AlertRun, threshold: float, days: int) -> SweepPoint:
    m = run.metrics
    return SweepPoint(
        threshold=threshold,
        alerts=len(run.alerts),
        alerts_per_day=len(run.alerts) / days,
        precision=m.precision_at_budget,
        actionable_precision=m.actionable_precision_at_budget,
        median_lead_time_min=m.median_lead_time_min,
        events_hit=run.events_hit,
        events_hit_actionable=run.events_hit_actionable,
    )


def alerter_point(
    candidates: pd.DataFrame,
    thresholds: Thresholds | float,
    *,
    gate: MLGate,
    prices: LakePrices,
    settings: EvaluationSettings,
) -> SweepPoint:
    """The alerter at ``thresholds`` on ``candidates`` (no baselines): alerts a day, precision, lead time,
    events hit. ``threshold`` of the point is the global one."""
    limits = thresholds if isinstance(thresholds, Thresholds) else Thresholds(global_score_min=float(thresholds))
    floor = min([limits.global_score_min, *limits.per_cluster_min.values()])
    above = candidates[candidates["score"] >= floor]  # rows below every threshold only meet `below_threshold`
    run = run_evaluation(above, thresholds=thresholds, gate=gate, prices=prices, settings=settings, baselines=())
    return _point(run.model, limits.global_score_min, _days(candidates))


def matched_curves(evaluations: Mapping[float, OOSEvaluation], candidates: pd.DataFrame) -> dict[str, list[SweepPoint]]:
    """The precision-budget curve of the model and of its baselines matched to it, from one evaluation per model
    threshold (:func:`~sigma9_dag.evaluation.run_evaluation` on ``candidates`` with the run's baselines): at
    each threshold the model's point, ``seismograph_only`` at the same alert count and ``random_budget_matched``
    at the same count each day (a baseline's ``threshold`` is the model's it was matched to)."""
    curves: dict[str, list[SweepPoint]] = {"model": []}
    days = _days(candidates)
    for threshold, evaluation in evaluations.items():
        curves["model"].append(_point(evaluation.model, threshold, days))
        for name, baseline in evaluation.baselines.items():
            curves.setdefault(name, []).append(_point(baseline, threshold, days))
    return curves


def sweep(
    candidates: pd.DataFrame,
    thresholds: Sequence[float],
    *,
    gate: MLGate,
    prices: LakePrices,
    settings: EvaluationSettings,
    score_column: str = "score",
) -> list[SweepPoint]:
    """The alerter at each threshold (:func:`alerter_point`), scoring with ``score_column``."""
    frame = candidates
    if score_column != "score":
        frame = candidates.drop(columns="score").rename(columns={score_column: "score"})
    return [alerter_point(frame, t, gate=gate, prices=prices, settings=settings) for t in thresholds]


def quantile_thresholds(scores: np.ndarray, quantiles: Sequence[float]) -> list[float]:
    """Distinct thresholds at the score quantiles, highest first."""
    finite = scores[np.isfinite(scores)]
    if not finite.size:
        return [1.0]
    return sorted({float(np.quantile(finite, q)) for q in quantiles}, reverse=True)


def pick_threshold(
    points: Sequence[SweepPoint], min_alerts_per_day: float, metric: TuningMetric = "actionable_precision_at_budget"
) -> SweepPoint:
    """The sweep point with the best ``metric`` among those alerting often enough (ties: the lower threshold).

    When none alerts ``min_alerts_per_day``, the one alerting most.
    """
    enough = [p for p in points if p.alerts_per_day >= min_alerts_per_day and p.value(metric) is not None]
    if not enough:
        return max(points, key=lambda p: (p.alerts, -p.threshold))
    return max(enough, key=lambda p: (p.value(metric), -p.threshold))


@dataclass(frozen=True)
class FoldScores:
    """The walk-forward folds' out-of-fold scores."""

    candidates: pd.DataFrame  # scored validation candidates (SCORED_COLUMNS + tradeability), each by its fold
    auc: float | None  # pooled out-of-fold ROC AUC of the validation samples
    folds: list[dict[str, Any]]  # per fold: its record (days) and its AUC


def score_folds(
    folds: Sequence[WalkForwardFold],
    *,
    samples: pd.DataFrame,
    scan: pd.DataFrame,
    events: pd.DataFrame,
    names: Sequence[str],
    ml_weight: float,
    prices: LakePrices,
    settings: ValidationSettings,
) -> FoldScores:
    """Each fold's scorer trained on its training days, scoring its block's candidates and samples."""
    scored, labels, scores, records = [], [], [], []
    for fold in folds:
        model = train_scorer(samples, names, settings, fold.train_days)
        block = on_days(scan, fold.validation_days)
        scored.append(score_candidates(block, events, model, names, ml_weight, prices, settings.prediction_threads))
        rows = on_days(samples, fold.validation_days)
        fold_scores = ml_scores(model, rows[list(names)].to_numpy(np.float64))
        labels.append(rows["label"].to_numpy())
        scores.append(fold_scores)
        records.append({**fold.record(), "auc": auc(labels[-1], fold_scores)})
    candidates = pd.concat(scored, ignore_index=True) if scored else pd.DataFrame(columns=SCORED_COLUMNS)
    pooled = auc(np.concatenate(labels), np.concatenate(scores)) if labels else None
    return FoldScores(candidates, pooled, records)


def lead_times(run: AlertRun) -> np.ndarray:
    """Lead time (minutes) of each event hit: T0 minus its first hit alert."""
    hits = run.alerts[run.alerts["hit"]]
    if not len(hits):
        return np.zeros(0)
    first = hits.groupby(["symbol", "t0_ns"])["ts_ns"].min().reset_index()
    return (first["t0_ns"].to_numpy(np.int64) - first["ts_ns"].to_numpy(np.int64)) / 60e9


def plots_png(
    curves: dict[str, Sequence[SweepPoint]],
    leads: np.ndarray,
    lead_target: tuple[float, float],
) -> bytes:
    """Precision and actionable precision against alerts a day (one line per curve, a random baseline's
    dashed) beside the histogram of the model's lead times on the test days (the actionable band shaded)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, field, label in (
        (axes[0], "precision", "precision_at_budget"),
        (axes[1], "actionable_precision", "actionable_precision_at_budget"),
    ):
        for name, points in curves.items():
            kept = [p for p in points if getattr(p, field) is not None]
            style = {"linestyle": "--", "color": "grey"} if name.startswith("random") else {}
            ax.plot(
                [p.alerts_per_day for p in kept], [getattr(p, field) for p in kept], marker="o", label=name, **style
            )
        ax.set_xlabel("alerts per day")
        ax.set_ylabel(label)
        ax.set_title(f"{label.removesuffix('_at_budget').replace('_', ' ')} against alert budget")
        ax.legend(fontsize=7)
    right = axes[2]
    right.axvspan(
        *lead_target, color="tab:green", alpha=0.12, label=f"actionable {lead_target[0]:g}-{lead_target[1]:g} min"
    )
    if leads.size:
        right.hist(leads, bins=np.arange(0, lead_target[1] + 1.0, 1.0), color="tab:blue", alpha=0.8, label="events hit")
    right.set_xlabel("lead time (min before T0)")
    right.set_ylabel("events")
    right.set_title("lead time of the first hit alert (test)")
    right.legend(fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def ml_weight_of(run_config: BacktestRunConfig) -> float:
    """Weight of the model in the gated score, as the run's strategy computes it (1.0: the model's score).

    The run's ``strategy.params`` are read by the ``seismograph_ml`` plugin's own parameter model, so a
    default or a refused value is the runtime's.
    """
    strategy = run_config.strategy
    if strategy.plugin != "seismograph_ml":
        return 1.0
    params = SeismographMLStrategy.parse_params(strategy.params)
    assert isinstance(params, SeismographMLParams)
    return params.ml_weight if params.use_ml_overlay else 1.0
