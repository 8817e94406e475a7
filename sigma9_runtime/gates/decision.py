"""What a gate says about one candidate: passed, or suppressed and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Reason = Literal[
    "below_threshold",
    "not_tradeable_dollar_volume",
    "not_tradeable_spread",
    "cooldown",
    "budget_exhausted",
    "after_cross",
]
"""Why a candidate was suppressed."""

REASONS: tuple[Reason, ...] = (
    "below_threshold",
    "not_tradeable_dollar_volume",
    "not_tradeable_spread",
    "cooldown",
    "budget_exhausted",
)
"""Every reason of the gate, in the order :class:`~sigma9_runtime.gates.ml_gate.MLGate` checks them."""

AFTER_CROSS: Reason = "after_cross"
"""Not a gate check: the strategy's verdict on a symbol that already crossed its previous close x
(1 + anchor) today (no pre-surge candidate any more; :mod:`sigma9_runtime.strategies.crossing`).
Never counted by the gate."""


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The gate's verdict on one candidate.

    Attributes
    ----------
    symbol, ts_ns, score, threshold
        The candidate as judged (ts in ns UTC).
    passed
        True when the candidate became an alert (and was counted against budget and cooldown).
    reason
        Why it was suppressed (one of :data:`REASONS`, or :data:`AFTER_CROSS` from the strategy); None
        when it passed.
    """

    symbol: str
    ts_ns: int
    score: float
    threshold: float
    passed: bool
    reason: Reason | None
