import json
import logging
from pathlib import Path

import pytest

from sigma9_dag.export import publish_artifact
from sigma9_runtime.contracts import load_feature_spec
from sigma9_runtime.errors import ArtifactError, DigestMismatch, SpecError
from sigma9_runtime.registry import ArtifactRegistry, FilesystemArtifactRegistry, LoadedArtifact
from tests.stubs import (
    ALL_STREAMS,
    ARTIFACT_ID,
    SHIPPED_FEATURE_SPEC,
    artifact_manifest_body,
    edit_manifest,
    write_json,
)

SPEC = load_feature_spec(SHIPPED_FEATURE_SPEC)


def _publish(root: Path, files: dict[str, bytes], artifact_id: str, created_at: str) -> None:
    publish_artifact(root, artifact_manifest_body(artifact_id, created_at=created_at), files, SHIPPED_FEATURE_SPEC)


def test_filesystem_registry_is_an_artifact_registry(artifact_store: Path) -> None:
    assert isinstance(FilesystemArtifactRegistry(artifact_store), ArtifactRegistry)


def test_registry_lists_a_published_artifact(artifact_store: Path) -> None:
    listing = FilesystemArtifactRegistry(artifact_store).list_manifests()
    assert [m.id for m in listing.manifests] == [ARTIFACT_ID]
    assert listing.problems == ()


def test_an_empty_or_missing_store_lists_nothing(tmp_path: Path) -> None:
    listing = FilesystemArtifactRegistry(tmp_path / "nowhere").list_manifests()
    assert (listing.manifests, listing.problems) == ((), ())
    assert FilesystemArtifactRegistry(tmp_path).latest("FS_2026-01-16_001") is None


def test_latest_picks_the_newest_created_at_then_the_highest_id(artifact_store: Path, exported_payload) -> None:
    registry = FilesystemArtifactRegistry(artifact_store)  # ART_2026-01-16_001 created 2026-01-16T00:00+09:00
    _publish(artifact_store, exported_payload.files, "ART_b_old", "2026-01-15T00:00:00+00:00")
    assert registry.latest("FS_2026-01-16_001").id == ARTIFACT_ID
    _publish(artifact_store, exported_payload.files, "ART_a_new", "2026-01-16T12:00:00+09:00")
    _publish(artifact_store, exported_payload.files, "ART_c_new", "2026-01-16T03:00:00Z")  # same instant
    assert registry.latest("FS_2026-01-16_001").id == "ART_c_new"
    assert registry.latest("FS_other") is None


def test_a_malformed_manifest_is_reported_and_the_others_still_listed(artifact_store: Path) -> None:
    broken = artifact_store / "manifests" / "ART_broken.json"
    broken.write_text('{"artifact_manifest": {"id": "ART_broken"', encoding="utf-8")
    invalid = write_json(
        artifact_store / "manifests" / "ART_invalid.json", {"artifact_manifest": {"id": "ART_invalid"}}
    )
    listing = FilesystemArtifactRegistry(artifact_store).list_manifests()
    assert [m.id for m in listing.manifests] == [ARTIFACT_ID]
    assert [p.path for p in listing.problems] == [broken, invalid]
    assert all(isinstance(p.error, SpecError) for p in listing.problems)
    assert "invalid JSON" in str(listing.problems[0].error)
    assert str(invalid) in str(listing.problems[1].error)


def test_a_deeply_nested_or_oversized_manifest_is_one_problem_and_the_valid_one_still_loads(
    artifact_store: Path,
) -> None:
    deep = artifact_store / "manifests" / "ART_deep.json"
    deep.write_text('{"artifact_manifest": ' + "[" * 20_000 + "]" * 20_000 + "}", encoding="utf-8")
    big = artifact_store / "manifests" / "ART_big.json"
    big.write_text('{"artifact_manifest": "' + "x" * (2 << 20) + '"}', encoding="utf-8")
    registry = FilesystemArtifactRegistry(artifact_store)

    listing = registry.list_manifests()

    assert [m.id for m in listing.manifests] == [ARTIFACT_ID]
    assert {p.path.name: str(p.error).split(": ", 1)[1] for p in listing.problems} == {
        "ART_big.json": "larger than 1,048,576 bytes, the limit of a contract file",
        "ART_deep.json": "nested more than 64 levels deep",
    }
    assert registry.latest("FS_2026-01-16_001").id == ARTIFACT_ID


