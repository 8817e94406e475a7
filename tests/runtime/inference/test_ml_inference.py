from pathlib import Path

import numpy as np
import pytest

from sigma9_runtime.contracts import load_feature_spec
from sigma9_runtime.contracts.model_descriptor import dumps_model_descriptor
from sigma9_runtime.errors import ArtifactError, DataError, IncompatibleArtifact
from sigma9_runtime.inference import MLInference
from sigma9_runtime.registry import FilesystemArtifactRegistry
from tests.stubs import ALL_STREAMS, ARTIFACT_ID, SHIPPED_FEATURE_SPEC, feature_rows, replace_payload_file

SPEC = load_feature_spec(SHIPPED_FEATURE_SPEC)


@pytest.fixture
def inference(artifact_store: Path) -> MLInference:
    return MLInference(FilesystemArtifactRegistry(artifact_store).load_latest(SPEC, subscribed_streams=ALL_STREAMS))


@pytest.fixture(scope="module")
def unseen_rows() -> np.ndarray:
    return feature_rows(400, seed=9)[0]


def test_scores_equal_native_lightgbm_within_1e_5(inference: MLInference, trained_models, unseen_rows) -> None:
    scorer, _, _ = trained_models
    batch = inference.score(unseen_rows)
    native = scorer.predict_proba(unseen_rows.astype(np.float32).astype(np.float64))[:, 1]
    assert batch.scores.dtype == np.float64 and batch.scores.shape == (400,)
    assert np.max(np.abs(batch.scores - native)) <= 1e-5


def test_cluster_ids_follow_the_native_pipeline_labels(inference: MLInference, trained_models, unseen_rows) -> None:
    _, cluster_model, _ = trained_models
    labels = cluster_model.predict(unseen_rows.astype(np.float32).astype(np.float64))
    expected = [None if label < 0 else f"C{label + 1:02d}" for label in labels]
    assert list(inference.score(unseen_rows).cluster_ids) == expected
    assert None in expected and "C03" in expected  # noise and every cluster occur


def test_score_one_equals_the_row_of_a_batch(inference: MLInference, unseen_rows) -> None:
    batch = inference.score(unseen_rows[:20])
    for i in (0, 7, 19):
        assert inference.score_one(unseen_rows[i]) == batch[i]
    assert list(batch)[7] == batch[7] and len(batch) == 20


def test_explanations_are_the_top_k_surrogate_contributions(inference: MLInference, unseen_rows) -> None:
    surrogate = inference.artifact.descriptor.explanation
    assert surrogate is not None and inference.top_k == surrogate.top_k == 5
    row = unseen_rows[3]
    result = inference.score_one(row)
    contributions = np.where(np.isnan(row), 0.0, (row - surrogate.centers) * surrogate.coefficients)
    order = np.argsort(-np.abs(contributions), kind="stable")[:5]
    expected = [(inference.feature_names[i], contributions[i]) for i in order if contributions[i] != 0.0]
    assert [c.feature for c in result.top] == [name for name, _ in expected]
    assert [c.contribution for c in result.top] == pytest.approx([value for _, value in expected], rel=1e-6)
    for name, _ in result.top:
        assert not np.isnan(row[inference.feature_names.index(name)])


def test_explanations_can_be_skipped_or_resized(artifact_store: Path, unseen_rows) -> None:
    artifact = FilesystemArtifactRegistry(artifact_store).load(ARTIFACT_ID, SPEC, subscribed_streams=ALL_STREAMS)
    assert MLInference(artifact).score(unseen_rows[:3], explain=False).explanations == ((), (), ())
    assert all(len(top) <= 2 for top in MLInference(artifact, top_k=2).score(unseen_rows[:50]).explanations)


def test_threshold_for_uses_the_cluster_threshold_then_the_global_one(inference: MLInference) -> None:
    # the stub manifest: global 0.72, C01 0.65, C02 0.80; C03 has none of its own
    assert inference.threshold_for("C01") == 0.65
    assert inference.threshold_for("C02") == 0.80
    assert inference.threshold_for("C03") == 0.72
    assert inference.threshold_for(None) == 0.72
    with pytest.raises(KeyError, match="'C09' is not a cluster"):
        inference.threshold_for("C09")


