"""A BacktestRunConfig resolved against a lake and an artifact store, checked before anything runs.

:func:`prepare` turns the run config into a :class:`PreparedRun`: the lake layout (the config's path
templates), the universe (``watchlist``, ``csv`` or a DuckDB ``query`` over the lake), the scored days
(the ``oos_holdout`` test period, or every ``walk_forward`` fold's test days) and their folds, the warm-up
days, and the verified artifact. Every problem is raised here, before the engine starts, as a
:class:`~sigma9_runtime.errors.Sigma9Error` naming the field and file: a missing lake, table or bar file,
an unknown plugin, a universe with no ticker, a period with no lake day, and a FeatureSpec whose schema
hash differs from the artifact's (:class:`~sigma9_runtime.errors.SchemaMismatch`, both hashes in the
message).

Relative paths of the run config (lake root, csv, spec, manifest, output) resolve against ``base_dir``
(the project root, where ``sigma9`` runs).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sigma9_dag.backtest.scoring import needs_artifact, plugin_class
from sigma9_dag.lake.coverage import LakeCoverage, lake_coverage, require_sources
from sigma9_runtime.calendar import is_trading_day
from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig, OOSHoldout, WalkForward
from sigma9_runtime.contracts.base import STREAM_CHANNELS
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.contracts.io import load_artifact_manifest, load_feature_spec
from sigma9_runtime.errors import LakeError, SchemaMismatch, SpecError
from sigma9_runtime.lake.layout import LakeLayout, check_ticker, open_lake, run_config_templates
from sigma9_runtime.lake.object_lake import is_lake_url
from sigma9_runtime.registry import FilesystemArtifactRegistry, is_object_store_url, open_registry
from sigma9_runtime.registry.base import LoadedArtifact
from sigma9_runtime.schema_hash import schema_hash
from sigma9_runtime.streams import LakeTable, spec_tables

FIELD = "backtest_run"


@dataclass(frozen=True)
class Fold:
    """One split of the run: training days (context only: the artifact is fixed) and scored test days."""

    name: str
    train_days: tuple[dt.date, ...]
    test_days: tuple[dt.date, ...]


@dataclass(frozen=True)
class PreparedRun:
    """Everything the engine needs, checked."""

    run: BacktestRunConfig
    spec: FeatureSpec
    layout: LakeLayout
    tickers: list[str]
    days: list[dt.date]
    """Scored days, ascending, each once."""
    folds: list[Fold]
    warmup_days: list[dt.date]
    """Lake days before the first scored day whose feature statistics normalization reads."""
    artifact: LoadedArtifact | None
    out_dir: Path
    source: str | None = None
    """The run config file, when it came from one."""
    coverage: LakeCoverage | None = None
    """What the lake holds per ticker and day (read once by :func:`prepare`)."""


def _resolve(base_dir: Path, path: str | Path) -> Path:
    path = Path(path)
    return path if path.is_absolute() else base_dir / path


def load_spec(run: BacktestRunConfig, base_dir: Path) -> FeatureSpec:
    """The run's FeatureSpec file, checked to carry the id the run names."""
    path = _resolve(base_dir, run.feature_spec_ref.path)
    if not path.is_file():
        raise SpecError(f"FeatureSpec file {path} not found", field=f"{FIELD}.feature_spec_ref.path")
    spec = load_feature_spec(path)
    if spec.id != run.feature_spec_ref.id:
        raise SpecError(
            f"{path} holds FeatureSpec {spec.id}, the run names {run.feature_spec_ref.id}",
            field=f"{FIELD}.feature_spec_ref.id",
        )
    return spec


def needed_tables(run: BacktestRunConfig, spec: FeatureSpec) -> list[LakeTable]:
    """The lake tables the run reads for ``spec``: what the spec's sources read
    (:func:`sigma9_runtime.streams.spec_tables`), with trades instead of 1-second bars when the run's
    ``bar_1s`` is null (they are rebuilt from trades then)."""
    tables = spec_tables(spec)
    if "1s" in tables and run.data.intraday.bar_1s is None:
        tables = [t for t in tables if t != "1s"]
        if "trades" not in tables:
            tables.insert(0, "trades")
    return tables


def _table_field(layout: LakeLayout, table: str) -> tuple[str, Path]:
    """The run config field that says where ``table`` lives, and that path (template) under the lake root."""
    return {
        "trades": ("data.parquet_root", layout.root / layout.trades_template),
        "1s": ("data.intraday.bar_1s.path_glob", layout.root / layout.bar_1s_template),
        "1m": ("data.intraday.bar_1m.path_glob", layout.root / layout.bar_1m_template),
        "daily": ("data.daily.path", layout.daily),
    }[table]


