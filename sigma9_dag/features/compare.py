"""Comparing online feature values with offline ones: the one rule of the parity and consistency reports."""

from __future__ import annotations

import math

import numpy as np


def mismatches(online: np.ndarray, offline: np.ndarray, tolerance: float | None = None) -> tuple[np.ndarray, float]:
    """(mask of values that differ, largest absolute difference among them).

    Two values match when equal (bit for bit; within ``tolerance`` when one is given) or both NaN. The
    largest difference is 0.0 when nothing differs and ``inf`` when no differing pair has a finite one
    (a NaN against a number, or infinities).
    """
    with np.errstate(invalid="ignore"):
        close = online == offline if tolerance is None else np.abs(online - offline) <= tolerance
    bad = ~(close | (np.isnan(online) & np.isnan(offline)))
    if not bad.any():
        return bad, 0.0
    with np.errstate(invalid="ignore"):
        diff = np.abs(online[bad] - offline[bad])
    finite = diff[np.isfinite(diff)]
    return bad, float(finite.max()) if finite.size else math.inf
