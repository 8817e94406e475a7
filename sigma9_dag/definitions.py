"""The one Dagster ``Definitions`` of the lab.

Assets (one module per stage under ``sigma9_dag/assets``) are partitioned by FeatureSpec id
(:mod:`sigma9_dag.partitions`); the resources are chosen here, from the environment
(:mod:`sigma9_dag.resources`). Later stages (validation, distill, backtest, export)
are added as they land.
"""

import os

import dagster as dg

from sigma9_dag.assets.dataset import dataset
from sigma9_dag.assets.discovery import discovery
from sigma9_dag.partitions import feature_spec_files
from sigma9_dag.resources import ArtifactStoreResource, LakeResource, SpecCatalogResource


def resources() -> dict[str, dg.ConfigurableResource]:
    """The lab's resources from ``SIGMA9_DATA_ROOT``, ``SIGMA9_SPECS_DIR`` and ``SIGMA9_ARTIFACTS_ROOT``."""
    return {
        "lake": LakeResource(root=os.environ.get("SIGMA9_DATA_ROOT", "data")),
        "specs": SpecCatalogResource(directory=os.environ.get("SIGMA9_SPECS_DIR", "feature_specs")),
        "artifacts": ArtifactStoreResource(root=os.environ.get("SIGMA9_ARTIFACTS_ROOT", "artifacts")),
    }


defs = dg.Definitions(assets=[dataset, discovery], sensors=[feature_spec_files], resources=resources())
