"""ObjectStoreArtifactRegistry: an artifact store in object storage (``s3://bucket/prefix``), read through
pyarrow's filesystems (``pyarrow.fs``; no other dependency).

The store has the layout of :mod:`sigma9_runtime.registry.layout` under the URL's prefix. The objects a check
needs are mirrored into a local cache directory laid out the same way — the manifests when listing; the
FeatureSpec snapshot and the payload "directory" (every object directly under ``payloads/ART_x/``) when
loading — and every check of :class:`~sigma9_runtime.registry.FilesystemArtifactRegistry` then runs on the
cached copy, so a store in a bucket is verified exactly as one on disk: the bytes hashed are the bytes run, an
object the manifest does not list is refused, a tampered object fails its sha256. Loading fetches the
snapshot and payload objects afresh each time; listing refreshes a cached manifest when its object's size or
time changes (manifests are never rewritten: ids are not reused); a copy whose object is gone is removed.

Endpoint and credentials are the AWS SDK's (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...) or the URL's
query (``s3://bucket/prefix?endpoint_override=HOST:PORT&scheme=http``), as pyarrow reads them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection
from pathlib import Path, PurePosixPath
from typing import Any

from sigma9_runtime.atomic import atomic_write_bytes
from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import ArtifactError, Sigma9Error
from sigma9_runtime.registry.base import DEFAULT_PLUGINS, ArtifactListing, ArtifactRegistry, LoadedArtifact
from sigma9_runtime.registry.filesystem import FilesystemArtifactRegistry
from sigma9_runtime.registry.layout import MANIFESTS_DIR

OBJECT_STORE_SCHEMES: tuple[str, ...] = ("s3://", "gs://", "gcs://", "abfs://", "abfss://")
"""URL schemes of artifact stores (and lakes) kept in object storage."""


def is_object_store_url(location: str | Path) -> bool:
    """Whether ``location`` names object storage (``s3://...``) rather than a local directory."""
    return isinstance(location, str) and location.startswith(OBJECT_STORE_SCHEMES)


def object_store_name(url: str) -> str:
    """``url`` as messages name the store: without its query (endpoint options) or a trailing ``/``."""
    return url.split("?", 1)[0].rstrip("/")


def object_key(base: str, relative: str) -> str:
    """The key of ``relative`` (a path inside the store, ``/`` at either end ignored) under the store's ``base``
    (:func:`open_object_store`)."""
    relative = relative.strip("/")
    return f"{base}/{relative}" if base else relative


def open_object_store(url: str, error: type[Sigma9Error] = ArtifactError) -> tuple[Any, str]:
    """The pyarrow filesystem of ``url`` and the path of its prefix (``bucket/prefix``, no trailing ``/``); ``error``
    raised when it cannot be opened."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    try:
        filesystem, base = pafs.FileSystem.from_uri(url)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as e:
        raise error(f"{object_store_name(url)}: not an object store this runtime can open ({e})") from e
    return filesystem, base.rstrip("/")


def read_object(url: str) -> bytes:
    """The bytes of the object at ``url`` (``s3://bucket/key``)."""
    filesystem, path = open_object_store(url)
    try:
        with filesystem.open_input_stream(path) as stream:
            return stream.read()
    except OSError as e:
        raise ArtifactError(f"{object_store_name(url)}: cannot read ({e})") from e


class ObjectStoreArtifactRegistry(ArtifactRegistry):
    """An artifact store in object storage, verified like a local one (see the module docstring).

    Parameters
    ----------
    url
        The store, e.g. ``s3://sigma9-artifacts/prod``.
    cache_dir
        Where the mirrored objects are kept (default: a new temporary directory).
    known_plugins
        Strategy plugins this runtime can run; an artifact asking for another is refused.
    """

    def __init__(
        self, url: str, *, cache_dir: str | Path | None = None, known_plugins: Collection[str] = DEFAULT_PLUGINS
    ) -> None:
        self.url = object_store_name(url)
        self._filesystem, self._base = open_object_store(url)
        cache = Path(cache_dir) if cache_dir is not None else Path(tempfile.mkdtemp(prefix="sigma9-artifacts-"))
        self._local = FilesystemArtifactRegistry(cache / "store", known_plugins=known_plugins)
        self._versions = cache / "versions"  # size and time of each cached object, beside (not inside) the copy
        self.layout = self._local.layout
        self.known_plugins = self._local.known_plugins

    def __repr__(self) -> str:
        return f"ObjectStoreArtifactRegistry({self.url!r})"

    def list_manifests(self) -> ArtifactListing:
        self._mirror_directory(MANIFESTS_DIR)
        return self._local.list_manifests()

    def load(
        self, artifact: str | ArtifactManifest, spec: FeatureSpec, *, subscribed_streams: Collection[str]
    ) -> LoadedArtifact:
        artifact_id = artifact if isinstance(artifact, str) else artifact.id
        self._mirror_file(f"{MANIFESTS_DIR}/{artifact_id}.json")
        manifest = artifact
        if isinstance(artifact, str) and self.layout.manifest(artifact).is_file():
            try:
                manifest = self._local._read_manifest(self.layout.manifest(artifact))
            except Sigma9Error as e:
                raise self._named(e) from None
        if isinstance(manifest, ArtifactManifest):
            named_by = f"manifest {self.url}/{MANIFESTS_DIR}/{manifest.id}.json"
            snapshot = manifest.feature_spec_ref.snapshot_path
            payload = manifest.payload.base_path
            for relative in (snapshot, payload):  # refused here when they would leave the store
                self.layout.resolve(relative, named_by=named_by)
            self._mirror_file(snapshot)
            self._mirror_directory(payload.rstrip("/"), fresh=True)
        try:
            return self._local.load(manifest, spec, subscribed_streams=subscribed_streams)
        except Sigma9Error as e:
            raise self._named(e) from None

    # --- mirroring ------------------------------------------------------------------------------

    def _named(self, error: Sigma9Error) -> Sigma9Error:
        """``error`` noting the store its cached file came from."""
        error.add_note(f"in {self.url} (verified on its copy under {self.layout.root})")
        return error

    def _mirror_directory(self, relative: str, *, fresh: bool = False) -> None:
        """The objects directly under ``relative`` (and its sub-prefixes, as empty directories) copied to the
        cache (``fresh``: every object read again, else only those whose size or time changed); cached entries
        the store no longer has removed."""
        import pyarrow.fs as pafs

        local = self.layout.root.joinpath(*PurePosixPath(relative).parts)
        try:
            infos = self._filesystem.get_file_info(
                pafs.FileSelector(object_key(self._base, relative), allow_not_found=True)
            )
        except OSError as e:
            raise ArtifactError(f"{self.url}/{relative}: cannot list the artifact store ({e})") from e
        present: set[str] = set()
        for info in infos:
            name = info.base_name
            if name in ("", ".", ".."):
                continue
            present.add(name)
            if info.type == pafs.FileType.Directory:
                (local / name).mkdir(parents=True, exist_ok=True)
            elif info.type == pafs.FileType.File:
                self._copy(info, local / name, fresh=fresh)
        if local.is_dir():
            for entry in local.iterdir():
                if entry.name not in present:
                    _remove(entry)

    def _mirror_file(self, relative: str) -> None:
        """The object ``relative`` copied to the cache (its cached copy removed when the store has none)."""
        import pyarrow.fs as pafs

        local = self.layout.root.joinpath(*PurePosixPath(relative).parts)
        try:
            info = self._filesystem.get_file_info(object_key(self._base, relative))
        except OSError as e:
            raise ArtifactError(f"{self.url}/{relative}: cannot read the artifact store ({e})") from e
        if info.type == pafs.FileType.File:
            self._copy(info, local, fresh=True)
        elif local.exists() or local.is_symlink():
            _remove(local)

    def _copy(self, info: Any, local: Path, *, fresh: bool) -> None:
        stamp = self._versions / local.relative_to(self.layout.root)
        version = f"{info.size} {info.mtime_ns}"
        if not fresh and local.is_file() and stamp.is_file() and stamp.read_text() == version:
            return
        try:
            with self._filesystem.open_input_stream(info.path) as stream:
                data = stream.read()
        except OSError as e:
            raise ArtifactError(f"{self.url}: cannot read {info.path} ({e})") from e
        atomic_write_bytes(local, data)
        atomic_write_bytes(stamp, version.encode())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        import shutil

        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def open_registry(
    location: str | Path, *, known_plugins: Collection[str] = DEFAULT_PLUGINS, cache_dir: str | Path | None = None
) -> ArtifactRegistry:
    """The registry of the artifact store at ``location``: a local directory, or object storage by URL."""
    if is_object_store_url(location):
        return ObjectStoreArtifactRegistry(str(location), cache_dir=cache_dir, known_plugins=known_plugins)
    return FilesystemArtifactRegistry(location, known_plugins=known_plugins)
