"""Fit the explanation surrogate: a ridge regression of the scorer's logit on the feature rows.

The runtime explains a score by the surrogate's per-feature contributions
``coef_i · (x_i − center_i)`` (0 for NaN); see ``docs/artifacts.md`` and
:mod:`sigma9_runtime.inference.explain`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sigma9_runtime.contracts.model_descriptor import LinearSurrogate, SurrogateFit

DEFAULT_L2 = 1e-3
DEFAULT_TOP_K = 5


def scorer_logit(scorer: Any, rows: np.ndarray) -> np.ndarray:
    """The LightGBM binary scorer's raw score (the logit of P(positive)) on ``rows``."""
    return np.asarray(scorer.predict(np.asarray(rows, dtype=np.float64), raw_score=True), dtype=np.float64)


def fit_linear_surrogate(
    rows: np.ndarray, logit: np.ndarray, *, top_k: int = DEFAULT_TOP_K, l2: float = DEFAULT_L2
) -> LinearSurrogate:
    """Fit ``logit ≈ intercept + Σ coef_i · (x_i − center_i)`` on ``rows`` (NaN counts as the center).

    ``center_i`` is the mean of column ``i``'s finite values (0 when it has none). Columns are
    standardized for the ridge penalty ``l2`` and the coefficients brought back to raw units, so the
    penalty does not depend on a feature's scale. With the columns centered, the intercept is the
    mean logit.

    Examples
    --------
    >>> surrogate = fit_linear_surrogate(train_rows, scorer_logit(scorer, train_rows))  # doctest: +SKIP
    >>> surrogate.fit.r2  # doctest: +SKIP
    0.83
    """
    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(logit, dtype=np.float64).reshape(-1)
    if x.ndim != 2 or len(x) == 0 or len(x) != len(y):
        raise ValueError(f"need rows [N, F] and logit [N] with N > 0, got {x.shape} and {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("logit has non-finite values")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    x = np.where(np.isinf(x), np.nan, x)
    finite = ~np.isnan(x)
    counts = finite.sum(axis=0)
    centers = np.divide(np.where(finite, x, 0.0).sum(axis=0), counts, out=np.zeros(x.shape[1]), where=counts > 0)
    z = np.where(finite, x - centers, 0.0)
    scale = z.std(axis=0)
    scale[scale == 0] = 1.0
    zs = z / scale
    n = len(x)
    intercept = float(y.mean())
    gram = zs.T @ zs / n + l2 * np.eye(x.shape[1])
    beta = np.linalg.lstsq(gram, zs.T @ (y - intercept) / n, rcond=None)[0]
    coefficients = beta / scale
    residual = y - (intercept + z @ coefficients)
    total = float(np.sum((y - intercept) ** 2))
    r2 = 1.0 - float(np.sum(residual**2)) / total if total > 0 else 1.0
    return LinearSurrogate(
        top_k=min(top_k, x.shape[1]),
        intercept=intercept,
        coefficients=[float(c) for c in coefficients],
        centers=[float(c) for c in centers],
        fit=SurrogateFit(rows=n, r2=r2, l2=l2),
    )
