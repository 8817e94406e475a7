from pathlib import Path

import pytest

from sigma9_runtime.atomic import TEMP_PREFIX, atomic_directory, atomic_write_bytes


def test_exclusive_write_never_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    atomic_write_bytes(target, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        atomic_write_bytes(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]  # no temporary file left
    atomic_write_bytes(target, b"third")
    assert target.read_bytes() == b"third"


def test_atomic_directory_appears_whole_under_its_name(tmp_path: Path) -> None:
    target = tmp_path / "payloads" / "ART_x"
    with atomic_directory(target) as staging:
        (staging / "a.onnx").write_bytes(b"a")
        assert staging.name.startswith(TEMP_PREFIX) and not target.exists()
    assert sorted(p.name for p in target.iterdir()) == ["a.onnx"]
    assert [p.name for p in target.parent.iterdir()] == ["ART_x"]


def test_atomic_directory_leaves_nothing_on_failure(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), atomic_directory(tmp_path / "ART_x") as staging:
        (staging / "a.onnx").write_bytes(b"a")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_atomic_directory_refuses_an_existing_target(tmp_path: Path) -> None:
    (tmp_path / "ART_x").mkdir()
    with pytest.raises(FileExistsError), atomic_directory(tmp_path / "ART_x"):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["ART_x"]
