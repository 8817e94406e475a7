import hashlib
import json
import subprocess
from pathlib import Path

import pytest

import sigma9_dag.export.publish as publish_module
from sigma9_dag.export import git_commit, producer_section, publish_artifact
from sigma9_runtime.contracts import ArtifactManifest, load_artifact_manifest, load_feature_spec, parse_contract
from sigma9_runtime.errors import ArtifactError, ForbiddenPayloadFile, SchemaMismatch, SpecError, UnsafePayloadName
from sigma9_runtime.registry import FilesystemArtifactRegistry
from sigma9_runtime.schema_hash import schema_hash
from tests.stubs import (
    ARTIFACT_ID,
    SHIPPED_FEATURE_SPEC,
    artifact_manifest_body,
    artifact_manifest_document,
    shipped_schema_hash,
)


def _visible(root: Path) -> list[str]:
    """Every path under ``root`` whose name does not start with the temporary prefix."""
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if not any(part.startswith(".tmp-") for part in p.parts)
    )


def test_publish_writes_payload_snapshot_and_manifest_with_real_digests(artifact_store: Path, exported_payload) -> None:
    manifest = load_artifact_manifest(artifact_store / "manifests" / f"{ARTIFACT_ID}.json")
    assert manifest.payload.base_path == f"payloads/{ARTIFACT_ID}/"
    assert {f.name: f.sha256 for f in manifest.payload.files} == {
        name: hashlib.sha256(data).hexdigest() for name, data in exported_payload.files.items()
    }
    for name, data in exported_payload.files.items():
        assert (artifact_store / "payloads" / ARTIFACT_ID / name).read_bytes() == data
    ref = manifest.feature_spec_ref
    assert (ref.id, ref.schema_hash) == ("FS_2026-01-16_001", shipped_schema_hash())
    assert ref.snapshot_path == f"feature_specs_snapshot/FS_2026-01-16_001@{shipped_schema_hash()[7:23]}.yaml"
    assert schema_hash(load_feature_spec(artifact_store / ref.snapshot_path)) == ref.schema_hash
    assert _visible(artifact_store) == sorted(
        [
            "feature_specs_snapshot",
            ref.snapshot_path,
            "manifests",
            f"manifests/{ARTIFACT_ID}.json",
            "payloads",
            f"payloads/{ARTIFACT_ID}",
            *(f"payloads/{ARTIFACT_ID}/{name}" for name in exported_payload.files),
        ]
    )


def test_publish_refuses_an_existing_artifact_id(artifact_store: Path, exported_payload) -> None:
    before = (artifact_store / "manifests" / f"{ARTIFACT_ID}.json").read_bytes()
    with pytest.raises(ArtifactError, match="already published; ids are never reused"):
        publish_artifact(artifact_store, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    assert (artifact_store / "manifests" / f"{ARTIFACT_ID}.json").read_bytes() == before


def test_a_second_artifact_of_the_same_spec_shares_the_snapshot(artifact_store: Path, exported_payload) -> None:
    publish_artifact(
        artifact_store, artifact_manifest_body("ART_2026-01-17_001"), exported_payload.files, SHIPPED_FEATURE_SPEC
    )
    assert len(list((artifact_store / "feature_specs_snapshot").iterdir())) == 1
    assert [m.id for m in FilesystemArtifactRegistry(artifact_store).list_manifests().manifests] == [
        ARTIFACT_ID,
        "ART_2026-01-17_001",
    ]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("model.pkl", ForbiddenPayloadFile),
        ("scorer.joblib", ForbiddenPayloadFile),
        ("../scorer.onnx", UnsafePayloadName),
        ("sub/scorer.onnx", UnsafePayloadName),
    ],
)
def test_publish_refuses_payload_names_the_runtime_would_refuse(
    tmp_path: Path, exported_payload, name: str, error: type[Exception]
) -> None:
    files = {**exported_payload.files, name: b"\x80\x04K\x01."}
    with pytest.raises(error, match=name.replace(".", r"\.")):
        publish_artifact(tmp_path, artifact_manifest_body(), files, SHIPPED_FEATURE_SPEC)
    assert _visible(tmp_path) == []


def test_publish_refuses_a_schema_hash_that_is_not_the_specs(tmp_path: Path, exported_payload) -> None:
    other = "sha256:" + "0" * 64
    body = artifact_manifest_body(feature_spec_ref={"id": "FS_2026-01-16_001", "schema_hash": other})
    with pytest.raises(SchemaMismatch) as caught:
        publish_artifact(tmp_path, body, exported_payload.files, SHIPPED_FEATURE_SPEC)
    assert shipped_schema_hash() in str(caught.value) and other in str(caught.value)


def test_publish_refuses_a_manifest_promising_a_cluster_the_model_lacks(tmp_path: Path, exported_payload) -> None:
    body = artifact_manifest_body()
    body["model"]["thresholds"]["per_cluster_min"] = {"C09": 0.5}
    with pytest.raises(ArtifactError, match=r"per_cluster_min names cluster\(s\) C09"):
        publish_artifact(tmp_path, body, exported_payload.files, SHIPPED_FEATURE_SPEC)


