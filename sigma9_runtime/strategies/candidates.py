"""What a strategy says about a symbol at a step: :class:`ScoredCandidate` (the detailed, gated score the
scanner shows and alert files hold) and :class:`RowScores` (a plugin's scores of one step's rows)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sigma9_runtime.gates import GateDecision, TradeabilityInputs
from sigma9_runtime.gates.recent_bars import NAN_INPUTS

Explanation = tuple[tuple[str, float], ...]
"""``(feature, contribution)`` pairs, the largest first (``cluster=...`` never appears here; see
:attr:`ScoredCandidate.cluster_id`)."""


@dataclass(frozen=True, slots=True)
class ScoredCandidate:
    """The detailed score of one symbol at one step: what the scanner shows and the gate decided.

    Attributes
    ----------
    symbol, ts_ns
        The candidate (ts: the step, int64 ns UTC; the alert time if it passed).
    score
        The score the gate compared with ``threshold`` (the plugin's final score).
    base_score
        The seismograph heuristic's score of the same row.
    ml_score
        The artifact's score (NaN without an artifact).
    cluster_id
        The artifact's cluster (``C01``), or None.
    threshold
        The threshold the score had to reach (per cluster when the artifact has one).
    explanation
        Top features with their contributions (logit units for the ML overlay, weighted z for the
        heuristic); computed for candidates that reached their threshold, empty for the others.
    decision
        The gate's verdict (None when the call asked not to gate).
    tradeability
        Dollar volume of the last minute and spread estimate (NaN when not needed: below threshold).
    strategy
        The plugin's name; ``artifact_id`` the artifact scored with (None for the heuristic).
    """

    symbol: str
    ts_ns: int
    score: float
    base_score: float
    ml_score: float
    cluster_id: str | None
    threshold: float
    explanation: Explanation
    decision: GateDecision | None
    tradeability: TradeabilityInputs = NAN_INPUTS
    strategy: str = ""
    artifact_id: str | None = None

    @property
    def alert(self) -> bool:
        """Whether the candidate became an alert."""
        return self.decision is not None and self.decision.passed

    @property
    def reason(self) -> str | None:
        """Why the gate suppressed it (None for an alert or an ungated call)."""
        return None if self.decision is None else self.decision.reason

    @classmethod
    def record_columns(cls) -> list[str]:
        """The keys of :meth:`to_record`, in order (an empty alert file's columns)."""
        blank = cls(
            symbol="",
            ts_ns=0,
            score=0.0,
            base_score=0.0,
            ml_score=0.0,
            cluster_id=None,
            threshold=0.0,
            explanation=(),
            decision=None,
        )
        return list(blank.to_record())

    def to_record(self) -> dict[str, Any]:
        """A flat dict (JSON-able) for alert files and the scanner's payload."""
        return {
            "symbol": self.symbol,
            "ts_ns": int(self.ts_ns),
            "time": _iso(self.ts_ns),
            "strategy": self.strategy,
            "artifact_id": self.artifact_id,
            "score": _num(self.score),
            "base_score": _num(self.base_score),
            "ml_score": _num(self.ml_score),
            "threshold": _num(self.threshold),
            "cluster_id": self.cluster_id,
            "alert": self.alert,
            "reason": self.reason,
            "dollar_volume_1m": _num(self.tradeability.dollar_volume_1m),
            "spread_pct": _num(self.tradeability.spread_pct),
            "explanation": json.dumps([[name, round(value, 6)] for name, value in self.explanation]),
        }


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _iso(ts_ns: int) -> str:
    return dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.UTC).isoformat()


@dataclass(frozen=True)
class RowScores:
    """What a plugin says about the rows of one step (arrays of the rows' length).

    ``explain(i)`` returns row ``i``'s explanation; it is called only for rows that need one.
    """

    score: np.ndarray
    base_score: np.ndarray
    ml_score: np.ndarray
    threshold: np.ndarray
    cluster_ids: Sequence[str | None]
    explain: Any = field(repr=False)
    artifact_id: str | None = None


def gate_order(score: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Positions of a step's rows in the gate's (and the lab's) processing order: higher score first, NaN last,
    then by ``rank`` (each row's symbol's position in name order)."""
    return np.lexsort((rank, np.where(np.isnan(score), np.inf, -score)))
