"""BacktestRunConfig: a reproducible definition of one lab backtest (design section 4.2).

A run config file (``run_configs/RUN_*.yaml``) holds one top-level key ``backtest_run``.
Relative paths in it resolve against the directory the command runs in (the project root).
"""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    StringConstraints,
    model_validator,
)

from sigma9_runtime.contracts.base import (
    ArtifactId,
    ContractModel,
    FeatureSpecId,
    FieldPathError,
    PluginRef,
    RunId,
    Session,
    TimeZoneName,
    require_ordered,
    require_unique,
)

PathTemplate = Annotated[str, StringConstraints(pattern=r"\{ticker\}")]
"""A path relative to ``parquet_root`` with a ``{ticker}`` placeholder (``1m/{ticker}.parquet``)."""

NonEmpty = Annotated[str, Field(min_length=1)]


class DailyData(ContractModel):
    """Daily bars."""

    path: NonEmpty = "daily/all_daily.parquet"
    """Daily table relative to ``parquet_root``."""


class BarData(ContractModel):
    """Per-ticker intraday bar files."""

    path_glob: PathTemplate
    """File per ticker relative to ``parquet_root``, with ``{ticker}``."""


class IntradayData(ContractModel):
    """Intraday bar sources; leave ``bar_1s`` out (null) to disable it."""

    bar_1m: BarData
    """One-minute bars."""
    bar_1s: BarData | None = None
    """One-second bars, or null when not used."""


class Universe(ContractModel):
    """Which tickers the run covers."""

    source: Literal["watchlist", "csv", "query"]
    """``watchlist``: the tickers listed here; ``csv``: a file with a ``ticker`` column; ``query``: a DuckDB query
    over the lake views returning a ``ticker`` column."""
    tickers: list[Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9.\-]*$")]] | None = None
    """Tickers for ``watchlist``."""
    tickers_csv: NonEmpty | None = None
    """CSV path for ``csv``."""
    query: NonEmpty | None = None
    """SQL for ``query``."""

    @model_validator(mode="after")
    def _source_has_its_field(self) -> Universe:
        needed = {"watchlist": "tickers", "csv": "tickers_csv", "query": "query"}[self.source]
        if not getattr(self, needed):
            raise FieldPathError((needed,), f"required when source is {self.source!r}")
        return self


class DataConfig(ContractModel):
    """(A) data inputs."""

    parquet_root: NonEmpty
    """Lake root."""
    daily: DailyData = DailyData()
    """Daily bars."""
    intraday: IntradayData
    """Intraday bars."""
    universe: Universe
    """Universe."""


class StrategyConfig(ContractModel):
    """(B) strategy under test and its comparison base."""

    plugin: PluginRef
    """Scoring plugin under test (``seismograph_ml``)."""
    base_plugin: PluginRef = "seismograph"
    """Comparison plugin (``seismograph``)."""
    params: dict[str, str | int | float | bool | None] = {}
    """Plugin parameters (``score_version``, ``use_ml_overlay``)."""


class FeatureSpecPath(ContractModel):
    """The FeatureSpec the run uses."""

    id: FeatureSpecId
    """FeatureSpec id."""
    path: NonEmpty
    """Path of the spec file."""


LATEST = "latest"
"""``artifact_ref.id`` naming the newest artifact of the run's FeatureSpec in ``artifact_ref.store``."""


