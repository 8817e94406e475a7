"""``run_backtest``: a BacktestRunConfig through NautilusTrader, with metrics, baselines and reports.

Examples
--------
>>> run = load_backtest_run_config("run_configs/RUN_2026-01-16_001.yaml")  # doctest: +SKIP
>>> result = run_backtest(run, spec, lake_root=Path("data"), artifact_root=Path("staging"),
...                       out_dir=Path("data/experiments/RUN_x"))  # doctest: +SKIP
>>> result.performance()["metrics"]["precision_at_budget"]  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nautilus_trader
import pandas as pd

from sigma9_dag.backtest.config import PreparedRun, prepare
from sigma9_dag.backtest.engine import EngineStats, build_engine, data_needs, run_engine
from sigma9_dag.backtest.evaluate import (
    StreamResult,
    alerts_frame,
    baseline_streams,
    candidates_frame,
    fold_metrics,
    lab_cost_stream,
    model_stream,
    trades_frame,
)
from sigma9_dag.backtest.execution import ExecutionSettings
from sigma9_dag.backtest.prescore import DayScorer
from sigma9_dag.backtest.report import (
    FILES,
    REPORT_KIND,
    REPORT_VERSION,
    equity_curve,
    plot_equity,
    plot_metrics,
    write_json,
    write_parquet,
)
from sigma9_dag.backtest.scoring import make_runtime
from sigma9_dag.backtest.strategy import ScoringHost
from sigma9_dag.evaluation import EvaluationSettings, LakePrices
from sigma9_dag.evaluation.settings import DEFAULT_NOTIONAL_USD
from sigma9_dag.lake.history import HistoryReport, history_sufficiency, manifest_history_days
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.gates import MLGate
from sigma9_runtime.schema_hash import schema_hash

DEFAULT_CANDIDATE_EVERY_S = 5
"""Baseline candidates are recorded every 5 scored seconds (the model itself is scored every second)."""


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest produced.

    Attributes
    ----------
    metrics
        The model's metrics (manifest ``Metrics`` fields) from its Nautilus trades.
    baselines
        Each baseline's metrics.
    paths
        Output files by name (``alerts``, ``trades``, ``equity_curve``, ``metrics``, ``report``, plots).
    report
        The BacktestReport document.
    """

    metrics: dict[str, Any]
    baselines: dict[str, dict[str, Any]]
    paths: dict[str, Path]
    report: dict[str, Any] = field(repr=False)

    def performance(self) -> dict[str, Any]:
        """``{"metrics": ..., "baselines": ...}``: the parts of the manifest's ``performance_oos``."""
        return {"metrics": dict(self.metrics), "baselines": {k: dict(v) for k, v in self.baselines.items()}}


@dataclass(frozen=True)
class RunOutcome:
    """Everything a finished engine run hands to its outputs (:func:`write_outputs`, :func:`backtest_report`)."""

    prepared: PreparedRun
    model: StreamResult
    lab: StreamResult
    """The model's alerts under the lab's cost model (``model_lab_costs``)."""
    baselines: dict[str, StreamResult]
    trades: pd.DataFrame
    stats: EngineStats
    host: ScoringHost
    cash: float
    notional_usd: float
    horizon_min: float
    history: HistoryReport | None = None


def evaluation_settings(run: BacktestRunConfig, horizon_min: float, notional_usd: float) -> EvaluationSettings:
    """The evaluation's settings for the baselines' trades (``mid`` needs quotes there: ``next_bar_open``)."""
    if run.execution.fill_model == "mid":
        execution = run.execution.model_copy(update={"fill_model": "next_bar_open"})
        run = run.model_copy(update={"execution": execution})
    return EvaluationSettings.from_run_config(run, horizon_min=horizon_min, notional_usd=notional_usd)


