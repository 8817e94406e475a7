"""What a strategy starts a day with, read from the lake: its warm-up and the previous closes.

One reading for every host that plays lake days through the runtime (``sigma9 replay``, the lab's backtest):
the warm-up (time-of-day baselines from earlier 1-minute bars, normalization parameters from the feature-stats
store, which the lab fills first: ``sigma9_dag.features.stats.ensure_day_stats``) and the split-adjusted
previous closes that arm the cross rule, with why the others are missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sigma9_runtime.features.plan import FeaturePlan
from sigma9_runtime.features.warmup import Warmup, load_warmup
from sigma9_runtime.lake.closes import DayCloses, day_closes
from sigma9_runtime.lake.layout import LakeLayout


@dataclass(frozen=True)
class DayStart:
    """The lake's inputs of one day for ``symbols``: hand ``warmup`` and ``closes.closes`` to ``start_day``."""

    day: dt.date
    warmup: Warmup
    closes: DayCloses

    @classmethod
    def empty(cls, day: dt.date) -> DayStart:
        """A start without a lake: no warm-up (features needing history are NaN) and no previous close (the
        cross rule stays off)."""
        return cls(day, Warmup(day), DayCloses(day, {}, {}))

    @property
    def previous_close(self) -> dict[str, float]:
        """Symbol -> usable previous close (the cross rule's)."""
        return self.closes.closes


def day_start(layout: LakeLayout, plan: FeaturePlan, day: dt.date, symbols: list[str]) -> DayStart:
    """The warm-up and previous closes of ``symbols`` on ``day`` (needs pyarrow)."""
    return DayStart(day, load_warmup(layout, plan, day, symbols), day_closes(layout, day, symbols))
