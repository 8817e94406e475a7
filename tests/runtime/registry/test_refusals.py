"""Each check of FilesystemArtifactRegistry.load refuses with its own error, naming the file."""

import hashlib
import shutil
from pathlib import Path

import pytest

from sigma9_runtime.contracts import load_artifact_manifest, load_feature_spec
from sigma9_runtime.errors import (
    DigestMismatch,
    ForbiddenPayloadFile,
    IncompatibleArtifact,
    IntegrityError,
    MissingArtifactFile,
    PayloadRefused,
    SchemaMismatch,
    Sigma9Error,
    SpecError,
    UnlistedPayloadFile,
    UnsafePayloadName,
)
from sigma9_runtime.registry import FilesystemArtifactRegistry
from sigma9_runtime.schema_hash import schema_hash
from tests.stubs import (
    ALL_STREAMS,
    ARTIFACT_ID,
    SHIPPED_FEATURE_SPEC,
    edit_manifest,
    feature_spec,
    replace_payload_file,
    shipped_schema_hash,
    write_yaml,
)

SPEC = load_feature_spec(SHIPPED_FEATURE_SPEC)
PICKLE = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01."  # pickle.dumps(1): never to be loaded


def _load(root: Path, spec=SPEC, streams=ALL_STREAMS, **registry_args):
    return FilesystemArtifactRegistry(root, **registry_args).load(ARTIFACT_ID, spec, subscribed_streams=streams)


def _payload(root: Path) -> Path:
    return root / "payloads" / ARTIFACT_ID


def test_registry_rejects_payload_with_a_tampered_byte(artifact_store: Path) -> None:
    scorer = _payload(artifact_store) / "scorer.onnx"
    data = bytearray(scorer.read_bytes())
    data[len(data) // 2] ^= 0x01
    scorer.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch) as caught:
        _load(artifact_store)
    assert caught.value.file == str(scorer)
    assert caught.value.actual == hashlib.sha256(bytes(data)).hexdigest()
    assert str(scorer) in str(caught.value) and caught.value.expected in str(caught.value)
    assert isinstance(caught.value, IntegrityError)


def test_registry_rejects_a_listed_pickle_even_with_a_correct_digest(artifact_store: Path) -> None:
    replace_payload_file(artifact_store, ARTIFACT_ID, "model.pkl", PICKLE)
    with pytest.raises(ForbiddenPayloadFile, match=r"payload file 'model.pkl' is not one of \.onnx, \.json"):
        _load(artifact_store)


@pytest.mark.parametrize("name", ["scorer.joblib", "scorer.txt", "scorer.onnx.pkl"])
def test_registry_rejects_any_listed_file_that_is_not_onnx_or_json(artifact_store: Path, name: str) -> None:
    replace_payload_file(artifact_store, ARTIFACT_ID, name, b"anything")
    with pytest.raises(ForbiddenPayloadFile, match=name):
        _load(artifact_store)


def test_registry_rejects_an_unlisted_file_in_the_payload_directory(artifact_store: Path) -> None:
    extra = _payload(artifact_store) / "extra.pkl"
    extra.write_bytes(PICKLE)
    with pytest.raises(UnlistedPayloadFile) as caught:
        _load(artifact_store)
    assert caught.value.file == str(extra)
    assert "not in the payload.files" in str(caught.value)


@pytest.mark.parametrize("name", ["../scorer.onnx", "sub/scorer.onnx", "..\\scorer.onnx", "/etc/passwd.json"])
def test_a_manifest_with_a_path_in_a_payload_name_is_refused_naming_the_manifest_and_field(
    artifact_store: Path, name: str
) -> None:
    path = edit_manifest(artifact_store, ARTIFACT_ID, lambda body: body["payload"]["files"][0].update(name=name))
    with pytest.raises(SpecError) as caught:
        _load(artifact_store)
    assert str(path) in str(caught.value)
    assert "artifact_manifest.payload.files[0].name" in str(caught.value)
    (problem,) = FilesystemArtifactRegistry(artifact_store).list_manifests().problems
    assert problem.path == path


def test_a_manifest_object_with_a_path_in_a_payload_name_is_refused(artifact_store: Path) -> None:
    manifest = load_artifact_manifest(artifact_store / "manifests" / f"{ARTIFACT_ID}.json")
    bad_file = manifest.payload.files[0].model_construct(name="../../scorer.onnx", sha256="0" * 64)
    forged = manifest.model_construct(  # bypasses validation, as code holding a model could
        **{
            **dict(manifest),
            "payload": manifest.payload.model_construct(base_path=manifest.payload.base_path, files=[bad_file]),
        }
    )
    with pytest.raises(UnsafePayloadName, match=r"'\.\./\.\./scorer\.onnx' is not a plain file name"):
        FilesystemArtifactRegistry(artifact_store).load(forged, SPEC, subscribed_streams=ALL_STREAMS)


@pytest.mark.parametrize("base_path", ["../elsewhere/", "/tmp/payloads/", "payloads/../../x/"])
def test_a_payload_directory_outside_the_store_is_refused(artifact_store: Path, base_path: str) -> None:
    edit_manifest(artifact_store, ARTIFACT_ID, lambda body: body["payload"].update(base_path=base_path))
    with pytest.raises(UnsafePayloadName, match="not inside the artifact store"):
        _load(artifact_store)


