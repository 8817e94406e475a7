"""The artifact registry: find published artifacts and load one only after verifying it.

:class:`ArtifactRegistry` is the interface, :class:`FilesystemArtifactRegistry` the local-directory
implementation, :class:`ObjectStoreArtifactRegistry` the one in object storage (``s3://...``;
:func:`open_registry` picks by location), :class:`ArtifactStoreLayout` the one place that says where things live. See
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
from sigma9_runtime.registry.object_store import (
    OBJECT_STORE_SCHEMES,
    ObjectStoreArtifactRegistry,
    is_object_store_url,
    open_object_store,
    open_registry,
)

__all__ = [
    "ALLOWED_SUFFIXES",
    "CLUSTER_NAME",
    "DEFAULT_PLUGINS",
    "DESCRIPTOR_NAME",
    "OBJECT_STORE_SCHEMES",
    "SCORER_NAME",
    "ArtifactListing",
    "ArtifactRegistry",
    "ArtifactStoreLayout",
    "FilesystemArtifactRegistry",
    "LoadedArtifact",
    "ManifestProblem",
    "ObjectStoreArtifactRegistry",
    "check_payload_name",
    "is_object_store_url",
    "open_object_store",
    "open_registry",
]
