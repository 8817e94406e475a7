"""``sigma9 lab run``: a run of the ``lab_chain`` job, tagged with its spec, as the web UI lists it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from sigma9_dag.cli import main
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
