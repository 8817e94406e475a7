"""The whole lab chain on a lake of daily + 1-minute bars only (20 tickers x 40 trading days, two months):
FS_2026-01-16_003 publishes an artifact a container subscribed to ``AM.*`` alone loads; a spec that reads trades
is refused in one line before anything runs."""

import os
from pathlib import Path

import dagster as dg
import pytest

from sigma9_dag.cli import main
from sigma9_dag.lake.coverage import lake_coverage
from sigma9_dag.lake.synth import generate_synthetic_lake
from sigma9_runtime.contracts.io import load_artifact_manifest
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.registry import FilesystemArtifactRegistry
from tests.stubs import materialized_lab

PROJECT = Path(__file__).parents[3]
SPEC_ID = "FS_2026-01-16_003"
MINUTE_LAKE_CONFIG: dict[str, dict[str, object]] = {
    "dataset": {"warmup_days": 10, "scan_every_s": 300},
    "discovery": {"n_neighbors": 10},
    "validation": {"n_estimators": 60, "min_alerts_per_day": 1.0},
    "distill": {"min_alerts_per_day": 1.0},
}
"""Smaller knobs for a 20-ticker lake of 40 days (10 warm-up days leave 30)."""


@pytest.fixture(scope="module")
def minute_only_lake(tmp_path_factory: pytest.TempPathFactory) -> LakeLayout:
    """A synthetic market of 20 tickers x 40 trading days written as daily + 1-minute bars only."""
    root = tmp_path_factory.mktemp("minute-chain") / "lake"
    generate_synthetic_lake(root, tickers=20, days=40, seed=5, history_days=30, workers=2, tables=("daily", "1m"))
    return LakeLayout(root)


@pytest.fixture(scope="module")
def minute_chain(minute_only_lake: LakeLayout, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The whole chain materialized once for FS_2026-01-16_003: (result, lake, specs, artifacts)."""
    artifacts = tmp_path_factory.mktemp("minute-artifacts")
    with materialized_lab(minute_only_lake.root, artifacts, SPEC_ID, MINUTE_LAKE_CONFIG) as (result, resources, _):
        yield result, resources["lake"], resources["specs"], resources["artifacts"]


@pytest.mark.slow
def test_the_chain_on_a_minute_bar_lake_publishes_an_artifact_an_am_only_runtime_loads(minute_chain) -> None:  # type: ignore[no-untyped-def]
    result, lake, specs, artifacts = minute_chain
    assert result.success
    done = {e.materialization.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert done == {"dataset", "discovery", "validation", "distill", "backtest", "export", "experiment"}
    # every blocking check passes; the quality verdicts may warn on so small a lake
    assert all(e.passed for e in result.get_asset_check_evaluations() if e.severity == dg.AssetCheckSeverity.ERROR)
    store = lake.lab(SPEC_ID)
    events = store.read_table("dataset", "events")
    assert len(events) > 0 and set(events["t0_resolution"]) == {"1m"}
    assert (events["t0_ns"] % 60_000_000_000 == 0).all()  # the end of the minute bar that crossed
    manifest = load_artifact_manifest(store.read_json("export", "published")["manifest"])
    assert manifest.compatibility.required_streams == ["AM.*"]
    assert set(manifest.performance_oos.baselines) == {"seismograph_only", "random_budget_matched"}
    loaded = FilesystemArtifactRegistry(artifacts.path()).load_latest(specs.spec(SPEC_ID), subscribed_streams=["AM.*"])
    assert loaded.manifest.id == manifest.id
    report = store.read_json("backtest", "backtest_report")
    assert report["engine_stats"]["trades"] == 0 and report["engine_stats"]["bars"] > 0
    if report["summary"]["alerts"]:  # orders fill on 1-minute bars when no trade tick comes
        assert report["summary"]["trades"] > 0


@pytest.mark.slow
def test_a_spec_reading_trades_is_refused_on_a_minute_bar_lake_in_one_line(
    minute_only_lake: LakeLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT)  # the catalog of shipped specs the refusal offers
    monkeypatch.setenv("SIGMA9_DATA_ROOT", str(minute_only_lake.root))
    monkeypatch.setenv("SIGMA9_ARTIFACTS_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    os.makedirs(tmp_path / "dagster")
    assert main(["lab", "run", "--spec-id", "FS_2026-01-16_002"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    span = lake_coverage(minute_only_lake).span()  # the daily history's first day .. the last minute bar's day
    assert err == (
        f"sigma9: error: FS_2026-01-16_002 reads tick and bar_1s; the lake at {minute_only_lake.root} has 1m and "
        f"daily only ({span}): use a spec whose sources are bar_1m/daily (FS_2026-01-16_003) or import trades"
    )
