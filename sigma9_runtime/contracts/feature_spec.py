"""FeatureSpec: the input contract that fixes how features are computed, online and offline.

A FeatureSpec file (``feature_specs/FS_*.yaml``) holds one top-level key ``feature_spec``.
Its feature-defining parts (calendar, sources, windows, features, normalization) are covered
by the schema hash (:mod:`sigma9_runtime.schema_hash`); id, version, owner, description,
created_at and runtime_gates are not.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    Field,
    PositiveFloat,
    PositiveInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from sigma9_runtime.contracts.base import (
    ContractModel,
    FeatureSpecId,
    FieldPathError,
    Probability,
    Session,
    TimeZoneName,
    require_unique,
)
from sigma9_runtime.contracts.duration import BaselineDuration, DayDuration, IntradayDuration

SourceName = Literal["tick", "bar_1s", "bar_1m", "daily"]

_BAR_SERIES = frozenset(
    {"open", "high", "low", "close", "volume", "vwap", "close_return", "transactions", "signed_volume_proxy"}
)
SOURCE_SERIES: dict[str, frozenset[str]] = {
    "tick": frozenset({"price", "size", "trade_count", "volume", "signed_volume_proxy"}),
    "bar_1s": _BAR_SERIES,
    "bar_1m": _BAR_SERIES,
    "daily": frozenset({"open", "high", "low", "close", "volume", "vwap", "prev_close"}),
}
"""Derived series a feature may name as ``<source>.<series>`` in ``input``/``inputs``.

``tick.signed_volume_proxy`` is each trade's size signed by the tick rule; a bar source's
``signed_volume_proxy`` is each bar's volume signed by where its close sits in its range (the close
location value, ``ratio``'s ``signed_proxy: close_location``); a bar source's ``transactions`` is
the bar's trade count."""

TICK_SIGNED_PROXIES = frozenset({"lee_ready_if_quote_available_else_tickrule", "tick_rule"})
"""``ratio.signed_proxy`` values that sign trades (for ``tick.signed_volume_proxy``)."""
BAR_SIGNED_PROXIES = frozenset({"close_location"})
"""``ratio.signed_proxy`` values that sign bars (for ``bar_1s``/``bar_1m.signed_volume_proxy``)."""

BAR_BASE_SECONDS: dict[str, int] = {"bar_1s": 1, "bar_1m": 60}
"""Resolution of each bar source a window can be built on."""

InputRef = Annotated[str, StringConstraints(pattern=r"^(tick|bar_1s|bar_1m|daily)(\.[a-z][a-z0-9_]*)?$")]
"""A feature input: a source (``tick``) or a series of it (``bar_1s.close_return``)."""

FeatureKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")]
WindowName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


# --- (A) calendar -------------------------------------------------------------------------------


class Calendar(ContractModel):
    """Time and session rules."""

    timezone: TimeZoneName = "America/New_York"
    """IANA time zone in which sessions and trading days are defined."""
    sessions: Annotated[list[Session], Field(min_length=1)]
    """Sessions whose data is used: any of ``pre`` (04:00-09:30), ``regular`` (09:30-16:00), ``after`` (16:00-20:00)."""
    treat_halts_as: Literal["gap", "forward_fill", "drop"] = "gap"
    """What a halt (no eligible trade for 300 s in the regular session) does: ``gap`` leaves windows empty,
    ``forward_fill`` repeats the symbol's last row from before the halt, ``drop`` emits no row while halted.
    A halt is read from trades, so ``forward_fill`` and ``drop`` need the tick source enabled."""

    @model_validator(mode="after")
    def _unique_sessions(self) -> Calendar:
        require_unique(self.sessions, "session", ("sessions",))
        return self


# --- (B) sources --------------------------------------------------------------------------------


class TickSource(ContractModel):
    """Trades, from the ``T.*`` stream."""

    enabled: bool = True
    """Whether features may read this source."""
    stream_channel: Literal["T.*"] = "T.*"
    """Massive channel of this source; must be ``T.*``."""
    fields: Annotated[list[Literal["ts", "price", "size", "exchange", "conditions", "sequence"]], Field(min_length=1)]
    """Trade fields read from the stream."""


