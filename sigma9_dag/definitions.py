"""The one Dagster ``Definitions`` of the lab.

Assets (one module per stage under ``sigma9_dag/assets``) are partitioned by FeatureSpec id
(:mod:`sigma9_dag.partitions`): dataset -> discovery -> validation -> distill -> backtest -> export -> experiment
(the run in the MLflow history), each
taking the stage outputs it reads as inputs through the lab's IO manager (:mod:`sigma9_dag.io_manager`),
with blocking asset checks (:mod:`sigma9_dag.assets.checks`), the ``lab_chain`` job and its nightly schedule
(:mod:`sigma9_dag.schedules`) and the sensor that turns new spec files into partitions. The resources are
chosen here (:func:`lab_resources`); importing this module reads no environment variable: each resource
reads its own when a run, sensor or schedule uses it (:mod:`sigma9_dag.resources`).
"""

from typing import Any

import dagster as dg

from sigma9_dag.assets.backtest import backtest
from sigma9_dag.assets.checks import CHECKS
from sigma9_dag.assets.dataset import dataset
from sigma9_dag.assets.discovery import discovery
from sigma9_dag.assets.distill import distill
from sigma9_dag.assets.experiment import experiment
from sigma9_dag.assets.export import export
from sigma9_dag.assets.validation import validation
from sigma9_dag.io_manager import LAB_STORE, LabStoreIOManager
from sigma9_dag.partitions import feature_spec_files
from sigma9_dag.resources import (
    ArtifactStoreResource,
    ComputeResource,
    ExperimentTrackerResource,
    LakeResource,
    SpecCatalogResource,
)
from sigma9_dag.schedules import lab_chain, nightly_retrain

ASSETS = [dataset, discovery, validation, distill, backtest, export, experiment]
__all__ = ["ASSETS", "CHECKS", "defs", "lab_resources"]


def lab_resources(
    lake: LakeResource | None = None,
    specs: SpecCatalogResource | None = None,
    artifacts: ArtifactStoreResource | None = None,
    compute: ComputeResource | None = None,
    tracker: ExperimentTrackerResource | None = None,
) -> dict[str, Any]:
    """The lab's resources by key: the lake, the spec catalog, the artifact store, where per-ticker work runs
    (local processes or a Dask cluster), the experiment tracker and the IO manager over that lake. Each one not
    given reads its setting from the environment when a run uses it (with its default)."""
    lake = lake or LakeResource()
    return {
        "lake": lake,
        "specs": specs or SpecCatalogResource(),
        "artifacts": artifacts or ArtifactStoreResource(),
        "compute": compute or ComputeResource(),
        "tracker": tracker or ExperimentTrackerResource(),
        LAB_STORE: LabStoreIOManager(lake=lake),
    }


defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[lab_chain],
    schedules=[nightly_retrain],
    sensors=[feature_spec_files],
    resources=lab_resources(),
)
