from pathlib import Path

from sigma9_runtime.contracts import BacktestRunConfig, FeatureSpec, load_any_contract

ROOT = Path(__file__).resolve().parents[3]


def test_shipped_feature_spec_validates() -> None:
    assert isinstance(load_any_contract(ROOT / "feature_specs" / "FS_2026-01-16_001.yaml"), FeatureSpec)


def test_shipped_run_config_validates() -> None:
    assert isinstance(load_any_contract(ROOT / "run_configs" / "RUN_2026-01-16_001.yaml"), BacktestRunConfig)


def test_minute_bar_feature_spec_reads_neither_trades_nor_second_bars() -> None:
    spec = load_any_contract(ROOT / "feature_specs" / "FS_2026-01-16_003.yaml")
    assert isinstance(spec, FeatureSpec)
    assert not spec.sources.tick.enabled and not spec.sources.bar_1s.enabled
    assert {w.base for w in spec.windows} == {"bar_1m"}
    assert spec.calendar.treat_halts_as == "gap"


def test_minute_bar_run_config_runs_that_spec_without_second_bars() -> None:
    run = load_any_contract(ROOT / "run_configs" / "RUN_2026-01-16_003.yaml")
    assert isinstance(run, BacktestRunConfig)
    assert run.feature_spec_ref.id == "FS_2026-01-16_003"
    assert (ROOT / run.feature_spec_ref.path).is_file()
    assert run.data.intraday.bar_1s is None
    assert run.time.warmup.intraday_warmup_min >= 60  # the spec's longest window is 60 minutes


def test_hour_feature_spec_is_the_demo_spec_plus_an_hour_of_minute_bars() -> None:
    demo = load_any_contract(ROOT / "feature_specs" / "FS_2026-01-16_002.yaml")
    spec = load_any_contract(ROOT / "feature_specs" / "FS_2026-12-05_001.yaml")
    assert isinstance(demo, FeatureSpec) and isinstance(spec, FeatureSpec)
    assert spec.windows[: len(demo.windows)] == demo.windows
    assert spec.window("w60m").length.seconds == 3600 and spec.window("w60m").base == "bar_1m"
    features = {f.key: f for f in spec.features}
    assert all(features[f.key] == f for f in demo.features)  # every 002 feature, unchanged
    assert {f.op for f in spec.features} - {f.op for f in demo.features} == {"log_return", "flow_change"}
    assert {f.key.partition(".")[0] for f in spec.features} == {"intensity", "path", "impact", "vol"}
    assert (spec.calendar, spec.sources, spec.normalization) == (demo.calendar, demo.sources, demo.normalization)


def test_hour_run_config_runs_that_spec_after_an_hour_of_bars() -> None:
    demo = load_any_contract(ROOT / "run_configs" / "RUN_2026-01-16_002.yaml")
    run = load_any_contract(ROOT / "run_configs" / "RUN_2026-12-05_001.yaml")
    assert isinstance(demo, BacktestRunConfig) and isinstance(run, BacktestRunConfig)
    assert run.feature_spec_ref.id == "FS_2026-12-05_001"
    assert (ROOT / run.feature_spec_ref.path).is_file()
    assert run.time.warmup.intraday_warmup_min >= 60  # the spec's longest window is 60 minutes
    assert run.time.warmup.daily_lookback_days >= 60  # it normalizes over 60 days, as 002 does
    assert (run.data, run.strategy, run.splits, run.execution) == (
        demo.data,
        demo.strategy,
        demo.splits,
        demo.execution,
    )
