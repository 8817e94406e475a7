"""Scoring strategies of the runtime. :mod:`~sigma9_runtime.strategies.seismograph` is the transparent base
heuristic; the ScoringStrategy plugin interface wraps these functions (later)."""
