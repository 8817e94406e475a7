"""Partitions keyed by FeatureSpec id, and how new spec files become partitions.

The lab's assets share one dynamic partitions definition, ``feature_spec``. Its keys are the
ids of the ``FS_*.yaml`` files of the spec catalog: the sensor :data:`feature_spec_files` adds a
key for every new file (about every 30 s while the daemon runs, so a new spec appears in the web
UI without restarting it), and ``sigma9 lab sync-specs`` does the same once from the command line
(needed before ``dagster asset materialize --partition FS_...`` on a fresh instance).
A key whose file was removed stays, so its materializations remain browsable.
"""

import dagster as dg

from sigma9_dag.resources import SpecCatalogResource

SPEC_PARTITIONS_NAME = "feature_spec"
feature_spec_partitions = dg.DynamicPartitionsDefinition(name=SPEC_PARTITIONS_NAME)


def missing_spec_partitions(instance: dg.DagsterInstance, catalog: SpecCatalogResource) -> list[str]:
    """Spec ids in the catalog that are not partitions of ``instance`` yet."""
    known = set(instance.get_dynamic_partitions(feature_spec_partitions.name))  # type: ignore[arg-type]
    return [spec_id for spec_id in catalog.paths() if spec_id not in known]


def sync_spec_partitions(instance: dg.DagsterInstance, catalog: SpecCatalogResource) -> list[str]:
    """Add every catalog spec missing from ``instance``'s partitions; returns the ids added."""
    missing = missing_spec_partitions(instance, catalog)
    if missing:
        instance.add_dynamic_partitions(feature_spec_partitions.name, missing)  # type: ignore[arg-type]
    return missing


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches feature_specs/ every 30 s and adds a feature_spec partition for each new FeatureSpec file "
        "(a file that does not validate is logged and left out). On by default; needs a running dagster-daemon."
    ),
)
def feature_spec_files(context: dg.SensorEvaluationContext, specs: SpecCatalogResource) -> dg.SensorResult:
    """Add a ``feature_spec`` partition for every new FeatureSpec file."""
    for name, problem in specs.catalog().problems.items():
        context.log.warning(f"FeatureSpec {name} left out until fixed: {problem}")
    missing = missing_spec_partitions(context.instance, specs)
    if not missing:
        return dg.SensorResult(skip_reason="no new FeatureSpec files")
    context.log.info(f"new FeatureSpecs: {', '.join(missing)}")
    return dg.SensorResult(dynamic_partitions_requests=[feature_spec_partitions.build_add_request(missing)])