def run_backtest(
    run: BacktestRunConfig,
    spec: FeatureSpec | None = None,
    *,
    lake_root: Path | str | None = None,
    artifact_root: Path | None = None,
    artifact_id: str | None = None,
    out_dir: Path | None = None,
    days: Sequence[dt.date] | None = None,
    tickers: Sequence[str] | None = None,
    base_dir: Path | None = None,
    notional_usd: float = DEFAULT_NOTIONAL_USD,
    candidate_every_s: int = DEFAULT_CANDIDATE_EVERY_S,
    alternatives: Sequence[FeatureSpec] = (),
    strict: bool = False,
    on_warmup: Callable[[HistoryReport], None] | None = None,
    prescore: bool = True,
) -> BacktestResult:
    """Backtest ``run`` and write its outputs.

    Parameters
    ----------
    run
        The run config.
    spec
        The FeatureSpec (default: the run's ``feature_spec_ref.path``).
    lake_root, artifact_root, artifact_id, out_dir
        Override the run's lake root, artifact store (and artifact id) and output directory.
    days, tickers
        Score these days (default: the split's test days) and tickers (default: the run's universe).
    base_dir
        Directory the run's relative paths resolve against (default: the working directory).
    notional_usd
        Dollars bought per alert.
    candidate_every_s
        Record baseline candidates every n scored seconds.
    alternatives
        FeatureSpecs named by the refusal of a lake that lacks a table the spec reads (when they fit it).
    strict
        Refuse (``DataError``, before the engine starts) a run in which a scored symbol-day's features would be
        NaN for lack of history (:func:`warmup_history`).
    on_warmup
        Called with the warm-up report of the scored symbol-days before the engine starts (the CLI prints it).
    prescore
        Score each day ahead in batch and step the runtime online only where a row reaches its threshold (same
        outputs, checked; :mod:`~sigma9_dag.backtest.prescore`); False steps it at every scored second.

    Raises
    ------
    SchemaMismatch
        The spec's schema hash differs from the artifact's; raised before the engine starts.
    SpecError
        A field of the run names something that does not exist (plugin, file, lake day).
    DataError
        ``strict`` and a scored symbol-day lacks the history its features need.
    """
    prepared = prepare(
        run,
        spec,
        base_dir=base_dir,
        lake_root=lake_root,
        artifact_root=artifact_root,
        artifact_id=artifact_id,
        out_dir=out_dir,
        days=days,
        tickers=tickers,
        alternatives=alternatives,
    )
    history = warmup_history(prepared)
    history.check(strict=strict)
    if on_warmup is not None:
        on_warmup(history)
    return execute(
        prepared, notional_usd=notional_usd, candidate_every_s=candidate_every_s, history=history, prescore=prescore
    )


def warmup_history(prepared: PreparedRun) -> HistoryReport:
    """Warm-up sufficiency of the scored symbol-days: normalization and baseline days against the spec's (and the
    artifact's ``min_bar_history``) needs."""
    artifact = prepared.artifact
    days = manifest_history_days(artifact.manifest) if artifact is not None else None
    lake = prepared.coverage if prepared.coverage is not None else prepared.layout
    return history_sufficiency(lake, prepared.spec, prepared.days, prepared.tickers, min_history_days=days)


def starting_cash(run: BacktestRunConfig, notional_usd: float) -> float:
    """Cash that covers every alert of a day held at once: budget x notional (at least 100k)."""
    return max(100_000.0, run.evaluation.alert_budget.max_alerts_per_day * notional_usd * 1.05)


