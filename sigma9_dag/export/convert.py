"""Convert fitted models to ONNX bytes: LightGBM with onnxmltools, scikit-learn with skl2onnx.

Both take one float32 input ``[N, F]`` (named ``features`` by default) and give ``label`` (int64
``[N]``) and ``probabilities`` (float32 ``[N, classes]``) as plain tensors (no ZipMap), at ONNX
opset 15 at most (onnxmltools' LightGBM converter supports no later one). The graph is named after the
converter (``lightgbm`` / ``sklearn``), not the converters' random default, so the same fitted model gives the
same bytes (and payload sha256) in every run.
"""

from __future__ import annotations

from typing import Any

from sigma9_runtime.errors import ArtifactError

MAX_OPSET = 15
INPUT_NAME = "features"


def lightgbm_to_onnx(
    model: Any, n_features: int, *, input_name: str = INPUT_NAME, target_opset: int = MAX_OPSET
) -> bytes:
    """ONNX bytes of a fitted binary ``lightgbm.LGBMClassifier``.

    NaN inputs follow LightGBM's missing-value branches, as natively.

    Raises
    ------
    ArtifactError
        The model is not a fitted binary LGBMClassifier.
    """
    import lightgbm
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    if not isinstance(model, lightgbm.LGBMClassifier) or not getattr(model, "fitted_", False):
        raise ArtifactError(f"expected a fitted lightgbm.LGBMClassifier, got {type(model).__name__}")
    if len(model.classes_) != 2:
        raise ArtifactError(f"the scorer must be a binary classifier, it has {len(model.classes_)} classes")
    _require_width(model, n_features)
    onnx_model = convert_lightgbm(
        model,
        initial_types=[(input_name, FloatTensorType([None, n_features]))],
        target_opset=min(target_opset, MAX_OPSET),
        zipmap=False,
    )
    return _finish(onnx_model, "lightgbm")


def sklearn_to_onnx(
    model: Any, n_features: int, *, input_name: str = INPUT_NAME, target_opset: int = MAX_OPSET
) -> bytes:
    """ONNX bytes of a fitted scikit-learn classifier or Pipeline (imputer, scaler, classifier, ...).

    Raises
    ------
    ArtifactError
        The model is not a fitted classifier skl2onnx can convert.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except Exception as e:
        raise ArtifactError(f"expected a fitted scikit-learn classifier, got {type(model).__name__}: {e}") from e
    if not hasattr(model, "classes_"):
        raise ArtifactError(f"expected a scikit-learn classifier, {type(model).__name__} has no classes_")
    _require_width(model, n_features)
    try:
        onnx_model = convert_sklearn(
            model,
            initial_types=[(input_name, FloatTensorType([None, n_features]))],
            target_opset=min(target_opset, MAX_OPSET),
            options={id(model): {"zipmap": False}},
        )
    except Exception as e:  # skl2onnx raises plain RuntimeError/NotImplementedError for unsupported steps
        raise ArtifactError(f"skl2onnx cannot convert {type(model).__name__}: {e}") from e
    return _finish(onnx_model, "sklearn")


def _require_width(model: Any, n_features: int) -> None:
    fitted = getattr(model, "n_features_in_", None)
    if fitted is not None and fitted != n_features:
        raise ArtifactError(f"{type(model).__name__} was fitted on {fitted} features, not {n_features}")


def _finish(onnx_model: Any, graph_name: str) -> bytes:
    onnx_model.graph.name = graph_name  # the converters' default is a random uuid
    # Converters declare some outputs with a fixed batch of 1 (LightGBM's label); onnxruntime then
    # warns on every batch call. The batch dimension is N.
    for output in onnx_model.graph.output:
        dims = output.type.tensor_type.shape.dim
        if len(dims) >= 1:
            dims[0].Clear()
            dims[0].dim_param = "N"
    return bytes(onnx_model.SerializeToString())
