"""What a FeatureSpec subscribes to: its live channels, the lake tables that hold them, its gate's bar stream.

A FeatureSpec's enabled sources decide everything the runtime receives and the lab reads:

=========  ==========  ================  ==========================================================
source     channel     lake table        holds
=========  ==========  ================  ==========================================================
``tick``   ``T.*``     ``trades``        every print (``trades/{ticker}/{date}.parquet``)
``bar_1s`` ``A.*``     ``1s``            1-second bars (``1s/{ticker}.parquet``)
``bar_1m`` ``AM.*``    ``1m``            1-minute bars (``1m/{ticker}.parquet``)
``daily``  (none)      ``daily``         daily bars (``daily/all_daily.parquet``): previous closes
=========  ==========  ================  ==========================================================

**The gate's bar stream** (:func:`gate_bar_kind`): the runtime's tradeability inputs and its cross rule
read the finest bar stream the spec subscribes to — ``A`` (1-second bars) when ``bar_1s`` is enabled,
else ``AM`` (1-minute bars). A container subscribed to ``AM.*`` alone therefore gates and ends its
candidates on 1-minute bars, and the lab evaluates such a spec the same way.
"""

from __future__ import annotations

from typing import Literal

from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.units import MINUTE_NS, SECOND_NS

SourceName = Literal["tick", "bar_1s", "bar_1m", "daily"]
BarStream = Literal["A", "AM"]
LakeTable = Literal["trades", "1s", "1m", "daily"]

INTRADAY_SOURCES: tuple[SourceName, ...] = ("tick", "bar_1s", "bar_1m")
SOURCE_CHANNEL: dict[str, str] = {"tick": "T.*", "bar_1s": "A.*", "bar_1m": "AM.*"}
"""Live channel of each intraday source."""
SOURCE_TABLE: dict[str, LakeTable] = {"tick": "trades", "bar_1s": "1s", "bar_1m": "1m", "daily": "daily"}
"""Lake table that holds each source offline."""
LAKE_TABLES: tuple[LakeTable, ...] = ("trades", "1s", "1m", "daily")
"""The lake's market tables, finest first."""
BAR_KIND: dict[BarStream, Literal["1s", "1m"]] = {"A": "1s", "AM": "1m"}
"""Lake bar kind of each bar stream."""
BAR_NS: dict[BarStream, int] = {"A": SECOND_NS, "AM": MINUTE_NS}
"""Length of a bar of each stream."""


def enabled_sources(spec: FeatureSpec) -> list[SourceName]:
    """The spec's enabled sources, in the order tick, bar_1s, bar_1m, daily."""
    return [name for name in (*INTRADAY_SOURCES, "daily") if spec.sources.is_enabled(name)]  # type: ignore[misc]


def spec_streams(spec: FeatureSpec) -> list[str]:
    """The live channels of the spec's enabled intraday sources (``T.*``, ``A.*``, ``AM.*``), in that order."""
    return [SOURCE_CHANNEL[name] for name in enabled_sources(spec) if name in SOURCE_CHANNEL]


def spec_tables(spec: FeatureSpec) -> list[LakeTable]:
    """The lake tables the spec's enabled sources read (``trades``, ``1s``, ``1m``, ``daily``), in that order."""
    return [SOURCE_TABLE[name] for name in enabled_sources(spec)]


def gate_bar_kind(spec: FeatureSpec) -> BarStream:
    """The bar stream the gate's tradeability and the cross rule read: ``A`` when the spec subscribes to
    1-second bars, else ``AM`` (every valid spec has a window on an enabled bar source)."""
    return "A" if spec.sources.is_enabled("bar_1s") else "AM"