class Bar1sSource(ContractModel):
    """One-second bars, from the ``A.*`` stream (rebuilt from trades offline)."""

    enabled: bool = True
    """Whether features may read this source."""
    stream_channel: Literal["A.*"] = "A.*"
    """Massive channel of this source; must be ``A.*``."""
    fields: Annotated[list[Literal["ts", "o", "h", "l", "c", "v", "vw", "n"]], Field(min_length=1)]
    """Bar fields read: ts, open, high, low, close, volume, vwap, trade count."""


class Bar1mSource(ContractModel):
    """One-minute bars, from the ``AM.*`` stream."""

    enabled: bool = True
    """Whether features may read this source."""
    stream_channel: Literal["AM.*"] = "AM.*"
    """Massive channel of this source; must be ``AM.*``."""
    fields: Annotated[list[Literal["ts", "o", "h", "l", "c", "v", "vw", "n"]], Field(min_length=1)]
    """Bar fields read: ts, open, high, low, close, volume, vwap, trade count."""


DAILY_TABLE_PATH = "daily/all_daily.parquet"
"""The lake's daily table, relative to its root (``sigma9_runtime.lake.layout.LakeLayout.daily_path``)."""


class DailySource(ContractModel):
    """Daily bars from the lake."""

    enabled: bool = True
    """Whether features and baselines may read daily bars."""
    parquet_path: Annotated[str, Field(min_length=1)] = DAILY_TABLE_PATH
    """Daily bars table, relative to the lake root: the lake's own, ``daily/all_daily.parquet`` (the one path read)."""

    @field_validator("parquet_path")
    @classmethod
    def _the_lakes_daily_table(cls, value: str) -> str:
        if value != DAILY_TABLE_PATH:
            raise ValueError(
                f"the lake's daily table is {DAILY_TABLE_PATH} (relative to the lake root); no other path is read"
            )
        return value


class Sources(ContractModel):
    """Input sources, one to one with Sigma9's live channels."""

    tick: TickSource
    """Trades (``T.*``)."""
    bar_1s: Bar1sSource
    """One-second bars (``A.*``)."""
    bar_1m: Bar1mSource
    """One-minute bars (``AM.*``)."""
    daily: DailySource
    """Daily bars (lake only)."""

    def is_enabled(self, name: str) -> bool:
        """Whether source ``name`` exists and is enabled."""
        source = getattr(self, name, None)
        return bool(source is not None and source.enabled)

    @model_validator(mode="after")
    def _fields_have_ts(self) -> Sources:
        for name in ("tick", "bar_1s", "bar_1m"):
            source = getattr(self, name)
            require_unique(source.fields, "field", (name, "fields"))
            if "ts" not in source.fields:
                raise FieldPathError((name, "fields"), "must include 'ts'")
        return self


# --- (C) windows --------------------------------------------------------------------------------


class Window(ContractModel):
    """A sliding window over a bar source, evaluated every ``step``."""

    name: WindowName
    """Name features refer to (``w15s``)."""
    base: Literal["bar_1s", "bar_1m"]
    """Bar source the window slides over."""
    length: IntradayDuration
    """Window length (``15s``, ``5m``)."""
    step: IntradayDuration
    """Evaluation step (``1s``, ``1m``)."""

    @model_validator(mode="after")
    def _consistent_lengths(self) -> Window:
        resolution = BAR_BASE_SECONDS[self.base]
        for field in ("length", "step"):
            seconds = getattr(self, field).seconds
            if seconds % resolution:
                raise FieldPathError((field,), f"{getattr(self, field)} is not a whole number of {self.base} bars")
        if self.length.seconds % self.step.seconds:
            raise FieldPathError(("length",), f"length {self.length} is not a whole number of steps ({self.step})")
        return self


# --- (D) features -------------------------------------------------------------------------------


class _FeatureBase(ContractModel):
    key: FeatureKey
    """Feature name in the model's input vector (``intensity.trade_count_z``)."""
    window: WindowName
    """Name of the window (section ``windows``) the feature is computed over."""

    def input_refs(self) -> tuple[str, ...]:
        """Every input reference of this feature."""
        inputs = getattr(self, "inputs", None)
        return tuple(inputs) if inputs is not None else (self.input,)


