"""The names of a lake in object storage: pinned locations, content keys, and commits that stay inside the lake."""

from __future__ import annotations

import pytest

from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout, resolve_data_root
from sigma9_runtime.lake.object_lake import LakeCommit, LakeObject, ObjectLake, content_key, pin, unpin

SHA = "ab" * 32


def test_a_pinned_location_names_its_url_and_version() -> None:
    url = "s3://bucket/lake?endpoint_override=127.0.0.1:9000&scheme=http"
    assert unpin(pin(url, 12)) == (url, 12)
    assert unpin(url) == (url, None)
    assert pin(pin(url, 3), 4) == f"{url}#v=4"


def test_a_files_key_carries_its_hash_before_its_suffix() -> None:
    assert content_key("1m/ABCD.parquet", SHA) == f"1m/ABCD.{SHA[:16]}.parquet"
    assert content_key("lake.json", SHA) == f"lake.{SHA[:16]}.json"


def test_urls_stay_text_and_directories_become_paths(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert resolve_data_root("s3://bucket/lake#v=2") == "s3://bucket/lake#v=2"
    assert resolve_data_root(str(tmp_path)) == tmp_path
    layout = LakeLayout(tmp_path)
    assert layout.location == str(tmp_path)
    assert LakeLayout(tmp_path, source="s3://b/l#v=1").location == "s3://b/l#v=1"


@pytest.mark.parametrize("relative", ["../outside.parquet", "/etc/passwd", "a/../../b"])
def test_a_commit_naming_a_file_outside_the_lake_is_refused(relative: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    commit = LakeCommit(
        version=1, at="2026-01-01T00:00:00+00:00", by="test", files={relative: LakeObject(key="x", size=0, sha256=SHA)}
    )
    lake = ObjectLake("s3://bucket/lake?endpoint_override=127.0.0.1:1&scheme=http", cache_dir=tmp_path)
    with pytest.raises(LakeError, match="leaves the lake"):
        lake.mirror(commit)