class ArtifactRef(ContractModel):
    """The artifact the run scores with: one artifact by its manifest (``id`` + ``manifest_path``), or an id
    or the newest of the run's FeatureSpec (``id: latest``) in an artifact store (``store``)."""

    id: ArtifactId | Literal["latest"]
    """Artifact id, or ``latest``: the store's newest artifact of the run's FeatureSpec when the run starts."""
    manifest_path: NonEmpty | None = None
    """Path of its manifest (``<store>/manifests/<id>.json``)."""
    store: NonEmpty | None = None
    """The artifact store's root directory (instead of ``manifest_path``)."""

    @model_validator(mode="after")
    def _one_way_to_the_store(self) -> ArtifactRef:
        if (self.manifest_path is None) == (self.store is None):
            raise FieldPathError(("store",), "give exactly one of manifest_path and store")
        if self.id == LATEST and self.manifest_path is not None:
            raise FieldPathError(("manifest_path",), "names one artifact's manifest; with id latest give store")
        return self

    def store_root(self) -> str:
        """The store's root as written (``store``, else the directory above ``manifest_path``'s folder)."""
        if self.store is not None:
            return self.store
        assert self.manifest_path is not None
        return str(PurePosixPath(self.manifest_path).parent.parent)

    def artifact_id(self) -> str | None:
        """The id the run names (None: the newest of its FeatureSpec)."""
        return None if self.id == LATEST else self.id


class Warmup(ContractModel):
    """History loaded before the first scored minute."""

    daily_lookback_days: PositiveInt
    """Trading days of daily bars."""
    intraday_warmup_min: NonNegativeInt
    """Minutes of intraday data before scoring starts each day."""


class TimeConfig(ContractModel):
    """(C) time range."""

    timezone: TimeZoneName = "America/New_York"
    """Time zone of dates and sessions."""
    start: dt.date
    """First date."""
    end: dt.date
    """Last date."""
    session_filter: Annotated[list[Session], Field(min_length=1)]
    """Sessions replayed."""
    warmup: Warmup
    """Warm-up."""

    @model_validator(mode="after")
    def _ordered(self) -> TimeConfig:
        require_ordered(self.start, self.end, ("end",), "start", "end", strict=False)
        require_unique(self.session_filter, "session", ("session_filter",))
        return self


class OOSHoldout(ContractModel):
    """One train period followed by one test period."""

    type: Literal["oos_holdout"]
    """Split kind."""
    train_end: dt.date
    """Last training date."""
    test_start: dt.date
    """First test date."""
    test_end: dt.date
    """Last test date."""

    @model_validator(mode="after")
    def _ordered(self) -> OOSHoldout:
        require_ordered(self.train_end, self.test_start, ("test_start",), "train_end", "test_start", strict=True)
        require_ordered(self.test_start, self.test_end, ("test_end",), "test_start", "test_end", strict=False)
        return self


class WalkForward(ContractModel):
    """Rolling train/test folds."""

    type: Literal["walk_forward"]
    """Split kind."""
    train_days: PositiveInt
    """Trading days per training period."""
    test_days: PositiveInt
    """Trading days per test period."""
    step_days: PositiveInt
    """Trading days between fold starts."""
    embargo_days: NonNegativeInt = 0
    """Trading days left out between train and test."""


Splits = Annotated[OOSHoldout | WalkForward, Field(discriminator="type")]


class SlippageParams(ContractModel):
    """Parameters of ``spread_pct_plus``."""

    spread_mult: NonNegativeFloat
    """Multiple of the half spread paid."""
    fixed_bps: NonNegativeFloat
    """Fixed extra slippage in basis points."""


class Slippage(ContractModel):
    """Slippage model."""

    model: Literal["spread_pct_plus"]
    """Half spread x spread_mult plus fixed_bps."""
    params: SlippageParams
    """Model parameters."""


class CommissionParams(ContractModel):
    """Parameters of ``ib_like``."""

    per_share: NonNegativeFloat
    """USD per share."""
    min: NonNegativeFloat
    """Minimum USD per order."""


class Commission(ContractModel):
    """Commission model."""

    model: Literal["ib_like"]
    """Per share with a per-order minimum."""
    params: CommissionParams
    """Model parameters."""


class Latency(ContractModel):
    """Latencies."""

    feed_ms: NonNegativeInt
    """Market data delay in milliseconds."""
    order_ms: NonNegativeInt
    """Order delay in milliseconds."""


class Execution(ContractModel):
    """(D) execution realism."""

    fill_model: Literal["next_bar_open", "mid", "conservative"]
    """How orders fill."""
    slippage: Slippage
    """Slippage."""
    commission: Commission
    """Commission."""
    latency: Latency
    """Latency."""