class ZscoreParams(ContractModel):
    """Parameters of ``zscore``."""

    lookback: BaselineDuration
    """Baseline: ``<n>d_tod`` for the same minute of day over the last n trading days, or ``<n>d``."""


class ZscoreFeature(_FeatureBase):
    """Z-score of the windowed input against a baseline (trade count when the input is ``tick``)."""

    op: Literal["zscore"]
    """Operation."""
    input: InputRef
    """Source or series z-scored."""
    params: ZscoreParams
    """Operation parameters."""


class RvolTodParams(ContractModel):
    """Parameters of ``rvol_tod``."""

    lookback_days: PositiveInt
    """Trading days in the time-of-day baseline."""
    baseline: Literal["median", "mean"] = "median"
    """Statistic of the baseline."""


class RvolTodFeature(_FeatureBase):
    """Relative volume: windowed volume over its baseline at the same time of day."""

    op: Literal["rvol_tod"]
    """Operation."""
    input: InputRef
    """Source whose volume is used."""
    params: RvolTodParams
    """Operation parameters."""


class LinregSlopeParams(ContractModel):
    """Parameters of ``linreg_slope``."""

    on: Literal["open", "high", "low", "close", "vwap"] = "close"
    """Bar field regressed on time."""


class LinregSlopeFeature(_FeatureBase):
    """Least-squares slope of a bar field over the window."""

    op: Literal["linreg_slope"]
    """Operation."""
    input: InputRef
    """Bar source."""
    params: LinregSlopeParams
    """Operation parameters."""


class RatioParams(ContractModel):
    """Parameters of ``ratio``."""

    signed_proxy: Literal["lee_ready_if_quote_available_else_tickrule", "tick_rule", "close_location"] = (
        "lee_ready_if_quote_available_else_tickrule"
    )
    """How a signed-volume input is signed. For ``tick.signed_volume_proxy``: Lee-Ready when quotes exist,
    else the tick rule (``lee_ready_if_quote_available_else_tickrule``), or the tick rule only
    (``tick_rule``). For a bar source's ``signed_volume_proxy``: ``close_location``, each bar's volume times
    its close location value ``((close - low) - (high - close)) / (high - low)`` (0 when high == low)."""


class RatioFeature(_FeatureBase):
    """Ratio of two windowed series (e.g. close return over signed volume)."""

    op: Literal["ratio"]
    """Operation."""
    inputs: Annotated[list[InputRef], Field(min_length=2, max_length=2)]
    """Numerator and denominator series."""
    params: RatioParams
    """Operation parameters."""

    @model_validator(mode="after")
    def _proxy_matches_inputs(self) -> RatioFeature:
        proxy = self.params.signed_proxy
        for ref in self.inputs:
            source, _, series = ref.partition(".")
            if series != "signed_volume_proxy":
                continue
            if source == "tick" and proxy not in TICK_SIGNED_PROXIES:
                expected = " or ".join(repr(p) for p in sorted(TICK_SIGNED_PROXIES))
                raise FieldPathError(
                    ("params", "signed_proxy"), f"{proxy!r} signs bars, but input {ref!r} signs trades: use {expected}"
                )
            if source != "tick" and proxy not in BAR_SIGNED_PROXIES:
                raise FieldPathError(
                    ("params", "signed_proxy"),
                    f"{proxy!r} signs trades, but input {ref!r} signs bars by their close location: "
                    "use 'close_location'",
                )
        return self


class RangePctParams(ContractModel):
    """Parameters of ``range_pct``."""

    use: Annotated[list[Literal["high", "low", "close", "open"]], Field(min_length=3, max_length=3)]
    """``[high, low, reference]``: (high - low) / reference over the window."""

    @model_validator(mode="after")
    def _high_low_reference(self) -> RangePctParams:
        if self.use[:2] != ["high", "low"] or self.use[2] not in ("close", "open"):
            raise FieldPathError(("use",), "expected [high, low, close] or [high, low, open]")
        return self


