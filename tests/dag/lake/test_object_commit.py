"""A lake in object storage (a real S3 protocol server on 127.0.0.1): written as commits, objects first and the
commit last, read through a verified mirror — the same lake as on disk."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

import sigma9_dag.lake.object_commit as object_commit
from sigma9_dag.lake.copy import copy_lake
from sigma9_dag.lake.importers import import_massive_flat
from sigma9_dag.lake.object_commit import lake_files, writable_lake
from sigma9_dag.lake.synth import generate_synthetic_lake
from sigma9_dag.lake.writer import LakeTransaction
from sigma9_runtime.errors import LakeBusy, LakeError
from sigma9_runtime.lake.layout import LakeLayout, open_lake
from sigma9_runtime.lake.object_lake import COMMITS_DIR, ObjectLake, unpin
from sigma9_runtime.lake.tables import SPLITS_SCHEMA
from tests.stubs import use_s3

SMALL = {"tickers": 3, "days": 4, "seed": 5, "history_days": 12, "workers": 1}


@pytest.fixture
def bucket_lake(monkeypatch, s3_endpoint: str, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """An empty lake location ``s3://<new bucket>/lake``, mirrored under ``tmp_path``."""
    monkeypatch.setenv("SIGMA9_LAKE_CACHE", str(tmp_path / "lake-cache"))
    return use_s3(monkeypatch, s3_endpoint, f"sigma9-{uuid.uuid4().hex[:12]}") + "/lake"


def _digests(layout: LakeLayout) -> dict[str, str]:
    """sha256 of every lake file but the two that carry the time of writing (lake.json, the synth report)."""
    return {
        relative: hashlib.sha256((layout.root / relative).read_bytes()).hexdigest()
        for relative in lake_files(layout)
        if relative != layout.meta_path and not relative.startswith(layout.reports_dir)
    }


def _objects(url: str) -> set[str]:
    lake = ObjectLake(url)
    infos = lake.filesystem.get_file_info(pafs.FileSelector(lake.base, recursive=True))
    return {i.path.removeprefix(lake.base + "/") for i in infos if i.type == pafs.FileType.File}


def _add_split(layout: LakeLayout, ticker: str) -> None:
    with LakeTransaction(layout) as txn:
        row = {"ticker": ticker, "execution_date": dt.date(2025, 1, 6), "split_from": 1.0, "split_to": 2.0}
        txn.write_splits(pa.Table.from_pylist([row], schema=SPLITS_SCHEMA))
        txn.commit(meta={"source": "test"})


def test_a_synthetic_lake_in_a_bucket_is_the_lake_on_disk(bucket_lake: str, tmp_path: Path) -> None:
    generate_synthetic_lake(tmp_path / "disk", **SMALL)
    summary = generate_synthetic_lake(bucket_lake, **SMALL)
    assert summary.root == bucket_lake
    layout = open_lake(bucket_lake)
    assert layout.source == f"{bucket_lake}#v=1" and layout.location == layout.source
    assert _digests(layout) == _digests(LakeLayout(tmp_path / "disk"))
    # every object is named by the commit (objects under keys carrying their hash), the commit last of all
    commit = ObjectLake(bucket_lake).resolve()
    assert commit is not None and commit.version == 1 and commit.parent is None
    assert _objects(bucket_lake) == {f"{COMMITS_DIR}/0000000001.json", *(o.key for o in commit.files.values())}
    with pytest.raises(LakeError, match="a lake is already there; pass --force"):
        generate_synthetic_lake(bucket_lake, **SMALL)


