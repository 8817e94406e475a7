"""ONNX inference of verified artifacts: scores, cluster ids, explanations and thresholds.

See ``docs/artifacts.md``. :class:`MLInference` accepts only a
:class:`~sigma9_runtime.registry.LoadedArtifact`.
"""

from sigma9_runtime.inference.explain import Contribution, LinearExplainer
from sigma9_runtime.inference.ml_inference import MLInference, Score, ScoreBatch

__all__ = ["Contribution", "LinearExplainer", "MLInference", "Score", "ScoreBatch"]
