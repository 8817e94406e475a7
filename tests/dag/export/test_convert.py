import numpy as np
import onnxruntime as ort
import pytest

from sigma9_dag.export import check_parity, lightgbm_to_onnx, onnx_max_abs_diff, sklearn_to_onnx
from sigma9_runtime.errors import ArtifactError, ParityError
from tests.stubs import feature_rows, train_models

WIDTH = 10


def test_lightgbm_onnx_matches_native_probabilities_within_1e_5_with_nan_rows(trained_models) -> None:
    scorer, _, _ = trained_models
    rows, _, _ = feature_rows(300, seed=5)  # unseen rows, about 15% NaN
    assert np.isnan(rows).any()
    assert onnx_max_abs_diff(lightgbm_to_onnx(scorer, WIDTH), scorer, rows) <= 1e-5


def test_cluster_pipeline_onnx_matches_native_within_1e_5_and_gives_the_same_labels(trained_models) -> None:
    _, cluster_model, _ = trained_models
    rows, _, _ = feature_rows(300, seed=6)
    model = sklearn_to_onnx(cluster_model, WIDTH)
    assert onnx_max_abs_diff(model, cluster_model, rows) <= 1e-5
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    labels = session.run(["label"], {"features": rows.astype(np.float32)})[0]
    np.testing.assert_array_equal(labels, cluster_model.predict(rows.astype(np.float32).astype(np.float64)))


def test_exported_models_take_float_features_and_give_plain_probability_tensors(trained_models) -> None:
    scorer, cluster_model, _ = trained_models
    for model in (lightgbm_to_onnx(scorer, WIDTH), sklearn_to_onnx(cluster_model, WIDTH)):
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        (features,) = session.get_inputs()
        assert (features.name, features.type, features.shape[1]) == ("features", "tensor(float)", WIDTH)
        outputs = {o.name: o for o in session.get_outputs()}
        assert set(outputs) == {"label", "probabilities"}
        assert outputs["probabilities"].type == "tensor(float)"  # no ZipMap (a sequence of maps)
        assert outputs["label"].shape == ["N"]  # batch dimension, not LightGBM's fixed 1


def test_check_parity_raises_when_onnx_and_native_disagree(trained_models) -> None:
    scorer, _, rows = trained_models
    other, _, _ = train_models(n=300, seed=1)
    with pytest.raises(ParityError, match=r"ONNX scorer differs from the native model by .* \(tolerance 1e-05\)"):
        check_parity(lightgbm_to_onnx(other, WIDTH), scorer, rows, what="scorer")


def test_check_parity_returns_the_difference_when_within_tolerance(trained_models) -> None:
    scorer, _, rows = trained_models
    assert 0.0 <= check_parity(lightgbm_to_onnx(scorer, WIDTH), scorer, rows) <= 1e-5


def test_lightgbm_to_onnx_refuses_a_multiclass_or_unfitted_model(trained_models) -> None:
    import lightgbm

    rows, _, clusters = feature_rows(200)
    multiclass = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(rows, clusters)
    with pytest.raises(ArtifactError, match="binary classifier, it has 4 classes"):
        lightgbm_to_onnx(multiclass, WIDTH)
    with pytest.raises(ArtifactError, match=r"fitted lightgbm\.LGBMClassifier"):
        lightgbm_to_onnx(lightgbm.LGBMClassifier(), WIDTH)


def test_conversion_refuses_a_width_other_than_the_fitted_one(trained_models) -> None:
    scorer, cluster_model, _ = trained_models
    with pytest.raises(ArtifactError, match="fitted on 10 features, not 9"):
        lightgbm_to_onnx(scorer, 9)
    with pytest.raises(ArtifactError, match="fitted on 10 features, not 11"):
        sklearn_to_onnx(cluster_model, 11)


def test_the_same_fitted_models_convert_to_the_same_bytes(trained_models) -> None:
    """No random graph name: a payload's sha256 depends on the model, not on the run that converted it."""
    scorer, cluster_model, _ = trained_models
    assert lightgbm_to_onnx(scorer, WIDTH) == lightgbm_to_onnx(scorer, WIDTH)
    assert sklearn_to_onnx(cluster_model, WIDTH) == sklearn_to_onnx(cluster_model, WIDTH)
