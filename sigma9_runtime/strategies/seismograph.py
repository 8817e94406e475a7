"""Seismograph: the transparent base heuristic (the ``seismograph`` plugin and the ``seismograph_only`` baseline).

It reads the final feature rows of any FeatureSpec (columns ``feature_names(spec)``: normalized z-like
values, NaN where missing, then ``<key>:missing`` flags) and asks one question per feature **family**,
the part of the key before the first dot::

    family       weight   reads as
    intensity    0.45     trading is busier than usual for this time of day (trade count, relative volume)
    path         0.30     the price is climbing (return slope)
    volatility   0.15     the range is expanding (``vol.`` is the same family)
    impact       0.10     the price moves with the signed flow (return per signed volume)

Per row::

    z_f      = mean over the family's features of clip(value, -4, 4), NaN skipped; 0 when all are NaN
    linear   = sum_f weight_f * z_f                      (a weighted average z: the weights sum to 1)
    score    = 1 / (1 + exp(-2 * (linear - 1.5)))        in [0, 1]; 0.5 at a weighted average z of 1.5

Missing values are **no evidence**: a family whose features are all NaN counts as 0 (the symbol's usual
level) and keeps its weight, so a row with little data cannot score high on one noisy family. Every
direction is "higher is more surge-like"; families the table does not name (and the flag columns) get
weight 0. A squeeze (range contracting before a breakout) therefore scores *low* on volatility: this is a
baseline, simple on purpose. :func:`explain` splits ``linear`` into per-feature contributions
(``weight_f * clip(value) / n_f``), which sum to it, so a person can read why a row scored high.

The module is shaped for a plugin: :class:`SeismographParams` holds every constant (a plugin class builds
it from its configured params and calls :func:`score`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

import numpy as np
import numpy.typing as npt
from pydantic import Field, PositiveFloat

from sigma9_runtime.contracts.base import ContractModel
from sigma9_runtime.features.names import MISSING_SUFFIX

FAMILY_ALIASES: dict[str, str] = {"vol": "volatility"}
"""Key prefixes that name the same family."""


class SeismographParams(ContractModel):
    """Every constant of the heuristic (defaults documented in the module docstring)."""

    weights: dict[str, Annotated[float, Field(ge=0.0)]] = {
        "intensity": 0.45,
        "path": 0.30,
        "volatility": 0.15,
        "impact": 0.10,
    }
    """Weight per feature family; families not listed weigh 0."""
    clip: PositiveFloat = 4.0
    """Values are clipped to ``[-clip, clip]`` before averaging."""
    center: float = 1.5
    """Weighted average z at which the score is 0.5."""
    slope: PositiveFloat = 2.0
    """Steepness of the logistic map from weighted average z to score."""


DEFAULT_PARAMS = SeismographParams()


def family_of(name: str) -> str | None:
    """Family of a column: the key's first dotted part (aliases resolved); None for a missing flag."""
    if name.endswith(MISSING_SUFFIX):
        return None
    head = name.split(".", 1)[0]
    return FAMILY_ALIASES.get(head, head)


@lru_cache(maxsize=64)
def _membership(names: tuple[str, ...], families: tuple[str, ...]) -> npt.NDArray[np.float64]:
    """``columns x families`` 0/1 matrix: which weighted family each column belongs to."""
    matrix = np.zeros((len(names), len(families)))
    for j, name in enumerate(names):
        family = family_of(name)
        if family in families:
            matrix[j, families.index(family)] = 1.0
    return matrix


