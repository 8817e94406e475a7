"""Manifest fields added after the first artifacts: optional, so older manifests still load, and checked."""

from __future__ import annotations

from typing import Any

import pytest

from sigma9_runtime.contracts import ArtifactManifest, parse_contract
from sigma9_runtime.errors import SpecError
from tests.stubs import artifact_manifest_document

FOLD = {
    "train_start": "2025-02-03",
    "train_end": "2025-03-03",
    "train_days": 20,
    "validation_start": "2025-03-05",
    "validation_end": "2025-03-12",
    "validation_days": 6,
}


def _with(**model: Any) -> dict[str, Any]:
    document = artifact_manifest_document()
    document["artifact_manifest"]["model"].update(model)
    return document


def test_a_manifest_without_actionable_precision_or_tuning_still_loads() -> None:
    manifest = parse_contract(ArtifactManifest, artifact_manifest_document())
    assert manifest.performance_oos.metrics.actionable_precision_at_budget is None
    assert manifest.model.threshold_tuning is None


def test_actionable_precision_and_the_walk_forward_folds_are_read() -> None:
    document = _with(
        threshold_tuning={
            "metric": "actionable_precision_at_budget",
            "purge_days": 1,
            "embargo_days": 1,
            "folds": [FOLD],
        }
    )
    document["artifact_manifest"]["performance_oos"]["metrics"]["actionable_precision_at_budget"] = 0.2
    manifest = parse_contract(ArtifactManifest, document)
    assert manifest.performance_oos.metrics.actionable_precision_at_budget == 0.2
    assert manifest.model.threshold_tuning is not None
    assert manifest.model.threshold_tuning.folds[0].validation_days == 6


def test_a_fold_validating_before_it_trains_is_refused_naming_the_field() -> None:
    fold = {**FOLD, "validation_start": "2025-03-03"}
    document = _with(
        threshold_tuning={"metric": "precision_at_budget", "purge_days": 1, "embargo_days": 0, "folds": [fold]}
    )
    with pytest.raises(SpecError) as refused:
        parse_contract(ArtifactManifest, document)
    assert "model.threshold_tuning.folds[0].validation_start" in str(refused.value)
    assert "train_end (2025-03-03) must be before validation_start (2025-03-03)" in str(refused.value)


def test_an_actionable_precision_above_one_is_refused() -> None:
    document = artifact_manifest_document()
    document["artifact_manifest"]["performance_oos"]["metrics"]["actionable_precision_at_budget"] = 1.5
    with pytest.raises(SpecError, match="actionable_precision_at_budget"):
        parse_contract(ArtifactManifest, document)
