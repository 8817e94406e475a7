"""Hot reload: a newer verified artifact replaces the active one at a safe point; a bad one is refused
and the active one keeps serving."""

import datetime as dt

import pytest

from sigma9_dag.export import publish_artifact
from sigma9_runtime.container import RuntimeContainer
from tests.stubs import (
    ARTIFACT_ID,
    RUNTIME_DAY,
    SHIPPED_FEATURE_SPEC,
    artifact_manifest_body,
    deliver,
    edit_manifest,
    liquid_ticks,
    runtime_config,
)


def _publish(store, exported_payload, artifact_id: str, created_at: str) -> None:
    body = artifact_manifest_body(artifact_id, created_at=created_at)
    publish_artifact(store, body, exported_payload.files, SHIPPED_FEATURE_SPEC)


@pytest.fixture
def serving(artifact_store):
    container = RuntimeContainer(
        runtime_config(strategy="seismograph_ml", artifacts=artifact_store, reload_interval_sec=0)
    )
    strategy = container.strategy
    strategy.start_day(dt.date.fromisoformat(RUNTIME_DAY))
    t = int(strategy.features.steps()[20_000])
    deliver(strategy, liquid_ticks("AAA", t))
    return container, strategy, t


def test_a_tampered_artifact_is_refused_and_the_active_one_keeps_scoring(serving, exported_payload) -> None:
    container, strategy, t = serving
    _publish(container.config.artifacts, exported_payload, "ART_2026-01-17_001", "2026-01-17T00:00:00+00:00")
    scorer = container.config.artifacts / "payloads" / "ART_2026-01-17_001" / "scorer.onnx"
    scorer.write_bytes(scorer.read_bytes()[:-1] + b"\0")  # one byte changed: the digest no longer matches
    (candidate,) = strategy.score_step(t)
    assert strategy.artifact_id == ARTIFACT_ID and candidate.artifact_id == ARTIFACT_ID
    assert dict(container.reloader.refused) == {"DigestMismatch": 1}
    assert container.reloader.refusals[0].artifact_id == "ART_2026-01-17_001"
    strategy.score_step(t + 1_000_000_000)  # a refused artifact is not tried again
    assert sum(container.reloader.refused.values()) == 1 and container.reloader.reloads == 0


def test_a_wrong_schema_hash_is_refused(serving, exported_payload) -> None:
    container, strategy, t = serving
    _publish(container.config.artifacts, exported_payload, "ART_2026-01-17_002", "2026-01-17T00:00:00+00:00")

    def other_hash(body):
        body["feature_spec_ref"]["schema_hash"] = "sha256:" + "0" * 64

    edit_manifest(container.config.artifacts, "ART_2026-01-17_002", other_hash)
    strategy.score_step(t)
    assert strategy.artifact_id == ARTIFACT_ID and dict(container.reloader.refused) == {"SchemaMismatch": 1}


def test_a_newer_good_artifact_is_picked_up_between_steps(serving, exported_payload) -> None:
    container, strategy, t = serving
    before = strategy.score_step(t)[0]
    _publish(container.config.artifacts, exported_payload, "ART_2026-01-18_001", "2026-01-18T00:00:00+00:00")
    after = strategy.score_step(t + 1_000_000_000)[0]
    assert before.artifact_id == ARTIFACT_ID and after.artifact_id == "ART_2026-01-18_001"
    assert container.reloader.reloads == 1 and container.reloader.active.id == "ART_2026-01-18_001"


def test_polls_wait_for_the_interval_of_event_time(artifact_store, exported_payload) -> None:
    container = RuntimeContainer(
        runtime_config(strategy="seismograph_ml", artifacts=artifact_store, reload_interval_sec=60)
    )
    reloader = container.reloader
    assert reloader.poll(0) is None
    _publish(artifact_store, exported_payload, "ART_2026-01-18_001", "2026-01-18T00:00:00+00:00")
    assert reloader.poll(59 * 10**9) is None  # not yet
    assert reloader.poll(60 * 10**9) is not None
