"""A lake kept in object storage (``s3://bucket/prefix``), read through a verified local mirror.

On a bucket a lake is a sequence of **commits**. Each commit is one JSON object,
``_lake/commits/<version>.json`` (:class:`LakeCommit`), naming every file of the lake at that version —
its path in the layout (``1m/ABCD.parquet``), the object holding it, its size and sha256. The objects are
written first, under keys that carry their content's hash (``1m/ABCD.<sha256[:16]>.parquet``), so no object
is ever rewritten; the commit object is written last, and only if no other writer has taken its version
(an S3 conditional put, :mod:`sigma9_dag.lake.object_commit`). A reader takes the highest version listed,
so it sees the lake of one commit, whole, or of the next — never half.

Readers do not read objects in place. :func:`open_lake` mirrors one version into a local directory laid
out exactly like a lake on disk, so every reader of the project (pyarrow, DuckDB, the runtime) runs
unchanged:

::

    $SIGMA9_LAKE_CACHE/                      # default ~/.cache/sigma9/lakes
    ├── objects/ab/ab12…                     # each object once, read-only, its sha256 checked on arrival
    └── versions/<lake digest>/<version>/    # one lake version: hard links into objects/, made complete
                                             # under a temporary name, then renamed into place

A machine fetches each object once, however many versions, processes and workers use it; a new commit
costs only the objects it changed. Worker tasks carry the lake's pinned location (``s3://b/p#v=12``,
:attr:`LakeLayout.location <sigma9_runtime.lake.layout.LakeLayout.location>`), so every worker of a run —
on this machine or another — reads the same version.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sigma9_runtime.atomic import TEMP_PREFIX, fsync_dir
from sigma9_runtime.errors import LakeError
from sigma9_runtime.registry.object_store import is_object_store_url, object_key, object_store_name, open_object_store

LAKE_CACHE_ENV = "SIGMA9_LAKE_CACHE"
COMMITS_DIR = "_lake/commits"
VERSION_WIDTH = 10
_PIN = re.compile(r"^(?P<url>.+)#v=(?P<version>\d+)$")
_CHUNK = 8 << 20
TRANSFER_THREADS_ENV = "SIGMA9_TRANSFER_THREADS"
TRANSFER_THREADS = 16
"""Objects fetched or put at once (each thread waits on one request)."""
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class LakeObject(BaseModel):
    """One file of a committed lake: the object holding it (a key under the lake's prefix), its size and sha256."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class LakeCommit(BaseModel):
    """One version of a lake in object storage: every file it holds, by its path in the lake's layout."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = 1
    version: int = Field(ge=1)
    parent: int | None = None
    at: str
    by: str
    files: dict[str, LakeObject]


def lake_cache_dir() -> Path:
    """Where lakes in object storage are mirrored: ``$SIGMA9_LAKE_CACHE``, else ``~/.cache/sigma9/lakes``."""
    configured = os.environ.get(LAKE_CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "sigma9" / "lakes"


def is_lake_url(location: str | Path) -> bool:
    """Whether ``location`` names a lake in object storage (``s3://...``, pinned or not)."""
    return is_object_store_url(location)


def pin(url: str, version: int) -> str:
    """``url`` pinned to one version (``s3://b/p#v=12``): what worker tasks carry."""
    return f"{unpin(url)[0]}#v={version}"


def unpin(location: str) -> tuple[str, int | None]:
    """The lake URL of ``location`` and the version it is pinned to (None: the latest)."""
    match = _PIN.match(location)
    if match:
        return match["url"], int(match["version"])
    return location, None


def commit_name(version: int) -> str:
    """The commit object of ``version``, relative to the lake's prefix."""
    return f"{COMMITS_DIR}/{version:0{VERSION_WIDTH}d}.json"


def content_key(relative: str, sha256: str) -> str:
    """The object key of the file ``relative`` with content ``sha256``: the hash before its suffix."""
    path = PurePosixPath(relative)
    return str(path.with_name(f"{path.stem}.{sha256[:16]}{path.suffix}"))


class ObjectLake:
    """A lake in object storage: its commits listed and read, one version mirrored to a local directory."""

    def __init__(self, url: str, *, cache_dir: str | Path | None = None) -> None:
        self.url = object_store_name(unpin(url)[0])
        self.filesystem, self.base = open_object_store(unpin(url)[0], LakeError)
        self.cache = Path(cache_dir) if cache_dir is not None else lake_cache_dir()

    def __repr__(self) -> str:
        return f"ObjectLake({self.url!r})"

    # --- commits --------------------------------------------------------------------------------

    def latest_version(self) -> int | None:
        """The highest committed version (None: nothing committed yet)."""
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(object_key(self.base, COMMITS_DIR), allow_not_found=True)
        try:
            infos = self.filesystem.get_file_info(selector)
        except OSError as e:
            raise LakeError(f"{self.url}: cannot list the lake's commits ({e})") from e
        versions = [int(i.base_name[:-5]) for i in infos if re.fullmatch(r"\d+\.json", i.base_name)]
        return max(versions, default=None)

    def read_commit(self, version: int) -> LakeCommit:
        """The commit of ``version``, checked against its schema."""
        name = f"{self.url}/{commit_name(version)}"
        try:
            commit = LakeCommit.model_validate_json(self.read_object(commit_name(version)))
        except ValidationError as e:
            error = e.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            raise LakeError(f"{name}: {where}: {error['msg']}") from None
        if commit.version != version:
            raise LakeError(f"{name}: version {commit.version} in an object named for version {version}")
        return commit

    def read_object(self, relative: str) -> bytes:
        """The bytes of the object ``relative`` (a key under the lake's prefix)."""
        try:
            with self.filesystem.open_input_stream(object_key(self.base, relative)) as stream:
                return stream.read()
        except FileNotFoundError:
            raise LakeError(f"{self.url}/{relative}: no such object") from None
        except OSError as e:
            raise LakeError(f"{self.url}/{relative}: cannot read ({e})") from e

    def resolve(self, version: int | None = None) -> LakeCommit | None:
        """The commit of ``version`` (None: the latest; None returned when nothing is committed)."""
        chosen = self.latest_version() if version is None else version
        return None if chosen is None else self.read_commit(chosen)

    # --- mirror ---------------------------------------------------------------------------------

    @property
    def versions_dir(self) -> Path:
        """This lake's mirrored versions (one directory per version)."""
        return self.cache / "versions" / _digest(self.url)

    def mirror(self, commit: LakeCommit) -> Path:
        """The local directory holding ``commit``'s lake: built (objects fetched, hashes checked) the first time."""
        target = self.versions_dir / str(commit.version)
        if target.is_dir():
            return target
        building = target.parent / f"{TEMP_PREFIX}{commit.version}-{uuid.uuid4().hex[:12]}"
        try:
            destinations = {
                relative: building.joinpath(*_checked_parts(relative, self.url, commit.version))
                for relative in commit.files
            }
            fetched = transfer(self.fetch, [commit.files[r] for r in sorted(destinations)])
            for relative, cached in zip(sorted(destinations), fetched, strict=True):
                destinations[relative].parent.mkdir(parents=True, exist_ok=True)
                link_or_copy(cached, destinations[relative])
                os.chmod(destinations[relative], 0o444)
            building.mkdir(parents=True, exist_ok=True)
            fsync_dir(building)
            try:
                building.rename(target)
            except OSError:  # another process built the same version first: use its copy
                if not target.is_dir():
                    raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        return target

    def fetch(self, obj: LakeObject) -> Path:
        """The cached copy of ``obj`` (fetched once, refused when its bytes do not hash to its sha256)."""
        cached = self.cache / "objects" / obj.sha256[:2] / obj.sha256
        if cached.is_file():
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{TEMP_PREFIX}{obj.sha256}-{uuid.uuid4().hex[:12]}")
        digest = hashlib.sha256()
        size = 0
        try:
            with (
                self.filesystem.open_input_stream(object_key(self.base, obj.key)) as stream,
                open(partial, "wb") as out,
            ):
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size != obj.size or digest.hexdigest() != obj.sha256:
                raise LakeError(
                    f"{self.url}/{obj.key}: its {size} bytes hash to sha256 {digest.hexdigest()[:16]}…, "
                    f"the commit says {obj.size} bytes, {obj.sha256[:16]}…; refused (the object was changed)"
                )
            os.chmod(partial, 0o444)  # shared by hard links: nothing may write into it
            os.replace(partial, cached)
        except FileNotFoundError:
            raise LakeError(f"{self.url}/{obj.key}: the object a commit names is missing") from None
        except OSError as e:
            raise LakeError(f"{self.url}/{obj.key}: cannot fetch ({e})") from e
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        return cached


def transfer(function: Callable[[_Item], _Result], items: Sequence[_Item]) -> list[_Result]:
    """``function`` over ``items`` on :data:`TRANSFER_THREADS` threads, results in order: object stores answer
    each request after a round trip, so transfers overlap (``$SIGMA9_TRANSFER_THREADS``)."""
    threads = int(os.environ.get(TRANSFER_THREADS_ENV) or TRANSFER_THREADS)
    if threads <= 1 or len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(function, items))


def _digest(url: str) -> str:
    """A lake's directory name in the cache: a digest of its printable URL."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def local_work_dir(location: str) -> Path:
    """This machine's directory for what is made from the lake at ``location`` and kept beside it, not in it
    (the lab's stage outputs): ``<lake cache>/local/<lake digest>``."""
    return lake_cache_dir() / "local" / _digest(object_store_name(unpin(location)[0]))


def _checked_parts(relative: str, url: str, version: int) -> tuple[str, ...]:
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or any(p in ("", ".", "..") for p in parts):
        raise LakeError(f"{url}/{commit_name(version)}: file {relative!r} leaves the lake")
    return parts


def link_or_copy(source: Path, destination: Path) -> None:
    """``destination`` made a hard link to ``source`` when both share a filesystem, else a copy (lake files are
    replaced by rename, never written in place, so a link is as good as a copy)."""
    try:
        os.link(source, destination)
    except OSError:  # another filesystem, or links not allowed
        shutil.copyfile(source, destination)


def mirror_lake(location: str, *, cache_dir: str | Path | None = None) -> tuple[Path, str]:
    """The local mirror of the lake at ``location`` (its latest version unless pinned) and the pinned location.

    Raises :class:`~sigma9_runtime.errors.LakeError` when nothing is committed there yet.
    """
    url, version = unpin(location)
    key = (location, str(cache_dir or lake_cache_dir()))
    if version is not None and key in _PINNED and _PINNED[key].is_dir():
        return _PINNED[key], location  # a version never changes: each worker process asks the store once
    lake = ObjectLake(url, cache_dir=cache_dir)
    commit = lake.resolve(version)
    if commit is None:
        raise LakeError(f"{lake.url}: no lake there yet (no commit under {COMMITS_DIR}/); fill it with sigma9 lake")
    root = lake.mirror(commit)
    if version is not None:
        _PINNED[key] = root
    return root, pin(url, commit.version)


_PINNED: dict[tuple[str, str], Path] = {}
"""Mirrors of pinned locations this process has opened."""
