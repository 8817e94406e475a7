"""A stage's run config made from its lab Settings: the launchpad carries the Settings' defaults and constraints,
and Dagster refuses a bad value before the stage runs."""

from pathlib import Path

import dagster as dg
import pytest
from pydantic import BaseModel

from sigma9_dag.assets.backtest import BacktestConfig, BacktestSettings
from sigma9_dag.assets.dataset import DatasetConfig, dataset
from sigma9_dag.assets.discovery import DiscoveryConfig
from sigma9_dag.assets.distill import DistillConfig
from sigma9_dag.assets.validation import ValidationConfig
from sigma9_dag.definitions import lab_resources
from sigma9_dag.lab.dataset import DatasetSettings
from sigma9_dag.lab.discovery import DiscoverySettings
from sigma9_dag.lab.distill import DistillSettings
from sigma9_dag.lab.validation import ValidationSettings
from sigma9_dag.partitions import feature_spec_partitions
from sigma9_dag.resources import LakeResource, SpecCatalogResource
from tests.stubs import SMALL_LAKE_CONFIG

SPECS = Path(__file__).parents[3] / "feature_specs"
SPEC_ID = "FS_2026-01-16_001"
STAGES: list[tuple[str, type[dg.Config], type[BaseModel]]] = [
    ("dataset", DatasetConfig, DatasetSettings),
    ("discovery", DiscoveryConfig, DiscoverySettings),
    ("validation", ValidationConfig, ValidationSettings),
    ("distill", DistillConfig, DistillSettings),
    ("backtest", BacktestConfig, BacktestSettings),
]


@pytest.mark.parametrize(("stage", "config", "settings"), STAGES, ids=[s for s, _, _ in STAGES])
def test_a_stage_config_holds_every_field_and_default_of_its_settings(
    stage: str, config: type[dg.Config], settings: type[BaseModel]
) -> None:
    fields = config.to_fields_dict()
    assert set(fields) == set(settings.model_fields)
    for name, info in settings.model_fields.items():
        default = list(info.default) if isinstance(info.default, tuple) else info.default
        assert fields[name].default_value == default, name
        assert info.description and fields[name].description.startswith(info.description), name
    assert config().settings(settings) == settings()  # type: ignore[attr-defined]
    knobs = SMALL_LAKE_CONFIG.get(stage, {})
    assert config(**knobs).settings(settings) == settings(**knobs)  # type: ignore[attr-defined]


def test_the_launchpad_shows_the_bounds_and_offers_the_literal_choices() -> None:
    fields = DatasetConfig.to_fields_dict()
    assert fields["warmup_days"].description.endswith("≥ 0")
    assert fields["validation_fraction"].description.endswith("> 0; < 1")
    assert fields["pre_window_min"].description.endswith("2 values")
    negatives = fields["negatives"].config_type.inner_type.inner_type  # Noneable(Array(Enum))
    assert [v.config_value for v in negatives.enum_values] == list(DatasetSettings().negatives)
    sessions = BacktestConfig.to_fields_dict()["sessions"].config_type.inner_type.inner_type
    assert [v.config_value for v in sessions.enum_values] == ["pre", "regular", "after"]


def _materialize_dataset(tmp_path: Path, config: dict[str, object]) -> dg.ExecuteInProcessResult:
    resources = lab_resources(LakeResource(root=str(tmp_path / "lake")), SpecCatalogResource(directory=str(SPECS)))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(feature_spec_partitions.name, [SPEC_ID])  # type: ignore[arg-type]
        return dg.materialize(
            [dataset],
            instance=instance,
            resources=resources,
            partition_key=SPEC_ID,
            run_config={"ops": {"dataset": {"config": config}}},
            raise_on_error=False,
        )


def _failure(result: dg.ExecuteInProcessResult) -> str:
    (failure,) = result.get_step_failure_events()
    error = failure.event_specific_data.error  # type: ignore[union-attr]
    return str((error.cause or error).message)


def test_an_out_of_range_value_is_refused_naming_the_field_before_the_stage_runs(tmp_path: Path) -> None:
    result = _materialize_dataset(tmp_path, {"warmup_days": -1, "scan_every_s": 900})
    assert not result.success
    message = _failure(result)
    assert "validation error for DatasetConfig\nwarmup_days\n  Input should be greater than or equal to 0" in message
    assert not (tmp_path / "lake").exists()  # the stage's body never ran: nothing written, not even a directory


def test_a_value_breaking_a_rule_between_fields_is_refused_before_the_stage_runs(tmp_path: Path) -> None:
    result = _materialize_dataset(tmp_path, {"near_miss_from": 0.2, "anchor": 0.1})
    assert "near_miss_from (0.2) must be below anchor (0.1)" in _failure(result)
    assert not (tmp_path / "lake").exists()


def test_a_value_outside_the_literal_choices_is_refused_when_the_run_is_launched(tmp_path: Path) -> None:
    with pytest.raises(dg.DagsterInvalidConfigError, match=r"path root:ops:dataset:config:negatives\[0\]"):
        _materialize_dataset(tmp_path, {"negatives": ["near_miss"]})
