"""The scoring plugin under test: the runtime's own :class:`~sigma9_runtime.strategies.base.ScoringStrategy`,
resolved by the runtime's one factory from a run config's ``strategy.plugin`` and ``strategy.params``.

The backtest builds it exactly as the live container does (an
:class:`~sigma9_runtime.features.online.OnlineFeatureBuilder` of the spec, the
:class:`~sigma9_runtime.gates.MLGate` with the run's budget and cooldown, and
:class:`~sigma9_runtime.inference.MLInference` of the verified artifact), and only wraps the runtime's
``PluginError`` into a :class:`~sigma9_runtime.errors.SpecError` that names the run config's field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.errors import PluginError, SpecError
from sigma9_runtime.features.online import OnlineFeatureBuilder
from sigma9_runtime.gates import MLGate
from sigma9_runtime.registry.base import LoadedArtifact
from sigma9_runtime.strategies.base import ScoringStrategy
from sigma9_runtime.strategies.factory import create_strategy, resolve_strategy

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


def make_plugin(
    run: BacktestRunConfig, spec: FeatureSpec, symbols: Sequence[str], artifact: LoadedArtifact | None
) -> ScoringStrategy:
    """The run's plugin over ``symbols``, with the run's gate and the artifact's inference."""
    from sigma9_runtime.inference import MLInference

    inference = MLInference(artifact) if artifact is not None else None
    try:
        return create_strategy(
            run.strategy.plugin,
            params=run.strategy.params,
            features=OnlineFeatureBuilder(spec, list(symbols)),
            gate=MLGate.from_feature_spec(spec, run),
            inference=inference,
        )
    except PluginError as e:
        raise SpecError(str(e), field=PLUGIN_FIELD) from e
