"""The lab's job and its nightly retrain schedule over every FeatureSpec partition."""

import dagster as dg

from sigma9_dag.partitions import SPEC_PARTITIONS_NAME
from sigma9_dag.resources import SpecCatalogResource
from sigma9_dag.run_tags import lab_run_tags

STAGES = ("dataset", "discovery", "validation", "distill", "backtest", "export", "experiment")
"""The lab's stages in order; each asset is in the group of its own name (the UI's asset groups)."""

lab_chain = dg.define_asset_job(
    "lab_chain",
    selection=dg.AssetSelection.groups(*STAGES),
    description="dataset -> discovery -> validation -> distill -> backtest -> export -> experiment, one FeatureSpec.",
)


NIGHTLY_DESCRIPTION = (
    "Retrains every FeatureSpec nightly: at 02:00 New York time, one run of the whole lab_chain per feature_spec "
    "partition, tagged like `sigma9 lab run`'s. Off until turned on: the toggle here, or "
    "`sigma9 lab schedule on`; it needs a running dagster-daemon (`make ui` starts one)."
)


@dg.schedule(
    job=lab_chain,
    cron_schedule="0 2 * * *",
    execution_timezone="America/New_York",
    description=NIGHTLY_DESCRIPTION,
)
def nightly_retrain(context: dg.ScheduleEvaluationContext, specs: SpecCatalogResource):  # type: ignore[no-untyped-def]
    """Every night at 02:00 New York time: one run of the whole chain per FeatureSpec partition."""
    night = context.scheduled_execution_time.strftime("%Y-%m-%d")
    for spec_id in sorted(context.instance.get_dynamic_partitions(SPEC_PARTITIONS_NAME)):
        yield dg.RunRequest(run_key=f"{spec_id}@{night}", partition_key=spec_id, tags=lab_run_tags(spec_id, specs))
