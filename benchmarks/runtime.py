"""Benchmark of the runtime: a replayed day, per-step scoring of 1,000 symbols, ONNX against LightGBM.

Usage: ``.venv/bin/python benchmarks/runtime.py [--tickers N --days D --symbols 1000 --steps 200
--workdir DIR] [--json]``. A small synthetic lake is generated in a temporary directory (removed
afterwards) unless ``--workdir`` keeps it; a tiny LightGBM scorer is trained and published as an artifact
(the benchmark may import lightgbm; the runtime never does). Nothing is asserted. Measured:

1. a full replayed lake day through the container's strategy and the TickDispatcher (raw Massive frames,
   every 1 s step of the day scored and gated), for ``seismograph`` and ``seismograph_ml``: events/s, wall
   and CPU seconds (the CPU figure is the one-core cost even on a busy machine). At market scale
   (issue 17's target: 5,000 symbols, a full day, ``seismograph_ml``, <= 10 min on one core)::

       .venv/bin/python benchmarks/runtime.py --tickers 5000 --days 3 --replay seismograph_ml --workers 2
2. ``score_step`` with ``--symbols`` watched symbols whose windows are full: p50 / p99 per step;
3. one-row scoring: ``MLInference.score_one`` (onnxruntime, 1 thread) p50 against native LightGBM
   ``predict_proba`` p50, in the same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sigma9_dag.export import build_payload, publish_artifact  # noqa: E402
from sigma9_dag.features.stats import ensure_stats  # noqa: E402
from sigma9_dag.lake.synth import generate_synthetic_lake  # noqa: E402
from sigma9_runtime.container import RuntimeConfig, RuntimeContainer  # noqa: E402
from sigma9_runtime.contracts.io import load_feature_spec  # noqa: E402
from sigma9_runtime.features.names import feature_names  # noqa: E402
from sigma9_runtime.features.plan import FeaturePlan  # noqa: E402
from sigma9_runtime.features.warmup import load_warmup  # noqa: E402
from sigma9_runtime.feeds.events import AggBatch, AggEvent, TradeBatch, TradeEvent  # noqa: E402
from sigma9_runtime.lake.layout import LakeLayout  # noqa: E402
from sigma9_runtime.replay import TickDispatcher, lake_day_feed, lake_frames  # noqa: E402
from tests.stubs import artifact_manifest_body, train_models  # noqa: E402

SPEC_PATH = ROOT / "feature_specs" / "FS_2026-01-16_001.yaml"
SECOND = 1_000_000_000
STRATEGIES = ("seismograph", "seismograph_ml")
STEPS_PER_DAY = 57_600  # every second of the pre, regular and after sessions (04:00-20:00 New York)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    array = np.asarray(samples)
    return float(np.percentile(array, 50)), float(np.percentile(array, 99))


def _artifact(store: Path) -> tuple[object, np.ndarray]:
    scorer, cluster_model, rows = train_models()
    names = feature_names(load_feature_spec(SPEC_PATH))
    payload = build_payload(scorer, names, rows, cluster_model=cluster_model)
    publish_artifact(store, artifact_manifest_body(), payload.files, SPEC_PATH)
    return scorer, rows


def bench_replay(layout: LakeLayout, store: Path, strategy: str, workers: int = 1) -> dict[str, float]:
    spec = load_feature_spec(SPEC_PATH)
    day = layout.trade_dates()[-1]
    symbols = layout.trade_tickers()
    earlier = layout.trade_dates()[:-1]
    ensure_stats(layout, spec, symbols, earlier, workers=workers)
    warmup = load_warmup(layout, FeaturePlan.from_spec(spec), day, symbols)
    container = RuntimeContainer(
        RuntimeConfig(feature_spec=SPEC_PATH, artifacts=store, strategy=strategy, hot_reload=False, symbols=symbols)
    )
    feed = lake_day_feed(layout, day, symbols)
    dispatcher = TickDispatcher(container.strategy)
    dispatcher.start_day(day, warmup)
    frames = list(lake_frames(feed, container.strategy.features.steps()))
    started, started_cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        dispatcher.dispatch(frame)
    dispatcher.finish()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    return {
        "events": len(feed),
        "steps": dispatcher.steps_run,
        "symbols": len(symbols),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "events_per_s": len(feed) / seconds,
        "alerts": len(dispatcher.alerts),
    }


def bench_steps(store: Path, strategy: str, symbols: int, steps: int) -> dict[str, float]:
    container = RuntimeContainer(RuntimeConfig(feature_spec=SPEC_PATH, artifacts=store, strategy=strategy))
    scorer = container.strategy
    names = [f"S{i:04d}" for i in range(symbols)]
    scorer.features.add_symbols(names)
    day = dt.date(2025, 3, 3)
    scorer.start_day(day)
    grid = scorer.features.steps()
    first = int(np.searchsorted(grid, grid[0] + 6 * 3600 * SECOND))  # about 10:00 New York
    rng = np.random.default_rng(5)
    timings: list[float] = []
    for k in range(-120, steps):
        t = int(grid[first + k])
        price = 10 + rng.normal(scale=0.02, size=symbols)
        sizes = rng.integers(100, 5000, size=symbols).astype(float)
        start = t - SECOND
        scorer.on_tick(
            TradeBatch.from_events(
                TradeEvent(s, start + 1_000_000, float(p), float(z), (), 4, k + 200)
                for s, p, z in zip(names, price, sizes)
            )
        )
        scorer.on_tick(
            AggBatch.from_events(
                "A",
                (
                    AggEvent("A", s, start, t, float(p), float(p), float(p), float(p), float(z), float(p), 1)
                    for s, p, z in zip(names, price, sizes)
                ),
            )
        )
        if k < 0:
            scorer.advance(t)  # warm the windows
            continue
        began = time.perf_counter()
        scorer.score_step(t)
        timings.append((time.perf_counter() - began) * 1e3)
    p50, p99 = _percentiles(timings)
    return {"symbols": symbols, "steps": steps, "p50_ms": p50, "p99_ms": p99, "alerts": scorer.gate.alerts}


def bench_single_row(store: Path, scorer: object, rows: np.ndarray, repeats: int) -> dict[str, float]:
    container = RuntimeContainer(RuntimeConfig(feature_spec=SPEC_PATH, artifacts=store, strategy="seismograph_ml"))
    inference = container.inference
    onnx, native, explained = [], [], []
    for i in range(repeats):
        row = rows[i % len(rows)]
        began = time.perf_counter()
        inference.score_one(row, explain=False)
        onnx.append((time.perf_counter() - began) * 1e6)
        began = time.perf_counter()
        inference.score_one(row)
        explained.append((time.perf_counter() - began) * 1e6)
        began = time.perf_counter()
        scorer.predict_proba(row.reshape(1, -1))
        native.append((time.perf_counter() - began) * 1e6)
    return {
        "onnx_p50_us": _percentiles(onnx)[0],
        "onnx_explained_p50_us": _percentiles(explained)[0],
        "lightgbm_p50_us": _percentiles(native)[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickers", type=int, default=10, help="tickers of the synthetic lake (default 10)")
    parser.add_argument("--days", type=int, default=6, help="intraday days of the lake (default 6)")
    parser.add_argument("--symbols", type=int, default=1000, help="watched symbols per step (default 1000)")
    parser.add_argument("--steps", type=int, default=200, help="steps timed (default 200)")
    parser.add_argument("--repeats", type=int, default=2000, help="single-row calls timed (default 2000)")
    parser.add_argument(
        "--replay", choices=("both", "none", *STRATEGIES), default="both", help="strategies replayed (default both)"
    )
    parser.add_argument("--workers", type=int, default=1, help="processes building the lake and statistics")
    parser.add_argument("--workdir", type=Path, help="keep the lake and artifact store here")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sigma9-bench-runtime-"))
    try:
        lake_root, store = workdir / "lake", workdir / "artifacts"
        if not (lake_root / "lake.json").exists():
            generate_synthetic_lake(
                lake_root, tickers=args.tickers, days=args.days, seed=11, history_days=10, workers=args.workers
            )
        scorer, rows = _artifact(store) if not store.exists() else (train_models()[0], train_models()[2])
        layout = LakeLayout(lake_root)
        replayed = {"both": STRATEGIES, "none": ()}.get(args.replay, (args.replay,))
        figures = {
            **{f"replay_{name}": bench_replay(layout, store, name, args.workers) for name in replayed},
            "step_seismograph": bench_steps(store, "seismograph", args.symbols, args.steps),
            "step_seismograph_ml": bench_steps(store, "seismograph_ml", args.symbols, args.steps),
            "single_row": bench_single_row(store, scorer, rows, args.repeats),
        }
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    for name in replayed:
        f = figures[f"replay_{name}"]
        print(
            f"replay_{name:<17} {f['events']:,} events, {f['steps']:,} steps x {f['symbols']} symbols in "
            f"{f['seconds']:.1f} s ({f['cpu_seconds']:.1f} s CPU, {f['cpu_seconds'] / 60:.1f} min; target for "
            f"5,000 symbols <= 10 min): {f['events_per_s']:,.0f} events/s ({f['alerts']} alerts)"
        )
    for name in ("step_seismograph", "step_seismograph_ml"):
        f = figures[name]
        print(
            f"{name:<24} {f['symbols']} symbols: p50 {f['p50_ms']:.2f} ms, p99 {f['p99_ms']:.2f} ms per step; "
            f"{STEPS_PER_DAY:,} steps at p50: {f['p50_ms'] * STEPS_PER_DAY / 60_000:.1f} min a day (steps alone, "
            "a projection, not a replay)"
        )
    f = figures["single_row"]
    print(
        f"{'single row':<24} onnx p50 {f['onnx_p50_us']:.1f} us (with explanation {f['onnx_explained_p50_us']:.1f} us),"
        f" native lightgbm predict_proba p50 {f['lightgbm_p50_us']:.1f} us"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
