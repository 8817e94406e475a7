"""The artifact store layout: the one place that says where each part of an artifact lives.

Documented in ``docs/artifacts.md``. The lab's publisher (``sigma9_dag.export.publish``) writes
through it and the runtime's :class:`~sigma9_runtime.registry.FilesystemArtifactRegistry` reads
through it.

::

    <root>/
    ├── manifests/ART_<...>.json                       # ArtifactManifest, written last
    ├── feature_specs_snapshot/FS_<...>@<hash16>.yaml  # the FeatureSpec as trained (content-addressed)
    └── payloads/ART_<...>/                            # ONNX models and JSON only, each listed with its sha256
        ├── model.json                                 # ModelDescriptor: how to run the models
        ├── scorer.onnx                                # LightGBM binary scorer
        └── cluster.onnx                               # optional cluster-membership classifier
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sigma9_runtime.atomic import TEMP_PREFIX
from sigma9_runtime.errors import ForbiddenPayloadFile, UnsafePayloadName

MANIFESTS_DIR = "manifests"
SNAPSHOTS_DIR = "feature_specs_snapshot"
PAYLOADS_DIR = "payloads"

DESCRIPTOR_NAME = "model.json"
"""The payload file every artifact has: its :class:`~sigma9_runtime.contracts.model_descriptor.ModelDescriptor`."""
SCORER_NAME = "scorer.onnx"
CLUSTER_NAME = "cluster.onnx"

ALLOWED_SUFFIXES: tuple[str, ...] = (".onnx", ".json")
"""The only payload file kinds: ONNX graphs and JSON. Never a pickle, never code."""

SNAPSHOT_HASH_CHARS = 16
_MANIFEST_NAME = re.compile(r"^ART_[A-Za-z0-9_.-]+\.json$")


def check_payload_name(name: str, *, file: str | Path) -> None:
    """Refuse a payload name that is not a plain ``.onnx``/``.json`` file name.

    Raises
    ------
    UnsafePayloadName
        ``name`` has a directory part (``/``, ``\\``), is ``.``/``..``, is absolute or has a drive.
    ForbiddenPayloadFile
        ``name`` is not ``.onnx`` or ``.json`` (a ``.pkl``, ``.joblib``, ``.txt``, ...).
    """
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\x00" in name or ":" in name:
        raise UnsafePayloadName(f"payload name {name!r} is not a plain file name", file=file)
    if name.startswith(TEMP_PREFIX):
        raise UnsafePayloadName(f"payload name {name!r} uses the temporary prefix {TEMP_PREFIX!r}", file=file)
    if not name.endswith(ALLOWED_SUFFIXES):
        raise ForbiddenPayloadFile(
            f"payload file {name!r} is not one of {', '.join(ALLOWED_SUFFIXES)}; the runtime loads nothing else"
            " (never a pickle)",
            file=file,
        )


@dataclass(frozen=True)
class ArtifactStoreLayout:
    """Paths of an artifact store rooted at ``root``."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def manifests_dir(self) -> Path:
        """Directory of the manifests."""
        return self.root / MANIFESTS_DIR

    def manifest(self, artifact_id: str) -> Path:
        """Manifest file of ``artifact_id``."""
        return self.manifests_dir / f"{artifact_id}.json"

    def manifest_files(self) -> list[Path]:
        """Manifest files present, sorted by name; in-flight temporary files are not manifests."""
        if not self.manifests_dir.is_dir():
            return []
        return sorted(p for p in self.manifests_dir.iterdir() if _MANIFEST_NAME.match(p.name) and p.is_file())

    @staticmethod
    def payload_base_path(artifact_id: str) -> str:
        """``payload.base_path`` of ``artifact_id``, relative to the root (``payloads/ART_x/``)."""
        return f"{PAYLOADS_DIR}/{artifact_id}/"

    @staticmethod
    def snapshot_path(spec_id: str, schema_hash: str) -> str:
        """``feature_spec_ref.snapshot_path`` of a spec, relative to the root.

        Named by id and the first hex digits of the schema hash, so two specs that share an id
        but not a definition never overwrite each other.
        """
        digest = schema_hash.removeprefix("sha256:")[:SNAPSHOT_HASH_CHARS]
        return f"{SNAPSHOTS_DIR}/{spec_id}@{digest}.yaml"

    def resolve(self, relative: str, *, named_by: str | Path) -> Path:
        """The path of ``relative`` (a manifest's ``base_path`` or ``snapshot_path``) inside the root.

        Raises
        ------
        UnsafePayloadName
            ``relative`` is absolute, contains ``..`` or a backslash, or leaves the root through a link.
        """
        pure = PurePosixPath(relative)
        if not relative or pure.is_absolute() or "\\" in relative or ":" in relative or ".." in pure.parts:
            raise UnsafePayloadName(
                f"path {relative!r} named by {named_by} is not inside the artifact store", file=relative
            )
        path = self.root.joinpath(*pure.parts)
        try:
            path.resolve().relative_to(self.root.resolve())
        except ValueError as e:
            raise UnsafePayloadName(
                f"path {relative!r} named by {named_by} leads outside the artifact store", file=path
            ) from e
        return path