def execute(
    prepared: PreparedRun,
    *,
    notional_usd: float = DEFAULT_NOTIONAL_USD,
    candidate_every_s: int = DEFAULT_CANDIDATE_EVERY_S,
    history: HistoryReport | None = None,
    prescore: bool = True,
) -> BacktestResult:
    """Run a prepared backtest and write its outputs (``history``: its warm-up report, computed when not given;
    ``prescore``: see :func:`run_backtest`)."""
    run, spec = prepared.run, prepared.spec
    history = history if history is not None else warmup_history(prepared)
    execution = ExecutionSettings.from_config(run.execution)
    horizon_min = run.evaluation.lead_time.target_max
    horizon_ns = round(horizon_min * 60e9)
    prices = LakePrices.for_spec(prepared.layout, spec)
    cash = starting_cash(run, notional_usd)
    _ensure_feature_stats(prepared)

    engine = build_engine(prepared, execution, prices, starting_cash=cash)
    needs = data_needs(spec)
    runtime = make_runtime(run, spec, prepared.tickers, prepared.artifact, prepared.layout.root)
    host = ScoringHost(
        runtime=runtime,
        symbols=prepared.tickers,
        trades=needs.trades,
        bars_1s=needs.bars_1s,
        bars_1m=needs.bars_1m,
        notional_usd=notional_usd,
        horizon_ns=horizon_ns,
        feed_latency_ns=execution.feed_latency_ns,
        candidate_every_s=candidate_every_s,
        day_scorer=DayScorer(prepared.layout, spec, runtime.strategy, prepared.tickers, keep_every_s=candidate_every_s)
        if prescore
        else None,
    )
    try:
        stats = run_engine(engine, prepared, host, execution, horizon_ns)
    finally:
        engine.dispose()

    days = len(prepared.days)
    events = prices.events
    alerts = alerts_frame(host.record.alerts)
    trades = trades_frame(host.record.trades)
    settings = evaluation_settings(run, horizon_min, notional_usd)
    model = model_stream(alerts, trades, events, settings, days)
    candidates = candidates_frame(host.candidate_arrays(), prices)
    gate = MLGate.from_feature_spec(spec, run)
    baselines = baseline_streams(
        candidates,
        alerts,
        list(run.evaluation.baselines),
        gate=gate,
        prices=prices,
        events=events,
        settings=settings,
        days=days,
    )
    lab = lab_cost_stream(alerts, events, prices, settings, days)
    return write_outputs(
        RunOutcome(prepared, model, lab, baselines, trades, stats, host, cash, notional_usd, horizon_min, history)
    )


def _ensure_feature_stats(prepared: PreparedRun) -> None:
    """Statistics of every day a scored day's normalization reads (as ``sigma9 replay`` fills them), and of the
    warm-up and scored days before the last."""
    from sigma9_dag.features.stats import ensure_day_stats

    ensure_day_stats(
        prepared.layout,
        prepared.spec,
        prepared.tickers,
        prepared.days,
        also=[*prepared.warmup_days, *prepared.days[:-1]],
        workers=1,
        coverage=prepared.coverage,
    )


def _metrics(stream: StreamResult) -> dict[str, Any]:
    return stream.metrics.model_dump()


def write_outputs(outcome: RunOutcome) -> BacktestResult:
    """Write every output of the run; return the result."""
    prepared, model, baselines, trades, cash = (
        outcome.prepared,
        outcome.model,
        outcome.baselines,
        outcome.trades,
        outcome.cash,
    )
    run, out = prepared.run, prepared.out_dir
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    curve = equity_curve(trades, cash)
    streams = {"model": _metrics(model), **{n: _metrics(b) for n, b in baselines.items()}}
    if run.output.write_alerts:
        paths["alerts"] = out / FILES["alerts"]
        write_parquet(model.alerts, paths["alerts"])
        frames = [b.alerts.assign(stream=n) for n, b in baselines.items() if len(b.alerts)]
        if baselines:
            paths["baseline_alerts"] = out / FILES["baseline_alerts"]
            empty = next(iter(baselines.values())).alerts.iloc[:0].assign(stream="")
            with warnings.catch_warnings():  # all-None cluster ids of one stream: the dtype stays object
                warnings.simplefilter("ignore", FutureWarning)
                joined = pd.concat(frames, ignore_index=True) if frames else empty
            write_parquet(joined, paths["baseline_alerts"])
    if run.output.write_trades:
        paths["trades"] = out / FILES["trades"]
        write_parquet(trades, paths["trades"])
    if run.output.write_equity_curve:
        paths["equity_curve"] = out / FILES["equity_curve"]
        write_parquet(curve, paths["equity_curve"])
        paths["equity_plot"] = out / FILES["equity_plot"]
        plot_equity(curve, cash, paths["equity_plot"], f"{run.id}: equity after each round trip")
    paths["metrics_plot"] = out / FILES["metrics_plot"]
    plot_metrics(streams, paths["metrics_plot"])
    metrics_doc = {
        "metrics": streams["model"],
        "baselines": {n: streams[n] for n in baselines},
        "model_lab_costs": _metrics(outcome.lab),
        "folds": [
            {
                "name": fold.name,
                "test_days": [d.isoformat() for d in fold.test_days],
                "metrics": fold_metrics(model.alerts, fold.test_days).model_dump(),
                "baselines": {n: fold_metrics(b.alerts, fold.test_days).model_dump() for n, b in baselines.items()},
            }
            for fold in prepared.folds
        ],
    }
    paths["metrics"] = out / FILES["metrics"]
    write_json(metrics_doc, paths["metrics"])
    report = backtest_report(outcome, metrics_doc, paths)
    if run.output.write_sigma9_backtest_report:
        paths["report"] = out / FILES["report"]
        write_json(report, paths["report"])
    return BacktestResult(streams["model"], {n: streams[n] for n in baselines}, paths, report)


