"""FilesystemArtifactRegistry: the artifact store as a directory tree (``docs/artifacts.md``).

Loading checks, in this order, and stops at the first failure with an error naming the file:

1. the manifest parses (:class:`SpecError`) and its id matches its file name;
2. its strategy plugin is one this runtime knows, and its required streams are subscribed
   (:class:`IncompatibleArtifact`);
3. the runtime's own FeatureSpec has the manifest's schema hash (:class:`SchemaMismatch`, both
   hashes in the message);
4. the spec snapshot exists (:class:`MissingArtifactFile`), parses, and has the same hash
   (:class:`SchemaMismatch`);
5. every payload name is a plain ``.onnx``/``.json`` name (:class:`UnsafePayloadName`,
   :class:`ForbiddenPayloadFile`), the payload directory holds nothing else
   (:class:`UnlistedPayloadFile`), every listed file exists (:class:`MissingArtifactFile`) and
   has its sha256 (:class:`DigestMismatch`);
6. ``model.json`` parses, names only listed files, and delivers what the manifest promises
   (``cluster_id``, ``explain_topk``, the clusters of per-cluster thresholds).

Bytes are read once: the bytes hashed are the bytes handed to onnxruntime.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path

from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.contracts.io import load_artifact_manifest, load_feature_spec
from sigma9_runtime.contracts.model_descriptor import manifest_mismatches, parse_model_descriptor
from sigma9_runtime.errors import (
    ArtifactError,
    DigestMismatch,
    IncompatibleArtifact,
    MissingArtifactFile,
    SchemaMismatch,
    Sigma9Error,
    SpecError,
    UnlistedPayloadFile,
    UnsafePayloadName,
)
from sigma9_runtime.file_cache import ParsedFiles
from sigma9_runtime.registry.base import (
    DEFAULT_PLUGINS,
    ArtifactListing,
    ArtifactRegistry,
    LoadedArtifact,
    ManifestProblem,
)
from sigma9_runtime.registry.layout import DESCRIPTOR_NAME, ArtifactStoreLayout, check_payload_name
from sigma9_runtime.schema_hash import require_schema_hash, schema_hash

_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


class FilesystemArtifactRegistry(ArtifactRegistry):
    """An artifact store in a local directory.

    Parameters
    ----------
    root
        The store root (``artifacts/``).
    known_plugins
        Strategy plugins this runtime can run; an artifact asking for another is refused.

    Examples
    --------
    >>> registry = FilesystemArtifactRegistry("artifacts")  # doctest: +SKIP
    >>> [m.id for m in registry.list_manifests().manifests]  # doctest: +SKIP
    ['ART_2026-01-16_001']
    """

    def __init__(self, root: str | Path, *, known_plugins: Collection[str] = DEFAULT_PLUGINS) -> None:
        self.layout = ArtifactStoreLayout(Path(root))
        self.known_plugins = frozenset(known_plugins)
        self._parsed: ParsedFiles[ArtifactManifest, Sigma9Error] = ParsedFiles(self._parse_manifest, Sigma9Error)
        """Each manifest parsed once per version of its file: a hot-reload poll parses only new or changed ones."""

    def __repr__(self) -> str:
        return f"FilesystemArtifactRegistry({str(self.layout.root)!r})"

    # --- listing --------------------------------------------------------------------------------

    def list_manifests(self) -> ArtifactListing:
        manifests: list[ArtifactManifest] = []
        problems: list[ManifestProblem] = []
        files = self.layout.manifest_files()
        self._parsed.keep_only(files)
        for path in files:
            try:
                manifests.append(self._read_manifest(path))
            except Sigma9Error as e:
                problems.append(ManifestProblem(path, e))
            except OSError as e:
                problems.append(ManifestProblem(path, ArtifactError(f"{path}: cannot be read: {e}")))
        return ArtifactListing(tuple(sorted(manifests, key=lambda m: m.id)), tuple(problems))

    def _read_manifest(self, path: Path) -> ArtifactManifest:
        """The manifest at ``path``, parsed once per version of the file (its error too)."""
        return self._parsed.get(path)

    @staticmethod
    def _parse_manifest(path: Path) -> ArtifactManifest:
        manifest = load_artifact_manifest(path)
        if manifest.id != path.stem:
            raise SpecError(f"id {manifest.id!r} does not match the file name", file=path, field="artifact_manifest.id")
        return manifest

    # --- loading --------------------------------------------------------------------------------

    def load(
        self, artifact: str | ArtifactManifest, spec: FeatureSpec, *, subscribed_streams: Collection[str]
    ) -> LoadedArtifact:
        if isinstance(artifact, str):
            if not artifact.startswith("ART_") or not set(artifact) <= _ID_CHARS:
                raise ArtifactError(f"{artifact!r} is not an artifact id (ART_ followed by letters, digits, _ . -)")
            path = self.layout.manifest(artifact)
            if not path.is_file():
                raise MissingArtifactFile(f"no manifest for artifact {artifact}", file=path)
            manifest = self._read_manifest(path)
        else:
            manifest = artifact
            path = self.layout.manifest(manifest.id)
        source = str(path)

        self._check_compatibility(manifest, source, subscribed_streams)
        require_schema_hash(spec, manifest.feature_spec_ref.schema_hash, subject=f"manifest {source}")
        self._check_snapshot(manifest, source)
        files = self._read_payload(manifest, source)

        descriptor_path = self.layout.resolve(manifest.payload.base_path, named_by=source) / DESCRIPTOR_NAME
        descriptor = parse_model_descriptor(files[DESCRIPTOR_NAME], file=descriptor_path)
        for name in descriptor.model_files():
            if name not in files:
                raise MissingArtifactFile(
                    f"{DESCRIPTOR_NAME} names {name!r}, which the manifest does not list", file=source
                )
        mismatches = manifest_mismatches(descriptor, manifest)
        if mismatches:
            raise IncompatibleArtifact("; ".join(mismatches), file=source)
        return LoadedArtifact.verified(manifest, source=source, spec=spec, descriptor=descriptor, files=files)

    def _check_compatibility(self, manifest: ArtifactManifest, source: str, subscribed: Collection[str]) -> None:
        plugin = manifest.compatibility.runtime_strategy_plugin
        if plugin not in self.known_plugins:
            known = ", ".join(sorted(self.known_plugins)) or "none"
            raise IncompatibleArtifact(
                f"compatibility.runtime_strategy_plugin {plugin!r} is not a known plugin (known: {known})", file=source
            )
        missing = [s for s in manifest.compatibility.required_streams if s not in subscribed]
        if missing:
            raise IncompatibleArtifact(
                f"compatibility.required_streams needs {', '.join(missing)}, which the runtime does not subscribe to"
                f" (subscribed: {', '.join(sorted(subscribed)) or 'none'})",
                file=source,
            )

    def _check_snapshot(self, manifest: ArtifactManifest, source: str) -> None:
        ref = manifest.feature_spec_ref
        path = self.layout.resolve(ref.snapshot_path, named_by=source)
        if not path.is_file():
            raise MissingArtifactFile(f"FeatureSpec snapshot named by manifest {source} does not exist", file=path)
        snapshot_hash = schema_hash(load_feature_spec(path))
        if snapshot_hash != ref.schema_hash:
            raise SchemaMismatch(
                f"FeatureSpec snapshot {path} does not match the schema hash of manifest {source}",
                expected=ref.schema_hash,
                actual=snapshot_hash,
            )

    def _read_payload(self, manifest: ArtifactManifest, source: str) -> dict[str, bytes]:
        listed = {f.name: f.sha256 for f in manifest.payload.files}
        for name in listed:
            check_payload_name(name, file=f"{source} (payload.files: {name})")
        if DESCRIPTOR_NAME not in listed:
            raise MissingArtifactFile(f"payload.files does not list {DESCRIPTOR_NAME}", file=source)

        directory = self.layout.resolve(manifest.payload.base_path, named_by=source)
        if not directory.is_dir() or directory.is_symlink():
            raise MissingArtifactFile(f"payload directory named by manifest {source} does not exist", file=directory)
        for entry in sorted(directory.iterdir()):
            if entry.name not in listed:
                raise UnlistedPayloadFile(
                    f"is in the payload directory but not in the payload.files of manifest {source}", file=entry
                )
            if entry.is_symlink() or not entry.is_file():
                raise UnsafePayloadName(
                    "is a link or not a regular file; payload files must be plain files", file=entry
                )

        files: dict[str, bytes] = {}
        for name, expected in listed.items():
            path = directory / name
            try:
                data = path.read_bytes()
            except FileNotFoundError as e:
                raise MissingArtifactFile(
                    f"listed in the payload.files of manifest {source} but missing", file=path
                ) from e
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected:
                raise DigestMismatch(
                    f"does not match the payload.files of manifest {source}",
                    file=path,
                    expected=expected,
                    actual=actual,
                )
            files[name] = data
        return files
