"""A FeatureSpec compiled for the engine: windows in units, series and baselines to keep, due steps.

Both the online builder and the offline batch compile the spec with :meth:`FeaturePlan.from_spec`
and compute raw values with :meth:`FeaturePlan.raw`, so they run the same kernels in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.features.baselines import BaselineKey
from sigma9_runtime.features.kernels import (
    GROUP_OF_BASE,
    OPS,
    TRADE_SERIES,
    UNIT_SECONDS,
    KernelContext,
    WindowView,
    check_supported,
)
from sigma9_runtime.features.names import feature_names, value_names

ViewFactory = Callable[[str, int], WindowView]
"""(group ``s``/``m``, length in units) -> the view of every row's window."""


@dataclass(frozen=True)
class CompiledFeature:
    """One feature ready to run."""

    index: int
    key: str
    definition: Any
    group: str  # window resolution: "s" (seconds) or "m" (minutes)
    length: int  # window length in units
    step_seconds: int  # evaluated at steps that are multiples of this
    series: frozenset[str]
    baselines: tuple[BaselineKey, ...]

    def compute(self, view: WindowView, ctx: KernelContext) -> np.ndarray:
        """Raw values of this feature for every row of ``view``."""
        return OPS[self.definition.op].kernel(view, self.definition, ctx)


@dataclass(frozen=True)
class FeaturePlan:
    """The engine's view of one FeatureSpec."""

    spec: FeatureSpec
    features: tuple[CompiledFeature, ...]
    names: tuple[str, ...]
    values: tuple[str, ...]
    emission_step: int  # seconds
    series: dict[str, frozenset[str]]  # group -> series read at that resolution ("s" holds t.* too)
    max_length: dict[str, int]  # group -> longest window in units
    baselines: tuple[BaselineKey, ...]

    @classmethod
    def from_spec(cls, spec: FeatureSpec) -> FeaturePlan:
        """Compile ``spec``; raise :class:`~sigma9_runtime.errors.SpecError` for what the engine cannot do."""
        check_supported(spec)
        compiled = []
        for index, feature in enumerate(spec.features):
            window = spec.window(feature.window)
            group = GROUP_OF_BASE[window.base]
            op = OPS[feature.op]
            compiled.append(
                CompiledFeature(
                    index=index,
                    key=feature.key,
                    definition=feature,
                    group=group,
                    length=window.length.seconds // UNIT_SECONDS[group],
                    step_seconds=window.step.seconds,
                    series=frozenset(op.series(feature)),
                    baselines=tuple(op.baselines(feature)),
                )
            )
        series: dict[str, set[str]] = {"s": set(), "m": set()}
        lengths = {"s": 0, "m": 0}
        for feature in compiled:
            series[feature.group] |= feature.series
            lengths[feature.group] = max(lengths[feature.group], feature.length)
        baselines = tuple(dict.fromkeys(key for f in compiled for key in f.baselines))
        return cls(
            spec=spec,
            features=tuple(compiled),
            names=tuple(feature_names(spec)),
            values=tuple(value_names(spec)),
            emission_step=min(f.step_seconds for f in compiled),
            series={g: frozenset(s) for g, s in series.items()},
            max_length=lengths,
            baselines=baselines,
        )

    @property
    def reads_trades(self) -> bool:
        """Whether trades matter: a feature reads a trade series, or halts (read from trades) are not gaps.

        A plan over bars alone (e.g. minute bars) ignores trades in both drivers.
        """
        return bool(self.series["s"] & set(TRADE_SERIES)) or self.spec.calendar.treat_halts_as != "gap"

    def due(self, step_ns: int) -> list[CompiledFeature]:
        """Features evaluated at ``step_ns`` (the others hold their last value)."""
        seconds = step_ns // 1_000_000_000
        return [f for f in self.features if seconds % f.step_seconds == 0]

    def raw(self, features: Sequence[CompiledFeature], views: ViewFactory, ctx: KernelContext, out: np.ndarray) -> None:
        """Write the raw values of ``features`` into their columns of ``out`` (rows x F)."""
        cache: dict[tuple[str, int], WindowView] = {}
        for feature in features:
            key = (feature.group, feature.length)
            view = cache.get(key)
            if view is None:
                view = cache[key] = views(*key)
            out[:, feature.index] = feature.compute(view, ctx)
