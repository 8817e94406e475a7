"""The lab's resources: one bad FeatureSpec file is its own partition's error, not every partition's."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pytest

from sigma9_dag.partitions import feature_spec_files
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