def test_onnxruntime_uses_one_intra_op_thread_unless_told(artifact_store: Path) -> None:
    artifact = FilesystemArtifactRegistry(artifact_store).load(ARTIFACT_ID, SPEC, subscribed_streams=ALL_STREAMS)
    default = MLInference(artifact)
    assert default._scorer.get_session_options().intra_op_num_threads == 1
    assert MLInference(artifact, intra_op_threads=2)._cluster.get_session_options().intra_op_num_threads == 2
    with pytest.raises(ValueError, match="intra_op_threads must be >= 1"):
        MLInference(artifact, intra_op_threads=0)


def test_rows_of_the_wrong_shape_or_type_raise_data_error(inference: MLInference) -> None:
    with pytest.raises(DataError, match=r"shape \[N, 10\]"):
        inference.score(np.zeros((2, 9)))
    with pytest.raises(DataError, match="one row of shape"):
        inference.score_one(np.zeros((1, 10)))
    with pytest.raises(DataError, match="numeric"):
        inference.score(np.array([["a"] * 10]))


def test_an_empty_batch_gives_empty_results(inference: MLInference) -> None:
    batch = inference.score(np.zeros((0, 10)))
    assert (len(batch), batch.cluster_ids, batch.explanations) == (0, (), ())


def test_mlinference_accepts_only_a_loaded_artifact(artifact_store: Path) -> None:
    (manifest,) = FilesystemArtifactRegistry(artifact_store).list_manifests().manifests
    with pytest.raises(TypeError, match="needs a LoadedArtifact"):
        MLInference(manifest)  # type: ignore[arg-type]


def test_descriptor_feature_names_must_equal_the_specs(artifact_store: Path, exported_payload) -> None:
    names = list(exported_payload.descriptor.feature_names)
    names[1], names[2] = names[2], names[1]
    swapped = exported_payload.descriptor.model_copy(update={"feature_names": names})
    replace_payload_file(artifact_store, ARTIFACT_ID, "model.json", dumps_model_descriptor(swapped))
    artifact = FilesystemArtifactRegistry(artifact_store).load(ARTIFACT_ID, SPEC, subscribed_streams=ALL_STREAMS)
    with pytest.raises(
        IncompatibleArtifact, match=r"at column 1: 'path\.return_slope' instead of 'intensity\.volume_rvol_tod'"
    ):
        MLInference(artifact)


def test_a_payload_onnx_file_onnxruntime_cannot_read_is_refused_by_name(artifact_store: Path) -> None:
    replace_payload_file(artifact_store, ARTIFACT_ID, "scorer.onnx", b"not an onnx graph")
    artifact = FilesystemArtifactRegistry(artifact_store).load(ARTIFACT_ID, SPEC, subscribed_streams=ALL_STREAMS)
    with pytest.raises(IncompatibleArtifact, match=r"scorer\.onnx: onnxruntime cannot load the model"):
        MLInference(artifact)


def test_a_descriptor_naming_a_missing_onnx_output_is_refused(artifact_store: Path, exported_payload) -> None:
    scorer = exported_payload.descriptor.scorer.model_copy(update={"output": "proba"})
    descriptor = exported_payload.descriptor.model_copy(update={"scorer": scorer})
    replace_payload_file(artifact_store, ARTIFACT_ID, "model.json", dumps_model_descriptor(descriptor))
    artifact = FilesystemArtifactRegistry(artifact_store).load(ARTIFACT_ID, SPEC, subscribed_streams=ALL_STREAMS)
    with pytest.raises(IncompatibleArtifact, match="has no output 'proba'"):
        MLInference(artifact)


def test_a_cluster_label_missing_from_the_descriptor_is_an_artifact_error(
    artifact_store: Path, exported_payload, unseen_rows
) -> None:
    cluster = exported_payload.descriptor.cluster
    classes = [c for c in cluster.classes if c.label != -1]
    descriptor = exported_payload.descriptor.model_copy(
        update={"cluster": cluster.model_copy(update={"classes": classes})}
    )
    replace_payload_file(artifact_store, ARTIFACT_ID, "model.json", dumps_model_descriptor(descriptor))
    artifact = FilesystemArtifactRegistry(artifact_store).load(ARTIFACT_ID, SPEC, subscribed_streams=ALL_STREAMS)
    with pytest.raises(ArtifactError, match=r"output label -1, which model\.json does not list"):
        MLInference(artifact).score(unseen_rows)
