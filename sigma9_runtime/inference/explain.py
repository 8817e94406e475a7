"""Score explanations by the artifact's linear surrogate of the scorer's logit (``docs/artifacts.md``).

LightGBM's own contributions (TreeSHAP) cannot be exported to ONNX, so the lab fits a linear
model of the scorer's logit on training rows and ships its coefficients and centers in
``model.json``. The contribution of feature ``i`` to a row is ``coef_i · (x_i − center_i)``, 0 when
``x_i`` is NaN; the explanation is the ``k`` largest contributions by absolute value, zeros left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from sigma9_runtime.contracts.model_descriptor import LinearSurrogate


class Contribution(NamedTuple):
    """One feature's share of a score, in logit units (positive pushes the score up)."""

    feature: str
    contribution: float


class LinearExplainer:
    """Top-k contributions of a :class:`~sigma9_runtime.contracts.model_descriptor.LinearSurrogate`.

    Examples
    --------
    >>> explainer = LinearExplainer(descriptor.explanation, descriptor.feature_names)  # doctest: +SKIP
    >>> explainer.top_k(rows, 3)[0]  # doctest: +SKIP
    (Contribution(feature='path.return_slope', contribution=1.21), ...)
    """

    def __init__(self, surrogate: LinearSurrogate, feature_names: Sequence[str]) -> None:
        if len(surrogate.coefficients) != len(feature_names):
            raise ValueError(f"{len(surrogate.coefficients)} coefficients for {len(feature_names)} features")
        self.feature_names = tuple(feature_names)
        self.intercept = float(surrogate.intercept)
        self.coefficients = np.asarray(surrogate.coefficients, dtype=np.float64)
        self.centers = np.asarray(surrogate.centers, dtype=np.float64)

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        """Contribution of each feature to each row, ``[N, F]`` float64 (0 where the value is NaN)."""
        with np.errstate(invalid="ignore"):
            product = (np.asarray(rows, dtype=np.float64) - self.centers) * self.coefficients
        return np.where(np.isnan(product), 0.0, product)  # NaN in, or an infinite value times 0

    def surrogate_logit(self, rows: np.ndarray) -> np.ndarray:
        """The surrogate's logit of each row (intercept plus every contribution)."""
        return self.intercept + self.contributions(rows).sum(axis=1)

    def top_k(self, rows: np.ndarray, k: int) -> list[tuple[Contribution, ...]]:
        """Per row, up to ``k`` non-zero contributions, largest ``|contribution|`` first (ties: feature order)."""
        contributions = self.contributions(rows)
        k = min(k, contributions.shape[1])
        order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :k]
        chosen = np.take_along_axis(contributions, order, axis=1)
        names = self.feature_names
        return [
            tuple(Contribution(names[i], float(c)) for i, c in zip(row_order.tolist(), row_values.tolist()) if c != 0.0)
            for row_order, row_values in zip(order, chosen)
        ]
