"""MLGate: the one composition of threshold, tradeability, cooldown and budget, for the runtime and the lab.

Checks, in this order (the first failing one is the reason)::

    1. below_threshold              score < threshold (a NaN score too)
    2. not_tradeable_dollar_volume  dollar volume of the last minute < min_dollar_volume_1m (NaN too)
    3. not_tradeable_spread         spread estimate > max_spread_pct (NaN too)
    4. cooldown                     the symbol alerted less than symbol_cooldown_sec ago
    5. budget_exhausted             the New York day already has max_alerts_per_day alerts

1-3 are properties of the candidate alone (stateless, cheapest and most frequent first); 4-5 read the
gate's state. Cooldown comes before budget so ``budget_exhausted`` counts only candidates that would
otherwise have been fresh alerts. Only a candidate that passes every check is recorded (one alert
against its day's budget, a new cooldown for its symbol). Deterministic, O(1) per candidate, memory one
timestamp per symbol plus one counter per day; :meth:`MLGate.reset` clears the state.

The lab (``sigma9_dag.evaluation``) runs checks 1-3 for many candidates at once with
:meth:`MLGate.screen` and only the survivors through :meth:`MLGate.admit`; a test proves this equal to
:meth:`MLGate.decide` one candidate at a time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from pydantic import PositiveFloat, PositiveInt

from sigma9_runtime.contracts.artifact_manifest import Thresholds
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig, EvalAlertBudget
from sigma9_runtime.contracts.base import ContractModel
from sigma9_runtime.contracts.feature_spec import AlertBudget, FeatureSpec
from sigma9_runtime.gates.budget import DailyAlertBudget
from sigma9_runtime.gates.cooldown import SymbolCooldown
from sigma9_runtime.gates.decision import REASONS, GateDecision, Reason
from sigma9_runtime.gates.tradeability import TradeabilityGate, TradeabilityInputs

PASSED = -1
"""Code of a candidate that passes :meth:`MLGate.screen` (else the index of its reason in ``REASONS``)."""


class GateConfig(ContractModel):
    """Settings of an :class:`MLGate`.

    Build it from a FeatureSpec's ``runtime_gates`` (:meth:`from_feature_spec`), optionally with the
    budget and cooldown of a BacktestRunConfig's ``evaluation.alert_budget`` (:meth:`from_run`).
    """

    min_dollar_volume_1m: PositiveFloat
    """Minimum dollar volume of the last minute (USD)."""
    max_spread_pct: PositiveFloat
    """Maximum estimated spread, percent of price."""
    max_alerts_per_day: PositiveInt
    """Alerts per New York date."""
    symbol_cooldown_sec: PositiveInt
    """Seconds before the same symbol may alert again."""

    @classmethod
    def from_feature_spec(cls, spec: FeatureSpec, budget: AlertBudget | EvalAlertBudget | None = None) -> GateConfig:
        """The spec's ``runtime_gates``; ``budget`` (if given) replaces its alert budget and cooldown."""
        gates = spec.runtime_gates
        chosen = budget if budget is not None else gates.alert_budget
        return cls(
            min_dollar_volume_1m=gates.tradeability.min_dollar_volume_1m,
            max_spread_pct=gates.tradeability.max_spread_pct,
            max_alerts_per_day=chosen.max_alerts_per_day,
            symbol_cooldown_sec=chosen.symbol_cooldown_sec,
        )

    @classmethod
    def from_run(cls, spec: FeatureSpec, run_config: BacktestRunConfig) -> GateConfig:
        """Tradeability from the spec, budget and cooldown from the run's ``evaluation.alert_budget``."""
        return cls.from_feature_spec(spec, run_config.evaluation.alert_budget)


def cluster_key(cluster_id: object) -> str | None:
    """The manifest's cluster key of a cluster id: ``"C01"`` as is, an integer ``n`` as ``C{n:02d}``;
    None, NaN, ``""`` and negative integers (noise) mean "no cluster"."""
    if cluster_id is None or cluster_id == "":
        return None
    if isinstance(cluster_id, str):
        return cluster_id
    if isinstance(cluster_id, float) and math.isnan(cluster_id):
        return None
    number = int(cluster_id)  # type: ignore[call-overload]
    return None if number < 0 else f"C{number:02d}"


def threshold_for(thresholds: Thresholds | float, cluster_id: object = None) -> float:
    """The score a candidate of ``cluster_id`` must reach: its cluster's ``per_cluster_min``, else
    ``global_score_min`` (a plain number is one threshold for every cluster)."""
    if not isinstance(thresholds, Thresholds):
        return float(thresholds)
    key = cluster_key(cluster_id)
    if key is not None and key in thresholds.per_cluster_min:
        return thresholds.per_cluster_min[key]
    return thresholds.global_score_min