def test_an_import_adds_a_version_that_puts_only_what_it_changed(bucket_lake: str, tmp_path: Path) -> None:
    generate_synthetic_lake(bucket_lake, **SMALL)
    first = ObjectLake(bucket_lake).resolve()
    assert first is not None
    ticker = sorted(open_lake(bucket_lake).bar_tickers("1m"))[0]
    csv = tmp_path / "2025-01-03.csv"
    csv.write_text(
        "ticker,volume,open,close,high,low,window_start,transactions\n"
        f"{ticker},100,5.0,5.1,5.2,4.9,1735914600000000000,3\n"
    )
    summary = import_massive_flat(bucket_lake, [csv])
    assert str(summary.report).startswith(f"{bucket_lake}/reports/")
    second = ObjectLake(bucket_lake).resolve()
    assert second is not None and second.version == 2 and second.parent == 1
    changed = {r for r, o in second.files.items() if first.files.get(r) != o}
    assert f"1m/{ticker}.parquet" in changed and "lake.json" in changed
    assert all(r.startswith(("1m/", "reports/", "daily/", "lake.json")) for r in changed)
    assert len(changed) < len(second.files) / 4
    # a reader pinned to version 1 still reads version 1
    old = open_lake(f"{bucket_lake}#v=1")
    assert _digests(old) == {r: first.files[r].sha256 for r in _digests(old)}


def test_of_two_writers_on_one_version_the_second_to_commit_fails_and_the_first_stands(bucket_lake: str) -> None:
    generate_synthetic_lake(bucket_lake, **SMALL)
    with pytest.raises(LakeBusy, match="another writer committed version 2 while this one worked on version 1"):
        with writable_lake(bucket_lake) as slow:
            with writable_lake(bucket_lake) as fast:
                _add_split(fast, "FAST")
            _add_split(slow, "SLOW")
    lake = open_lake(bucket_lake)
    assert unpin(lake.location)[1] == 2
    tickers = pa.parquet.read_table(lake.splits).column("ticker").to_pylist()
    assert "FAST" in tickers and "SLOW" not in tickers


def test_a_writer_killed_before_its_commit_leaves_the_previous_version(bucket_lake: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    generate_synthetic_lake(bucket_lake, **SMALL)
    before = _digests(open_lake(bucket_lake))

    def die(*args: object) -> None:
        raise KeyboardInterrupt  # the objects are put; the commit never is

    with monkeypatch.context() as patch:
        patch.setattr(object_commit, "_put_commit", die)
        with pytest.raises(KeyboardInterrupt), writable_lake(bucket_lake) as layout:
            _add_split(layout, "DEAD")
    lake = open_lake(bucket_lake)
    assert unpin(lake.location)[1] == 1 and _digests(lake) == before


def test_a_changed_object_is_refused(bucket_lake: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    generate_synthetic_lake(bucket_lake, **SMALL)
    lake = ObjectLake(bucket_lake)
    commit = lake.resolve()
    assert commit is not None
    key = commit.files["daily/all_daily.parquet"].key
    with lake.filesystem.open_output_stream(f"{lake.base}/{key}") as out:
        out.write(b"PAR1 not the committed bytes")
    monkeypatch.setenv("SIGMA9_LAKE_CACHE", str(tmp_path / "fresh-cache"))
    with pytest.raises(LakeError, match=r"daily/all_daily\.[0-9a-f]{16}\.parquet: its 28 bytes hash to .* refused"):
        open_lake(bucket_lake)


def test_a_lake_copied_to_a_bucket_and_back_is_the_same_lake(bucket_lake: str, tmp_path: Path) -> None:
    generate_synthetic_lake(tmp_path / "disk", **SMALL)
    source = LakeLayout(tmp_path / "disk")
    copied = copy_lake(source, bucket_lake)
    assert copied.destination == bucket_lake and copied.files == len(lake_files(source))
    back = copy_lake(open_lake(bucket_lake), tmp_path / "back")
    assert back.source == f"{bucket_lake}#v=1"
    for relative in lake_files(source):  # byte for byte, lake.json included
        assert (tmp_path / "back" / relative).read_bytes() == (source.root / relative).read_bytes()
    with pytest.raises(LakeError, match="a lake is already there"):
        copy_lake(source, bucket_lake)


def test_an_empty_bucket_is_no_lake(bucket_lake: str) -> None:
    with pytest.raises(LakeError, match=r"no lake there yet \(no commit under _lake/commits/\)"):
        open_lake(bucket_lake)
