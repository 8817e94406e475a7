"""What the backtest's host records while the engine runs: each alert's round trip and the baseline candidates."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class TradeRecord:
    """One alert's round trip."""

    alert: int
    symbol: str
    alert_ts_ns: int
    exit_due_ns: int
    entry_order_ts_ns: int
    entry_client_id: str = ""
    exit_client_id: str = ""
    position_id: object = None
    shares: float = 0.0
    entry_ts_ns: int = -1
    entry_price: float = math.nan
    entry_commission: float = 0.0
    exit_order_ts_ns: int = -1
    exit_ts_ns: int = -1
    exit_price: float = math.nan
    exit_commission: float = 0.0


@dataclass
class HostState:
    """Everything the strategy records, read by the driver after the run."""

    alerts: list[dict[str, object]] = field(default_factory=list)
    trades: list[TradeRecord] = field(default_factory=list)
    candidates: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    steps: int = 0
    idle_steps: int = 0
    passed_steps: int = 0
    """Steps (among ``steps``) the runtime passed over: the day's batch scores reached no threshold there."""
    rows: int = 0
    events: int = 0

    def candidate_arrays(self, symbols: list[str]) -> dict[str, np.ndarray]:
        """The recorded baseline candidates as columns (symbol, ts_ns, score, seismograph_score, cluster_id), their
        symbol indices into ``symbols``."""
        parts = self.candidates
        if not parts:
            empty = np.zeros(0)
            return {
                "symbol": np.zeros(0, dtype=object),
                "ts_ns": np.zeros(0, np.int64),
                "score": empty,
                "seismograph_score": empty,
                "cluster_id": np.zeros(0, dtype=object),
            }
        index, ts, score, seis, cluster = (np.concatenate(c) for c in zip(*parts))
        return {
            "symbol": np.array(symbols, dtype=object)[index],
            "ts_ns": ts,
            "score": score.astype(np.float64),
            "seismograph_score": seis,
            "cluster_id": cluster,
        }
