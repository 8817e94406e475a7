"""Runtime gates an alert must pass, shared by the live runtime and the lab's alert simulation.

* :mod:`~sigma9_runtime.gates.tradeability`: dollar volume of the last minute and a spread estimate
  from 1-second bars (no quotes are streamed), and the liquidity gate;
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
]
