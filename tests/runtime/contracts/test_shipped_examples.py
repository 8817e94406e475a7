from pathlib import Path

from sigma9_runtime.contracts import BacktestRunConfig, FeatureSpec, load_any_contract

ROOT = Path(__file__).resolve().parents[3]


def test_shipped_feature_spec_validates() -> None:
    assert isinstance(load_any_contract(ROOT / "feature_specs" / "FS_2026-01-16_001.yaml"), FeatureSpec)


def test_shipped_run_config_validates() -> None:
    assert isinstance(load_any_contract(ROOT / "run_configs" / "RUN_2026-01-16_001.yaml"), BacktestRunConfig)
