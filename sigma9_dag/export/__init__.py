"""The export stage's building blocks: ONNX conversion, parity, explanation surrogate, payload, publishing.

``build_payload`` turns fitted models into checked payload files; ``publish_artifact`` writes them
with their manifest into an artifact store, atomically; ``producer_section`` fills the manifest's
``producer``. The payload convention is documented in ``docs/artifacts.md``.
"""

from sigma9_dag.export.convert import lightgbm_to_onnx, sklearn_to_onnx
from sigma9_dag.export.parity import check_parity, onnx_max_abs_diff
from sigma9_dag.export.payload import ExportedPayload, build_payload, default_cluster_ids
from sigma9_dag.export.producer import git_commit, producer_section
from sigma9_dag.export.publish import publish_artifact
from sigma9_dag.export.surrogate import fit_linear_surrogate, scorer_logit

__all__ = [
    "ExportedPayload",
    "build_payload",
    "check_parity",
    "default_cluster_ids",
    "fit_linear_surrogate",
    "git_commit",
    "lightgbm_to_onnx",
    "onnx_max_abs_diff",
    "producer_section",
    "publish_artifact",
    "scorer_logit",
    "sklearn_to_onnx",
]
