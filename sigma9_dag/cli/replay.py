"""``sigma9 replay``: play a day (from the lake or a Massive WebSocket capture) through the runtime as live."""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sigma9_dag.cli.catalog import DEFAULT_SPEC_GLOB
from sigma9_dag.cli.compute import add_dask_option
from sigma9_dag.cli.lake import add_root_argument
from sigma9_runtime.lake.layout import open_lake

if TYPE_CHECKING:
    from sigma9_dag.lake.coverage import LakeCoverage
    from sigma9_runtime.container import RuntimeContainer
    from sigma9_runtime.replay import ReplayResult


def _clock(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time of day (HH:MM or HH:MM:SS)") from e


def _param(text: str) -> tuple[str, str | int | float | bool | None]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    if lowered in ("null", "none"):
        return key, None  # e.g. anchor=null: the cross rule off
    for kind in (int, float):
        try:
            return key, kind(raw)
        except ValueError:
            pass
    return key, raw


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "replay",
        help="play a day (or several) through the runtime exactly as live and write its alerts",
        description="Replay DATE (each of several dates apart, as a task of its own) from the lake (every "
        "message of the channels the FeatureSpec subscribes to - "
        "T.*, A.*, AM.* - as raw Massive frames, in delivery order; a spec on 1-minute bars gets AM frames only) "
        "or from a Massive WebSocket capture, through the runtime container's strategy: the TickDispatcher runs "
        "the 1 s scanner and ignition-monitor loops by event time. Prints the alerts; --out writes them with "
        "their explanations (.parquet, else JSON lines). A lake lacking a table the spec reads on DATE is "
        "refused in one line (exit 2). When a symbol has fewer earlier days than the spec's normalization and "
        "baselines need, a warm-up line says how many and which symbols are short (--strict: refused when "
        "their features would be NaN).",
    )
    add_root_argument(parser)
    parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        nargs="+",
        required=True,
        metavar="DATE",
        help="trading day; several are replayed apart, one task each (--workers, --dask), printed in date order",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        metavar="FILE",
        help=f"FeatureSpec (default: the newest {DEFAULT_SPEC_GLOB} whose sources the lake holds and, with "
        "--artifacts, that has an artifact there)",
    )
    parser.add_argument(
        "--artifacts", metavar="DIR|URL", help="artifact store, a directory or s3://... (needed by seismograph_ml)"
    )
    parser.add_argument(
        "--strategy",
        metavar="PLUGIN",
        help="seismograph | seismograph_ml | package.module:Class (default: seismograph_ml with --artifacts, "
        "else seismograph)",
    )
    parser.add_argument(
        "--param", type=_param, action="append", default=[], metavar="KEY=VALUE", help="a strategy param (repeat)"
    )
    parser.add_argument("--capture", type=Path, metavar="FILE", help="replay this WebSocket capture, not the lake")
    parser.add_argument("--tickers", nargs="+", metavar="TICKER", help="only these symbols (default: all)")
    parser.add_argument("--from", dest="start", type=_clock, metavar="HH:MM", help="first step, New York time")
    parser.add_argument("--to", dest="end", type=_clock, metavar="HH:MM", help="steps before this, New York time")
    parser.add_argument("--max-alerts-per-day", type=int, metavar="N", help="override the spec's alert budget")
    parser.add_argument("--cooldown", type=int, metavar="SEC", help="override the spec's symbol cooldown")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the alerts (.parquet or .jsonl)")
    parser.add_argument("--log-features", type=Path, metavar="FILE", help="write the consistency log (parquet)")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="alerts shown in the table (default 20)")
    parser.add_argument(
        "--workers", type=int, default=2, metavar="W", help="worker processes for days and statistics (default 2)"
    )
    add_dask_option(parser)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse (exit 2) when a replayed symbol's features would be NaN for lack of earlier days",
    )
    parser.set_defaults(handler=_replay)


