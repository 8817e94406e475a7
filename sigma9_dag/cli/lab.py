"""``sigma9 lab``: register FeatureSpec partitions and materialize the lab chain without the web UI."""

from __future__ import annotations

import argparse
import os
import sys


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "lab",
        help="the lab's Dagster assets: register spec partitions, materialize a partition",
        description=(
            "Runs use the Dagster instance at $DAGSTER_HOME (make sets it to .dagster_home), so they show in "
            "the web UI (make ui). Resources come from $SIGMA9_DATA_ROOT, $SIGMA9_SPECS_DIR, $SIGMA9_ARTIFACTS_ROOT."
        ),
    )
    actions = parser.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    sync = actions.add_parser("sync-specs", help="add a partition for every FS_*.yaml (as the sensor does)")
    sync.set_defaults(handler=_sync)
    run = actions.add_parser("run", help="materialize the lab's assets for one FeatureSpec partition, in process")
    run.add_argument("--spec-id", required=True, metavar="FS_ID", help="FeatureSpec id (the partition key)")
    run.add_argument(
        "--select", default="*", metavar="SELECTION", help="Dagster asset selection (default '*': the whole chain)"
    )
    run.set_defaults(handler=_run)


def _instance():  # type: ignore[no-untyped-def]
    import dagster as dg

    if not os.environ.get("DAGSTER_HOME"):
        print("sigma9 lab: DAGSTER_HOME is not set; using a temporary instance (runs will not show in the UI)")
        return dg.DagsterInstance.ephemeral()
    return dg.DagsterInstance.get()


def _sync(args: argparse.Namespace) -> int:
    from sigma9_dag.definitions import resources
    from sigma9_dag.partitions import sync_spec_partitions

    with _instance() as instance:
        added = sync_spec_partitions(instance, resources()["specs"])  # type: ignore[arg-type]
    print(f"added {len(added)} partition(s){': ' + ', '.join(added) if added else ''}")
    return 0


def _run(args: argparse.Namespace) -> int:
    import dagster as dg

    from sigma9_dag.definitions import defs, resources
    from sigma9_dag.partitions import sync_spec_partitions

    specs = resources()["specs"]
    specs.path(args.spec_id)  # type: ignore[attr-defined]  # a clear error for an unknown id
    with _instance() as instance:
        sync_spec_partitions(instance, specs)  # type: ignore[arg-type]
        assets = list(defs.assets or [])
        result = dg.materialize(
            assets,  # type: ignore[arg-type]
            instance=instance,
            resources=resources(),
            partition_key=args.spec_id,
            selection=args.select,
            raise_on_error=False,
        )
        for event in result.get_asset_materialization_events():
            materialization = event.materialization
            print(f"materialized {materialization.asset_key.to_user_string()} [{args.spec_id}]")
            for key, value in materialization.metadata.items():
                if not isinstance(value, dg.MarkdownMetadataValue):
                    print(f"  {key}: {value.value}")
    if not result.success:
        print(f"sigma9 lab: the run for {args.spec_id} failed (see the log above)", file=sys.stderr)
        return 1
    return 0
