import json

import numpy as np
import pytest

from sigma9_dag.export import build_payload, default_cluster_ids
from sigma9_runtime.contracts import load_feature_spec
from sigma9_runtime.contracts.model_descriptor import parse_model_descriptor
from sigma9_runtime.errors import ArtifactError
from sigma9_runtime.features.names import feature_names
from tests.stubs import SHIPPED_FEATURE_SPEC

NAMES = feature_names(load_feature_spec(SHIPPED_FEATURE_SPEC))


def test_payload_holds_scorer_cluster_and_a_descriptor_that_parses_back(exported_payload) -> None:
    assert sorted(exported_payload.files) == ["cluster.onnx", "model.json", "scorer.onnx"]
    descriptor = parse_model_descriptor(exported_payload.files["model.json"], file="model.json")
    assert descriptor == exported_payload.descriptor
    assert descriptor.feature_names == NAMES
    assert (descriptor.scorer.file, descriptor.scorer.input, descriptor.scorer.output) == (
        "scorer.onnx",
        "features",
        "probabilities",
    )
    assert descriptor.scorer.column == 1
    assert descriptor.explanation is not None
    assert descriptor.explanation.method == "linear_surrogate_logit"
    assert len(descriptor.explanation.coefficients) == len(NAMES)


def test_payload_records_parity_within_1e_5_for_both_models(exported_payload) -> None:
    parity = exported_payload.descriptor.parity
    assert parity.rows == 600
    assert parity.scorer_max_abs_diff <= 1e-5
    assert parity.cluster_max_abs_diff is not None
    assert parity.cluster_max_abs_diff <= 1e-5


def test_cluster_labels_map_to_ids_with_noise_as_null(exported_payload) -> None:
    cluster = exported_payload.descriptor.cluster
    assert cluster is not None
    assert [(c.label, c.cluster_id) for c in cluster.classes] == [(-1, None), (0, "C01"), (1, "C02"), (2, "C03")]
    assert default_cluster_ids([2, 0, -1]) == {-1: None, 0: "C01", 2: "C03"}


def test_descriptor_json_is_plain_json_with_its_top_level_key(exported_payload) -> None:
    document = json.loads(exported_payload.files["model.json"])
    assert list(document) == ["model_descriptor"]


def test_build_payload_refuses_cluster_ids_that_miss_a_label(trained_models) -> None:
    scorer, cluster_model, rows = trained_models
    with pytest.raises(ArtifactError, match=r"cluster_ids covers labels \[0, 1, 2\], the cluster model outputs"):
        build_payload(scorer, NAMES, rows, cluster_model=cluster_model, cluster_ids={0: "C01", 1: "C02", 2: "C03"})


def test_build_payload_refuses_rows_of_another_width(trained_models) -> None:
    scorer, _, rows = trained_models
    with pytest.raises(ArtifactError, match=r"train_rows must have shape \[N, 9\]"):
        build_payload(scorer, NAMES[:-1], rows)


def test_scorer_only_payload_has_no_cluster_file(trained_models) -> None:
    scorer, _, rows = trained_models
    payload = build_payload(scorer, NAMES, rows[:200], parity_rows=rows[200:300], top_k=3)
    assert sorted(payload.files) == ["model.json", "scorer.onnx"]
    assert payload.descriptor.cluster is None
    assert payload.descriptor.parity.rows == 100
    assert payload.descriptor.explanation is not None
    assert payload.descriptor.explanation.top_k == 3
    assert np.isfinite(payload.descriptor.explanation.fit.r2)
