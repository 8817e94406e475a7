"""Writing a lake in object storage: a local working copy, committed as one new version, objects first.

A writer (:func:`writable_lake`) works on a local copy of the lake's latest version — hard links into the
object cache of :mod:`sigma9_runtime.lake.object_lake`, so making it costs no copy — through the same
:class:`~sigma9_dag.lake.writer.LakeTransaction` as a lake on disk. When the writer's work ends without an
error, the copy's lake files (the entries the layout owns; derived caches and lab outputs stay local) become
the next version:

1. every file that differs from the base version is put as an object under a key carrying its sha256
   (never rewritten; a kill here leaves only objects no commit names);
2. the commit object ``_lake/commits/<base + 1>.json`` is put **only if absent** (S3's conditional write,
   ``If-None-Match: *``) — the commit point, and the lock: of two writers on one base, one commits and the
   other fails with :class:`~sigma9_runtime.errors.LakeBusy`, its work unpublished, the winner's intact.

Readers list the commits and take the highest version, so they see the old lake or the new, never half.
Conditional writes are S3's (AWS S3, MinIO, moto and most S3-compatible stores); lakes on other object
stores are read, not written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sigma9_runtime.errors import LakeBusy, LakeError
from sigma9_runtime.lake.layout import LakeLayout, resolve_data_root
from sigma9_runtime.lake.object_lake import (
    LakeCommit,
    LakeObject,
    ObjectLake,
    commit_name,
    content_key,
    link_or_copy,
    transfer,
    unpin,
)
from sigma9_runtime.registry.object_store import object_key

_CHUNK = 8 << 20


@contextlib.contextmanager
def writable_lake(location: str | Path | None = None) -> Iterator[LakeLayout]:
    """The layout a writer of the lake at ``location`` writes through: the lake itself on disk; for a lake in
    object storage, a working copy of its latest version, committed as the next version when the ``with``
    block ends without an error (see the module docstring). The layout's :attr:`~LakeLayout.source` is the
    lake's URL."""
    chosen = resolve_data_root(location)
    if isinstance(chosen, Path):
        yield LakeLayout(chosen)
        return
    lake = ObjectLake(chosen)
    if not chosen.startswith("s3://"):
        raise LakeError(f"{lake.url}: lakes are written to s3:// object storage only (conditional writes)")
    base = lake.resolve()
    work = lake.cache / "work" / uuid.uuid4().hex[:12]
    try:
        linked = _working_copy(lake, base, work)
        layout = LakeLayout(work, source=chosen)
        yield layout
        commit_working_copy(lake, base, layout, linked)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _working_copy(lake: ObjectLake, base: LakeCommit | None, work: Path) -> dict[str, tuple[int, int]]:
    """``work`` filled with hard links to ``base``'s files; the (device, inode) of each, to tell unchanged files."""
    work.mkdir(parents=True)
    linked: dict[str, tuple[int, int]] = {}
    if base is None:
        return linked
    source = lake.mirror(base)
    for relative in base.files:
        destination = work / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(source / relative, destination)
        stat = destination.stat()
        linked[relative] = (stat.st_dev, stat.st_ino)
    return linked


def lake_files(layout: LakeLayout) -> list[str]:
    """The lake's own files under ``layout.root`` (the entries the layout owns, without temporary files or
    locks), as paths relative to the root."""
    found = []
    for top in layout.owned_entries():
        entry = layout.root / top
        candidates = [entry] if entry.is_file() else sorted(p for p in entry.rglob("*") if p.is_file())
        for path in candidates:
            if not path.name.startswith("."):
                found.append(path.relative_to(layout.root).as_posix())
    return found


def commit_working_copy(
    lake: ObjectLake, base: LakeCommit | None, layout: LakeLayout, linked: dict[str, tuple[int, int]]
) -> LakeCommit:
    """Put the working copy's changed files as objects, then its commit (see the module docstring)."""
    files: dict[str, LakeObject] = {}
    changed = []
    for relative in lake_files(layout):
        stat = (layout.root / relative).stat()
        if base is not None and linked.get(relative) == (stat.st_dev, stat.st_ino):
            files[relative] = base.files[relative]
        else:
            changed.append(relative)
    put = transfer(lambda relative: _put_file(lake, relative, layout.root / relative), changed)
    files.update(zip(changed, put, strict=True))
    files = dict(sorted(files.items()))
    version = 1 if base is None else base.version + 1
    commit = LakeCommit(
        version=version,
        parent=None if base is None else base.version,
        at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        by=f"{os.uname().nodename} pid {os.getpid()}",
        files=files,
    )
    _put_commit(lake, layout.source or lake.url, commit)
    return commit


def _put_file(lake: ObjectLake, relative: str, path: Path) -> LakeObject:
    import pyarrow.fs as pafs

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    size = path.stat().st_size
    obj = LakeObject(key=content_key(relative, digest.hexdigest()), size=size, sha256=digest.hexdigest())
    key = object_key(lake.base, obj.key)
    try:
        info = lake.filesystem.get_file_info(key)
        if info.type == pafs.FileType.File and info.size == size:
            return obj  # the same bytes are there already (keys carry their content's hash)
        with lake.filesystem.open_output_stream(key) as out, open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                out.write(chunk)
    except OSError as e:
        raise LakeError(f"{lake.url}/{obj.key}: cannot put the object ({e})") from e
    return obj


def _put_commit(lake: ObjectLake, url: str, commit: LakeCommit) -> None:
    """Put ``commit``'s object if no writer has: the commit point (S3 ``If-None-Match: *``)."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, prefix = lake.base.partition("/")
    key = object_key(prefix, commit_name(commit.version))
    try:
        _s3_client(url).put_object(
            Bucket=bucket, Key=key, Body=(commit.model_dump_json(indent=1) + "\n").encode(), IfNoneMatch="*"
        )
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        if code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
            raise LakeBusy(
                f"{lake.url}: another writer committed version {commit.version} while this one worked on version "
                f"{commit.parent or 0}; nothing of this write was committed; run it again"
            ) from None
        raise LakeError(f"{lake.url}/{commit_name(commit.version)}: cannot put the commit ({e})") from e
    except BotoCoreError as e:
        raise LakeError(f"{lake.url}/{commit_name(commit.version)}: cannot put the commit ({e})") from e


def _s3_client(url: str) -> Any:
    """A boto3 S3 client for ``url``: the AWS SDK's settings (``AWS_ENDPOINT_URL``, ...), or the URL's query
    (``endpoint_override``, ``scheme``, ``region``) as pyarrow reads it."""
    from urllib.parse import parse_qsl, urlsplit

    import boto3

    options = dict(parse_qsl(urlsplit(unpin(url)[0]).query))
    kwargs: dict[str, Any] = {}
    if "endpoint_override" in options:
        endpoint = options["endpoint_override"]
        kwargs["endpoint_url"] = endpoint if "://" in endpoint else f"{options.get('scheme', 'https')}://{endpoint}"
    if "region" in options:
        kwargs["region_name"] = options["region"]
    return boto3.client("s3", **kwargs)