def default_spec(coverage: LakeCoverage | None = None, artifacts: str | Path | None = None) -> Path:
    """The newest shipped FeatureSpec under the working directory whose sources ``coverage``'s lake holds
    and, given an artifact store, that has an artifact in it (the newest fitting one when none has; the newest
    of all without a lake, or when none fits: the lake check then says what is missing)."""
    from sigma9_dag.lake.coverage import spec_fits
    from sigma9_runtime.contracts.io import load_feature_spec
    from sigma9_runtime.errors import Sigma9Error, SpecError
    from sigma9_runtime.registry import open_registry

    found = sorted(Path().glob(DEFAULT_SPEC_GLOB))
    if not found:
        raise SpecError(f"no {DEFAULT_SPEC_GLOB} here; pass --spec", file=Path("feature_specs"))
    fitting: list[tuple[Path, str]] = []
    if coverage is not None:
        for path in reversed(found):
            try:
                spec = load_feature_spec(path)
            except Sigma9Error:
                continue
            if spec_fits(spec, coverage):
                fitting.append((path, spec.id))
    if fitting and artifacts is not None:
        try:
            registry = open_registry(artifacts)
            published = next((path for path, spec_id in fitting if registry.latest(spec_id) is not None), None)
        except Sigma9Error:
            published = None  # the runtime's loader names what is wrong with the store
        if published is not None:
            return published
    return fitting[0][0] if fitting else found[-1]


def _warmup_check(
    coverage: LakeCoverage | None,
    container: RuntimeContainer,
    day: dt.date,
    symbols: list[str],
    *,
    strict: bool,
    capture: bool = False,
) -> None:
    """Print the warm-up sufficiency of the replayed symbols when history is short (stdout, before the replay);
    with ``strict`` refuse a replay in which a symbol's features would be NaN for lack of history."""
    from sigma9_dag.lake.history import history_sufficiency, manifest_history_days
    from sigma9_runtime.errors import DataError

    spec = container.spec
    if coverage is None:  # a capture without a lake holding the spec's tables: nothing warms the features up
        line = f"warm-up ({spec.id}): no lake history for the capture's symbols (--root holds none of its tables)"
        if strict:
            raise DataError(f"--strict: {line}; features NaN")
        print(f"{line} — features NaN")
        return
    artifact = container.artifact
    days = manifest_history_days(artifact.manifest) if artifact is not None else None
    report = history_sufficiency(coverage, spec, [day], symbols, min_history_days=days, held_only=not capture)
    report.check(strict=strict)
    for line in report.lines():
        print(line)


def _replay(args: argparse.Namespace) -> int:
    from sigma9_dag.features.stats import ensure_day_stats
    from sigma9_dag.lake.coverage import intraday_tables, lake_coverage
    from sigma9_dag.parallel import map_tickers
    from sigma9_runtime.contracts.io import load_feature_spec
    from sigma9_runtime.errors import LakeError, SpecError
    from sigma9_runtime.registry import is_object_store_url
    from sigma9_runtime.replay import write_alerts

    days = sorted(set(args.date))
    if len(days) > 1 and args.capture is not None:
        raise SpecError("--capture replays the one day it holds: give one --date", field="--date")
    if len(days) > 1 and args.log_features is not None:
        raise SpecError("--log-features logs one day: give one --date", field="--date")
    layout = open_lake(args.root)
    coverage = lake_coverage(layout) if layout.root.is_dir() else None
    if args.capture is None and (coverage is None or not coverage.tables()):
        raise LakeError(f"{layout.root}: no lake here (build one with `sigma9 lake synth` or an import)")
    with_artifacts = args.artifacts if args.strategy in (None, "seismograph_ml") else None
    spec_path = Path(args.spec or default_spec(coverage, with_artifacts)).resolve()  # a worker's directory may differ
    if args.artifacts is not None and not is_object_store_url(args.artifacts):
        args = argparse.Namespace(**{**vars(args), "artifacts": Path(args.artifacts).resolve()})
    if len(days) > 1 and coverage is not None:  # every day's statistics first, spread over the workers
        spec = load_feature_spec(spec_path)
        tables = intraday_tables(spec)
        symbols = args.tickers or coverage.tickers(tables)
        if symbols and coverage.days(tables):
            ensure_day_stats(layout, spec, symbols, days, workers=args.workers, coverage=coverage)
    stats_workers = args.workers if len(days) == 1 else 1  # a day's task runs in a worker: no pool of its own
    tasks = [_ReplayDay(args, day, layout.location, spec_path, stats_workers) for day in days]
    results = sorted(
        map_tickers(_replay_day, tasks, workers=args.workers if len(tasks) > 1 else 1), key=lambda r: r[1].day
    )
    for printed, result in results:
        print(printed, end="")
        print(result.render(limit=args.limit))
    if args.out is not None:
        write_alerts(args.out, [alert for _, result in results for alert in result.alerts])
        print(f"alerts written to {args.out}")
    if args.log_features is not None:
        print(f"feature log written to {args.log_features}")
    return 0


