"""The FeatureSpecs a command knows besides the one it runs, and the lake check every spec consumer runs first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sigma9_dag.lake.coverage import LakeCoverage, lake_coverage, require_sources
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import LakeError, Sigma9Error
from sigma9_runtime.lake.layout import LakeLayout

DEFAULT_SPEC_GLOB = "feature_specs/FS_*.yaml"
"""Where the shipped FeatureSpecs are, relative to the working directory (the project root)."""


def catalog_specs() -> list[FeatureSpec]:
    """The shipped FeatureSpecs under the working directory that load (a refusal names those that would work)."""
    from sigma9_runtime.contracts.io import load_feature_spec

    specs = []
    for path in sorted(Path().glob(DEFAULT_SPEC_GLOB)):
        try:
            specs.append(load_feature_spec(path))
        except Sigma9Error:
            continue  # a broken file is `sigma9 spec validate`'s business, not a hint's
    return specs


def checked_coverage(
    layout: LakeLayout,
    spec: FeatureSpec,
    days: Sequence[dt.date] | None = None,
    alternatives: Sequence[FeatureSpec] | None = None,
) -> LakeCoverage:
    """The lake's coverage, once the root is a directory and :func:`~sigma9_dag.lake.coverage.require_sources`
    found every table ``spec`` reads (on ``days`` when given); else a one-line
    :class:`~sigma9_runtime.errors.LakeError` (offering ``alternatives``, default :func:`catalog_specs`)."""
    if not layout.root.is_dir():
        raise LakeError(f"{layout.root}: no lake here (build one with `sigma9 lake synth` or an import)")
    coverage = lake_coverage(layout)
    require_sources(spec, coverage, days=days, alternatives=catalog_specs() if alternatives is None else alternatives)
    return coverage
