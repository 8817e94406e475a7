"""The runtime's dependency container: config -> registry -> feature builder -> inference -> strategy.

The Sigma9 container registers one :class:`RuntimeContainer` (or its providers) and hands
``container.strategy`` to its TickDispatcher, RealtimeScanner and IgnitionMonitor. Which plugin runs
(``seismograph`` or ``seismograph_ml`` or an import path) is a line of :class:`RuntimeConfig`; the callers
never change. Every dependency is built once, on first use, in this order::

    spec          FeatureSpec file (the schema hash every artifact is checked against)
    registry      open_registry(artifacts): a directory or object storage, knowing the configured plugin
    features      OnlineFeatureBuilder(spec, symbols, max_skew_seconds, max_symbols)
    gate          MLGate from the spec's runtime_gates (budget/cooldown overrides from the config)
    artifact      registry.load(artifact_id) or load_latest(spec): verified, else an error
    inference     MLInference(artifact, intra_op_threads)
    reloader      ArtifactReloader (hot reload between steps), when hot_reload is on
    feature_log   FeatureLog(path) (consistency log), when a path is set
    strategy      create_strategy(strategy, params=..., features, gate, inference, reloader, feature_log)

and at each day's start :meth:`RuntimeContainer.day_start` reads what the strategy starts the day with from
the lake (``lake``): the warm-up (baselines, normalization statistics) and the previous closes that arm the
cross rule. The live container, ``sigma9 replay`` and the lab's Nautilus host all get their strategy and their
day starts here: nothing else assembles the runtime.

A strategy that needs no artifact (``seismograph``; ``seismograph_ml`` with ``use_ml_overlay: false``
and no store) is built without registry or inference. Any dependency may be given ready-made
(``RuntimeContainer(config, registry=my_registry)``), e.g. by a test or another DI framework.

Examples
--------
>>> container = RuntimeContainer(RuntimeConfig(feature_spec="feature_specs/FS_2026-01-16_001.yaml",
...                                            artifacts="artifacts", strategy="seismograph_ml"))  # doctest: +SKIP
>>> strategy = container.strategy                                                              # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PositiveInt, StringConstraints, field_validator, model_validator

from sigma9_runtime.bounds import MAX_SYMBOLS
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.base import STREAM_CHANNELS, ContractModel, FieldPathError, PluginRef, StreamChannel
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import ArtifactError, PluginError
from sigma9_runtime.features.online import DEFAULT_MAX_SKEW_SECONDS, MAX_SKEW_SECONDS, OnlineFeatureBuilder
from sigma9_runtime.gates import GateConfig, MLGate
from sigma9_runtime.inference.ml_inference import MLInference
from sigma9_runtime.lake.day_start import DayStart
from sigma9_runtime.lake.layout import TICKER_PATTERN
from sigma9_runtime.registry import (
    DEFAULT_PLUGINS,
    OBJECT_STORE_SCHEMES,
    ArtifactRegistry,
    LoadedArtifact,
    is_object_store_url,
    open_registry,
)
from sigma9_runtime.registry.reload import ArtifactReloader
from sigma9_runtime.strategies.base import ScoringStrategy, StrategyParams
from sigma9_runtime.strategies.factory import names_of, resolve_strategy

Ticker = Annotated[str, StringConstraints(pattern=TICKER_PATTERN.pattern)]
"""A ticker as the lake stores it: an upper-case letter, then up to 15 letters, digits, ``.`` or ``-``."""


_SCHEMES = "|".join(re.escape(scheme.removesuffix("://")) for scheme in OBJECT_STORE_SCHEMES)
ObjectStoreUrl = Annotated[str, StringConstraints(pattern=rf"^({_SCHEMES})://[^/?#]+")]
"""An artifact store in object storage (``s3://bucket/prefix``)."""


class RuntimeConfig(ContractModel):
    """What the runtime container builds.

    Attributes
    ----------
    feature_spec
        The FeatureSpec file the runtime computes features with.
    artifacts
        The artifact store: a directory, or object storage by URL (``s3://bucket/prefix``; checked on a local
        copy, :class:`~sigma9_runtime.registry.ObjectStoreArtifactRegistry`). None: no store; only plugins that
        need no artifact can run.
    strategy
        The scoring plugin: ``seismograph``, ``seismograph_ml`` or ``package.module:Class``.
    params
        The plugin's parameters (``run_config.strategy.params``).
    artifact_id
        Pin one artifact (default: the newest for the FeatureSpec).
    subscribed_streams
        Channels the runtime subscribes to (an artifact requiring others is refused).
    intra_op_threads
        onnxruntime threads per call.
    hot_reload, reload_interval_sec
        Poll the store for a newer artifact between steps, at most every so many event-time seconds.
    max_alerts_per_day, symbol_cooldown_sec
        Override the FeatureSpec's ``runtime_gates.alert_budget`` (a run config's evaluation budget).
    symbols
        Symbols known up front (others join on their first tick); tickers, at most ``max_symbols``.
    feature_log
        Parquet file to log the scored feature rows to (consistency log); None: no log.
    max_skew_seconds
        Seconds a live event may be stamped beyond the next emission step after the feed clock (the last
        step); later ones are dropped as ``future_timestamp``. Also the feature rings' slack, so the default
        (8) keeps replays and backtests as they were; at most 300.
    lake
        The lake root each day's warm-up and previous closes are read from (:meth:`RuntimeContainer.day_start`;
        None: no lake, features needing history are NaN and the cross rule is off).
    max_symbols
        Most symbols the runtime tracks (default 20,000; the US equity universe is about 12,000 tickers);
        events of further new symbols are dropped as ``symbol_cap``. Memory grows by about 40 KB (the
        shipped ``FS_2026-01-16_001``) per symbol (``sigma9_runtime/features/online.py``).
    """

    feature_spec: Path
    artifacts: Path | ObjectStoreUrl | None = None
    strategy: PluginRef = "seismograph_ml"
    params: dict[str, str | int | float | bool | None] = {}
    artifact_id: str | None = None
    subscribed_streams: list[StreamChannel] = Field(default_factory=lambda: list(STREAM_CHANNELS))
    intra_op_threads: PositiveInt = 1
    hot_reload: bool = True
    reload_interval_sec: int = Field(default=60, ge=0)
    max_alerts_per_day: PositiveInt | None = None
    symbol_cooldown_sec: PositiveInt | None = None
    symbols: list[Ticker] = []
    feature_log: Path | None = None
    lake: Path | None = None
    max_skew_seconds: int = Field(default=DEFAULT_MAX_SKEW_SECONDS, ge=0, le=MAX_SKEW_SECONDS)
    max_symbols: PositiveInt = MAX_SYMBOLS

    @field_validator("artifacts", mode="before")
    @classmethod
    def _store_location(cls, value: Any) -> Any:
        """A URL of object storage stays a URL; anything else is a directory."""
        return value if value is None or is_object_store_url(value) else Path(value)

    @model_validator(mode="after")
    def _symbols_within_cap(self) -> RuntimeConfig:
        if len(set(self.symbols)) > self.max_symbols:
            raise FieldPathError(
                ("symbols",), f"{len(set(self.symbols))} symbols exceed max_symbols ({self.max_symbols})"
            )
        return self

    @classmethod
    def from_run_config(cls, run: BacktestRunConfig, *, base_dir: Path | str = ".", **changes: Any) -> RuntimeConfig:
        """The runtime of a BacktestRunConfig: its spec, plugin, params, artifact and evaluation budget
        (relative paths resolve against ``base_dir``); ``changes`` override fields."""
        base = Path(base_dir)
        values: dict[str, Any] = {
            "feature_spec": base / run.feature_spec_ref.path,
            "strategy": run.strategy.plugin,
            "params": dict(run.strategy.params),
            "max_alerts_per_day": run.evaluation.alert_budget.max_alerts_per_day,
            "symbol_cooldown_sec": run.evaluation.alert_budget.symbol_cooldown_sec,
        }
        if run.artifact_ref is not None:
            root = run.artifact_ref.store_root()
            values["artifacts"] = root if is_object_store_url(root) else base / root
            values["artifact_id"] = run.artifact_ref.artifact_id()  # None: the newest of the spec
        values.update(changes)
        return cls(**values)


class RuntimeContainer:
    """Builds and holds the runtime's dependencies (see the module docstring)."""

    def __init__(self, config: RuntimeConfig, **provided: Any) -> None:
        self.config = config
        for name, value in provided.items():
            if name not in _PROVIDERS:
                raise TypeError(f"RuntimeContainer has no dependency {name!r} (known: {', '.join(_PROVIDERS)})")
            self.__dict__[name] = value  # a cached_property reads the instance dict first

    # --- providers ------------------------------------------------------------------------------

    @cached_property
    def spec(self) -> FeatureSpec:
        """The runtime's FeatureSpec."""
        from sigma9_runtime.contracts.io import load_feature_spec

        return load_feature_spec(self.config.feature_spec)

    @cached_property
    def strategy_class(self) -> type[ScoringStrategy]:
        """The configured plugin's class (PluginError when it cannot be resolved)."""
        return resolve_strategy(self.config.strategy)

    @cached_property
    def strategy_params(self) -> StrategyParams:
        """The configured params, validated by the plugin."""
        return self.strategy_class.parse_params(self.config.params)

    @cached_property
    def registry(self) -> ArtifactRegistry | None:
        """The artifact store (None without ``artifacts``)."""
        if self.config.artifacts is None:
            return None
        known = DEFAULT_PLUGINS | names_of(self.config.strategy)
        return open_registry(self.config.artifacts, known_plugins=known)

    @cached_property
    def features(self) -> OnlineFeatureBuilder:
        """The online feature builder."""
        config = self.config
        return OnlineFeatureBuilder(
            self.spec, config.symbols, max_skew_seconds=config.max_skew_seconds, max_symbols=config.max_symbols
        )

    @cached_property
    def gate(self) -> MLGate:
        """The alert gate."""
        config = GateConfig.from_feature_spec(self.spec)
        overrides = {
            k: v
            for k, v in (
                ("max_alerts_per_day", self.config.max_alerts_per_day),
                ("symbol_cooldown_sec", self.config.symbol_cooldown_sec),
            )
            if v is not None
        }
        return MLGate(config.model_copy(update=overrides) if overrides else config)

    @property
    def uses_artifact(self) -> bool:
        """Whether the strategy scores with an artifact: it needs one, or it can use one and a store is set."""
        cls = self.strategy_class
        return cls.needs_artifact(self.strategy_params) or (cls.uses_artifact and self.config.artifacts is not None)

    @cached_property
    def artifact(self) -> LoadedArtifact | None:
        """The verified artifact (None when the strategy does not use one)."""
        if not self.uses_artifact:
            return None
        registry = self.registry
        if registry is None:
            raise PluginError(f"strategy {self.config.strategy!r} scores with an artifact; set 'artifacts'")
        streams = self.config.subscribed_streams
        if self.config.artifact_id is not None:
            return registry.load(self.config.artifact_id, self.spec, subscribed_streams=streams)
        return registry.load_latest(self.spec, subscribed_streams=streams)

    @cached_property
    def inference(self) -> MLInference | None:
        """The artifact's inference (None without an artifact)."""
        artifact = self.artifact
        return None if artifact is None else self.make_inference(artifact)

    def make_inference(self, artifact: LoadedArtifact) -> MLInference:
        """An MLInference with the configured thread count (also used by the reloader)."""
        return MLInference(artifact, intra_op_threads=self.config.intra_op_threads)

    @cached_property
    def reloader(self) -> ArtifactReloader | None:
        """Hot reload of newer artifacts (None when off, pinned to one id, or without an artifact)."""
        artifact = self.artifact
        if artifact is None or not self.config.hot_reload or self.config.artifact_id is not None:
            return None
        if self.registry is None:  # pragma: no cover - an artifact implies a registry
            raise ArtifactError("hot reload needs an artifact store")
        return ArtifactReloader(
            self.registry,
            self.spec,
            self.config.subscribed_streams,
            artifact,
            make_inference=self.make_inference,
            interval_sec=self.config.reload_interval_sec,
        )

    @cached_property
    def feature_log(self) -> Any:
        """The consistency log (None without ``feature_log``)."""
        if self.config.feature_log is None:
            return None
        from sigma9_runtime.features.consistency_log import FeatureLog

        return FeatureLog(self.config.feature_log, self.spec)

    @cached_property
    def strategy(self) -> ScoringStrategy:
        """The configured scoring strategy, wired to every dependency above."""
        return self.strategy_class(
            self.features,
            self.gate,
            params=self.strategy_params,
            inference=self.inference,
            reloader=self.reloader,
            feature_log=self.feature_log,
        )

    def day_start(self, day: dt.date, symbols: list[str] | None = None) -> DayStart:
        """What the strategy starts ``day`` with for ``symbols`` (default: every symbol the builder knows): the
        warm-up and previous closes read from the configured ``lake``, or an empty start without one. Hand it
        to ``start_day`` (the strategy's or a dispatcher's)."""
        if self.config.lake is None:
            return DayStart.empty(day)
        from sigma9_runtime.features.plan import FeaturePlan
        from sigma9_runtime.lake.day_start import day_start
        from sigma9_runtime.lake.layout import LakeLayout

        chosen = list(self.features.symbols) if symbols is None else list(symbols)
        return day_start(LakeLayout(self.config.lake), FeaturePlan.from_spec(self.spec), day, chosen)

    def close(self) -> None:
        """Flush what must outlive the process (the consistency log)."""
        log = self.__dict__.get("feature_log")
        if log is not None:
            log.close()


_PROVIDERS = (
    "spec",
    "strategy_class",
    "strategy_params",
    "registry",
    "features",
    "gate",
    "artifact",
    "inference",
    "reloader",
    "feature_log",
    "strategy",
)


def build_strategy(config: RuntimeConfig, **provided: Any) -> ScoringStrategy:
    """The strategy of ``config`` (a one-line shortcut of :class:`RuntimeContainer`)."""
    return RuntimeContainer(config, **provided).strategy
