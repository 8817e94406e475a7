"""The one Dagster ``Definitions`` of the lab.

Assets (one module per stage under ``sigma9_dag/assets``) are partitioned by FeatureSpec id
(:mod:`sigma9_dag.partitions`): dataset -> discovery -> validation -> distill -> backtest -> export, with
blocking asset checks (:mod:`sigma9_dag.assets.checks`), the ``lab_chain`` job and its nightly schedule
(:mod:`sigma9_dag.schedules`) and the sensor that turns new spec files into partitions. The resources
are chosen here, from the environment (:mod:`sigma9_dag.resources`).
"""

import os

import dagster as dg

from sigma9_dag.assets.backtest import backtest
from sigma9_dag.assets.checks import CHECKS
from sigma9_dag.assets.dataset import dataset
from sigma9_dag.assets.discovery import discovery
from sigma9_dag.assets.distill import distill
from sigma9_dag.assets.export import export
from sigma9_dag.assets.validation import validation
from sigma9_dag.partitions import feature_spec_files
from sigma9_dag.resources import ArtifactStoreResource, LakeResource, SpecCatalogResource
from sigma9_dag.schedules import lab_chain, nightly_retrain

ASSETS = [dataset, discovery, validation, distill, backtest, export]
__all__ = ["ASSETS", "CHECKS", "defs", "resources"]


def resources() -> dict[str, dg.ConfigurableResource]:
    """The lab's resources from the environment (see :mod:`sigma9_dag.resources`)."""
    return {
        "lake": LakeResource(root=os.environ.get("SIGMA9_DATA_ROOT", "data")),
        "specs": SpecCatalogResource(
            directory=os.environ.get("SIGMA9_SPECS_DIR", "feature_specs"),
            runs_directory=os.environ.get("SIGMA9_RUNS_DIR", "run_configs"),
        ),
        "artifacts": ArtifactStoreResource(root=os.environ.get("SIGMA9_ARTIFACTS_ROOT", "artifacts")),
    }


defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[lab_chain],
    schedules=[nightly_retrain],
    sensors=[feature_spec_files],
    resources=resources(),
)
