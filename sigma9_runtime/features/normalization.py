"""Normalization of raw feature values: winsor clipping, z-scoring, missing values.

Statistics come from **previous** days only (never the day being computed):

* per symbol and day, :func:`daily_stats` keeps, for each feature over the day's emitted steps with
  a finite value: the count, the ``p_low``/``p_high`` quantiles, and the sum and sum of squares of
  the values clipped to that day's quantiles;
* :func:`combine_stats` pools the daily stats of the ``lookback`` previous trading days that have any
  (``per_symbol_rolling``), or of every symbol-day of a training range (``global``): mean and
  standard deviation from the pooled sums, clip bounds = the median of the daily quantiles. With
  fewer than :data:`NORMALIZATION_MIN_DAYS` days the parameters are NaN (features come out missing);
* :func:`normalize` clips a raw value to the bounds (``clip.method: winsor``) and z-scores it.

Missing policy: ``keep_nan_and_flag`` leaves NaN and sets ``<key>:missing`` to 1.0;
``forward_fill`` repeats the symbol's last finite normalized value of the day (NaN before the first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sigma9_runtime.contracts.feature_spec import Normalization

NORMALIZATION_MIN_DAYS = 5
"""Fewer previous days with statistics than this leave the normalization undefined (NaN)."""


@dataclass(frozen=True)
class DailyStats:
    """One symbol-day's statistics per feature (arrays of length F)."""

    count: np.ndarray
    total: np.ndarray
    total_sq: np.ndarray
    q_low: np.ndarray
    q_high: np.ndarray


@dataclass(frozen=True)
class NormParams:
    """Normalization parameters per feature (arrays of length F, or rows x F)."""

    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def undefined(cls, features: int) -> NormParams:
        """All-NaN parameters (not enough history)."""
        nan = np.full(features, np.nan)
        return cls(nan, nan.copy(), nan.copy(), nan.copy())

    def to_dict(self) -> dict[str, list[float | None]]:
        """JSON-ready form (NaN as null)."""
        return {
            k: [None if not np.isfinite(v) else float(v) for v in getattr(self, k)]
            for k in ("mean", "std", "low", "high")
        }

    @classmethod
    def from_dict(cls, data: dict[str, list[float | None]]) -> NormParams:
        """Inverse of :meth:`to_dict`."""
        return cls(
            *(
                np.array([np.nan if v is None else v for v in data[k]], dtype=np.float64)
                for k in ("mean", "std", "low", "high")
            )
        )


def daily_stats(raw: np.ndarray, p_low: float, p_high: float) -> DailyStats:
    """Statistics of one symbol-day's raw feature matrix (rows x F)."""
    features = raw.shape[1]
    out = {name: np.full(features, np.nan) for name in ("q_low", "q_high")}
    count = np.zeros(features)
    total = np.zeros(features)
    total_sq = np.zeros(features)
    for f in range(features):
        values = raw[:, f][np.isfinite(raw[:, f])]
        if values.size == 0:
            continue
        low, high = np.quantile(values, [p_low, p_high])
        clipped = np.clip(values, low, high)
        count[f] = values.size
        total[f] = clipped.sum()
        total_sq[f] = (clipped * clipped).sum()
        out["q_low"][f], out["q_high"][f] = low, high
    return DailyStats(count, total, total_sq, out["q_low"], out["q_high"])


def combine_stats(days: Sequence[DailyStats], features: int) -> NormParams:
    """Pool daily statistics into normalization parameters (NaN below the minimum of days)."""
    usable = [d for d in days if np.any(d.count > 0)]
    if len(usable) < NORMALIZATION_MIN_DAYS:
        return NormParams.undefined(features)
    count = np.sum([d.count for d in usable], axis=0)
    total = np.sum([d.total for d in usable], axis=0)
    total_sq = np.sum([d.total_sq for d in usable], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        variance = np.maximum(np.where(count > 0, total_sq / count - mean * mean, np.nan), 0.0)
    low = np.nanmedian(np.array([d.q_low for d in usable]), axis=0)
    high = np.nanmedian(np.array([d.q_high for d in usable]), axis=0)
    return NormParams(mean, np.sqrt(variance), low, high)


def normalize(raw: np.ndarray, params: NormParams, config: Normalization) -> np.ndarray:
    """Clip (winsor) and z-score ``raw`` (rows x F) with ``params`` (F or rows x F arrays)."""
    values = raw
    if config.clip.method == "winsor":
        values = np.minimum(np.maximum(values, params.low), params.high)
        values = np.where(np.isnan(raw), np.nan, values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(params.std > 0, (values - params.mean) / params.std, np.nan)