def backtest_report(outcome: RunOutcome, metrics_doc: dict[str, Any], paths: dict[str, Path]) -> dict[str, Any]:
    """The Sigma9 BacktestReport document (schema in ``docs/backtest.md``)."""
    prepared, baselines, trades, stats, host, cash = (
        outcome.prepared,
        outcome.baselines,
        outcome.trades,
        outcome.stats,
        outcome.host,
        outcome.cash,
    )
    notional_usd, horizon_min, history = outcome.notional_usd, outcome.horizon_min, outcome.history
    run, spec = prepared.run, prepared.spec
    artifact = prepared.artifact
    alerts = outcome.model.alerts
    filled = trades[trades["pnl"].notna()]
    hits = alerts[alerts["hit"]] if len(alerts) else alerts
    return {
        "kind": REPORT_KIND,
        "report_version": REPORT_VERSION,
        "run_id": run.id,
        "run_created_at": run.created_at,
        "engine": {
            "name": "nautilus_trader",
            "version": nautilus_trader.__version__,
            "mode": run.mode,
            "seed": run.seed,
        },
        "feature_spec": {"id": spec.id, "schema_hash": schema_hash(spec)},
        "artifact": None
        if artifact is None
        else {"id": artifact.id, "schema_hash": artifact.manifest.feature_spec_ref.schema_hash},
        "strategy": {
            "plugin": run.strategy.plugin,
            "base_plugin": run.strategy.base_plugin,
            "params": dict(run.strategy.params),
        },
        "universe": {"source": run.data.universe.source, "tickers": list(prepared.tickers)},
        "period": {
            "start": run.time.start,
            "end": run.time.end,
            "session_filter": list(run.time.session_filter),
            "scored_days": [d.isoformat() for d in prepared.days],
        },
        "splits": run.splits.model_dump(mode="json"),
        "execution": run.execution.model_dump(mode="json"),
        "trading": {"notional_usd": notional_usd, "horizon_min": horizon_min, "starting_cash": cash},
        "alert_budget": run.evaluation.alert_budget.model_dump(mode="json"),
        "lead_time": run.evaluation.lead_time.model_dump(mode="json"),
        "metrics": metrics_doc["metrics"],
        "baselines": metrics_doc["baselines"],
        "model_lab_costs": metrics_doc["model_lab_costs"],
        "folds": metrics_doc["folds"],
        "summary": {
            "days": len(prepared.days),
            "alerts": len(alerts),
            "hits": len(hits),
            "events_hit": int(hits[["symbol", "t0_ns"]].drop_duplicates().shape[0]) if len(hits) else 0,
            "trades": len(filled),
            "net_pnl": float(filled["pnl"].sum()),
            "commissions": float((filled["entry_commission"] + filled["exit_commission"]).sum()),
            "final_equity": cash + float(filled["pnl"].sum()),
            "suppressed": dict(host.gate.suppressed),
            "after_cross": host.plugin.crossed_skipped,
            "baseline_thresholds": {n: b.threshold for n, b in baselines.items()},
        },
        "engine_stats": {
            "days": stats.days,
            "trades": stats.trades,
            "bars": stats.bars,
            "steps": host.record.steps,
            "idle_steps": host.record.idle_steps,
            "passed_steps": host.record.passed_steps,
            "rows_scored": host.record.rows,
            "symbol_days": stats.symbol_days,
            "no_prev_close": dict(sorted(stats.no_prev_close.items())),
        },
        "warmup": history.to_json() if history is not None else None,
        "files": {name: path.name for name, path in sorted(paths.items())},
    }