class MLGate:
    """The alert gate of one scoring strategy (see the module docstring for the order of checks).

    Examples
    --------
    >>> gate = MLGate(GateConfig(min_dollar_volume_1m=2e5, max_spread_pct=2.0,
    ...                          max_alerts_per_day=60, symbol_cooldown_sec=180))
    >>> t = 1_736_173_800_000_000_000
    >>> gate.decide("ABCD", t, 0.9, 0.72, TradeabilityInputs(3e5, 0.8)).passed
    True
    >>> gate.decide("ABCD", t + 10**9, 0.95, 0.72, TradeabilityInputs(3e5, 0.8)).reason
    'cooldown'
    """

    def __init__(self, config: GateConfig) -> None:
        self.config = config
        self.tradeability = TradeabilityGate(config.min_dollar_volume_1m, config.max_spread_pct)
        self.cooldown = SymbolCooldown(config.symbol_cooldown_sec)
        self.budget = DailyAlertBudget(config.max_alerts_per_day)
        self._counts = dict.fromkeys(REASONS, 0)
        self._alerts = 0

    @classmethod
    def from_feature_spec(cls, spec: FeatureSpec, run_config: BacktestRunConfig | None = None) -> MLGate:
        """Gate of ``spec``'s runtime_gates; a ``run_config`` overrides budget and cooldown."""
        if run_config is None:
            return cls(GateConfig.from_feature_spec(spec))
        return cls(GateConfig.from_run(spec, run_config))

    # --- stateless checks 1-3 -----------------------------------------------------------------------

    def check(self, score: float, threshold: float, tradeability: TradeabilityInputs) -> Reason | None:
        """Checks 1-3 for one candidate; touches no state."""
        if not score >= threshold:
            return "below_threshold"
        return self.tradeability.check(tradeability)

    def screen(
        self,
        score: npt.ArrayLike,
        threshold: npt.ArrayLike,
        dollar_volume_1m: npt.ArrayLike,
        spread_pct: npt.ArrayLike,
    ) -> npt.NDArray[np.int8]:
        """Vectorized :meth:`check`: per candidate the index of its reason in ``REASONS``, or ``PASSED``."""
        score = np.asarray(score, dtype=np.float64)
        below = ~(score >= np.asarray(threshold, dtype=np.float64))
        low_volume, wide = self.tradeability.screen(
            np.broadcast_to(np.asarray(dollar_volume_1m, dtype=np.float64), score.shape),
            np.broadcast_to(np.asarray(spread_pct, dtype=np.float64), score.shape),
        )
        codes = np.full(score.shape, PASSED, dtype=np.int8)
        codes[wide] = REASONS.index("not_tradeable_spread")
        codes[low_volume] = REASONS.index("not_tradeable_dollar_volume")
        codes[below] = REASONS.index("below_threshold")
        return codes

    # --- stateful checks 4-5 ------------------------------------------------------------------------

    def admit(self, symbol: str, ts_ns: int) -> Reason | None:
        """Checks 4-5 for a candidate that passed 1-3; records the alert when both pass."""
        if self.cooldown.blocks(symbol, ts_ns):
            reason: Reason | None = "cooldown"
        elif not self.budget.available(ts_ns):
            reason = "budget_exhausted"
        else:
            self.cooldown.record(symbol, ts_ns)
            self.budget.record(ts_ns)
            self._alerts += 1
            return None
        self._counts[reason] += 1
        return reason

    # --- the whole gate -------------------------------------------------------------------------

    def decide(
        self, symbol: str, ts_ns: int, score: float, threshold: float, tradeability: TradeabilityInputs
    ) -> GateDecision:
        """Run every check on one candidate; an alert is recorded only when it passes."""
        reason = self.check(score, threshold, tradeability)
        if reason is None:
            reason = self.admit(symbol, ts_ns)
        else:
            self._counts[reason] += 1
        return GateDecision(symbol, ts_ns, score, threshold, reason is None, reason)

    def count_screened(self, reason: Reason, count: int) -> None:
        """Add ``count`` candidates suppressed by a stateless ``reason`` found by :meth:`screen`."""
        if reason not in ("below_threshold", "not_tradeable_dollar_volume", "not_tradeable_spread"):
            raise ValueError(f"reason {reason!r} is not a stateless check; count it through admit()")
        self._counts[reason] += int(count)

    @property
    def alerts(self) -> int:
        """Alerts raised since the last reset."""
        return self._alerts

    @property
    def suppressed(self) -> Mapping[Reason, int]:
        """Suppressed candidates per reason since the last reset (every reason present)."""
        return dict(self._counts)

    def reset(self) -> None:
        """Forget every alert, cooldown and count (e.g. before another simulation)."""
        self.cooldown.reset()
        self.budget.reset()
        self._counts = dict.fromkeys(REASONS, 0)
        self._alerts = 0
