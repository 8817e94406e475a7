"""The tags every lab run carries, to filter and compare runs by in the UI (Runs -> filter by tag).

``sigma9/spec_id``, ``sigma9/schema_hash`` (the FeatureSpec's), ``sigma9/run_config_id`` and
``sigma9/git_commit`` (the code's) are set when ``sigma9 lab run`` or the nightly schedule launches a run, and
added by the stage assets to a run launched any other way (the UI's *Materialize*); the export stage adds
``sigma9/artifact_id`` once it has published.
"""

from __future__ import annotations

import dagster as dg

from sigma9_dag.export.producer import git_commit
from sigma9_dag.resources import SpecCatalogResource
from sigma9_runtime.schema_hash import schema_hash

PREFIX = "sigma9/"
ARTIFACT_ID = f"{PREFIX}artifact_id"


def lab_run_tags(spec_id: str, specs: SpecCatalogResource) -> dict[str, str]:
    """The tags of a lab run for FeatureSpec ``spec_id``."""
    return {
        f"{PREFIX}spec_id": spec_id,
        f"{PREFIX}schema_hash": schema_hash(specs.spec(spec_id)),
        f"{PREFIX}run_config_id": specs.run_config(spec_id).id,
        f"{PREFIX}git_commit": git_commit(),
    }


def stored_run(context: dg.AssetExecutionContext) -> dg.DagsterRun | None:
    """The current run as the instance holds it now (the context's copy keeps the tags it was launched with), or
    None for an asset invoked directly, outside a run."""
    try:
        run_id = context.run.run_id
    except dg.DagsterError:  # DagsterInvalidPropertyError, not exported: no run when invoked directly
        return None
    return context.instance.get_run_by_id(run_id)


def tag_run(context: dg.AssetExecutionContext, specs: SpecCatalogResource, **extra: str) -> None:
    """Add the lab's tags (and ``extra``) that the current run lacks or holds another value of (nothing for an
    asset invoked directly, outside a run)."""
    run = stored_run(context)
    if run is None:
        return
    tags = {**lab_run_tags(context.partition_key, specs), **extra}
    changed = {key: value for key, value in tags.items() if run.tags.get(key) != value}
    if changed:
        context.instance.add_run_tags(run.run_id, changed)
