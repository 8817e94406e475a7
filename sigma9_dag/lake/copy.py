"""Copying a lake whole — a directory to a bucket, a bucket to a directory, or any other pair — as one commit.

The copy holds the source's lake files byte for byte (its ``lake.json`` included, so its history and
source travel with it); derived caches and lab outputs are not the lake's and stay behind. The destination
commits like any writer: on disk through :class:`~sigma9_dag.lake.writer.LakeTransaction`, in object storage
as its next version (:mod:`sigma9_dag.lake.object_commit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sigma9_dag.lake.commit import reading
from sigma9_dag.lake.object_commit import lake_files, writable_lake
from sigma9_dag.lake.writer import LakeTransaction
from sigma9_runtime.errors import LakeError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.object_lake import link_or_copy


@dataclass(frozen=True)
class LakeCopy:
    """What one copy wrote: where from, where to, how many files and bytes."""

    source: str
    destination: str
    files: int
    bytes: int

    def __str__(self) -> str:
        return f"{self.files:,} files, {self.bytes / 2**20:,.1f} MiB from {self.source} to {self.destination}"


def copy_lake(source: LakeLayout, destination: str | Path, *, force: bool = False) -> LakeCopy:
    """Copy the lake at ``source`` to ``destination`` (a directory or ``s3://bucket/prefix``) as one commit.

    ``destination`` must not hold a lake unless ``force`` (then the copy replaces it, all at once).
    """
    if not source.meta.is_file():
        raise LakeError(f"{source.location}: no lake here (no {source.meta_path}) to copy")
    with reading(source.root):
        files = lake_files(source)
        size = 0
        with writable_lake(destination) as target:
            if (target.meta.exists() or target.daily.exists()) and not force:
                raise LakeError(f"{target.location}: a lake is already there; pass --force to replace it")
            with LakeTransaction(target, replace=True) as txn:
                for relative in files:
                    staged = txn.staged_path(target.root / relative)
                    staged.parent.mkdir(parents=True, exist_ok=True)
                    link_or_copy(source.root / relative, staged)
                    size += staged.stat().st_size
                txn.commit(meta=None)
            where = target.location
    return LakeCopy(source=source.location, destination=where, files=len(files), bytes=size)
