"""Backtest speed: events/s with the hosted scoring plugin and with a no-op strategy on the same data.

Builds (or reuses) a synthetic lake, then runs the same days three times through the same Nautilus engine
set-up: with :class:`~sigma9_dag.backtest.strategy.NoOpStrategy` (same subscriptions, empty handlers), with
:class:`~sigma9_dag.backtest.strategy.ScoringHost` stepping the ``seismograph`` plugin (features, gate,
orders) at every scored second, and with the host as ``sigma9 backtest`` runs it: the day scored ahead in
batch, the runtime stepped online only where a row reaches its threshold (``sigma9_dag.backtest.prescore``).
Prints events (trade ticks + bars), seconds (engine + day starts) and events/s of each, and each host's time
as a ratio to the no-op's. Target: the hosted plugin <= 3x the no-op's time.

    python benchmarks/backtest.py [--lake DIR] [--tickers 10] [--days 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a clean clone: the test helpers it borrows sit in tests/
    sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, default=None, help="existing lake (default: a new synthetic one)")
    parser.add_argument("--tickers", type=int, default=10)
    parser.add_argument("--days", type=int, default=2, help="scored days (the last ones of the lake)")
    args = parser.parse_args()

    from sigma9_dag.backtest.config import prepare
    from sigma9_dag.backtest.engine import build_engine, data_needs, run_engine
    from sigma9_dag.backtest.execution import ExecutionSettings
    from sigma9_dag.backtest.run import starting_cash
    from sigma9_dag.backtest.scoring import make_runtime
    from sigma9_dag.backtest.strategy import NoOpStrategy, ScoringHost
    from sigma9_dag.evaluation import LakePrices
    from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
    from sigma9_runtime.lake.layout import LakeLayout
    from tests.stubs import feature_spec, run_config_document

    lake = args.lake
    if lake is None:
        from sigma9_dag.lake.synth import generate_synthetic_lake

        lake = Path(tempfile.mkdtemp(prefix="sigma9-bench-")) / "lake"
        started = time.perf_counter()
        generate_synthetic_lake(lake, tickers=args.tickers, days=12, seed=3, history_days=20, workers=2)
        print(f"synthetic lake {args.tickers} tickers x 12 days in {time.perf_counter() - started:.1f} s: {lake}")
    layout = LakeLayout(lake)
    days = layout.trade_dates()[-args.days :]
    doc = run_config_document()["backtest_run"]
    doc.pop("artifact_ref")
    doc["strategy"] = {"plugin": "seismograph", "params": {"threshold": 0.8}}
    doc["data"]["parquet_root"] = str(lake)
    doc["time"].update(start=str(layout.trade_dates()[0]), end=str(days[-1]))
    doc["splits"] = {
        "type": "oos_holdout",
        "train_end": str(layout.trade_dates()[0]),
        "test_start": str(days[0]),
        "test_end": str(days[-1]),
    }
    run = BacktestRunConfig.model_validate(doc)
    spec = feature_spec(
        **{"runtime_gates.tradeability.min_dollar_volume_1m": 100.0, "runtime_gates.tradeability.max_spread_pct": 3.0}
    )
    prepared = prepare(run, spec, lake_root=lake, out_dir=Path(tempfile.mkdtemp()), days=days)
    from sigma9_dag.backtest.run import _ensure_feature_stats

    _ensure_feature_stats(prepared)
    execution = ExecutionSettings.from_config(run.execution)
    horizon_ns = round(run.evaluation.lead_time.target_max * 60e9)
    needs = data_needs(spec)
    results = {}
    from sigma9_dag.backtest.prescore import DayScorer

    for name in ("no-op", "stepped", "prescored"):
        prices = LakePrices.for_spec(prepared.layout, spec)
        engine = build_engine(prepared, execution, prices, starting_cash=starting_cash(run, 10_000.0))
        if name == "no-op":
            strategy = NoOpStrategy(prepared.tickers, trades=needs.trades, bars_1s=needs.bars_1s, bars_1m=needs.bars_1m)
        else:
            runtime = make_runtime(run, spec, prepared.tickers, None, prepared.layout.root)
            scorer = DayScorer(prepared.layout, spec, runtime.strategy, prepared.tickers, keep_every_s=5)
            strategy = ScoringHost(
                runtime=runtime,
                symbols=prepared.tickers,
                trades=needs.trades,
                bars_1s=needs.bars_1s,
                bars_1m=needs.bars_1m,
                notional_usd=10_000.0,
                horizon_ns=horizon_ns,
                feed_latency_ns=execution.feed_latency_ns,
                candidate_every_s=5,
                day_scorer=scorer if name == "prescored" else None,
            )
        stats = run_engine(engine, prepared, strategy, execution, horizon_ns, scoring=name != "no-op")
        engine.dispose()
        seconds = stats.seconds + stats.start_seconds
        results[name] = seconds
        extra = ""
        if name != "no-op":
            record = strategy.record  # type: ignore[attr-defined]
            extra = (
                f", day starts {stats.start_seconds:.2f} s, {record.steps:,} steps scored ({record.idle_steps:,} idle,"
                f" {record.passed_steps:,} passed over), {len(record.alerts)} alerts"
            )
        print(
            f"{name:10} {stats.days} day(s): {stats.trades:,} trade ticks + {stats.bars:,} bars in "
            f"{seconds:.2f} s = {stats.events / seconds:,.0f} events/s{extra}"
        )
    for name in ("stepped", "prescored"):
        print(f"{name} / no-op time: {results[name] / results['no-op']:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