class RangePctFeature(_FeatureBase):
    """High-low range of the window as a fraction of the reference price."""

    op: Literal["range_pct"]
    """Operation."""
    input: InputRef
    """Bar source."""
    params: RangePctParams
    """Operation parameters."""


class LogReturnParams(ContractModel):
    """Parameters of ``log_return`` (``{}`` takes the default)."""

    on: Literal["close"] = "close"
    """Bar field whose return is taken: the close."""


class LogReturnFeature(_FeatureBase):
    """Log return over the window: ln(last close in the window / close before the window)."""

    op: Literal["log_return"]
    """Operation."""
    input: Literal["bar_1s", "bar_1m"]
    """Bar source (the window's own)."""
    params: LogReturnParams
    """Operation parameters."""


class FlowChangeParams(ContractModel):
    """Parameters of ``flow_change`` (none: ``{}``)."""


class FlowChangeFeature(_FeatureBase):
    """Change of a flow between the window's halves: ln(flow over the newer half / flow over the older half).

    The window must be an even number of its bars (``w60m``: the last 30 minutes against the 30 before).
    """

    op: Literal["flow_change"]
    """Operation."""
    input: InputRef
    """Non-negative flow: ``tick`` / ``tick.trade_count`` (trades), ``tick.volume``, a bar source or its
    ``volume`` / ``transactions``."""
    params: FlowChangeParams
    """Operation parameters."""


Feature = Annotated[
    ZscoreFeature
    | RvolTodFeature
    | LinregSlopeFeature
    | RatioFeature
    | RangePctFeature
    | LogReturnFeature
    | FlowChangeFeature,
    Field(discriminator="op"),
]
"""One feature definition; ``op`` selects its parameter model."""

FEATURE_OPS: tuple[str, ...] = (
    "zscore",
    "rvol_tod",
    "linreg_slope",
    "ratio",
    "range_pct",
    "log_return",
    "flow_change",
)


# --- (E) normalization --------------------------------------------------------------------------


class Clip(ContractModel):
    """Outlier clipping."""

    method: Literal["winsor", "none"] = "winsor"
    """``winsor``: clip to the quantiles below; ``none``: no clipping."""
    p_low: Probability = 0.005
    """Lower quantile."""
    p_high: Probability = 0.995
    """Upper quantile."""

    @model_validator(mode="after")
    def _ordered(self) -> Clip:
        if self.p_low >= self.p_high:
            raise FieldPathError(("p_low",), f"p_low ({self.p_low}) must be below p_high ({self.p_high})")
        return self


class Missing(ContractModel):
    """Missing-value policy."""

    policy: Literal["keep_nan_and_flag", "forward_fill"] = "keep_nan_and_flag"
    """``keep_nan_and_flag``: NaN plus a flag column; ``forward_fill``: last known value."""


class Normalization(ContractModel):
    """Normalization, clipping and missing values."""

    mode: Literal["per_symbol_rolling", "global"]
    """Statistics per symbol over a rolling lookback, or one global set."""
    lookback: DayDuration | None = None
    """Rolling lookback in trading days (required for ``per_symbol_rolling``)."""
    clip: Clip = Clip()
    """Outlier clipping."""
    missing: Missing = Missing()
    """Missing-value policy."""

    @model_validator(mode="after")
    def _lookback_for_rolling(self) -> Normalization:
        if self.mode == "per_symbol_rolling" and self.lookback is None:
            raise FieldPathError(("lookback",), "required when mode is 'per_symbol_rolling' (e.g. '60d')")
        return self


# --- (F) runtime gates --------------------------------------------------------------------------


class Tradeability(ContractModel):
    """Liquidity gate."""

    min_dollar_volume_1m: PositiveFloat
    """Minimum dollar volume in the last 1-minute bar."""
    max_spread_pct: PositiveFloat
    """Maximum bid/ask spread, percent of mid."""


class AlertBudget(ContractModel):
    """Alert budget and cooldown."""

    max_alerts_per_day: PositiveInt
    """Alerts allowed per session day (America/New_York)."""
    symbol_cooldown_sec: PositiveInt
    """Seconds before the same symbol may alert again."""


