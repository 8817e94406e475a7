"""The scoring plugin under test: the runtime's own :class:`~sigma9_runtime.strategies.base.ScoringStrategy`,
built by the runtime's one assembly, :class:`~sigma9_runtime.container.RuntimeContainer`, from the run config
(:meth:`~sigma9_runtime.container.RuntimeConfig.from_run_config`: plugin, params, the run's budget and
cooldown) with the run's FeatureSpec and verified artifact handed in ready-made (no hot reload: a backtest
scores with one artifact). Only the runtime's ``PluginError`` is wrapped into a
:class:`~sigma9_runtime.errors.SpecError` that names the run config's field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sigma9_runtime.container import RuntimeConfig, RuntimeContainer
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import PluginError, SpecError
from sigma9_runtime.registry.base import LoadedArtifact
from sigma9_runtime.strategies.base import ScoringStrategy
from sigma9_runtime.strategies.factory import resolve_strategy

PLUGIN_FIELD = "backtest_run.strategy.plugin"
PARAMS_FIELD = "backtest_run.strategy.params"


def plugin_class(plugin: str) -> type[ScoringStrategy]:
    """The strategy class of ``plugin``; a :class:`SpecError` naming the field when it does not resolve."""
    try:
        return resolve_strategy(plugin)
    except PluginError as e:
        raise SpecError(str(e), field=PLUGIN_FIELD) from e


def needs_artifact(plugin: str, params: Mapping[str, Any]) -> bool:
    """Whether ``plugin`` with ``params`` scores with an artifact."""
    cls = plugin_class(plugin)
    try:
        parsed = cls.parse_params(params)
    except PluginError as e:
        raise SpecError(str(e), field=PARAMS_FIELD) from e
    return cls.needs_artifact(parsed)


def make_runtime(
    run: BacktestRunConfig,
    spec: FeatureSpec,
    symbols: Sequence[str],
    artifact: LoadedArtifact | None,
    lake: Path | None = None,
) -> RuntimeContainer:
    """The runtime of the run over ``symbols`` as the live container assembles it: the run's plugin, gate and the
    artifact's inference (``.strategy``), and each day's warm-up and previous closes read from ``lake``
    (``.day_start(day)``). An unknown plugin or invalid params is a :class:`SpecError` naming the field."""
    config = RuntimeConfig.from_run_config(run, symbols=list(symbols), hot_reload=False, lake=lake)
    container = RuntimeContainer(config, spec=spec, artifact=artifact)
    try:
        container.strategy  # noqa: B018 - built now, so a bad plugin fails before any data is read
    except PluginError as e:
        raise SpecError(str(e), field=PLUGIN_FIELD) from e
    return container
