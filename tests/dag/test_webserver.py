"""The lab through the web server: a partitioned materialization launched over GraphQL, as the UI does.

Starts ``dagster-webserver -m sigma9_dag.definitions`` in its own process session on a small synthetic
lake, launches every asset of the implicit asset job for one FeatureSpec partition with
``launchPipelineExecution`` (the UI's *Materialize all*), waits for the run to succeed and stops the
server by its process group. No daemon runs: the instance's DefaultRunCoordinator hands the run at once
to the default run launcher, which starts it in a subprocess.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import requests

from sigma9_dag.assets.checks import VERDICTS
from sigma9_dag.partitions import sync_spec_partitions
from sigma9_dag.resources import SpecCatalogResource
from tests.stubs import SMALL_LAKE_CONFIG

PROJECT = Path(__file__).resolve().parents[2]
SPEC_ID = "FS_2026-01-16_001"
LOCATION = "sigma9_dag.definitions"
ASSET_JOB = "__ASSET_JOB"  # the implicit job of all assets that the UI's "Materialize" launches
INSTANCE_YAML = """\
telemetry:
  enabled: false
# The default QueuedRunCoordinator leaves runs queued until a dagster-daemon dequeues them; without a
# daemon, the web server hands the run straight to the run launcher (DefaultRunLauncher: a subprocess).
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
"""
SERVER_START_TIMEOUT_S = 120
RUN_TIMEOUT_S = 900

ASSET_NODES = """
query AssetNodes {
  assetNodes {
    assetKey { path }
    partitionKeys
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}
"""

LAUNCH = """
mutation LaunchPipelineExecution($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PythonError { message stack }
    ... on Error { message }
  }
}
"""

RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status tags { key value } }
    ... on Error { message }
  }
}
"""

RUN_EVENTS = """
query RunEvents($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message stepKey }
        ... on MaterializationEvent {
          assetKey { path }
          partition
          metadataEntries {
            __typename
            label
            ... on MarkdownMetadataEntry { mdStr }
            ... on TableMetadataEntry { table { records } }
            ... on IntMetadataEntry { intValue }
          }
        }
        ... on ExecutionStepFailureEvent { error { ...Error } }
        ... on RunFailureEvent { error { ...Error } }
        ... on AssetCheckEvaluationEvent { evaluation { checkName success partition severity description } }
      }
    }
    ... on Error { message }
  }
}
fragment Error on PythonError { message stack causes { message stack } }
"""