class RuntimeGates(ContractModel):
    """Gates the runtime applies before an alert is raised."""

    tradeability: Tradeability
    """Liquidity gate."""
    alert_budget: AlertBudget
    """Budget and cooldown."""


# --- the spec -----------------------------------------------------------------------------------


class FeatureSpec(ContractModel):
    """A FeatureSpec (design section 3.1.2).

    Examples
    --------
    >>> from sigma9_runtime.contracts import load_feature_spec
    >>> spec = load_feature_spec("feature_specs/FS_2026-01-16_001.yaml")  # doctest: +SKIP
    >>> [f.key for f in spec.features][:2]  # doctest: +SKIP
    ['intensity.trade_count_z', 'intensity.volume_rvol_tod']
    """

    id: FeatureSpecId
    """Spec id, ``FS_<date>_<nnn>``; Dagster partitions are keyed by it."""
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    """Semantic version of the spec."""
    owner: Annotated[str, Field(min_length=1)]
    """Team or person responsible."""
    created_at: AwareDatetime
    """Creation time with UTC offset."""
    description: str = ""
    """Free text."""
    calendar: Calendar
    """(A) time and session rules."""
    sources: Sources
    """(B) input sources."""
    windows: Annotated[list[Window], Field(min_length=1)]
    """(C) windows shared by online and offline computation."""
    features: Annotated[list[Feature], Field(min_length=1)]
    """(D) features, in model input order."""
    normalization: Normalization
    """(E) normalization, clipping, missing values."""
    runtime_gates: RuntimeGates
    """(F) runtime gates (not part of the schema hash)."""

    def window(self, name: str) -> Window:
        """The window called ``name``."""
        for window in self.windows:
            if window.name == name:
                return window
        raise KeyError(name)

    @model_validator(mode="after")
    def _references_resolve(self) -> FeatureSpec:
        require_unique([w.name for w in self.windows], "window name", ("windows",))
        require_unique([f.key for f in self.features], "feature key", ("features",))
        for index, window in enumerate(self.windows):
            if not self.sources.is_enabled(window.base):
                raise FieldPathError(
                    ("windows", index, "base"), f"window base {window.base!r} is not an enabled source"
                )
        names = [w.name for w in self.windows]
        for index, feature in enumerate(self.features):
            if feature.window not in names:
                raise FieldPathError(
                    ("features", index, "window"),
                    f"window {feature.window!r} is not defined (defined: {', '.join(names)})",
                )
            self._check_inputs(index, feature)
            self._check_window(index, feature)
        halts = self.calendar.treat_halts_as
        if halts != "gap" and not self.sources.is_enabled("tick"):
            raise FieldPathError(
                ("calendar", "treat_halts_as"),
                f"{halts!r} needs trades (a halt is no eligible trade for 300 s), but the tick source is not "
                "enabled (sources.tick.enabled: false); use 'gap'",
            )
        return self

    def _check_window(self, index: int, feature: _FeatureBase) -> None:
        if not isinstance(feature, FlowChangeFeature):
            return
        window = self.window(feature.window)
        bars = window.length.seconds // BAR_BASE_SECONDS[window.base]
        if bars % 2:
            raise FieldPathError(
                ("features", index, "window"),
                f"flow_change compares the two halves of its window, but {window.name} ({window.length}) is "
                f"{bars} {window.base} bars, an odd number: use a window of an even number of bars",
            )

    def _check_inputs(self, index: int, feature: _FeatureBase) -> None:
        many = getattr(feature, "inputs", None) is not None
        for position, ref in enumerate(feature.input_refs()):
            path: tuple[str | int, ...] = (
                ("features", index, "inputs", position) if many else ("features", index, "input")
            )
            source, _, series = ref.partition(".")
            if not self.sources.is_enabled(source):
                needs = "trades (source 'tick')" if source == "tick" else f"source {source!r}"
                raise FieldPathError(
                    path, f"input {ref!r} needs {needs}, which is not enabled (sources.{source}.enabled: false)"
                )
            if series and series not in SOURCE_SERIES[source]:
                known = ", ".join(sorted(SOURCE_SERIES[source]))
                raise FieldPathError(path, f"input {ref!r}: {source} has no series {series!r} (known: {known})")