def check_lake(run: BacktestRunConfig, spec: FeatureSpec, layout: LakeLayout, tickers: Sequence[str]) -> None:
    """Every table the run reads exists: the lake root, the daily table and each ticker's bar files of the
    kinds the spec reads."""
    if not layout.root.is_dir():
        raise SpecError(f"lake root {layout.root} is not a directory", field=f"{FIELD}.data.parquet_root")
    if not layout.daily.is_file():
        raise SpecError(f"daily table {layout.daily} not found", field=f"{FIELD}.data.daily.path")
    tables = needed_tables(run, spec)
    kinds = [(kind, name) for kind, name in (("1m", "bar_1m"), ("1s", "bar_1s")) if kind in tables]
    for kind, name in kinds:
        for ticker in tickers:
            path = layout.bars(kind, ticker)  # type: ignore[arg-type]
            if not path.is_file():
                raise SpecError(
                    f"bar file {path} of {ticker} not found", field=f"{FIELD}.data.intraday.{name}.path_glob"
                )


def resolve_universe(run: BacktestRunConfig, layout: LakeLayout, base_dir: Path) -> list[str]:
    """The run's tickers (sorted, unique)."""
    universe = run.data.universe
    field = f"{FIELD}.data.universe"
    if universe.source == "watchlist":
        tickers = list(universe.tickers or [])
    elif universe.source == "csv":
        path = _resolve(base_dir, universe.tickers_csv or "")
        if not path.is_file():
            raise SpecError(f"universe file {path} not found", field=f"{field}.tickers_csv")
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or "ticker" not in reader.fieldnames:
                raise SpecError(f"{path} has no 'ticker' column", field=f"{field}.tickers_csv")
            tickers = [row["ticker"].strip() for row in reader if row["ticker"].strip()]
    else:
        from sigma9_dag.lake.duck import query_tickers

        try:
            tickers = query_tickers(layout, universe.query or "")
        except LakeError as e:
            raise SpecError(str(e), field=f"{field}.query") from e
    for ticker in tickers:
        try:
            check_ticker(ticker)
        except ValueError as e:
            raise SpecError(str(e), field=field) from e
    if not tickers:
        raise SpecError("the universe holds no ticker", field=field)
    return sorted(set(tickers))


def walk_forward_folds(days: Sequence[dt.date], splits: WalkForward) -> list[Fold]:
    """Folds over ``days``: train ``train_days``, skip ``embargo_days``, test ``test_days``; the next fold
    starts ``step_days`` later; the last fold is the last one whose test period fits."""
    folds = []
    start = 0
    while True:
        test_start = start + splits.train_days + splits.embargo_days
        test_end = test_start + splits.test_days
        if test_end > len(days):
            break
        folds.append(
            Fold(
                f"fold{len(folds) + 1:02d}",
                tuple(days[start : start + splits.train_days]),
                tuple(days[test_start:test_end]),
            )
        )
        start += splits.step_days
    return folds


def plan_days(
    run: BacktestRunConfig, layout: LakeLayout, lake_days: Sequence[dt.date], days: Sequence[dt.date] | None = None
) -> tuple[list[dt.date], list[Fold], list[dt.date]]:
    """Scored days, folds and warm-up days of the run on the lake's trading days (``lake_days``: the days
    holding the tables the run reads) in ``time.start..end``.

    ``days`` (if given) replaces the split's test days (each must be a lake day in the run's range).
    """
    held = list(lake_days)
    lake_days = [d for d in held if run.time.start <= d <= run.time.end and is_trading_day(d)]
    splits = run.splits
    if days is not None:
        chosen = sorted(set(days))
        missing = [d for d in chosen if d not in set(lake_days)]
        if missing:
            raise SpecError(
                f"day(s) {', '.join(map(str, missing[:3]))} are not lake trading days in "
                f"{run.time.start}..{run.time.end}",
                field=f"{FIELD}.time",
            )
        train = tuple(d for d in lake_days if d < chosen[0]) if chosen else ()
        folds = [Fold("selected", train, tuple(chosen))]
    elif isinstance(splits, OOSHoldout):
        train = tuple(d for d in lake_days if d <= splits.train_end)
        test = tuple(d for d in lake_days if splits.test_start <= d <= splits.test_end)
        folds = [Fold("oos_holdout", train, test)]
    else:
        folds = walk_forward_folds(lake_days, splits)
        if not folds:
            raise SpecError(
                f"{len(lake_days)} lake day(s) in {run.time.start}..{run.time.end} hold no fold of "
                f"{splits.train_days} + {splits.embargo_days} + {splits.test_days} days",
                field=f"{FIELD}.splits",
            )
    scored = sorted({d for fold in folds for d in fold.test_days})
    if not scored:
        raise SpecError(
            f"no lake trading day in the test period (lake {layout.root} has {len(lake_days)} day(s) in "
            f"{run.time.start}..{run.time.end})",
            field=f"{FIELD}.splits",
        )
    earlier = [d for d in held if d < scored[0]]
    warmup = earlier[-run.time.warmup.daily_lookback_days :]
    return scored, folds, warmup


def check_schema_hash(spec: FeatureSpec, manifest: ArtifactManifest, source: str) -> None:
    """Fail at once when ``spec`` does not hash to the artifact's schema hash (both hashes in the message)."""
    actual = schema_hash(spec)
    expected = manifest.feature_spec_ref.schema_hash
    if actual != expected:
        raise SchemaMismatch(
            f"FeatureSpec {spec.id} does not match the schema hash of artifact {manifest.id} ({source}); "
            f"the backtest does not start",
            expected=expected,
            actual=actual,
        )


