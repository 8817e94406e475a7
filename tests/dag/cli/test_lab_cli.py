"""``sigma9 lab run``: a run of the ``lab_chain`` job, tagged with its spec, as the web UI lists it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from sigma9_dag.cli import main
from tests.stubs import ROOT as PROJECT
from tests.stubs import writable_view

SPEC_ID = "FS_2026-01-16_001"


def test_lab_run_launches_the_lab_chain_job(synthetic_lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("SIGMA9_DATA_ROOT", str(writable_view(synthetic_lake.root, tmp_path / "lake")))
    monkeypatch.setenv("SIGMA9_ARTIFACTS_ROOT", str(tmp_path / "artifacts"))
    # export alone, before any distill: the run starts and fails at once, which is all this test needs.
    assert main(["lab", "run", "--spec-id", SPEC_ID, "--select", "export"]) == 1
    with dg.DagsterInstance.get() as instance:
        (run,) = instance.get_runs()
    assert run.job_name == "lab_chain"
    assert run.tags["dagster/partition"] == SPEC_ID and run.tags["sigma9/spec_id"] == SPEC_ID
    assert run.tags["sigma9/run_config_id"] == "RUN_2026-01-16_001" and run.tags["sigma9/schema_hash"].startswith(
        "sha256:"
    )
    assert "sigma9/git_commit" in run.tags


def test_the_run_ends_with_each_stage_time_and_the_total() -> None:
    from types import SimpleNamespace

    from sigma9_dag.cli.lab import stage_times

    def step(key: str, ms: float) -> SimpleNamespace:
        return SimpleNamespace(step_key=key, event_specific_data=SimpleNamespace(duration_ms=ms))

    result = SimpleNamespace(get_step_success_events=lambda: [step("dataset", 314_400.0), step("discovery", 2_500.0)])
    assert stage_times(result) == "stage times: dataset 5m14s, discovery 2.5s; 5m17s in all"
    assert stage_times(SimpleNamespace(get_step_success_events=list)) == "stage times: none; 0.0s in all"


def test_the_nightly_schedule_is_turned_on_and_off_in_the_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.chdir(PROJECT)
    for state, shown in (("on", "on"), ("status", "on"), ("off", "off")):
        assert main(["lab", "schedule", state]) == 0
        assert capsys.readouterr().out.startswith(f"nightly_retrain: {shown} ("), state
    with dg.DagsterInstance.get() as instance:  # the state the UI's toggle shows
        (state,) = [s for s in instance.all_instigator_state() if s.name == "nightly_retrain"]
        assert not state.is_running


def test_the_schedule_needs_an_instance(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["lab", "schedule", "on"]) == 2
    assert "DAGSTER_HOME is not set" in capsys.readouterr().err
