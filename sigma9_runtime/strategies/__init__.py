"""Scoring strategies of the runtime.

* :mod:`~sigma9_runtime.strategies.base`: :class:`ScoringStrategy`, the extension point behind Sigma9's
  call points (``on_tick``, ``calculate_watchlist_score_detailed``, ``calculate_ignition_score``,
  ``score_step``), and :class:`ScoredCandidate`, the detailed score;
* :mod:`~sigma9_runtime.strategies.plugins`: the ``seismograph`` and ``seismograph_ml`` plugins;
* :mod:`~sigma9_runtime.strategies.factory`: one factory resolving a plugin by name or import path;
* :mod:`~sigma9_runtime.strategies.seismograph`: the transparent heuristic the plugins share.
"""

from sigma9_runtime.strategies.base import ScoringStrategy, StrategyParams
from sigma9_runtime.strategies.candidates import RowScores, ScoredCandidate
from sigma9_runtime.strategies.factory import PLUGINS, create_strategy, resolve_strategy

__all__ = [
    "PLUGINS",
    "RowScores",
    "ScoredCandidate",
    "ScoringStrategy",
    "StrategyParams",
    "create_strategy",
    "resolve_strategy",
]