@dataclass(frozen=True)
class _ReplayDay:
    """One day of a replay (a task: days are replayed apart, each by a runtime of its own, as live)."""

    args: argparse.Namespace
    day: dt.date
    lake: str
    """The lake's location (:attr:`LakeLayout.location`): every day reads the same version."""
    spec: Path
    stats_workers: int
    """Processes filling a missing day's statistics: ``--workers`` for one day replayed here, else 1."""

    @property
    def label(self) -> str:
        """The day, as a failure names the task."""
        return f"replay of {self.day}"


def _replay_day(task: _ReplayDay) -> tuple[str, ReplayResult]:
    """Replay one day: what the replay printed before its result (warm-up, closes), and the result."""
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = _replay_one(task)
    return printed.getvalue(), result


def _replay_one(task: _ReplayDay) -> ReplayResult:
    import numpy as np

    from sigma9_dag.cli.catalog import catalog_specs
    from sigma9_dag.lake.coverage import intraday_tables, lake_coverage, require_sources
    from sigma9_runtime.calendar import local_to_ns
    from sigma9_runtime.container import RuntimeConfig, RuntimeContainer
    from sigma9_runtime.lake.day_start import DayStart
    from sigma9_runtime.replay import capture_frames, lake_day_feed, lake_frames, replay_frames
    from sigma9_runtime.streams import spec_streams

    args, day = task.args, task.day
    layout = open_lake(task.lake)
    coverage = lake_coverage(layout) if layout.root.is_dir() else None
    strategy_name = args.strategy or ("seismograph_ml" if args.artifacts else "seismograph")
    config = RuntimeConfig(
        feature_spec=task.spec,
        artifacts=args.artifacts,
        strategy=strategy_name,
        params=dict(args.param),
        hot_reload=False,  # a replay scores the whole day with one artifact: reproducible
        max_alerts_per_day=args.max_alerts_per_day,
        symbol_cooldown_sec=args.cooldown,
        feature_log=args.log_features,
        lake=layout.root if coverage is not None and coverage.tables() else None,
    )
    container = RuntimeContainer(config)
    spec = container.spec
    if args.capture is None:
        assert coverage is not None
        require_sources(spec, coverage, days=[day], alternatives=catalog_specs())
    strategy = container.strategy
    tables = intraday_tables(spec)
    has_lake = coverage is not None and bool(coverage.days(tables))

    symbols = args.tickers or (coverage.tickers(tables) if has_lake else [])  # type: ignore[union-attr]
    lake = coverage if has_lake else None
    _warmup_check(lake, container, day, symbols, strict=args.strict, capture=args.capture is not None)
    strategy.features.add_symbols(symbols)
    start = DayStart.empty(day)  # a capture without --root's lake: no warm-up, the cross rule off
    if has_lake and symbols:
        from sigma9_dag.features.stats import ensure_day_stats

        ensure_day_stats(layout, spec, symbols, [day], workers=task.stats_workers, coverage=coverage)
        start = container.day_start(day, symbols)
        if start.closes.missing:
            print(start.closes.summary())
    if args.tickers:
        strategy.watch(args.tickers)

    from sigma9_runtime.features.grid import day_grid

    grid = day_grid(spec, day).steps_ns
    steps, cuts = grid, grid
    if args.start is not None:
        steps = steps[steps >= local_to_ns(day, args.start)]
    if args.end is not None:
        steps = steps[steps < local_to_ns(day, args.end)]
        cuts = grid[grid <= (steps[-1] if steps.size else grid[0])]
    steps = np.ascontiguousarray(steps)
    if args.capture is not None:
        frames = capture_frames(args.capture)
    else:
        feed = lake_day_feed(layout, day, symbols, spec_streams(spec))
        frames = lake_frames(feed, cuts, tail=args.end is None)
    result = replay_frames(
        strategy, day, frames, warmup=start.warmup, steps_ns=steps, previous_close=start.previous_close
    )
    container.close()
    return result
