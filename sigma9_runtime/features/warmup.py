"""What a day's features need from earlier days: time-of-day baselines and normalization parameters.

:class:`Warmup` holds them per symbol; :func:`load_warmup` builds one from the lake (1-minute bars
for baselines, the feature-stats store for normalization). The offline batch and the online
builder use the same loader, so both start the day from identical state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from sigma9_runtime.features.baselines import MINUTES_PER_DAY, BaselineKey, MinuteBars
from sigma9_runtime.features.normalization import NormParams
from sigma9_runtime.features.plan import FeaturePlan


@dataclass
class Warmup:
    """Baselines and normalization parameters of one day, per symbol."""

    day: dt.date
    baselines: dict[BaselineKey, dict[str, tuple[np.ndarray, ...]]] = field(default_factory=dict)
    norm: dict[str, NormParams] = field(default_factory=dict)

    def baseline(self, key: BaselineKey, symbol: str) -> tuple[np.ndarray, ...]:
        """Arrays over the 1440 minutes of day (NaN when the symbol has none)."""
        found = self.baselines.get(key, {}).get(symbol)
        if found is None:
            count = 2 if key.stat == "mean_std" else 1
            return tuple(np.full(MINUTES_PER_DAY, np.nan) for _ in range(count))
        return found

    def params(self, symbol: str, features: int) -> NormParams:
        """Normalization parameters of ``symbol`` (NaN when unknown)."""
        return self.norm.get(symbol) or NormParams.undefined(features)


def minute_bars(bars_1m: object) -> MinuteBars:
    """A symbol's 1-minute bars (a lake bars table) indexed for its baselines."""
    return MinuteBars(
        bars_1m.column("ts").to_numpy(),  # type: ignore[attr-defined]
        {
            "transactions": bars_1m.column("transactions").to_numpy().astype(np.float64),  # type: ignore[attr-defined]
            "volume": bars_1m.column("volume").to_numpy(),  # type: ignore[attr-defined]
        },
    )


def load_warmup(layout: object, plan: FeaturePlan, day: dt.date, symbols: list[str]) -> Warmup:
    """Warm-up state of ``day`` for ``symbols`` from the lake (needs pyarrow).

    Baselines come from each symbol's 1-minute bars of earlier days; normalization parameters
    from the feature-stats store (:mod:`sigma9_runtime.features.stats_store`), which the lab fills.
    """
    from sigma9_runtime.features.stats_store import FeatureStatsStore
    from sigma9_runtime.lake.tables import read_bars

    warmup = Warmup(day)
    store = FeatureStatsStore(layout, plan)  # type: ignore[arg-type]
    warmup.norm = store.params_for(day, symbols)
    for symbol in symbols:
        path = layout.bars("1m", symbol)  # type: ignore[attr-defined]
        if not plan.baselines or not path.exists():
            continue
        bars = read_bars(layout, "1m", symbol, None, None)  # type: ignore[arg-type]
        add_baselines(warmup, plan, symbol, bars)
    return warmup


def add_baselines(warmup: Warmup, plan: FeaturePlan, symbol: str, bars_1m: object) -> None:
    """Put ``symbol``'s baselines for ``warmup.day`` from its 1-minute bars into ``warmup``: a lake bars table, or
    the :class:`MinuteBars` of :func:`minute_bars` (a batch over many days of one symbol passes the same one)."""
    bars = bars_1m if isinstance(bars_1m, MinuteBars) else minute_bars(bars_1m)
    for key in plan.baselines:
        warmup.baselines.setdefault(key, {})[symbol] = bars.baseline(warmup.day, key)
