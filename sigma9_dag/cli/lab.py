"""``sigma9 lab``: register FeatureSpec partitions and materialize the lab chain without the web UI."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from sigma9_dag.cli.compute import add_dask_option
from sigma9_runtime.errors import SpecError


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "lab",
        help="the lab's Dagster assets: register spec partitions, materialize a partition",
        description=(
            "Runs use the Dagster instance at $DAGSTER_HOME (make sets it to .dagster_home), so they show in "
            "the web UI (make ui). Resources come from $SIGMA9_DATA_ROOT, $SIGMA9_SPECS_DIR, $SIGMA9_RUNS_DIR and "
            "$SIGMA9_ARTIFACTS_ROOT, read when the run starts."
        ),
    )
    actions = parser.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    sync = actions.add_parser("sync-specs", help="add a partition for every FS_*.yaml (as the sensor does)")
    sync.set_defaults(handler=_sync)
    run = actions.add_parser("run", help="materialize the lab's assets for one FeatureSpec partition, in process")
    run.add_argument("--spec-id", required=True, metavar="FS_ID", help="FeatureSpec id (the partition key)")
    run.add_argument(
        "--select",
        default="*",
        metavar="SELECTION",
        help="Dagster asset selection, e.g. 'validation*' (default '*': the whole chain and its checks)",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="refuse (exit 2) when the dataset would hold a symbol-day whose features are NaN for lack of history",
    )
    add_dask_option(run)
    run.set_defaults(handler=_run)
    schedule = actions.add_parser(
        "schedule",
        help="turn the nightly retrain on or off, or show whether it is on (as the UI's toggle does)",
        description=(
            f"The schedule {SCHEDULE} runs the whole lab_chain for every FeatureSpec partition at 02:00 New York "
            "time. Its state lives in the instance at $DAGSTER_HOME; a running dagster-daemon (make ui starts one) "
            "launches the runs. Run from the project directory (it reads workspace.yaml, as make ui does)."
        ),
    )
    schedule.add_argument("state", choices=("on", "off", "status"), help="on, off, or status")
    schedule.set_defaults(handler=_schedule)


SCHEDULE = "nightly_retrain"
WORKSPACE = Path("workspace.yaml")


def _schedule(args: argparse.Namespace) -> int:
    """Start or stop the nightly schedule, or print its state, through Dagster's own command line."""
    import subprocess

    if not os.environ.get("DAGSTER_HOME"):
        raise SpecError(
            "DAGSTER_HOME is not set: the schedule's state lives in an instance (make ui uses .dagster_home)"
        )
    if not WORKSPACE.is_file():
        raise SpecError(f"no {WORKSPACE} here: run from the project directory", file=WORKSPACE)
    dagster = Path(sys.executable).with_name("dagster")
    verb = {"on": ["start", SCHEDULE], "off": ["stop", SCHEDULE], "status": ["list"]}[args.state]
    done = subprocess.run(
        [str(dagster), "schedule", *verb, "-w", str(WORKSPACE)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise SpecError(f"dagster schedule {' '.join(verb)} failed: {last[0]}")
    running = args.state == "on" or (args.state == "status" and f"{SCHEDULE} [RUNNING]" in done.stdout)
    when = "runs every night at 02:00 New York time while a dagster-daemon runs" if running else "no nightly runs"
    print(f"{SCHEDULE}: {'on' if running else 'off'} ({when})")
    return 0


def _instance():  # type: ignore[no-untyped-def]
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        print("sigma9 lab: DAGSTER_HOME is not set; using a temporary instance (runs will not show in the UI)")
        return dg.DagsterInstance.ephemeral()
    return dg.DagsterInstance.get()


def _sync(args: argparse.Namespace) -> int:
    from sigma9_dag.partitions import sync_spec_partitions
    from sigma9_dag.resources import SpecCatalogResource

    with _instance() as instance:
        added = sync_spec_partitions(instance, SpecCatalogResource())
    print(f"added {len(added)} partition(s){': ' + ', '.join(added) if added else ''}")
    return 0


def _run(args: argparse.Namespace) -> int:
    import dagster as dg

    from sigma9_dag.definitions import ASSETS, defs
    from sigma9_dag.partitions import sync_spec_partitions
    from sigma9_dag.resources import LakeResource, SpecCatalogResource
    from sigma9_dag.run_tags import lab_run_tags

    # the same environment the run's resources read when it starts (defs holds no directory of its own)
    specs, lake = SpecCatalogResource(), LakeResource()
    spec = specs.spec(args.spec_id)  # a clear error for an unknown id
    try:
        with warnings.catch_warnings():  # Dagster's own selection parser calls a beta parameter: not ours to show
            warnings.simplefilter("ignore", dg.BetaWarning)
            selection = dg.AssetSelection.from_string(args.select)
            keys = selection.resolve(ASSETS)
    except dg.DagsterError as e:
        raise SpecError(f"--select {args.select!r} is not a Dagster asset selection ({e})") from e
    with_dataset = dg.AssetKey("dataset") in keys
    _check_lake(lake.layout(), spec, specs.all_specs(), dataset=with_dataset, strict=args.strict)
    with _instance() as instance:
        sync_spec_partitions(instance, specs)
        # A run of the lab_chain job (Jobs -> lab_chain and the timeline in the web UI), with the asset checks
        # of the selected assets. Its resources read the environment when it starts.
        result = defs.resolve_job_def("lab_chain").execute_in_process(
            instance=instance,
            partition_key=args.spec_id,
            asset_selection=sorted(keys),
            raise_on_error=False,
            tags=lab_run_tags(args.spec_id, specs),
        )
        for event in result.get_asset_materialization_events():
            materialization = event.materialization
            print(f"materialized {materialization.asset_key.to_user_string()} [{args.spec_id}]")
            for key, value in materialization.metadata.items():
                if key == "stage_files":  # paths, sizes and sha256 of every file: the UI's, not the terminal's
                    print(f"  {key}: {len(value.value)} files (sizes and sha256 in the UI)")  # type: ignore[arg-type]
                elif not isinstance(value, dg.MarkdownMetadataValue):
                    print(f"  {key}: {value.value}")
        for check in result.get_asset_check_evaluations():
            verdict = check.severity == dg.AssetCheckSeverity.WARN
            outcome = "passed" if check.passed else ("warning" if verdict else "FAILED")
            print(f"check {check.check_name}: {outcome} ({check.description})")
        print(stage_times(result))
    if not result.success:
        print(f"sigma9 lab: the run for {args.spec_id} failed (see the log above)", file=sys.stderr)
        return 1
    _print_headline(args.spec_id)
    return 0


def stage_times(result: Any) -> str:
    """One line: how long each step of the run took (``dataset 5m14s, ...``) and in all."""
    spans = [(e.step_key, e.event_specific_data.duration_ms / 1000.0) for e in result.get_step_success_events()]
    total = sum(seconds for _, seconds in spans)
    parts = ", ".join(f"{step} {_duration(seconds)}" for step, seconds in spans)
    return f"stage times: {parts or 'none'}; {_duration(total)} in all"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{seconds:.1f}s"


def _check_lake(  # type: ignore[no-untyped-def]
    layout, spec, alternatives, *, dataset: bool = False, strict: bool = False
) -> None:
    """Refuse, in one line and before Dagster starts, a lake lacking a table the spec reads; when the run builds
    the dataset, also a lake too short for its date split, print its warm-up sufficiency when history is short,
    and (``strict``) refuse it when a symbol-day's features would be NaN for lack of history."""
    from sigma9_dag.cli.catalog import checked_coverage
    from sigma9_dag.lab.dataset import DatasetSettings, dataset_history, spec_split

    coverage = checked_coverage(layout, spec, alternatives=alternatives)
    if not dataset:
        return
    history = dataset_history(coverage, spec, spec_split(coverage, spec, DatasetSettings()))
    history.check(strict=strict)
    for line in history.lines():
        print(line)


def _print_headline(spec_id: str) -> None:
    """The published manifest and its out-of-sample figures next to the baselines (when export ran)."""
    from sigma9_dag.assets.export import ExportOutput, export
    from sigma9_dag.io_manager import has_output, read_output
    from sigma9_dag.lab.summary import performance_text
    from sigma9_dag.resources import LakeResource

    lake = LakeResource()
    if not has_output(lake, spec_id, export.key):
        return
    published = read_output(lake, spec_id, export.key, ExportOutput)
    manifest, manifest_path = published.published_manifest(), published.manifest
    oos = manifest.performance_oos
    performance = oos.model_dump(include={"metrics", "baselines"})
    print()
    print(f"artifact {manifest.id}: {manifest_path}")
    print(f"out of sample, test days {oos.split.test_start} .. {oos.split.test_end}")
    print(f"thresholds: {manifest.model.thresholds.model_dump()}")
    print(performance_text(performance))
