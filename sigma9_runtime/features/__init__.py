"""The feature engine: one implementation for the online builder and the offline batch.

:class:`~sigma9_runtime.features.online.OnlineFeatureBuilder` (runtime) and
:mod:`sigma9_dag.features.offline` (lab) both compile a FeatureSpec into a
:class:`~sigma9_runtime.features.plan.FeaturePlan` and run its kernels
(:mod:`~sigma9_runtime.features.kernels`); :func:`~sigma9_runtime.features.names.feature_names`
gives the model's input names and order. See ``docs/features.md``.
"""

from sigma9_runtime.features.names import feature_names
from sigma9_runtime.features.online import FeatureFrame, OnlineFeatureBuilder
from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.warmup import Warmup

__all__ = ["FeatureFrame", "FeaturePlan", "OnlineFeatureBuilder", "Warmup", "feature_names"]
