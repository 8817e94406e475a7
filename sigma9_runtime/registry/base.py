"""The ArtifactRegistry interface: list published artifacts, pick the newest, load one verified.

One implementation per storage backend beside it (``filesystem.py``). Whatever the backend,
:meth:`ArtifactRegistry.load` returns a :class:`LoadedArtifact` only after every check of
``docs/artifacts.md`` passed, and :class:`~sigma9_runtime.inference.MLInference` accepts nothing else.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.contracts.model_descriptor import ModelDescriptor
from sigma9_runtime.errors import ArtifactError, Sigma9Error

log = logging.getLogger(__name__)

DEFAULT_PLUGINS: frozenset[str] = frozenset({"seismograph_ml"})
"""Strategy plugins this runtime can run an artifact with (``compatibility.runtime_strategy_plugin``)."""

_VERIFIED = object()


@dataclass(frozen=True)
class ManifestProblem:
    """A manifest file that could not be read; listing goes on without it."""

    path: Path
    """The manifest file."""
    error: Sigma9Error
    """Why it was skipped."""


@dataclass(frozen=True)
class ArtifactListing:
    """What a store holds: the readable manifests and the problems of the others."""

    manifests: tuple[ArtifactManifest, ...]
    """Readable manifests, sorted by id."""
    problems: tuple[ManifestProblem, ...] = ()
    """Manifest files that failed to parse or do not match their file name."""


@dataclass(frozen=True)
class LoadedArtifact:
    """An artifact whose every check passed: the only input :class:`MLInference` accepts.

    Built by an :class:`ArtifactRegistry` through :meth:`verified`; constructing it directly
    raises ``TypeError``.
    """

    manifest: ArtifactManifest
    """The manifest."""
    source: str
    """Where the manifest was read from (for messages)."""
    spec: FeatureSpec
    """The runtime's own FeatureSpec the artifact was verified against."""
    descriptor: ModelDescriptor
    """The payload's ``model.json``."""
    files: Mapping[str, bytes] = field(repr=False)
    """Verified payload bytes by file name (read once: what was hashed is what is run)."""
    _seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._seal is not _VERIFIED:
            raise TypeError("a LoadedArtifact comes from ArtifactRegistry.load(), which verifies it first")
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))

    @classmethod
    def verified(
        cls,
        manifest: ArtifactManifest,
        *,
        source: str,
        spec: FeatureSpec,
        descriptor: ModelDescriptor,
        files: Mapping[str, bytes],
    ) -> LoadedArtifact:
        """For :class:`ArtifactRegistry` implementations only, once every check has passed."""
        return cls(manifest, source, spec, descriptor, files, _seal=_VERIFIED)

    @property
    def id(self) -> str:
        """The artifact id."""
        return self.manifest.id


class ArtifactRegistry(ABC):
    """Where the runtime finds artifacts.

    Examples
    --------
    >>> registry = FilesystemArtifactRegistry("artifacts")  # doctest: +SKIP
    >>> artifact = registry.load_latest(spec, subscribed_streams=["T.*", "A.*", "AM.*"])  # doctest: +SKIP
    >>> inference = MLInference(artifact)  # doctest: +SKIP
    """

    @abstractmethod
    def list_manifests(self) -> ArtifactListing:
        """Every published manifest; an unreadable one is reported in ``problems``, not raised."""

    @abstractmethod
    def load(
        self, artifact: str | ArtifactManifest, spec: FeatureSpec, *, subscribed_streams: Collection[str]
    ) -> LoadedArtifact:
        """Verify and load ``artifact`` (an id or a listed manifest) for the runtime's ``spec``.

        Raises a :class:`~sigma9_runtime.errors.Sigma9Error` subclass naming the file at the first
        failed check; see ``docs/artifacts.md`` for the list.
        """

    def latest(self, feature_spec_id: str) -> ArtifactManifest | None:
        """The newest readable manifest for ``feature_spec_id`` (by ``created_at``, then id), or None."""
        candidates = [m for m in self.list_manifests().manifests if m.feature_spec_ref.id == feature_spec_id]
        return max(candidates, key=lambda m: (m.created_at, m.id), default=None)

    def load_latest(
        self, spec: FeatureSpec, *, subscribed_streams: Collection[str], fallback: bool = False
    ) -> LoadedArtifact:
        """Load the newest artifact for ``spec.id``.

        With ``fallback=False`` (the default) a newest artifact that fails verification raises:
        the runtime does not silently run an older model. With ``fallback=True`` the refusal is
        logged and the next newest is tried.

        Raises
        ------
        ArtifactError
            No artifact for the spec (or, with ``fallback``, none that verifies).
        """
        candidates = sorted(
            (m for m in self.list_manifests().manifests if m.feature_spec_ref.id == spec.id),
            key=lambda m: (m.created_at, m.id),
            reverse=True,
        )
        if not candidates:
            raise ArtifactError(f"no artifact for FeatureSpec {spec.id} in {self}")
        refusals: list[str] = []
        for manifest in candidates:
            try:
                return self.load(manifest, spec, subscribed_streams=subscribed_streams)
            except Sigma9Error as e:
                if not fallback:
                    raise
                log.warning("artifact %s refused, trying an older one: %s", manifest.id, e)
                refusals.append(f"{manifest.id}: {e}")
        raise ArtifactError(f"no artifact for FeatureSpec {spec.id} passes verification: " + "; ".join(refusals))