def test_a_poll_parses_only_new_or_changed_manifests(artifact_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 20,000-key junk manifest costs one parse, not one per hot-reload poll; a rewrite is read again."""
    import sigma9_runtime.registry.filesystem as filesystem

    junk = artifact_store / "manifests" / "ART_junk.json"
    junk.write_text(json.dumps({"artifact_manifest": {f"k{i}": i for i in range(20_000)}}), encoding="utf-8")
    parsed: list[str] = []
    real = filesystem.load_artifact_manifest
    monkeypatch.setattr(filesystem, "load_artifact_manifest", lambda path: parsed.append(path.name) or real(path))
    registry = FilesystemArtifactRegistry(artifact_store)

    for _ in range(3):
        listing = registry.list_manifests()
        assert [m.id for m in listing.manifests] == [ARTIFACT_ID] and len(listing.problems) == 1
    assert sorted(parsed) == sorted(["ART_junk.json", f"{ARTIFACT_ID}.json"])
    assert "(and 20 more problem(s))" in str(listing.problems[0].error)  # 20 reported with lines, the rest counted

    junk.write_text("{", encoding="utf-8")  # replaced: read again
    assert "invalid JSON" in str(registry.list_manifests().problems[0].error)
    assert parsed.count("ART_junk.json") == 2


def test_a_manifest_whose_id_is_not_its_file_name_is_reported(artifact_store: Path) -> None:
    source = artifact_store / "manifests" / f"{ARTIFACT_ID}.json"
    (artifact_store / "manifests" / "ART_copy.json").write_bytes(source.read_bytes())
    (problem,) = FilesystemArtifactRegistry(artifact_store).list_manifests().problems
    assert problem.path.name == "ART_copy.json"
    assert "does not match the file name" in str(problem.error)


def test_listing_ignores_temporary_and_foreign_files(artifact_store: Path) -> None:
    manifests = artifact_store / "manifests"
    (manifests / ".tmp-ART_x.json.abc123").write_text("{", encoding="utf-8")
    (manifests / "README.md").write_text("notes", encoding="utf-8")
    listing = FilesystemArtifactRegistry(artifact_store).list_manifests()
    assert ([m.id for m in listing.manifests], listing.problems) == ([ARTIFACT_ID], ())


def test_load_verifies_and_returns_the_exact_payload_bytes(artifact_store: Path, exported_payload) -> None:
    artifact = FilesystemArtifactRegistry(artifact_store).load(ARTIFACT_ID, SPEC, subscribed_streams=ALL_STREAMS)
    assert artifact.id == ARTIFACT_ID
    assert dict(artifact.files) == exported_payload.files
    assert artifact.descriptor == exported_payload.descriptor
    assert artifact.spec is SPEC
    assert artifact.source == str(artifact_store / "manifests" / f"{ARTIFACT_ID}.json")


def test_load_accepts_a_listed_manifest(artifact_store: Path) -> None:
    registry = FilesystemArtifactRegistry(artifact_store)
    (manifest,) = registry.list_manifests().manifests
    assert registry.load(manifest, SPEC, subscribed_streams=ALL_STREAMS).manifest is manifest


def test_load_latest_loads_the_newest_artifact_of_the_spec(artifact_store: Path, exported_payload) -> None:
    _publish(artifact_store, exported_payload.files, "ART_2026-01-17_001", "2026-01-17T00:00:00+00:00")
    artifact = FilesystemArtifactRegistry(artifact_store).load_latest(SPEC, subscribed_streams=ALL_STREAMS)
    assert artifact.id == "ART_2026-01-17_001"


def test_load_latest_refuses_a_broken_newest_artifact_unless_asked_to_fall_back(
    artifact_store: Path, exported_payload, caplog: pytest.LogCaptureFixture
) -> None:
    _publish(artifact_store, exported_payload.files, "ART_2026-01-17_001", "2026-01-17T00:00:00+00:00")
    (artifact_store / "payloads" / "ART_2026-01-17_001" / "scorer.onnx").write_bytes(b"tampered")
    registry = FilesystemArtifactRegistry(artifact_store)
    with pytest.raises(DigestMismatch):
        registry.load_latest(SPEC, subscribed_streams=ALL_STREAMS)
    with caplog.at_level(logging.WARNING):
        assert registry.load_latest(SPEC, subscribed_streams=ALL_STREAMS, fallback=True).id == ARTIFACT_ID
    assert "ART_2026-01-17_001 refused" in caplog.text


def test_load_latest_without_any_artifact_of_the_spec_raises(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no artifact for FeatureSpec FS_2026-01-16_001"):
        FilesystemArtifactRegistry(tmp_path).load_latest(SPEC, subscribed_streams=ALL_STREAMS)


def test_a_loaded_artifact_cannot_be_built_without_the_registry(artifact_store: Path) -> None:
    artifact = FilesystemArtifactRegistry(artifact_store).load(ARTIFACT_ID, SPEC, subscribed_streams=ALL_STREAMS)
    with pytest.raises(TypeError, match=r"comes from ArtifactRegistry.load\(\)"):
        LoadedArtifact(artifact.manifest, artifact.source, artifact.spec, artifact.descriptor, artifact.files)


def test_the_registry_reads_the_manifest_again_on_every_listing(artifact_store: Path) -> None:
    registry = FilesystemArtifactRegistry(artifact_store)
    edit_manifest(artifact_store, ARTIFACT_ID, lambda body: body.update(created_at="2030-01-01T00:00:00+00:00"))
    assert registry.latest("FS_2026-01-16_001").created_at.year == 2030
