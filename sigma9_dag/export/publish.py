"""Publish an artifact into a store, atomically: payload and spec snapshot first, manifest last.

A manifest's presence means its artifact is complete, so the runtime never sees half an artifact:

1. the payload directory is filled under a temporary name and renamed into place whole;
2. the FeatureSpec snapshot is written (content-addressed; an identical one is kept);
3. the manifest is written last, under a temporary name then linked into place, never replacing
   an existing one.

A failure before step 3 removes the payload directory again; a hard crash there leaves a payload
directory without manifest, which no registry lists (``replace_orphan=True`` clears it on the next
publish of the same id). See ``docs/artifacts.md``.

A store in object storage (``s3://bucket/prefix``, :func:`~sigma9_runtime.registry.is_object_store_url`) is
published the same way: the artifact is first published (and so checked) into a local staging store, then
its objects are put in the same order — payload objects and the snapshot, then the manifest object last.
One object is written whole or not at all, so a reader that sees the manifest sees every object it names.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sigma9_runtime.atomic import TEMP_PREFIX, atomic_directory, atomic_write_bytes, atomic_write_text
from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
from sigma9_runtime.contracts.io import dumps_contract, load_feature_spec, parse_contract
from sigma9_runtime.contracts.model_descriptor import manifest_mismatches, parse_model_descriptor
from sigma9_runtime.errors import ArtifactError, SchemaMismatch, SpecError
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.registry.layout import (
    DESCRIPTOR_NAME,
    MANIFESTS_DIR,
    PAYLOADS_DIR,
    ArtifactStoreLayout,
    check_payload_name,
)
from sigma9_runtime.registry.object_store import (
    is_object_store_url,
    object_key,
    object_store_name,
    open_object_store,
)
from sigma9_runtime.schema_hash import schema_hash


def publish_artifact(
    store_root: str | Path,
    manifest: ArtifactManifest | Mapping[str, Any],
    payload_files: Mapping[str, bytes],
    spec_path: str | Path,
    *,
    replace_orphan: bool = False,
) -> ArtifactManifest:
    """Write an artifact into the store at ``store_root`` and return its final manifest.

    Parameters
    ----------
    store_root
        Artifact store root (``artifacts/``).
    manifest
        The manifest, as a model or as the body of one (without the ``artifact_manifest`` key).
        ``payload`` and ``feature_spec_ref.snapshot_path`` are computed here (given values are
        replaced); ``feature_spec_ref.id`` and ``schema_hash`` are filled from the spec, and when
        given must equal them.
    payload_files
        File name -> bytes; plain ``.onnx``/``.json`` names, including ``model.json``.
    spec_path
        The FeatureSpec the models were trained with; snapshotted into the store.
    replace_orphan
        Remove a payload directory of the same id left without manifest by a crashed publish.

    Raises
    ------
    ArtifactError
        The id is already published, a payload name is refused (:class:`ForbiddenPayloadFile`,
        :class:`UnsafePayloadName`), ``model.json`` is missing or names files not given, or the
        descriptor disagrees with the spec or the manifest.
    SchemaMismatch
        The given ``feature_spec_ref.schema_hash`` is not the spec's.
    SpecError
        The completed manifest or ``model.json`` is invalid.

    Examples
    --------
    >>> exported = build_payload(scorer, feature_names(spec), train_rows, cluster_model=pipeline)  # doctest: +SKIP
    >>> publish_artifact("artifacts", body, exported.files, "feature_specs/FS_2026-01-16_001.yaml")  # doctest: +SKIP
    """
    if is_object_store_url(store_root):
        return _publish_to_object_store(str(store_root), manifest, payload_files, spec_path, replace_orphan)
    layout = ArtifactStoreLayout(Path(store_root))
    spec = load_feature_spec(spec_path)
    spec_hash = schema_hash(spec)
    body = manifest.model_dump(mode="json") if isinstance(manifest, ArtifactManifest) else dict(manifest)
    artifact_id = body.get("id")

    for name, data in payload_files.items():
        check_payload_name(name, file=f"payload of {artifact_id}: {name}")
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ArtifactError(f"payload file {name!r} of {artifact_id} is {type(data).__name__}, expected bytes")
    if DESCRIPTOR_NAME not in payload_files:
        raise ArtifactError(f"the payload of {artifact_id} has no {DESCRIPTOR_NAME}")
    descriptor = parse_model_descriptor(bytes(payload_files[DESCRIPTOR_NAME]), file=f"{artifact_id}/{DESCRIPTOR_NAME}")
    absent = [name for name in descriptor.model_files() if name not in payload_files]
    if absent:
        raise ArtifactError(f"{DESCRIPTOR_NAME} of {artifact_id} names {', '.join(absent)}, not in the payload")
    if descriptor.feature_names != feature_names(spec):
        raise ArtifactError(f"{DESCRIPTOR_NAME} of {artifact_id}: feature_names are not feature_names({spec.id})")

    body["feature_spec_ref"] = _feature_spec_ref(body.get("feature_spec_ref"), spec.id, spec_hash, layout)
    body["payload"] = {
        "base_path": layout.payload_base_path(str(artifact_id)),
        "files": [
            {"name": name, "sha256": hashlib.sha256(payload_files[name]).hexdigest()} for name in sorted(payload_files)
        ],
    }
    final = parse_contract(ArtifactManifest, {"artifact_manifest": body}, file=f"manifest of {artifact_id}")
    mismatches = manifest_mismatches(descriptor, final)
    if mismatches:
        raise ArtifactError(f"manifest {final.id}: " + "; ".join(mismatches))

    manifest_path = layout.manifest(final.id)
    if manifest_path.exists():
        raise ArtifactError(f"{manifest_path}: artifact {final.id} is already published; ids are never reused")
    payload_dir = layout.resolve(final.payload.base_path, named_by=f"manifest of {final.id}")
    if payload_dir.exists() or payload_dir.is_symlink():
        if not replace_orphan:
            raise ArtifactError(
                f"{payload_dir}: a payload directory without manifest (a crashed publish?); remove it, use another"
                " id, or pass replace_orphan=True"
            )
        _remove_directory(payload_dir)

    with atomic_directory(payload_dir) as staging:
        for name in sorted(payload_files):
            _write_payload_file(staging / name, bytes(payload_files[name]))
    try:
        _write_snapshot(layout, final, spec)
        _write_manifest(manifest_path, final)
    except BaseException:
        _remove_directory(payload_dir)
        raise
    return final


def taken_artifact_ids(store: Path | str) -> set[str]:
    """The ids ``store`` holds a manifest or a payload of (a directory, or object storage by URL)."""
    if is_object_store_url(store):
        import pyarrow.fs as pafs

        filesystem, base = open_object_store(str(store))
        ids: set[str] = set()
        for folder in (MANIFESTS_DIR, PAYLOADS_DIR):
            selector = pafs.FileSelector(object_key(base, folder), allow_not_found=True)
            ids |= {info.base_name.removesuffix(".json") for info in filesystem.get_file_info(selector)}
        return ids
    layout = ArtifactStoreLayout(Path(store))
    ids = {path.stem for path in layout.manifest_files()}
    payloads = layout.root / PAYLOADS_DIR
    return ids | ({entry.name for entry in payloads.iterdir()} if payloads.is_dir() else set())


def manifest_location(store: Path | str, artifact_id: str) -> str:
    """Where the manifest of ``artifact_id`` is in ``store`` (a path, or the object's URL)."""
    if is_object_store_url(store):
        return f"{object_store_name(str(store))}/{MANIFESTS_DIR}/{artifact_id}.json"
    return str(ArtifactStoreLayout(Path(store)).manifest(artifact_id))


def _publish_to_object_store(
    url: str,
    manifest: ArtifactManifest | Mapping[str, Any],
    payload_files: Mapping[str, bytes],
    spec_path: str | Path,
    replace_orphan: bool,
) -> ArtifactManifest:
    """:func:`publish_artifact` into object storage: checked in a local staging store, then put object by
    object with the manifest last."""
    import pyarrow.fs as pafs

    filesystem, base = open_object_store(url)
    store = object_store_name(url)

    with tempfile.TemporaryDirectory(prefix="sigma9-publish-") as staging_root:
        final = publish_artifact(staging_root, manifest, payload_files, spec_path)
        staged = ArtifactStoreLayout(Path(staging_root))
        manifest_key = object_key(base, f"{MANIFESTS_DIR}/{final.id}.json")
        if filesystem.get_file_info(manifest_key).type != pafs.FileType.NotFound:
            raise ArtifactError(f"{manifest_location(url, final.id)}: artifact {final.id} is already published")
        payload_key = object_key(base, final.payload.base_path)
        left = filesystem.get_file_info(pafs.FileSelector(payload_key, allow_not_found=True))
        if left:
            if not replace_orphan:
                raise ArtifactError(
                    f"{store}/{final.payload.base_path}: payload objects without manifest (a crashed publish?); "
                    "remove them, use another id, or pass replace_orphan=True"
                )
            filesystem.delete_dir_contents(payload_key, missing_dir_ok=True)
        snapshot = final.feature_spec_ref.snapshot_path
        uploads = [f"{final.payload.base_path.rstrip('/')}/{f.name}" for f in final.payload.files] + [snapshot]
        for relative in uploads:
            _put(
                filesystem,
                object_key(base, relative),
                staged.resolve(relative, named_by=f"manifest of {final.id}").read_bytes(),
            )
        _put(filesystem, manifest_key, staged.manifest(final.id).read_bytes())  # last: the artifact is complete
    return final


def _put(filesystem: Any, key: str, data: bytes) -> None:
    """One object, whole (an object store's put is atomic: readers see the old object or the new one)."""
    with filesystem.open_output_stream(key) as out:
        out.write(data)


def _feature_spec_ref(given: Any, spec_id: str, spec_hash: str, layout: ArtifactStoreLayout) -> dict[str, str]:
    given = dict(given or {})
    if given.get("id", spec_id) != spec_id:
        raise SpecError(
            f"is {given['id']!r} but the spec file is {spec_id!r}", field="artifact_manifest.feature_spec_ref.id"
        )
    if given.get("schema_hash", spec_hash) != spec_hash:
        raise SchemaMismatch(
            "the manifest's feature_spec_ref.schema_hash is not the hash of the spec being published",
            expected=spec_hash,
            actual=given["schema_hash"],
        )
    return {"id": spec_id, "schema_hash": spec_hash, "snapshot_path": layout.snapshot_path(spec_id, spec_hash)}


def _write_payload_file(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _write_snapshot(layout: ArtifactStoreLayout, manifest: ArtifactManifest, spec: Any) -> None:
    ref = manifest.feature_spec_ref
    path = layout.resolve(ref.snapshot_path, named_by=f"manifest of {manifest.id}")
    with contextlib.suppress(FileExistsError):
        atomic_write_text(path, dumps_contract(spec, "yaml"), exclusive=True)
    # Written now or by an earlier publish of the same spec: either way it must hash as the manifest says.
    found = schema_hash(load_feature_spec(path))
    if found != ref.schema_hash:
        raise SchemaMismatch(
            f"FeatureSpec snapshot {path} exists with another definition", expected=ref.schema_hash, actual=found
        )


def _write_manifest(path: Path, manifest: ArtifactManifest) -> None:
    try:
        atomic_write_bytes(path, dumps_contract(manifest, "json").encode("utf-8"), exclusive=True)
    except FileExistsError as e:
        raise ArtifactError(f"{path}: artifact {manifest.id} was published meanwhile; ids are never reused") from e


def _remove_directory(path: Path) -> None:
    """Take ``path`` out of sight with one rename, then delete it."""
    if not path.exists() and not path.is_symlink():
        return
    if path.is_symlink() or not path.is_dir():
        path.unlink()
        return
    hidden = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{path.name}.removed.", dir=path.parent))
    os.rename(path, hidden / path.name)
    shutil.rmtree(hidden, ignore_errors=True)
