"""The artifact registry: find published artifacts and load one only after verifying it.

:class:`ArtifactRegistry` is the interface, :class:`FilesystemArtifactRegistry` the local-directory
implementation, :class:`ArtifactStoreLayout` the one place that says where things live. See
``docs/artifacts.md``.
"""

from sigma9_runtime.registry.base import (
    DEFAULT_PLUGINS,
    ArtifactListing,
    ArtifactRegistry,
    LoadedArtifact,
    ManifestProblem,
)
from sigma9_runtime.registry.filesystem import FilesystemArtifactRegistry
from sigma9_runtime.registry.layout import (
    ALLOWED_SUFFIXES,
    CLUSTER_NAME,
    DESCRIPTOR_NAME,
    SCORER_NAME,
    ArtifactStoreLayout,
    check_payload_name,
)

__all__ = [
    "ALLOWED_SUFFIXES",
    "CLUSTER_NAME",
    "DEFAULT_PLUGINS",
    "DESCRIPTOR_NAME",
    "SCORER_NAME",
    "ArtifactListing",
    "ArtifactRegistry",
    "ArtifactStoreLayout",
    "FilesystemArtifactRegistry",
    "LoadedArtifact",
    "ManifestProblem",
    "check_payload_name",
]
