"""Runtime gates an alert must pass, shared by the live runtime and the lab's alert simulation.

* :mod:`~sigma9_runtime.gates.tradeability`: dollar volume of the last minute and a spread estimate
  from the bars of the gate's stream (no quotes are streamed): 1-second bars, or 1-minute bars for a
  FeatureSpec without them; and the liquidity gate;
* :mod:`~sigma9_runtime.gates.recent_bars`: the last bars of that stream a live strategy keeps for it;
* :mod:`~sigma9_runtime.gates.budget`: alerts per New York date;
* :mod:`~sigma9_runtime.gates.cooldown`: seconds before a symbol may alert again;
* :mod:`~sigma9_runtime.gates.ml_gate`: :class:`MLGate`, the composition (threshold, tradeability,
  cooldown, budget, in that order), built from a FeatureSpec's ``runtime_gates``.
"""

from sigma9_runtime.gates.budget import DailyAlertBudget
from sigma9_runtime.gates.cooldown import SymbolCooldown
from sigma9_runtime.gates.decision import AFTER_CROSS, REASONS, GateDecision, Reason
from sigma9_runtime.gates.ml_gate import PASSED, GateConfig, MLGate, cluster_key, threshold_for
from sigma9_runtime.gates.tradeability import (
    TradeabilityGate,
    TradeabilityInputs,
    tradeability_batch,
    tradeability_inputs,
    tradeability_many,
)

__all__ = [
    "AFTER_CROSS",
    "PASSED",
    "REASONS",
    "DailyAlertBudget",
    "GateConfig",
    "GateDecision",
    "MLGate",
    "Reason",
    "SymbolCooldown",
    "TradeabilityGate",
    "TradeabilityInputs",
    "cluster_key",
    "threshold_for",
    "tradeability_batch",
    "tradeability_inputs",
    "tradeability_many",
]