WORKSPACE = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message stack } }
      }
    }
  }
}
"""


@dataclass
class Webserver:
    """A running ``dagster-webserver``: its process, its GraphQL endpoint and its log file."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """The ``data`` of a GraphQL request; fails the test on a GraphQL error."""
        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=60)
        response.raise_for_status()
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server printed."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_loaded(server: Webserver) -> None:
    """Wait until the server answers and has loaded the code location (it loads in the background)."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"dagster-webserver exited early:\n{server.log_tail()}"
        try:
            if requests.get(f"{server.url}/server_info", timeout=5).ok:
                (entry,) = server.graphql(WORKSPACE)["workspaceOrError"]["locationEntries"]
                if entry["loadStatus"] == "LOADED":
                    error = entry["locationOrLoadError"]
                    assert error["__typename"] == "RepositoryLocation", f"{LOCATION} failed to load: {error}"
                    return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    pytest.fail(f"dagster-webserver did not load {LOCATION} within {SERVER_START_TIMEOUT_S} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group (the server, its code server and any run worker)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture
def webserver(tmp_path: Path, synthetic_lake) -> Iterator[Webserver]:  # type: ignore[no-untyped-def]
    """A web server over a copy of the session lake, the shipped spec as the one partition, a fresh instance."""
    lake = tmp_path / "lake"
    shutil.copytree(synthetic_lake.root, lake, ignore=shutil.ignore_patterns("experiments"))
    specs = tmp_path / "feature_specs"
    specs.mkdir()
    shutil.copy(PROJECT / "feature_specs" / f"{SPEC_ID}.yaml", specs)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert sync_spec_partitions(instance, SpecCatalogResource(directory=str(specs))) == [SPEC_ID]

    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "SIGMA9_DATA_ROOT": str(lake),
        "SIGMA9_SPECS_DIR": str(specs),
        "SIGMA9_RUNS_DIR": str(PROJECT / "run_configs"),
        "SIGMA9_ARTIFACTS_ROOT": str(tmp_path / "artifacts"),
        "SIGMA9_MLFLOW_URI": f"sqlite:///{tmp_path}/mlflow/mlflow.db",
        "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(tmp_path / "numba")),
        # the code under test, ahead of whatever checkout the environment has installed
        "PYTHONPATH": os.pathsep.join([str(PROJECT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    port = _free_port()
    command = [sys.executable, "-m", "dagster_webserver", "-m", LOCATION]  # the dagster-webserver command
    log = tmp_path / "webserver.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Webserver(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_loaded(server)
        yield server
    finally:
        _stop(process)
    assert process.returncode is not None


def _run_failure(server: Webserver, run_id: str) -> str:
    """The run's errors and its last log messages, for the failure message."""
    events = server.graphql(RUN_EVENTS, runId=run_id)["logsForRun"].get("events", [])
    errors = [  # one per failed step and one for the run, often the same: printed once each
        # the innermost cause is the lab's own exception; its stack's last frames say where it was raised
        f"{error['message']}\n{''.join(error['stack'][-4:])}"
        for e in events
        if e.get("error")
        for error in [e["error"], *e["error"]["causes"]][-1:]
    ]
    tail = [f"[{e.get('stepKey') or 'run'}] {e['message']}" for e in events[-30:] if e.get("message")]
    return "\n".join([*dict.fromkeys(errors), "--- last events ---", *tail])


@pytest.mark.slow
def test_the_web_server_materializes_every_asset_of_a_spec_partition_launched_over_graphql(
    webserver: Webserver,
) -> None:
    nodes = webserver.graphql(ASSET_NODES)["assetNodes"]
    keys = [node["assetKey"]["path"] for node in nodes]
    assert ["dataset"] in keys and ["discovery"] in keys
    assert all(SPEC_ID in node["partitionKeys"] for node in nodes)
    checks = [
        {"assetKey": node["assetKey"], "name": check["name"]}
        for node in nodes
        for check in node["assetChecksOrError"].get("checks", [])
    ]
    names = {"/".join(key) for key in keys}
    params = {
        "selector": {
            "repositoryLocationName": LOCATION,
            "repositoryName": "__repository__",
            "pipelineName": ASSET_JOB,
            "assetSelection": [{"path": key} for key in keys],
            "assetCheckSelection": checks,
        },
        "runConfigData": {"ops": {name: {"config": c} for name, c in SMALL_LAKE_CONFIG.items() if name in names}},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": SPEC_ID}]},
    }
    launched = webserver.graphql(LAUNCH, executionParams=params)["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = None
    while time.monotonic() < deadline:
        run = webserver.graphql(RUN, runId=run_id)["runOrError"]
        status = run["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    if status != "SUCCESS":
        pytest.fail(f"run {run_id} ended {status}:\n{_run_failure(webserver, run_id)}\n{webserver.log_tail()}")
    assert {"key": "dagster/partition", "value": SPEC_ID} in run["tags"]

    events = webserver.graphql(RUN_EVENTS, runId=run_id)["logsForRun"]["events"]
    materialized = {"/".join(e["assetKey"]["path"]) for e in events if e["__typename"] == "MaterializationEvent"}
    assert materialized == names
    assert all(e["partition"] == SPEC_ID for e in events if e["__typename"] == "MaterializationEvent")
    evaluations = {e["evaluation"]["checkName"]: e["evaluation"] for e in events if e.get("evaluation")}
    assert set(evaluations) == {check["name"] for check in checks}
    blocking = {name for name, e in evaluations.items() if e["severity"] == "ERROR"}
    assert blocking and all(evaluations[name]["success"] for name in blocking)
    verdicts = {name: e for name, e in evaluations.items() if e["severity"] == "WARN"}  # met or missed: a warning
    assert set(verdicts) == set(VERDICTS) and all(
        e["description"].endswith(("met", "missed")) for e in verdicts.values()
    )
    # what a person sees on each asset's page: plots, tables and numbers
    entries = {
        "/".join(e["assetKey"]["path"]): {m["label"]: m for m in e["metadataEntries"]}
        for e in events
        if e["__typename"] == "MaterializationEvent"
    }
    backtest, export = entries["backtest"], entries["export"]
    for plot in ("equity_curve", "metrics_plot"):
        assert (
            backtest[plot]["__typename"] == "MarkdownMetadataEntry"
            and "data:image/png;base64," in backtest[plot]["mdStr"]
        )
    for rows in ("alerts_first_rows", "trades_first_rows"):
        assert backtest[rows]["__typename"] == "TableMetadataEntry"
    assert export["manifest_content"]["__typename"] == "MarkdownMetadataEntry"
    assert "| global threshold |" in export["manifest_content"]["mdStr"]
    assert entries["validation"]["test_events_in_scope"]["__typename"] == "IntMetadataEntry"
    tags = {t["key"]: t["value"] for t in run["tags"]}
    final = {t["key"]: t["value"] for t in webserver.graphql(RUN, runId=run_id)["runOrError"]["tags"]}
    assert {"sigma9/spec_id", "sigma9/schema_hash", "sigma9/run_config_id", "sigma9/git_commit"} <= set(final)
    assert final["sigma9/artifact_id"].startswith("ART_") and tags["dagster/partition"] == SPEC_ID
    # each check's evaluation is recorded for the spec partition (the UI lists it there, not under "Partition —")
    assert {e["evaluation"]["partition"] for e in events if e.get("evaluation")} == {SPEC_ID}