def load_artifact(
    run: BacktestRunConfig,
    spec: FeatureSpec,
    *,
    base_dir: Path,
    artifact_root: Path | None,
    artifact_id: str | None = None,
) -> LoadedArtifact | None:
    """The verified artifact the run scores with (None when the plugin needs none and the run names none).

    The store is ``artifact_root`` when given, else the run's ``artifact_ref.store``, else the directory above
    its ``manifest_path``; the artifact is ``artifact_id``, else ``artifact_ref.id``, else (no id, or ``latest``)
    the store's newest for the spec. The schema
    hash is compared first, from the manifest alone.
    """
    needs = needs_artifact(run.strategy.plugin, run.strategy.params)
    ref = run.artifact_ref
    if not needs and ref is None and artifact_id is None:
        return None
    if artifact_root is not None:
        registry = open_registry(artifact_root)
    elif ref is not None and ref.manifest_path is not None:
        manifest_path = _resolve(base_dir, ref.manifest_path)
        if not manifest_path.is_file():
            raise SpecError(
                f"manifest {manifest_path} not found (name the newest artifact of the spec with "
                "artifact_ref {id: latest, store: DIR}, or pick one with --artifact)",
                field=f"{FIELD}.artifact_ref.manifest_path",
            )
        registry = FilesystemArtifactRegistry(manifest_path.parent.parent)
    elif ref is not None and is_object_store_url(ref.store_root()):
        registry = open_registry(ref.store_root())
    elif ref is not None:
        store = _resolve(base_dir, ref.store_root())
        if not store.is_dir():
            raise SpecError(f"artifact store {store} not found", field=f"{FIELD}.artifact_ref.store")
        registry = FilesystemArtifactRegistry(store)
    else:
        raise SpecError(
            "the plugin scores with an artifact; set artifact_ref or pass an artifact store",
            field=f"{FIELD}.artifact_ref",
        )
    wanted = artifact_id or (ref.artifact_id() if ref is not None else None)
    if wanted is None:
        manifest = registry.latest(spec.id)
        if manifest is None:
            raise SpecError(f"no artifact for {spec.id} in {registry.layout.root}", field=f"{FIELD}.artifact_ref")
    else:
        path = registry.layout.manifest(wanted)
        if not path.is_file():
            raise SpecError(f"manifest {path} not found", field=f"{FIELD}.artifact_ref.id")
        manifest = load_artifact_manifest(path)
    check_schema_hash(spec, manifest, str(registry.layout.manifest(manifest.id)))
    return registry.load(manifest, spec, subscribed_streams=STREAM_CHANNELS)


def prepare(
    run: BacktestRunConfig,
    spec: FeatureSpec | None = None,
    *,
    base_dir: Path | None = None,
    lake_root: Path | str | None = None,
    artifact_root: Path | None = None,
    artifact_id: str | None = None,
    out_dir: Path | None = None,
    days: Sequence[dt.date] | None = None,
    tickers: Sequence[str] | None = None,
    source: str | None = None,
    alternatives: Sequence[FeatureSpec] = (),
) -> PreparedRun:
    """Resolve and check ``run``; see the module docstring. Arguments given here override the config's.

    ``alternatives`` are FeatureSpecs a refusal names when the lake lacks a table ``spec`` reads and they
    would work (the CLI passes the shipped ones)."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    plugin_class(run.strategy.plugin)  # unknown plugins fail before any data is touched
    spec = spec if spec is not None else load_spec(run, base)
    artifact = load_artifact(run, spec, base_dir=base, artifact_root=artifact_root, artifact_id=artifact_id)
    location = lake_root if lake_root is not None else run.data.parquet_root
    layout = open_lake(location if is_lake_url(location) else _resolve(base, location), **run_config_templates(run))
    if not layout.root.is_dir():
        raise SpecError(f"lake root {layout.root} is not a directory", field=f"{FIELD}.data.parquet_root")
    coverage = lake_coverage(layout)
    tables = needed_tables(run, spec)
    missing = [t for t in tables if t not in coverage.tables()]
    try:
        require_sources(spec, coverage, days=days, tables=tables, alternatives=alternatives)
    except LakeError as e:
        field, where = _table_field(layout, missing[0]) if missing else ("data.parquet_root", None)
        matches = f" (no file matches {where})" if where is not None else ""
        raise SpecError(f"{e}{matches}", field=f"{FIELD}.{field}") from e
    universe = sorted(set(tickers)) if tickers is not None else resolve_universe(run, layout, base)
    check_lake(run, spec, layout, universe)
    intraday = [t for t in tables if t != "daily"]
    scored, folds, warmup = plan_days(run, layout, coverage.days(intraday), days)
    out = Path(out_dir) if out_dir is not None else _resolve(base, run.output.base_dir)
    return PreparedRun(run, spec, layout, universe, scored, folds, warmup, artifact, out, source, coverage)