def test_publish_refuses_a_payload_without_model_json(tmp_path: Path, exported_payload) -> None:
    files = {k: v for k, v in exported_payload.files.items() if k != "model.json"}
    with pytest.raises(ArtifactError, match=r"has no model\.json"):
        publish_artifact(tmp_path, artifact_manifest_body(), files, SHIPPED_FEATURE_SPEC)


def test_failure_before_the_manifest_leaves_nothing_listed_and_no_payload_directory(
    tmp_path: Path, exported_payload, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(publish_module, "_write_manifest", crash)
    with pytest.raises(OSError, match="disk full"):
        publish_artifact(tmp_path, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    listing = FilesystemArtifactRegistry(tmp_path).list_manifests()
    assert listing.manifests == () and listing.problems == ()
    assert not (tmp_path / "payloads" / ARTIFACT_ID).exists()
    assert list((tmp_path / "payloads").iterdir()) == []  # no temporary leftovers either
    assert not (tmp_path / "manifests").exists() or list((tmp_path / "manifests").iterdir()) == []


def test_failure_while_writing_the_payload_leaves_no_payload_directory(
    tmp_path: Path, exported_payload, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real = publish_module._write_payload_file

    def fail_on_second(path: Path, data: bytes) -> None:
        if written:
            raise OSError("I/O error")
        written.append(path.name)
        real(path, data)

    monkeypatch.setattr(publish_module, "_write_payload_file", fail_on_second)
    with pytest.raises(OSError, match="I/O error"):
        publish_artifact(tmp_path, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    assert written  # the crash happened half-way through the payload
    assert list((tmp_path / "payloads").iterdir()) == []
    assert _visible(tmp_path) == ["payloads"]


def test_a_crashed_publish_leaves_a_payload_directory_that_is_not_listed_and_can_be_replaced(
    tmp_path: Path, exported_payload
) -> None:
    orphan = tmp_path / "payloads" / ARTIFACT_ID  # what a kill -9 between payload and manifest leaves
    orphan.mkdir(parents=True)
    (orphan / "scorer.onnx").write_bytes(b"old")
    assert FilesystemArtifactRegistry(tmp_path).list_manifests().manifests == ()
    with pytest.raises(ArtifactError, match="payload directory without manifest"):
        publish_artifact(tmp_path, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    publish_artifact(
        tmp_path, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC, replace_orphan=True
    )
    assert (orphan / "scorer.onnx").read_bytes() == exported_payload.files["scorer.onnx"]
    assert [m.id for m in FilesystemArtifactRegistry(tmp_path).list_manifests().manifests] == [ARTIFACT_ID]


def test_manifest_json_is_the_contract_document(artifact_store: Path) -> None:
    document = json.loads((artifact_store / "manifests" / f"{ARTIFACT_ID}.json").read_text(encoding="utf-8"))
    assert list(document) == ["artifact_manifest"]


def test_producer_section_has_the_checkout_commit_python_and_os() -> None:
    producer = producer_section()
    expected = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert producer.system == "sigma9_dag"
    assert producer.git_commit == expected
    assert producer.python.startswith("3.11") and producer.os


def test_git_commit_is_unknown_outside_a_git_checkout(tmp_path: Path) -> None:
    assert git_commit(tmp_path) == "unknown"
    assert producer_section(tmp_path).git_commit == "unknown"


def test_git_commit_reads_head_of_a_fresh_repository(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "first")
    assert git_commit(tmp_path) == git("rev-parse", "HEAD")


def test_publish_accepts_a_manifest_model_and_recomputes_payload_and_snapshot(tmp_path: Path, exported_payload) -> None:
    stub = parse_contract(ArtifactManifest, artifact_manifest_document())  # stub payload digests, stub snapshot path
    final = publish_artifact(tmp_path, stub, exported_payload.files, SHIPPED_FEATURE_SPEC)
    assert sorted(f.name for f in final.payload.files) == sorted(exported_payload.files)
    assert final.feature_spec_ref.snapshot_path.startswith("feature_specs_snapshot/FS_2026-01-16_001@")
    assert final.model_dump(exclude={"payload", "feature_spec_ref"}) == stub.model_dump(
        exclude={"payload", "feature_spec_ref"}
    )
    assert load_artifact_manifest(tmp_path / "manifests" / f"{final.id}.json") == final


def test_publish_refuses_a_feature_spec_ref_naming_another_spec(tmp_path: Path, exported_payload) -> None:
    body = artifact_manifest_body(feature_spec_ref={"id": "FS_other"})
    with pytest.raises(SpecError, match="is 'FS_other' but the spec file is 'FS_2026-01-16_001'"):
        publish_artifact(tmp_path, body, exported_payload.files, SHIPPED_FEATURE_SPEC)
    assert _visible(tmp_path) == []