def test_a_payload_directory_linked_out_of_the_store_is_refused(artifact_store: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.move(_payload(artifact_store), outside)
    (artifact_store / "payloads" / "link").symlink_to(outside, target_is_directory=True)
    edit_manifest(artifact_store, ARTIFACT_ID, lambda body: body["payload"].update(base_path="payloads/link/"))
    with pytest.raises(UnsafePayloadName, match="leads outside the artifact store"):
        _load(artifact_store)


def test_a_payload_file_that_is_a_link_is_refused(artifact_store: Path, tmp_path: Path) -> None:
    scorer = _payload(artifact_store) / "scorer.onnx"
    target = tmp_path / "real.onnx"
    shutil.move(scorer, target)
    scorer.symlink_to(target)
    with pytest.raises(UnsafePayloadName, match="is a link"):
        _load(artifact_store)


def test_registry_rejects_a_missing_payload_file(artifact_store: Path) -> None:
    cluster = _payload(artifact_store) / "cluster.onnx"
    cluster.unlink()
    with pytest.raises(MissingArtifactFile) as caught:
        _load(artifact_store)
    assert caught.value.file == str(cluster)


def test_registry_rejects_a_missing_payload_directory(artifact_store: Path) -> None:
    shutil.rmtree(_payload(artifact_store))
    with pytest.raises(MissingArtifactFile, match="payload directory named by manifest"):
        _load(artifact_store)


def test_registry_rejects_a_payload_without_model_json(artifact_store: Path) -> None:
    (_payload(artifact_store) / "model.json").unlink()
    edit_manifest(
        artifact_store,
        ARTIFACT_ID,
        lambda body: body["payload"].update(files=[f for f in body["payload"]["files"] if f["name"] != "model.json"]),
    )
    with pytest.raises(MissingArtifactFile, match=r"does not list model\.json"):
        _load(artifact_store)


def test_registry_rejects_a_runtime_spec_with_another_schema_hash_showing_both_hashes(artifact_store: Path) -> None:
    changed = feature_spec(**{"normalization.lookback": "30d"})
    with pytest.raises(SchemaMismatch) as caught:
        _load(artifact_store, spec=changed)
    message = str(caught.value)
    assert shipped_schema_hash() in message and schema_hash(changed) in message
    assert str(artifact_store / "manifests" / f"{ARTIFACT_ID}.json") in message
    assert (caught.value.expected, caught.value.actual) == (shipped_schema_hash(), schema_hash(changed))


def test_registry_accepts_a_runtime_spec_differing_only_in_unhashed_fields(artifact_store: Path) -> None:
    same = feature_spec(version="9.9.9", description="edited", id="FS_2026-01-16_001")
    assert _load(artifact_store, spec=same).spec is same


def test_registry_rejects_a_snapshot_whose_definition_was_changed(artifact_store: Path) -> None:
    manifest = load_artifact_manifest(artifact_store / "manifests" / f"{ARTIFACT_ID}.json")
    snapshot = artifact_store / manifest.feature_spec_ref.snapshot_path
    edited = feature_spec(**{"normalization.lookback": "30d"})
    write_yaml(snapshot, {"feature_spec": edited.model_dump(mode="json")})
    with pytest.raises(SchemaMismatch) as caught:
        _load(artifact_store)
    message = str(caught.value)
    assert f"FeatureSpec snapshot {snapshot}" in message
    assert shipped_schema_hash() in message and schema_hash(edited) in message


def test_registry_rejects_a_snapshot_that_is_not_a_feature_spec(artifact_store: Path) -> None:
    manifest = load_artifact_manifest(artifact_store / "manifests" / f"{ARTIFACT_ID}.json")
    snapshot = artifact_store / manifest.feature_spec_ref.snapshot_path
    snapshot.write_text("feature_spec: {id: FS_x}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=str(snapshot)):
        _load(artifact_store)


def test_registry_rejects_a_missing_snapshot(artifact_store: Path) -> None:
    manifest = load_artifact_manifest(artifact_store / "manifests" / f"{ARTIFACT_ID}.json")
    (artifact_store / manifest.feature_spec_ref.snapshot_path).unlink()
    with pytest.raises(MissingArtifactFile, match="FeatureSpec snapshot named by manifest"):
        _load(artifact_store)


def test_registry_rejects_required_streams_the_runtime_does_not_subscribe_to(artifact_store: Path) -> None:
    with pytest.raises(IncompatibleArtifact, match=r"needs T\.\*, which the runtime does not subscribe to"):
        _load(artifact_store, streams=("A.*", "AM.*"))


def test_registry_rejects_an_unknown_strategy_plugin(artifact_store: Path) -> None:
    with pytest.raises(IncompatibleArtifact, match="'seismograph_ml' is not a known plugin"):
        _load(artifact_store, known_plugins={"seismograph"})


def test_registry_rejects_a_manifest_promising_clusters_the_payload_lacks(artifact_store: Path) -> None:
    edit_manifest(
        artifact_store, ARTIFACT_ID, lambda body: body["model"]["thresholds"]["per_cluster_min"].update(C07=0.5)
    )
    with pytest.raises(IncompatibleArtifact, match=r"per_cluster_min names cluster\(s\) C07"):
        _load(artifact_store)


def test_registry_rejects_an_unknown_artifact_id_or_one_shaped_like_a_path(artifact_store: Path) -> None:
    registry = FilesystemArtifactRegistry(artifact_store)
    with pytest.raises(MissingArtifactFile, match="no manifest for artifact ART_nothing"):
        registry.load("ART_nothing", SPEC, subscribed_streams=ALL_STREAMS)
    with pytest.raises(Sigma9Error, match="is not an artifact id"):
        registry.load("ART_../../etc", SPEC, subscribed_streams=ALL_STREAMS)


def test_every_refusal_is_a_sigma9_error() -> None:
    for error in (PayloadRefused, DigestMismatch, MissingArtifactFile, IncompatibleArtifact, SchemaMismatch, SpecError):
        assert issubclass(error, Sigma9Error)