class Heuristic:
    """The heuristic compiled for one column list: weighted families, membership and weights found once.

    :func:`score` and :func:`explain` build one per call; a plugin keeps one (same operations, same bits).
    """

    __slots__ = ("columns", "families", "member", "names", "params", "weights")

    def __init__(self, names: Sequence[str], params: SeismographParams = DEFAULT_PARAMS) -> None:
        self.names = tuple(names)
        self.params = params
        self.families = tuple(f for f, w in params.weights.items() if w > 0)
        self.member = _membership(self.names, self.families)
        self.weights = np.array([params.weights[f] for f in self.families])
        self.columns = tuple(np.flatnonzero(self.member[:, k]) for k in range(len(self.families)))

    def _parts(self, rows: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Clipped values (NaN -> 0) and per-row family counts."""
        values = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        if values.ndim != 2 or values.shape[1] != len(self.names):
            raise ValueError(f"seismograph: rows have {values.shape[-1]} columns, names list {len(self.names)}")
        finite = np.isfinite(values)
        clip = self.params.clip
        clipped = np.where(finite, np.clip(values, -clip, clip), 0.0)
        counts = self._family_sums(finite.astype(np.float64))
        return clipped, counts

    def _family_sums(self, values: np.ndarray) -> np.ndarray:
        """``rows x families`` sums of each family's columns, added in column order row by row: a row's sums do
        not depend on the rows scored with it (a matrix product's summation order does)."""
        sums = np.zeros((values.shape[0], len(self.columns)))
        for k, columns in enumerate(self.columns):
            if columns.size:
                sums[:, k] = np.cumsum(values[:, columns], axis=1)[:, -1]
        return sums

    def _linear(self, clipped: np.ndarray, counts: np.ndarray) -> np.ndarray:
        if not self.families:
            return np.zeros(clipped.shape[0])
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, self._family_sums(clipped) / counts, 0.0)
        return np.cumsum(means * self.weights, axis=1)[:, -1]

    def _logistic(self, linear: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.params.slope * (linear - self.params.center)))

    def score(self, rows: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Scores of feature rows (see :func:`score`)."""
        clipped, counts = self._parts(rows)
        return self._logistic(self._linear(clipped, counts))

    def explain(self, row: npt.ArrayLike) -> Explanation:
        """Contributions to one row's score (see :func:`explain`)."""
        clipped, counts = self._parts(row)
        if clipped.shape[0] != 1:
            raise ValueError(f"explain takes one row, got {clipped.shape[0]}")
        member, names = self.member, self.names
        weights = self.weights if self.families else np.zeros(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_family = np.where(counts[0] > 0, weights / counts[0], 0.0)
        per_column = clipped[0] * (member @ per_family)
        weighted = [j for j in range(len(names)) if member[j].any()]
        contributions = sorted(((names[j], float(per_column[j])) for j in weighted), key=lambda c: (-c[1], c[0]))
        linear = self._linear(clipped, counts)
        return Explanation(float(self._logistic(linear)[0]), float(linear[0]), tuple(contributions))


def score(
    rows: npt.ArrayLike, names: Sequence[str], params: SeismographParams = DEFAULT_PARAMS
) -> npt.NDArray[np.float64]:
    """Seismograph scores in [0, 1] of feature rows (``rows x len(names)``; one row may be 1-D).

    Examples
    --------
    >>> names = ["intensity.trade_count_z", "path.return_slope", "intensity.trade_count_z:missing"]
    >>> score([[3.0, 2.0, 0.0], [0.0, 0.0, 0.0], [np.nan, 0.0, 1.0]], names).round(3).tolist()
    [0.711, 0.047, 0.047]
    """
    return Heuristic(names, params).score(rows)


@dataclass(frozen=True)
class Explanation:
    """Why one row scored what it did.

    Attributes
    ----------
    score
        The row's score.
    linear
        The weighted average z the score is the logistic of; equals the sum of ``contributions``.
    contributions
        ``(column, contribution)`` of every weighted feature, largest first.
    """

    score: float
    linear: float
    contributions: tuple[tuple[str, float], ...]

    def top(self, k: int = 3) -> tuple[tuple[str, float], ...]:
        """The ``k`` largest contributions."""
        return self.contributions[:k]


def explain(row: npt.ArrayLike, names: Sequence[str], params: SeismographParams = DEFAULT_PARAMS) -> Explanation:
    """Per-feature contributions to one row's score (``weight_f * clip(value) / n_f``; NaN contributes 0)."""
    return Heuristic(names, params).explain(row)
