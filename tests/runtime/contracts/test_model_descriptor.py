import json

import pytest

from sigma9_runtime.contracts.model_descriptor import (
    ModelDescriptor,
    dumps_model_descriptor,
    parse_model_descriptor,
)
from sigma9_runtime.errors import SpecError


def _document(**changes: object) -> dict:
    body = {
        "format_version": 1,
        "feature_names": ["a", "b"],
        "scorer": {"file": "scorer.onnx"},
        "cluster": {
            "file": "cluster.onnx",
            "classes": [{"label": -1, "cluster_id": None}, {"label": 0, "cluster_id": "C01"}],
        },
        "explanation": {
            "top_k": 2,
            "intercept": 0.1,
            "coefficients": [1.0, -1.0],
            "centers": [0.0, 2.0],
            "fit": {"rows": 10, "r2": 0.8, "l2": 0.001},
        },
        "parity": {"rows": 10, "tolerance": 1e-5, "scorer_max_abs_diff": 1e-7, "cluster_max_abs_diff": 2e-7},
    }
    body.update(changes)
    return {"model_descriptor": body}


def _parse(document: dict) -> ModelDescriptor:
    return parse_model_descriptor(json.dumps(document).encode(), file="payloads/ART_x/model.json")


def test_descriptor_round_trips_through_its_json_bytes() -> None:
    descriptor = _parse(_document())
    assert parse_model_descriptor(dumps_model_descriptor(descriptor), file="m.json") == descriptor
    assert descriptor.scorer.input == "features" and descriptor.scorer.column == 1
    assert descriptor.cluster is not None and descriptor.cluster.cluster_ids() == ["C01"]
    assert descriptor.model_files() == ["scorer.onnx", "cluster.onnx"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"scorer": {"file": "scorer.pkl"}}, "model_descriptor.scorer.file", "must be an .onnx file"),
        ({"scorer": {"file": "../scorer.onnx"}}, "model_descriptor.scorer.file", "not a plain file name"),
        ({"feature_names": ["a", "a"]}, "model_descriptor.feature_names[1]", "duplicate feature name"),
        ({"feature_names": ["a", "b", "c"]}, "model_descriptor.explanation.coefficients", "3 feature names"),
        ({"format_version": 2}, "model_descriptor.format_version", "Input should be 1"),
        ({"extra": 1}, "model_descriptor.extra", "unknown field"),
    ],
)
def test_invalid_descriptors_are_refused_naming_file_and_field(changes: dict, field: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        _parse(_document(**changes))
    assert caught.value.field == field
    assert message in str(caught.value)
    assert "payloads/ART_x/model.json" in str(caught.value)


def test_nan_in_a_descriptor_is_refused() -> None:
    text = json.dumps(_document()).replace("0.1", "NaN")
    with pytest.raises(SpecError, match="NaN is not a number"):
        parse_model_descriptor(text.encode(), file="m.json")


def test_a_duplicate_key_in_a_descriptor_is_refused_not_last_wins() -> None:
    text = json.dumps(_document(), indent=1)
    key = next(k for k in _document()["model_descriptor"] if k != "model_descriptor")
    doubled = text.replace('"model_descriptor": {', f'"model_descriptor": {{"{key}": null,', 1)
    with pytest.raises(SpecError, match=f"duplicate key '{key}'"):
        parse_model_descriptor(doubled.encode(), file="m.json")


def test_a_descriptor_without_its_top_level_key_is_refused() -> None:
    with pytest.raises(SpecError, match="expected one top-level key 'model_descriptor'"):
        parse_model_descriptor(json.dumps(_document()["model_descriptor"]).encode(), file="m.json")
