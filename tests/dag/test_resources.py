"""The lab's resources: one bad FeatureSpec file is its own partition's error, not every partition's; directories
come from the environment when a run starts, not when the definitions are imported."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from sigma9_dag.partitions import feature_spec_files, feature_spec_partitions
from sigma9_dag.resources import SpecCatalogResource
from sigma9_runtime.errors import SpecError

SPECS = Path(__file__).resolve().parents[2] / "feature_specs"
GOOD = "FS_2026-01-16_002"


def test_a_bad_spec_file_fails_its_partition_alone(tmp_path: Path) -> None:
    shutil.copy(SPECS / f"{GOOD}.yaml", tmp_path / f"{GOOD}.yaml")
    (tmp_path / "FS_2026-01-16_009.yaml").write_text("feature_spec:\n  id: [unclosed\n")
    twin = (SPECS / "FS_2026-01-16_003.yaml").read_text()
    (tmp_path / "FS_2026-01-16_003.yaml").write_text(twin)
    (tmp_path / "FS_2026-01-16_003b.yaml").write_text(twin)  # the same id twice
    catalog = SpecCatalogResource(directory=str(tmp_path))

    assert list(catalog.paths()) == [GOOD] and [s.id for s in catalog.all_specs()] == [GOOD]
    assert catalog.spec(GOOD).id == GOOD
    with pytest.raises(SpecError, match=r"FS_2026-01-16_009\.yaml:\d+: invalid YAML"):
        catalog.spec("FS_2026-01-16_009")
    with pytest.raises(SpecError, match=r"FeatureSpec id FS_2026-01-16_003 is also in .*FS_2026-01-16_003\.yaml"):
        catalog.path("FS_2026-01-16_003")
    with dg.instance_for_test() as instance:
        result = feature_spec_files(dg.build_sensor_context(instance=instance, resources={"specs": catalog}))
    (request,) = result.dynamic_partitions_requests
    assert list(request.partition_keys) == [GOOD]


def test_a_run_reads_the_lake_the_environment_names_when_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sigma9_dag.definitions import defs  # imported first: the variable changes after it

    monkeypatch.setenv("SIGMA9_SPECS_DIR", str(SPECS))
    monkeypatch.setenv("SIGMA9_ARTIFACTS_ROOT", str(tmp_path / "artifacts"))
    job = defs.resolve_job_def("lab_chain")
    read = []
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(feature_spec_partitions.name, [GOOD])  # type: ignore[arg-type]
        for lake in (tmp_path / "first", tmp_path / "second"):
            monkeypatch.setenv("SIGMA9_DATA_ROOT", str(lake))
            # export alone, before anything else: its run fails loading an upstream stage's output from the lake
            result = job.execute_in_process(
                instance=instance, partition_key=GOOD, asset_selection=[dg.AssetKey("export")], raise_on_error=False
            )
            (failure,) = result.get_step_failure_events()
            error = failure.event_specific_data.error  # type: ignore[union-attr]
            read.append((error.cause or error).message)
    for lake, message in zip((tmp_path / "first", tmp_path / "second"), read, strict=True):
        assert f"DataError: {lake / 'experiments' / 'lab' / GOOD}/" in message
        assert "/output.json: not found — materialize the " in message


def test_a_resource_given_a_directory_ignores_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sigma9_dag.resources import ArtifactStoreResource, LakeResource

    monkeypatch.setenv("SIGMA9_DATA_ROOT", str(tmp_path / "environment"))
    monkeypatch.delenv("SIGMA9_ARTIFACTS_ROOT", raising=False)
    assert LakeResource().resolved_root() == str(tmp_path / "environment")
    assert LakeResource(root=str(tmp_path / "given")).resolved_root() == str(tmp_path / "given")
    assert ArtifactStoreResource().path() == Path("artifacts")  # the documented default
