"""The three contracts of the design: FeatureSpec (input), ArtifactManifest (output), BacktestRunConfig (experiment)."""

from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.duration import Duration
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.contracts.io import (
    DOCUMENT_KEYS,
    dump_contract,
    dumps_contract,
    load_any_contract,
    load_artifact_manifest,
    load_backtest_run_config,
    load_contract,
    load_feature_spec,
    parse_contract,
)

__all__ = [
    "DOCUMENT_KEYS",
    "ArtifactManifest",
    "BacktestRunConfig",
    "Duration",
    "FeatureSpec",
    "dump_contract",
    "dumps_contract",
    "load_any_contract",
    "load_artifact_manifest",
    "load_backtest_run_config",
    "load_contract",
    "load_feature_spec",
    "parse_contract",
]
