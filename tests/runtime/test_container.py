"""The runtime container: config -> registry -> features -> inference -> the strategy chosen by config."""

import pytest
from pydantic import ValidationError

from sigma9_runtime.container import RuntimeConfig, RuntimeContainer, build_strategy
from sigma9_runtime.contracts import load_backtest_run_config
from sigma9_runtime.errors import ArtifactError, MissingArtifactFile, PluginError
from sigma9_runtime.strategies.plugins.seismograph import SeismographStrategy
from sigma9_runtime.strategies.plugins.seismograph_ml import SeismographMLStrategy
from tests.stubs import ROOT, SHIPPED_RUN_CONFIG, runtime_config


def _caller(container: RuntimeContainer) -> tuple[str, str | None]:
    """What a Sigma9 caller does, whatever the plugin: take the strategy and call it."""
    strategy = container.strategy
    return strategy.name, strategy.artifact_id


def test_the_config_chooses_the_plugin_and_the_caller_does_not_change(artifact_store) -> None:
    assert _caller(RuntimeContainer(runtime_config())) == ("seismograph", None)
    ml = RuntimeContainer(runtime_config(strategy="seismograph_ml", artifacts=artifact_store))
    assert _caller(ml) == ("seismograph_ml", "ART_2026-01-16_001")
    assert isinstance(ml.strategy, SeismographMLStrategy)
    # one builder, one gate, one inference: the strategy holds the container's own objects
    assert ml.strategy.features is ml.features and ml.strategy.gate is ml.gate and ml.strategy.inference is ml.inference
    assert ml.reloader is not None and ml.strategy.reloader is ml.reloader


def test_an_import_path_names_a_plugin_as_its_short_name_does(artifact_store) -> None:
    path = "sigma9_runtime.strategies.plugins.seismograph_ml:SeismographMLStrategy"
    container = RuntimeContainer(runtime_config(strategy=path, artifacts=artifact_store))
    assert container.strategy.artifact_id == "ART_2026-01-16_001"


def test_the_heuristic_never_touches_the_store(tmp_path) -> None:
    container = RuntimeContainer(runtime_config(artifacts=tmp_path / "nowhere"))
    assert isinstance(container.strategy, SeismographStrategy)
    assert container.artifact is None and container.inference is None and container.reloader is None


def test_a_pinned_artifact_is_loaded_by_id_and_not_hot_reloaded(artifact_store) -> None:
    config = runtime_config(strategy="seismograph_ml", artifacts=artifact_store, artifact_id="ART_2026-01-16_001")
    container = RuntimeContainer(config)
    assert container.artifact.id == "ART_2026-01-16_001" and container.reloader is None
    missing = runtime_config(strategy="seismograph_ml", artifacts=artifact_store, artifact_id="ART_x")
    with pytest.raises(MissingArtifactFile, match="ART_x"):
        _ = RuntimeContainer(missing).strategy


def test_an_empty_store_or_none_is_refused_for_the_ml_plugin(tmp_path) -> None:
    with pytest.raises(ArtifactError, match="no artifact for FeatureSpec"):
        _ = RuntimeContainer(runtime_config(strategy="seismograph_ml", artifacts=tmp_path)).strategy
    with pytest.raises(PluginError, match="set 'artifacts'"):
        _ = RuntimeContainer(runtime_config(strategy="seismograph_ml")).strategy


def test_gate_budget_and_cooldown_overrides_and_provided_dependencies() -> None:
    container = RuntimeContainer(runtime_config(max_alerts_per_day=5, symbol_cooldown_sec=30))
    assert container.gate.config.max_alerts_per_day == 5 and container.gate.config.symbol_cooldown_sec == 30
    assert container.gate.config.min_dollar_volume_1m == 200_000  # from the spec's runtime_gates
    mine = RuntimeContainer(runtime_config()).features
    assert RuntimeContainer(runtime_config(), features=mine).strategy.features is mine
    with pytest.raises(TypeError, match="no dependency"):
        RuntimeContainer(runtime_config(), scanner=object())


def test_a_run_config_becomes_a_runtime_config() -> None:
    run = load_backtest_run_config(SHIPPED_RUN_CONFIG)
    config = RuntimeConfig.from_run_config(run, base_dir=ROOT, hot_reload=False)
    assert config.strategy == "seismograph_ml" and config.params["use_ml_overlay"] is True
    assert config.artifacts == ROOT / "artifacts" and config.artifact_id is None  # latest: the newest of the spec
    assert config.max_alerts_per_day == 60 and config.symbol_cooldown_sec == 180 and not config.hot_reload
    assert build_strategy(config.model_copy(update={"strategy": "seismograph", "params": {}})).name == "seismograph"


def test_the_feed_skew_and_symbol_cap_reach_the_builder_and_bad_values_are_refused_naming_the_field() -> None:
    default = RuntimeContainer(runtime_config()).features
    assert (default.max_skew_seconds, default.max_symbols) == (8, 20_000)
    features = RuntimeContainer(runtime_config(max_skew_seconds=30, max_symbols=2, symbols=["AAA", "BBB"])).features
    assert (features.max_skew_seconds, features.max_symbols) == (30, 2) and features.symbols == ["AAA", "BBB"]
    assert features._rings["s"].size == default._rings["s"].size + 22  # the rings' slack is the skew
    for changes, field in (
        ({"max_skew_seconds": -1}, "max_skew_seconds"),
        ({"max_skew_seconds": 301}, "max_skew_seconds"),
        ({"max_symbols": 0}, "max_symbols"),
        ({"symbols": ["AAA", "brk.a"]}, "symbols.1"),
        ({"symbols": ["AAA", "BBB", "CCC"], "max_symbols": 2}, "symbols"),
    ):
        with pytest.raises(ValidationError, match=field.replace(".", r"\.")):
            runtime_config(**changes)


def test_each_day_starts_with_the_warm_up_and_previous_closes_of_the_configured_lake(synthetic_lake) -> None:
    """The container, not its hosts, reads a day's start: baselines from earlier minute bars, the previous
    closes that arm the cross rule; without a lake an empty start (history NaN, the rule off)."""
    from sigma9_runtime.lake.closes import day_closes

    day = synthetic_lake.trade_dates()[5]
    symbols = synthetic_lake.trade_tickers()[:3]
    container = RuntimeContainer(runtime_config(lake=synthetic_lake.root, symbols=symbols))
    start = container.day_start(day)
    assert start.day == day and start.previous_close == day_closes(synthetic_lake, day, symbols).closes
    assert set(start.previous_close) == set(symbols)
    assert all(set(per) == set(symbols) for per in start.warmup.baselines.values()) and start.warmup.baselines
    assert container.day_start(day, symbols[:1]).previous_close.keys() == {symbols[0]}

    bare = RuntimeContainer(runtime_config(symbols=symbols)).day_start(day)
    assert bare.previous_close == {} and bare.warmup.baselines == {} and bare.warmup.norm == {}