class EvalAlertBudget(ContractModel):
    """Alert budget for evaluation."""

    max_alerts_per_day: PositiveInt
    """Alerts per session day."""
    symbol_cooldown_sec: PositiveInt
    """Seconds before the same symbol may alert again."""


class LeadTime(ContractModel):
    """Lead-time target window in minutes."""

    target_min: NonNegativeFloat
    """Earliest useful lead."""
    target_max: PositiveFloat
    """Latest useful lead (the look-ahead horizon)."""

    @model_validator(mode="after")
    def _ordered(self) -> LeadTime:
        if self.target_min > self.target_max:
            raise FieldPathError(
                ("target_min",), f"target_min ({self.target_min}) must not exceed target_max ({self.target_max})"
            )
        return self


MetricName = Literal[
    "precision_at_budget", "actionable_precision_at_budget", "median_lead_time", "tail_loss_p95", "utility_score"
]
BaselineName = Literal["seismograph_only", "random_budget_matched"]


class Evaluation(ContractModel):
    """(E) alert-centred evaluation."""

    alert_budget: EvalAlertBudget
    """Budget and cooldown."""
    lead_time: LeadTime
    """Lead-time target."""
    metrics: Annotated[list[MetricName], Field(min_length=1)]
    """Metrics reported."""
    baselines: list[BaselineName] = []
    """Baselines evaluated on the same days."""

    @model_validator(mode="after")
    def _unique(self) -> Evaluation:
        require_unique(self.metrics, "metric", ("metrics",))
        require_unique(self.baselines, "baseline", ("baselines",))
        return self


class Output(ContractModel):
    """(F) outputs."""

    base_dir: NonEmpty
    """Output directory of the run."""
    write_trades: bool = True
    """Write trades."""
    write_alerts: bool = True
    """Write alerts."""
    write_equity_curve: bool = True
    """Write the equity curve."""
    write_sigma9_backtest_report: bool = True
    """Write a Sigma9 BacktestReport-compatible JSON."""


class BacktestRunConfig(ContractModel):
    """A backtest run (design section 4.2)."""

    id: RunId
    """Run id, ``RUN_<...>``."""
    created_at: AwareDatetime
    """Creation time with UTC offset."""
    engine: Literal["nautilus"]
    """Backtest engine."""
    mode: Literal["batch", "walk_forward"]
    """One pass over the split, or walk-forward folds."""
    seed: NonNegativeInt = 0
    """Seed for every random choice of the run (fills, random baseline)."""
    data: DataConfig
    """(A) data."""
    strategy: StrategyConfig
    """(B) strategy."""
    feature_spec_ref: FeatureSpecPath
    """FeatureSpec used."""
    artifact_ref: ArtifactRef | None = None
    """Artifact scored with (required by ML plugins)."""
    time: TimeConfig
    """(C) time range."""
    splits: Splits
    """Train/test split."""
    execution: Execution
    """(D) execution."""
    evaluation: Evaluation
    """(E) evaluation."""
    output: Output
    """(F) outputs."""

    @model_validator(mode="after")
    def _consistent(self) -> BacktestRunConfig:
        expected = "walk_forward" if self.mode == "walk_forward" else "oos_holdout"
        if self.splits.type != expected:
            raise FieldPathError(("splits", "type"), f"mode {self.mode!r} needs splits of type {expected!r}")
        if isinstance(self.splits, OOSHoldout):
            require_ordered(
                self.time.start, self.splits.train_end, ("splits", "train_end"), "time.start", "train_end", strict=False
            )
            require_ordered(
                self.splits.test_end, self.time.end, ("splits", "test_end"), "test_end", "time.end", strict=False
            )
        if self.strategy.plugin == "seismograph_ml" and self.artifact_ref is None:
            raise FieldPathError(
                ("artifact_ref",), f"plugin {self.strategy.plugin!r} scores with an artifact; set artifact_ref"
            )
        return self
