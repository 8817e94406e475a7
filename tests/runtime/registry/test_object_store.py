"""An artifact store in object storage (a real S3 protocol server on 127.0.0.1): published manifest last,
loaded only after the same checks as on disk."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pyarrow.fs as pafs
import pytest

import sigma9_dag.export.publish as publish_module
from sigma9_dag.export import publish_artifact
from sigma9_dag.export.publish import taken_artifact_ids
from sigma9_runtime.contracts import load_feature_spec
from sigma9_runtime.errors import ArtifactError, DigestMismatch, UnlistedPayloadFile
from sigma9_runtime.registry import ObjectStoreArtifactRegistry, open_registry
from tests.stubs import ARTIFACT_ID, SHIPPED_FEATURE_SPEC, artifact_manifest_body, use_s3

STREAMS = ["T.*", "A.*", "AM.*"]


@pytest.fixture
def bucket_store(monkeypatch, s3_endpoint: str) -> tuple[str, pafs.FileSystem]:  # type: ignore[no-untyped-def]
    """An empty store ``s3://<new bucket>/artifacts`` and the bucket's filesystem."""
    bucket = f"sigma9-{uuid.uuid4().hex[:12]}"
    url = use_s3(monkeypatch, s3_endpoint, bucket) + "/artifacts"
    return url, pafs.S3FileSystem(endpoint_override=s3_endpoint)


def _objects(filesystem: pafs.FileSystem, url: str) -> dict[str, bytes]:
    base = url.removeprefix("s3://")
    infos = filesystem.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    return {
        info.path.removeprefix(base + "/"): filesystem.open_input_stream(info.path).read()
        for info in infos
        if info.type == pafs.FileType.File
    }


def test_an_artifact_published_to_a_bucket_loads_verified_from_it(bucket_store, exported_payload, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, filesystem = bucket_store
    manifest = publish_artifact(url, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    objects = _objects(filesystem, url)
    assert set(objects) == {
        f"manifests/{ARTIFACT_ID}.json",
        manifest.feature_spec_ref.snapshot_path,
        *(f"payloads/{ARTIFACT_ID}/{name}" for name in exported_payload.files),
    }
    for name, data in exported_payload.files.items():
        assert objects[f"payloads/{ARTIFACT_ID}/{name}"] == data
    assert taken_artifact_ids(url) == {ARTIFACT_ID}

    registry = open_registry(url, cache_dir=tmp_path / "cache")
    assert isinstance(registry, ObjectStoreArtifactRegistry)
    assert [m.id for m in registry.list_manifests().manifests] == [ARTIFACT_ID]
    spec = load_feature_spec(SHIPPED_FEATURE_SPEC)
    loaded = registry.load_latest(spec, subscribed_streams=STREAMS)
    assert loaded.id == ARTIFACT_ID and dict(loaded.files) == dict(exported_payload.files)

    with pytest.raises(ArtifactError, match="already published"):
        publish_artifact(url, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)


def test_the_runtime_container_reads_its_artifact_from_a_bucket(bucket_store, exported_payload) -> None:  # type: ignore[no-untyped-def]
    from sigma9_runtime.container import RuntimeConfig, RuntimeContainer

    url, _ = bucket_store
    publish_artifact(url, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    config = RuntimeConfig(feature_spec=SHIPPED_FEATURE_SPEC, artifacts=url, strategy="seismograph_ml")
    assert config.artifacts == url
    container = RuntimeContainer(config)
    assert container.artifact is not None and container.artifact.id == ARTIFACT_ID
    assert RuntimeConfig(feature_spec=SHIPPED_FEATURE_SPEC, artifacts="artifacts").artifacts == Path("artifacts")


def test_a_tampered_or_unlisted_object_in_the_bucket_is_refused(bucket_store, exported_payload, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url, filesystem = bucket_store
    publish_artifact(url, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    spec = load_feature_spec(SHIPPED_FEATURE_SPEC)
    registry = ObjectStoreArtifactRegistry(url, cache_dir=tmp_path / "cache")
    assert registry.load(ARTIFACT_ID, spec, subscribed_streams=STREAMS).id == ARTIFACT_ID  # cached once

    payload = f"{url.removeprefix('s3://')}/payloads/{ARTIFACT_ID}"
    scorer = filesystem.open_input_stream(f"{payload}/scorer.onnx").read()
    with filesystem.open_output_stream(f"{payload}/scorer.onnx") as out:
        out.write(scorer[:-1] + bytes([scorer[-1] ^ 1]))
    with pytest.raises(DigestMismatch, match=r"scorer\.onnx") as refused:
        registry.load(ARTIFACT_ID, spec, subscribed_streams=STREAMS)
    assert any(url in note for note in refused.value.__notes__)

    with filesystem.open_output_stream(f"{payload}/scorer.onnx") as out:
        out.write(scorer)
    assert registry.load(ARTIFACT_ID, spec, subscribed_streams=STREAMS).files["scorer.onnx"] == scorer
    with filesystem.open_output_stream(f"{payload}/extra.onnx") as out:
        out.write(b"not listed")
    with pytest.raises(UnlistedPayloadFile, match=r"extra\.onnx"):
        registry.load(ARTIFACT_ID, spec, subscribed_streams=STREAMS)


def test_a_publish_that_fails_before_its_manifest_leaves_no_artifact_to_list(  # type: ignore[no-untyped-def]
    bucket_store, exported_payload, monkeypatch, tmp_path
) -> None:
    url, _ = bucket_store
    put = publish_module._put
    keys: list[str] = []

    def fail_at_the_manifest(target, key: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
        if "/manifests/" in key:
            raise OSError("connection reset")
        keys.append(key)
        put(target, key, data)

    monkeypatch.setattr(publish_module, "_put", fail_at_the_manifest)
    with pytest.raises(OSError, match="connection reset"):
        publish_artifact(url, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    assert keys and all("/manifests/" not in k for k in keys)  # every other object went first
    assert ObjectStoreArtifactRegistry(url, cache_dir=tmp_path / "cache").list_manifests().manifests == ()

    monkeypatch.setattr(publish_module, "_put", put)
    with pytest.raises(ArtifactError, match="payload objects without manifest"):
        publish_artifact(url, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    manifest = publish_artifact(
        url, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC, replace_orphan=True
    )
    digests = {f.name: f.sha256 for f in manifest.payload.files}
    assert digests == {name: hashlib.sha256(data).hexdigest() for name, data in exported_payload.files.items()}
