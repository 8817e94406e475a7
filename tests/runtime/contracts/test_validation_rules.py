"""Every validation rule of the three contracts rejects a bad example with a SpecError naming the field path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from sigma9_runtime.contracts import (
    ArtifactManifest,
    BacktestRunConfig,
    FeatureSpec,
    load_contract,
    parse_contract,
)
from sigma9_runtime.errors import Sigma9Error, SpecError
from tests.stubs import (
    artifact_manifest_document,
    feature_spec_document,
    hour_feature_spec_document,
    minute_bar_feature_spec_document,
    run_config_document,
    write_yaml,
)


def rejection(model: type[BaseModel], document: dict[str, Any]) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_contract(model, document)
    return info.value


def assert_rejected(model: type[BaseModel], document: dict[str, Any], field: str, *fragments: str) -> SpecError:
    """``document`` is refused at exactly ``field``, with a message containing every fragment."""
    error = rejection(model, document)
    assert error.field == field, str(error)
    assert str(error).startswith(f"{field}: "), str(error)
    for fragment in fragments:
        assert fragment in error.reason, str(error)
    return error


def spec_body(document: dict[str, Any]) -> dict[str, Any]:
    return document["feature_spec"]


def manifest_body(document: dict[str, Any]) -> dict[str, Any]:
    return document["artifact_manifest"]


def run_body(document: dict[str, Any]) -> dict[str, Any]:
    return document["backtest_run"]


# --- the valid examples are valid ---------------------------------------------------------------


def test_the_unmodified_examples_are_accepted() -> None:
    assert isinstance(parse_contract(FeatureSpec, feature_spec_document()), FeatureSpec)
    assert isinstance(parse_contract(ArtifactManifest, artifact_manifest_document()), ArtifactManifest)
    assert isinstance(parse_contract(BacktestRunConfig, run_config_document()), BacktestRunConfig)


def test_spec_error_is_a_sigma9_error_and_a_value_error_is_not_leaked() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][0]["window"] = "w16s"

    with pytest.raises(Sigma9Error) as info:
        parse_contract(FeatureSpec, document)

    assert isinstance(info.value, SpecError)
    assert isinstance(info.value.__cause__, ValidationError)


def test_validation_error_through_load_contract_names_file_line_and_field(tmp_path: Path) -> None:
    document = feature_spec_document()
    spec_body(document)["features"][1]["window"] = "w16s"
    path = write_yaml(tmp_path / "spec.yaml", document)

    with pytest.raises(SpecError) as info:
        load_contract(FeatureSpec, path)

    assert info.value.field == "feature_spec.features[1].window"
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}:{info.value.line}: feature_spec.features[1].window: ")


# --- FeatureSpec: references ----------------------------------------------------------------------


def test_feature_spec_rejects_feature_whose_window_is_not_defined() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][0]["window"] = "w16s"

    assert_rejected(
        FeatureSpec, document, "feature_spec.features[0].window", "'w16s' is not defined", "w5s, w15s, w60s, w5m"
    )


def test_feature_spec_rejects_feature_input_naming_a_disabled_source() -> None:
    document = feature_spec_document()
    spec_body(document)["sources"]["tick"]["enabled"] = False

    assert_rejected(FeatureSpec, document, "feature_spec.features[0].input", "'tick'", "not enabled")


def test_feature_spec_rejects_ratio_input_naming_a_disabled_source() -> None:
    document = feature_spec_document()
    body = spec_body(document)
    body["sources"]["tick"]["enabled"] = False
    body["features"] = [body["features"][3]]  # the ratio, whose second input is tick.signed_volume_proxy

    assert_rejected(FeatureSpec, document, "feature_spec.features[0].inputs[1]", "'tick'", "not enabled")


def test_feature_spec_rejects_window_over_a_disabled_bar_source() -> None:
    document = feature_spec_document()
    spec_body(document)["sources"]["bar_1s"]["enabled"] = False

    assert_rejected(FeatureSpec, document, "feature_spec.windows[0].base", "'bar_1s'", "not an enabled source")


def test_feature_spec_rejects_input_from_a_disabled_source_even_when_windows_allow_it() -> None:
    document = feature_spec_document()
    body = spec_body(document)
    body["sources"]["bar_1m"]["enabled"] = False
    body["windows"] = [w for w in body["windows"] if w["base"] != "bar_1m"]
    body["features"][2]["input"] = "bar_1m"

    assert_rejected(FeatureSpec, document, "feature_spec.features[2].input", "'bar_1m'", "not enabled")


@pytest.mark.parametrize(("position", "ref"), [(0, "bar_1s.close_ret"), (1, "tick.signed_volume")])
def test_feature_spec_rejects_ratio_input_with_an_unknown_series(position: int, ref: str) -> None:
    document = feature_spec_document()
    spec_body(document)["features"][3]["inputs"][position] = ref

    assert_rejected(FeatureSpec, document, f"feature_spec.features[3].inputs[{position}]", f"{ref!r}", "has no series")


def test_feature_spec_rejects_input_that_names_no_known_source() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][0]["input"] = "quotes"

    assert_rejected(FeatureSpec, document, "feature_spec.features[0].input", "'quotes'")


def test_feature_spec_rejects_unknown_op() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][0]["op"] = "ewma"

    error = rejection(FeatureSpec, document)

    assert error.field is not None and error.field.startswith("feature_spec.features[0]")
    assert "'ewma'" in error.reason


def test_feature_spec_rejects_params_of_another_op() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][2]["params"] = {"lookback": "20d_tod"}  # zscore params on a linreg_slope

    assert_rejected(FeatureSpec, document, "feature_spec.features[2].params.lookback", "unknown field")


def test_feature_spec_rejects_range_pct_with_wrong_order_of_fields() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][4]["params"]["use"] = ["low", "high", "close"]

    assert_rejected(FeatureSpec, document, "feature_spec.features[4].params.use", "[high, low, close]")


# --- FeatureSpec: log_return and flow_change --------------------------------------------------------


def _hour_feature_index(document: dict[str, Any], key: str) -> int:
    return [f["key"] for f in spec_body(document)["features"]].index(key)


@pytest.mark.parametrize(
    ("key", "window", "described"),
    [
        ("intensity.volume_change_60m", "w15m", "w15m (15m) is 15 bar_1m bars"),
        ("intensity.trade_count_change_5m", "w15s", "w15s (15s) is 15 bar_1s bars"),
    ],
)
def test_feature_spec_rejects_flow_change_over_a_window_of_an_odd_number_of_bars(
    key: str, window: str, described: str
) -> None:
    document = hour_feature_spec_document()
    index = _hour_feature_index(document, key)
    spec_body(document)["features"][index]["window"] = window

    assert_rejected(FeatureSpec, document, f"feature_spec.features[{index}].window", described, "even number")


def test_feature_spec_accepts_flow_change_over_a_window_of_an_even_number_of_bars() -> None:
    document = hour_feature_spec_document()
    index = _hour_feature_index(document, "intensity.volume_change_60m")
    spec_body(document)["features"][index]["window"] = "w60s"  # 60 bar_1s bars
    spec_body(document)["features"][index]["input"] = "bar_1s.volume"

    assert parse_contract(FeatureSpec, document).features[index].window == "w60s"


@pytest.mark.parametrize("params", [{}, {"on": "close"}])
def test_feature_spec_accepts_log_return_with_empty_or_close_params(params: dict[str, str]) -> None:
    document = hour_feature_spec_document()
    index = _hour_feature_index(document, "path.log_return_30m")
    spec_body(document)["features"][index]["params"] = params

    assert parse_contract(FeatureSpec, document).features[index].params.on == "close"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("field", "value"), [("input", "tick"), ("input", "bar_1m.volume"), ("params", {"on": "vwap"})]
)
def test_feature_spec_rejects_log_return_of_anything_but_a_bars_close(field: str, value: Any) -> None:
    document = hour_feature_spec_document()
    index = _hour_feature_index(document, "path.log_return_30m")
    spec_body(document)["features"][index][field] = value

    error = rejection(FeatureSpec, document)
    assert error.field is not None and error.field.startswith(f"feature_spec.features[{index}].{field}"), str(error)


def test_feature_spec_rejects_flow_change_params() -> None:
    document = hour_feature_spec_document()
    index = _hour_feature_index(document, "intensity.volume_change_30m")
    spec_body(document)["features"][index]["params"] = {"halves": 3}

    assert_rejected(FeatureSpec, document, f"feature_spec.features[{index}].params.halves", "unknown field")


# --- FeatureSpec: what needs trades, and bar-based series ----------------------------------------


def test_feature_spec_rejects_tick_input_saying_the_tick_source_is_disabled() -> None:
    document = feature_spec_document()
    spec_body(document)["sources"]["tick"]["enabled"] = False

    assert_rejected(
        FeatureSpec, document, "feature_spec.features[0].input", "needs trades", "sources.tick.enabled: false"
    )


def test_feature_spec_rejects_a_tick_input_among_minute_bar_features_when_ticks_are_disabled() -> None:
    document = minute_bar_feature_spec_document()
    spec_body(document)["features"][10]["inputs"][1] = "tick.signed_volume_proxy"
    spec_body(document)["features"][10]["params"]["signed_proxy"] = "tick_rule"

    assert_rejected(
        FeatureSpec, document, "feature_spec.features[10].inputs[1]", "'tick.signed_volume_proxy'", "not enabled"
    )


@pytest.mark.parametrize("policy", ["forward_fill", "drop"])
def test_feature_spec_rejects_a_halt_policy_that_needs_trades_when_the_tick_source_is_disabled(policy: str) -> None:
    document = minute_bar_feature_spec_document()
    spec_body(document)["calendar"]["treat_halts_as"] = policy

    assert_rejected(
        FeatureSpec,
        document,
        "feature_spec.calendar.treat_halts_as",
        f"{policy!r} needs trades",
        "sources.tick.enabled: false",
        "'gap'",
    )


def test_feature_spec_accepts_a_halt_policy_that_needs_trades_when_the_tick_source_is_enabled() -> None:
    document = feature_spec_document()
    spec_body(document)["calendar"]["treat_halts_as"] = "drop"

    assert parse_contract(FeatureSpec, document).calendar.treat_halts_as == "drop"


@pytest.mark.parametrize("source", ["bar_1s", "bar_1m"])
@pytest.mark.parametrize("series", ["transactions", "signed_volume_proxy"])
def test_feature_spec_accepts_bar_trade_count_and_signed_volume_proxy_series(source: str, series: str) -> None:
    document = feature_spec_document()
    body = spec_body(document)
    window = "w60s" if source == "bar_1s" else "w5m"
    body["features"].append(
        {
            "key": "extra.z",
            "window": window,
            "op": "zscore",
            "input": f"{source}.{series}",
            "params": {"lookback": "20d"},
        }
    )

    assert parse_contract(FeatureSpec, document).features[-1].input == f"{source}.{series}"


@pytest.mark.parametrize("proxy", ["tick_rule", "lee_ready_if_quote_available_else_tickrule"])
def test_feature_spec_rejects_a_tick_rule_proxy_for_a_bar_signed_volume_input(proxy: str) -> None:
    document = minute_bar_feature_spec_document()
    spec_body(document)["features"][10]["params"]["signed_proxy"] = proxy

    assert_rejected(
        FeatureSpec,
        document,
        "feature_spec.features[10].params.signed_proxy",
        "'bar_1m.signed_volume_proxy'",
        "'close_location'",
    )


def test_feature_spec_rejects_a_bar_signed_volume_input_left_at_the_default_tick_proxy() -> None:
    document = minute_bar_feature_spec_document()
    del spec_body(document)["features"][11]["params"]["signed_proxy"]

    assert_rejected(FeatureSpec, document, "feature_spec.features[11].params.signed_proxy", "'close_location'")


def test_feature_spec_rejects_the_close_location_proxy_for_a_tick_signed_volume_input() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][3]["params"]["signed_proxy"] = "close_location"  # inputs[1] is tick.*

    assert_rejected(
        FeatureSpec, document, "feature_spec.features[3].params.signed_proxy", "'tick.signed_volume_proxy'", "tick_rule"
    )


def test_feature_spec_accepts_any_proxy_on_a_ratio_without_signed_volume() -> None:
    document = minute_bar_feature_spec_document()
    spec_body(document)["features"][10]["inputs"][1] = "bar_1m.transactions"
    spec_body(document)["features"][10]["params"]["signed_proxy"] = "tick_rule"

    assert parse_contract(FeatureSpec, document).features[10].inputs[1] == "bar_1m.transactions"  # type: ignore[union-attr]


# --- FeatureSpec: sources -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "channel", "expected"),
    [("tick", "A.*", "T.*"), ("bar_1s", "T.*", "A.*"), ("bar_1m", "A.*", "AM.*"), ("tick", "AM.*", "T.*")],
)
def test_feature_spec_rejects_wrong_stream_channel_for_a_source(source: str, channel: str, expected: str) -> None:
    document = feature_spec_document()
    spec_body(document)["sources"][source]["stream_channel"] = channel

    assert_rejected(FeatureSpec, document, f"feature_spec.sources.{source}.stream_channel", f"'{expected}'", channel)


@pytest.mark.parametrize("source", ["tick", "bar_1s", "bar_1m"])
def test_feature_spec_rejects_source_fields_without_ts(source: str) -> None:
    document = feature_spec_document()
    fields = spec_body(document)["sources"][source]["fields"]
    fields.remove("ts")

    assert_rejected(FeatureSpec, document, f"feature_spec.sources.{source}.fields", "'ts'")


def test_feature_spec_rejects_repeated_source_field() -> None:
    document = feature_spec_document()
    spec_body(document)["sources"]["bar_1s"]["fields"].append("c")

    assert_rejected(FeatureSpec, document, "feature_spec.sources.bar_1s.fields[6]", "duplicate field 'c'")


def test_feature_spec_rejects_source_field_that_the_stream_does_not_carry() -> None:
    document = feature_spec_document()
    spec_body(document)["sources"]["tick"]["fields"].append("bid")

    assert_rejected(FeatureSpec, document, "feature_spec.sources.tick.fields[3]", "'bid'")


# --- FeatureSpec: windows -------------------------------------------------------------------------


def test_feature_spec_rejects_duplicate_window_names() -> None:
    document = feature_spec_document()
    spec_body(document)["windows"][2]["name"] = "w5s"

    assert_rejected(FeatureSpec, document, "feature_spec.windows[2]", "duplicate window name 'w5s'")


def test_feature_spec_rejects_window_length_that_is_not_a_multiple_of_its_step() -> None:
    document = feature_spec_document()
    spec_body(document)["windows"][1]["step"] = "2s"  # 15s over 2s steps

    assert_rejected(FeatureSpec, document, "feature_spec.windows[1].length", "not a whole number of steps")


@pytest.mark.parametrize(("field", "value"), [("length", "90s"), ("step", "30s")])
def test_feature_spec_rejects_minute_bar_window_that_is_not_whole_minutes(field: str, value: str) -> None:
    document = feature_spec_document()
    spec_body(document)["windows"][3][field] = value

    assert_rejected(FeatureSpec, document, f"feature_spec.windows[3].{field}", "not a whole number of bar_1m bars")


def test_feature_spec_accepts_window_length_written_in_other_units() -> None:
    document = feature_spec_document()
    spec_body(document)["windows"][3]["length"] = "300s"
    spec_body(document)["windows"][2]["length"] = "1m"

    spec = parse_contract(FeatureSpec, document)

    assert spec.window("w5m").length.seconds == 300
    assert spec.window("w60s").length.seconds == 60


@pytest.mark.parametrize("value", ["60d", "20d_tod"])
def test_feature_spec_rejects_window_length_in_trading_days(value: str) -> None:
    document = feature_spec_document()
    spec_body(document)["windows"][0]["length"] = value

    assert_rejected(FeatureSpec, document, "feature_spec.windows[0].length", value)


def test_feature_spec_rejects_window_with_a_malformed_duration() -> None:
    document = feature_spec_document()
    spec_body(document)["windows"][0]["step"] = "1 sec"

    assert_rejected(FeatureSpec, document, "feature_spec.windows[0].step", "invalid duration '1 sec'")


# --- FeatureSpec: features ------------------------------------------------------------------------


def test_feature_spec_rejects_duplicate_feature_keys() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][4]["key"] = "path.return_slope"

    assert_rejected(FeatureSpec, document, "feature_spec.features[4]", "duplicate feature key 'path.return_slope'")


def test_feature_spec_rejects_zscore_baseline_with_time_of_day_on_minutes() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][0]["params"]["lookback"] = "20m_tod"

    assert_rejected(FeatureSpec, document, "feature_spec.features[0].params.lookback", "'_tod'")


def test_feature_spec_rejects_non_positive_rvol_lookback_days() -> None:
    document = feature_spec_document()
    spec_body(document)["features"][1]["params"]["lookback_days"] = 0

    assert_rejected(FeatureSpec, document, "feature_spec.features[1].params.lookback_days", "greater than 0")


# --- FeatureSpec: calendar, normalization, gates, header ------------------------------------------


def test_feature_spec_rejects_unknown_timezone() -> None:
    document = feature_spec_document()
    spec_body(document)["calendar"]["timezone"] = "America/Gotham"

    assert_rejected(FeatureSpec, document, "feature_spec.calendar.timezone", "unknown IANA time zone")


def test_feature_spec_rejects_repeated_session() -> None:
    document = feature_spec_document()
    spec_body(document)["calendar"]["sessions"] = ["pre", "regular", "pre"]

    assert_rejected(FeatureSpec, document, "feature_spec.calendar.sessions[2]", "duplicate session 'pre'")


def test_feature_spec_rejects_unknown_session() -> None:
    document = feature_spec_document()
    spec_body(document)["calendar"]["sessions"] = ["regular", "overnight"]

    assert_rejected(FeatureSpec, document, "feature_spec.calendar.sessions[1]", "'overnight'")


@pytest.mark.parametrize(("p_low", "p_high"), [(0.995, 0.995), (0.9, 0.1)])
def test_feature_spec_rejects_clip_with_p_low_not_below_p_high(p_low: float, p_high: float) -> None:
    document = feature_spec_document()
    spec_body(document)["normalization"]["clip"].update(p_low=p_low, p_high=p_high)

    assert_rejected(FeatureSpec, document, "feature_spec.normalization.clip.p_low", "must be below p_high")


def test_feature_spec_rejects_clip_quantile_outside_zero_to_one() -> None:
    document = feature_spec_document()
    spec_body(document)["normalization"]["clip"]["p_high"] = 1.5

    assert_rejected(FeatureSpec, document, "feature_spec.normalization.clip.p_high", "less than or equal to 1")


def test_feature_spec_rejects_per_symbol_rolling_without_lookback() -> None:
    document = feature_spec_document()
    del spec_body(document)["normalization"]["lookback"]

    assert_rejected(FeatureSpec, document, "feature_spec.normalization.lookback", "per_symbol_rolling")


def test_feature_spec_accepts_global_normalization_without_lookback() -> None:
    document = feature_spec_document()
    spec_body(document)["normalization"] = {"mode": "global"}

    spec = parse_contract(FeatureSpec, document)

    assert spec.normalization.lookback is None
    assert spec.normalization.clip.p_low == 0.005


@pytest.mark.parametrize("value", ["60s", "60d_tod"])
def test_feature_spec_rejects_normalization_lookback_that_is_not_plain_days(value: str) -> None:
    document = feature_spec_document()
    spec_body(document)["normalization"]["lookback"] = value

    assert_rejected(FeatureSpec, document, "feature_spec.normalization.lookback", value)


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("alert_budget", "max_alerts_per_day", 0),
        ("alert_budget", "max_alerts_per_day", -1),
        ("alert_budget", "symbol_cooldown_sec", 0),
        ("alert_budget", "symbol_cooldown_sec", -180),
        ("tradeability", "min_dollar_volume_1m", 0),
        ("tradeability", "max_spread_pct", -2.0),
    ],
)
def test_feature_spec_rejects_runtime_gate_that_is_not_positive(section: str, field: str, value: float) -> None:
    document = feature_spec_document()
    spec_body(document)["runtime_gates"][section][field] = value

    assert_rejected(FeatureSpec, document, f"feature_spec.runtime_gates.{section}.{field}", "greater than 0")


def test_feature_spec_rejects_created_at_without_utc_offset() -> None:
    document = feature_spec_document()
    spec_body(document)["created_at"] = "2026-01-16T00:00:00"

    assert_rejected(FeatureSpec, document, "feature_spec.created_at", "timezone")


def test_feature_spec_rejects_id_without_fs_prefix() -> None:
    document = feature_spec_document()
    spec_body(document)["id"] = "ART_2026-01-16_001"

    assert_rejected(FeatureSpec, document, "feature_spec.id", "'ART_2026-01-16_001'")


# --- closed models: unknown and missing fields ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ((), "feature_spec.colour"),
        (("calendar",), "feature_spec.calendar.colour"),
        (("sources", "tick"), "feature_spec.sources.tick.colour"),
        (("features", 0), "feature_spec.features[0].colour"),
        (("features", 1, "params"), "feature_spec.features[1].params.colour"),
        (("normalization", "clip"), "feature_spec.normalization.clip.colour"),
    ],
)
def test_feature_spec_reports_an_unknown_field_with_its_path(path: tuple[str | int, ...], field: str) -> None:
    document = feature_spec_document()
    node: Any = spec_body(document)
    for part in path:
        node = node[part]
    node["colour"] = "red"

    error = assert_rejected(FeatureSpec, document, field)

    assert error.reason == "unknown field"


def test_artifact_manifest_reports_an_unknown_field_with_its_path() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["payload"]["files"][2]["size"] = 12

    error = assert_rejected(ArtifactManifest, document, "artifact_manifest.payload.files[2].size")

    assert error.reason == "unknown field"


def test_run_config_reports_an_unknown_field_inside_the_split_with_its_path() -> None:
    document = run_config_document()
    run_body(document)["splits"]["embargo"] = 2

    error = assert_rejected(BacktestRunConfig, document, "backtest_run.splits.embargo")

    assert error.reason == "unknown field"


@pytest.mark.parametrize(
    ("path", "key", "field"),
    [
        ((), "owner", "feature_spec.owner"),
        (("features", 0), "window", "feature_spec.features[0].window"),
        (("sources",), "daily", "feature_spec.sources.daily"),
        (("windows", 2), "step", "feature_spec.windows[2].step"),
    ],
)
def test_feature_spec_reports_a_missing_required_field_with_its_path(
    path: tuple[str | int, ...], key: str, field: str
) -> None:
    document = feature_spec_document()
    node: Any = spec_body(document)
    for part in path:
        node = node[part]
    del node[key]

    assert_rejected(FeatureSpec, document, field, "Field required")


def test_artifact_manifest_reports_a_missing_digest_with_its_path() -> None:
    document = artifact_manifest_document()
    del manifest_body(document)["payload"]["files"][1]["sha256"]

    assert_rejected(ArtifactManifest, document, "artifact_manifest.payload.files[1].sha256", "Field required")


def test_run_config_reports_a_missing_required_field_with_its_path() -> None:
    document = run_config_document()
    del run_body(document)["execution"]["latency"]

    assert_rejected(BacktestRunConfig, document, "backtest_run.execution.latency", "Field required")


def test_several_problems_are_reported_as_one_error_with_the_rest_in_more() -> None:
    document = feature_spec_document()
    body = spec_body(document)
    del body["owner"]
    body["calendar"]["colour"] = "red"

    error = rejection(FeatureSpec, document)

    assert error.field == "feature_spec.owner"
    assert error.more == ("feature_spec.calendar.colour: unknown field",)
    assert str(error).endswith("(and 1 more problem(s))")


# --- ArtifactManifest -----------------------------------------------------------------------------


def test_artifact_manifest_rejects_test_start_not_after_train_end() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["performance_oos"]["split"]["test_start"] = "2025-06-30"

    assert_rejected(
        ArtifactManifest, document, "artifact_manifest.performance_oos.split.test_start", "must be before test_start"
    )


def test_artifact_manifest_rejects_test_end_before_test_start() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["performance_oos"]["split"]["test_end"] = "2025-06-30"

    assert_rejected(ArtifactManifest, document, "artifact_manifest.performance_oos.split.test_end", "test_end")


def test_artifact_manifest_rejects_dataset_time_range_ending_before_it_starts() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["dataset_ref"]["time_range"]["end"] = "2023-12-31"

    assert_rejected(ArtifactManifest, document, "artifact_manifest.dataset_ref.time_range.end", "on or before end")


def test_artifact_manifest_accepts_one_day_time_range() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["dataset_ref"]["time_range"] = {"start": "2025-01-02", "end": "2025-01-02"}

    assert parse_contract(ArtifactManifest, document).dataset_ref.time_range.end.isoformat() == "2025-01-02"


@pytest.mark.parametrize("value", [0, -60])
def test_artifact_manifest_rejects_alert_budget_that_is_not_positive(value: int) -> None:
    document = artifact_manifest_document()
    manifest_body(document)["performance_oos"]["alert_budget"]["max_alerts_per_day"] = value

    assert_rejected(
        ArtifactManifest,
        document,
        "artifact_manifest.performance_oos.alert_budget.max_alerts_per_day",
        "greater than 0",
    )


@pytest.mark.parametrize("name", ["../x.onnx", "a/b.onnx", "/abs.onnx", "..", ".", "C:x", "a\\b.onnx", ""])
def test_artifact_manifest_rejects_payload_file_name_that_is_not_a_plain_name(name: str) -> None:
    document = artifact_manifest_document()
    manifest_body(document)["payload"]["files"][0]["name"] = name

    assert_rejected(ArtifactManifest, document, "artifact_manifest.payload.files[0].name", "not a plain file name")


@pytest.mark.parametrize("name", ["model.onnx", "thresholds.v2.json", "..model.onnx"])
def test_artifact_manifest_accepts_plain_payload_file_name(name: str) -> None:
    document = artifact_manifest_document()
    manifest_body(document)["payload"]["files"][0]["name"] = name

    assert parse_contract(ArtifactManifest, document).payload.files[0].name == name


def test_artifact_manifest_rejects_duplicate_payload_file() -> None:
    document = artifact_manifest_document()
    files = manifest_body(document)["payload"]["files"]
    files.append(dict(files[0]))

    assert_rejected(ArtifactManifest, document, "artifact_manifest.payload.files[4]", "duplicate payload file")


@pytest.mark.parametrize(
    "digest",
    [
        "ab" * 31,  # 62 digits: too short
        "ab" * 32 + "a",  # 65 digits: too long
        "AB" * 32,  # uppercase
        "g" * 64,  # not hex
        "sha256:" + "ab" * 32,  # a schema-hash spelling is not a payload digest
    ],
)
def test_artifact_manifest_rejects_payload_digest_that_is_not_64_lowercase_hex(digest: str) -> None:
    document = artifact_manifest_document()
    manifest_body(document)["payload"]["files"][3]["sha256"] = digest

    assert_rejected(ArtifactManifest, document, "artifact_manifest.payload.files[3].sha256", "[0-9a-f]{64}")


@pytest.mark.parametrize(
    "value",
    [
        "ab" * 32,  # no prefix
        "sha-256:" + "ab" * 32,
        "SHA256:" + "ab" * 32,
        "sha256:" + "AB" * 32,
        "sha256:" + "ab" * 31,
    ],
)
def test_artifact_manifest_rejects_schema_hash_not_of_form_sha256_prefix_and_64_hex(value: str) -> None:
    document = artifact_manifest_document()
    manifest_body(document)["feature_spec_ref"]["schema_hash"] = value

    assert_rejected(ArtifactManifest, document, "artifact_manifest.feature_spec_ref.schema_hash", "sha256:")


def test_artifact_manifest_rejects_unknown_required_stream() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["compatibility"]["required_streams"] = ["A.*", "Q.*"]

    assert_rejected(ArtifactManifest, document, "artifact_manifest.compatibility.required_streams[1]", "'Q.*'")


def test_artifact_manifest_rejects_repeated_required_stream() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["compatibility"]["required_streams"] = ["A.*", "T.*", "A.*"]

    assert_rejected(
        ArtifactManifest, document, "artifact_manifest.compatibility.required_streams[2]", "duplicate stream 'A.*'"
    )


def test_artifact_manifest_rejects_empty_required_streams() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["compatibility"]["required_streams"] = []

    assert_rejected(ArtifactManifest, document, "artifact_manifest.compatibility.required_streams")


@pytest.mark.parametrize(("start", "end"), [(-5, -5), (-5, -30)])
def test_artifact_manifest_rejects_pre_window_start_not_before_end(start: int, end: int) -> None:
    document = artifact_manifest_document()
    manifest_body(document)["dataset_ref"]["labeling"]["pre_window"] = {
        "start_offset_min": start,
        "end_offset_min": end,
    }

    assert_rejected(
        ArtifactManifest,
        document,
        "artifact_manifest.dataset_ref.labeling.pre_window.start_offset_min",
        "must be below end_offset_min",
    )


def test_artifact_manifest_rejects_pre_window_ending_after_t0() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["dataset_ref"]["labeling"]["pre_window"]["end_offset_min"] = 5

    assert_rejected(
        ArtifactManifest, document, "artifact_manifest.dataset_ref.labeling.pre_window.end_offset_min", "<= 0"
    )


def test_artifact_manifest_rejects_outputs_without_score() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["model"]["outputs"] = ["cluster_id", "explain_topk"]

    assert_rejected(ArtifactManifest, document, "artifact_manifest.model.outputs", "'score'")


def test_artifact_manifest_rejects_threshold_for_a_cluster_id_of_the_wrong_form() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["model"]["thresholds"]["per_cluster_min"]["cluster7"] = 0.5

    assert_rejected(ArtifactManifest, document, "artifact_manifest.model.thresholds.per_cluster_min.cluster7")


def test_artifact_manifest_rejects_design_path_form_of_plugin() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["compatibility"]["runtime_strategy_plugin"] = "backend/strategies/seismograph_ml"

    assert_rejected(ArtifactManifest, document, "artifact_manifest.compatibility.runtime_strategy_plugin")


def test_artifact_manifest_accepts_plugin_import_path() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["compatibility"]["runtime_strategy_plugin"] = "acme.plugins.scoring:MyStrategy"

    manifest = parse_contract(ArtifactManifest, document)

    assert manifest.compatibility.runtime_strategy_plugin == "acme.plugins.scoring:MyStrategy"


def test_artifact_manifest_rejects_malformed_min_bar_history() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["compatibility"]["min_bar_history"]["bar_1m"] = "20 minutes"

    assert_rejected(ArtifactManifest, document, "artifact_manifest.compatibility.min_bar_history.bar_1m", "duration")


def test_artifact_manifest_accepts_null_metrics() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["performance_oos"]["metrics"]["precision_at_budget"] = None

    assert parse_contract(ArtifactManifest, document).performance_oos.metrics.precision_at_budget is None


# --- BacktestRunConfig ----------------------------------------------------------------------------


def test_run_config_rejects_time_start_after_time_end() -> None:
    document = run_config_document()
    run_body(document)["time"]["start"] = "2026-01-01"

    assert_rejected(BacktestRunConfig, document, "backtest_run.time.end", "start (2026-01-01) must be on or before end")


def test_run_config_rejects_test_start_not_after_train_end() -> None:
    document = run_config_document()
    run_body(document)["splits"]["test_start"] = "2025-06-30"

    assert_rejected(BacktestRunConfig, document, "backtest_run.splits.test_start", "must be before test_start")


def test_run_config_rejects_test_end_before_test_start() -> None:
    document = run_config_document()
    run_body(document)["splits"]["test_end"] = "2025-06-30"

    assert_rejected(BacktestRunConfig, document, "backtest_run.splits.test_end")


def test_run_config_rejects_train_end_before_time_start() -> None:
    document = run_config_document()
    run_body(document)["time"]["start"] = "2025-07-01"

    assert_rejected(BacktestRunConfig, document, "backtest_run.splits.train_end", "time.start")


def test_run_config_rejects_test_end_after_time_end() -> None:
    document = run_config_document()
    run_body(document)["splits"]["test_end"] = "2026-01-31"

    assert_rejected(BacktestRunConfig, document, "backtest_run.splits.test_end", "time.end")


def test_run_config_rejects_lead_time_target_min_above_target_max() -> None:
    document = run_config_document()
    run_body(document)["evaluation"]["lead_time"] = {"target_min": 20, "target_max": 15}

    assert_rejected(BacktestRunConfig, document, "backtest_run.evaluation.lead_time.target_min", "must not exceed")


def test_run_config_accepts_lead_time_target_min_equal_to_target_max() -> None:
    document = run_config_document()
    run_body(document)["evaluation"]["lead_time"] = {"target_min": 15, "target_max": 15}

    assert parse_contract(BacktestRunConfig, document).evaluation.lead_time.target_min == 15


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_alerts_per_day", 0), ("max_alerts_per_day", -1), ("symbol_cooldown_sec", 0), ("symbol_cooldown_sec", -1)],
)
def test_run_config_rejects_evaluation_budget_or_cooldown_that_is_not_positive(field: str, value: int) -> None:
    document = run_config_document()
    run_body(document)["evaluation"]["alert_budget"][field] = value

    assert_rejected(BacktestRunConfig, document, f"backtest_run.evaluation.alert_budget.{field}", "greater than 0")


@pytest.mark.parametrize(("source", "field"), [("csv", "tickers_csv"), ("watchlist", "tickers")])
def test_run_config_rejects_universe_source_without_its_field(source: str, field: str) -> None:
    document = run_config_document()
    run_body(document)["data"]["universe"] = {"source": source}

    assert_rejected(BacktestRunConfig, document, f"backtest_run.data.universe.{field}", f"'{source}'")


def test_run_config_rejects_query_universe_without_query() -> None:
    document = run_config_document()
    del run_body(document)["data"]["universe"]["query"]

    assert_rejected(BacktestRunConfig, document, "backtest_run.data.universe.query", "'query'")


def test_run_config_rejects_lowercase_ticker_in_watchlist() -> None:
    document = run_config_document()
    run_body(document)["data"]["universe"] = {"source": "watchlist", "tickers": ["AAPL", "msft"]}

    assert_rejected(BacktestRunConfig, document, "backtest_run.data.universe.tickers[1]", "'msft'")


def test_run_config_rejects_walk_forward_mode_with_holdout_split() -> None:
    document = run_config_document()
    run_body(document)["mode"] = "walk_forward"

    assert_rejected(BacktestRunConfig, document, "backtest_run.splits.type", "'walk_forward'")


def test_run_config_rejects_batch_mode_with_walk_forward_split() -> None:
    document = run_config_document()
    run_body(document)["splits"] = {"type": "walk_forward", "train_days": 60, "test_days": 20, "step_days": 20}

    assert_rejected(BacktestRunConfig, document, "backtest_run.splits.type", "'oos_holdout'")


def test_run_config_accepts_walk_forward_mode_with_walk_forward_split() -> None:
    document = run_config_document()
    body = run_body(document)
    body["mode"] = "walk_forward"
    body["splits"] = {"type": "walk_forward", "train_days": 60, "test_days": 20, "step_days": 20}

    config = parse_contract(BacktestRunConfig, document)

    assert config.splits.type == "walk_forward"
    assert config.splits.embargo_days == 0  # type: ignore[union-attr]


def test_run_config_rejects_seismograph_ml_plugin_without_artifact_ref() -> None:
    document = run_config_document()
    del run_body(document)["artifact_ref"]

    assert_rejected(BacktestRunConfig, document, "backtest_run.artifact_ref", "'seismograph_ml'")


def test_run_config_accepts_seismograph_plugin_without_artifact_ref() -> None:
    document = run_config_document()
    body = run_body(document)
    del body["artifact_ref"]
    body["strategy"]["plugin"] = "seismograph"

    assert parse_contract(BacktestRunConfig, document).artifact_ref is None


@pytest.mark.parametrize(
    ("timezone", "fragment"),
    [
        ("America", "unknown IANA time zone 'America'"),  # a directory of the tz database, not a zone
        ("Asia/Tokyo", "only America/New_York is supported (the NYSE calendar), got 'Asia/Tokyo'"),
    ],
)
def test_feature_spec_refuses_a_directory_and_a_zone_no_code_reads(timezone: str, fragment: str) -> None:
    document = feature_spec_document()
    spec_body(document)["calendar"]["timezone"] = timezone

    assert_rejected(FeatureSpec, document, "feature_spec.calendar.timezone", fragment)


@pytest.mark.parametrize("path", ["/etc/passwd", "../daily/all_daily.parquet", "daily/other.parquet"])
def test_feature_spec_refuses_a_daily_table_path_that_is_not_the_lakes(path: str) -> None:
    document = feature_spec_document()
    spec_body(document)["sources"]["daily"]["parquet_path"] = path

    assert_rejected(
        FeatureSpec, document, "feature_spec.sources.daily.parquet_path", "the lake's daily table is daily/all_daily"
    )


def test_run_config_rejects_unknown_timezone() -> None:
    document = run_config_document()
    run_body(document)["time"]["timezone"] = "EST5EDT/Nowhere"

    assert_rejected(BacktestRunConfig, document, "backtest_run.time.timezone", "unknown IANA time zone")


def test_run_config_rejects_path_template_without_ticker_placeholder() -> None:
    document = run_config_document()
    run_body(document)["data"]["intraday"]["bar_1m"]["path_glob"] = "1m/all.parquet"

    assert_rejected(BacktestRunConfig, document, "backtest_run.data.intraday.bar_1m.path_glob", "ticker")


def test_run_config_accepts_null_one_second_bars() -> None:
    document = run_config_document()
    run_body(document)["data"]["intraday"]["bar_1s"] = None

    assert parse_contract(BacktestRunConfig, document).data.intraday.bar_1s is None


def test_run_config_rejects_negative_seed() -> None:
    document = run_config_document()
    run_body(document)["seed"] = -1

    assert_rejected(BacktestRunConfig, document, "backtest_run.seed", "greater than or equal to 0")


def test_run_config_reports_strategy_param_of_a_wrong_type_at_the_param() -> None:
    document = run_config_document()
    run_body(document)["strategy"]["params"]["score_version"] = ["v3"]

    error = rejection(BacktestRunConfig, document)

    assert error.field == "backtest_run.strategy.params.score_version"
    assert error.more == ()
    assert "valid string" in error.reason and "valid boolean" in error.reason


def test_run_config_reports_a_holdout_split_error_without_the_union_tag() -> None:
    document = run_config_document()
    run_body(document)["splits"]["test_start"] = "2025-05-01"

    error = rejection(BacktestRunConfig, document)

    assert "oos_holdout" not in (error.field or "")
    assert error.field == "backtest_run.splits.test_start"


# --- frozen models --------------------------------------------------------------------------------


def test_feature_spec_is_frozen() -> None:
    spec = parse_contract(FeatureSpec, feature_spec_document())

    with pytest.raises(ValidationError, match="frozen"):
        spec.id = "FS_other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        spec.calendar.timezone = "Europe/London"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        spec.windows[0].length = spec.windows[1].length  # type: ignore[misc]

    assert spec.id == "FS_2026-01-16_001"
    assert spec.calendar.timezone == "America/New_York"


def test_artifact_manifest_is_frozen() -> None:
    manifest = parse_contract(ArtifactManifest, artifact_manifest_document())

    with pytest.raises(ValidationError, match="frozen"):
        manifest.payload.files[0].sha256 = "0" * 64  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        manifest.feature_spec_ref.schema_hash = "sha256:" + "0" * 64  # type: ignore[misc]


def test_run_config_is_frozen() -> None:
    config = parse_contract(BacktestRunConfig, run_config_document())

    with pytest.raises(ValidationError, match="frozen"):
        config.seed = 8  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        config.time.end = config.time.start  # type: ignore[misc]


# --- ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "model", "ident"),
    [
        (feature_spec_document, FeatureSpec, "FS_../../etc"),
        (feature_spec_document, FeatureSpec, "FS_a b"),
        (artifact_manifest_document, ArtifactManifest, "ART_a/b"),
        (run_config_document, BacktestRunConfig, "RUN_../x"),
    ],
)
def test_contract_rejects_id_with_characters_outside_the_id_alphabet(factory: Any, model: Any, ident: str) -> None:
    document = factory()
    key = next(iter(document))
    document[key]["id"] = ident

    assert_rejected(model, document, f"{key}.id")


# --- numbers are finite ---------------------------------------------------------------------------


def test_an_infinite_gate_threshold_is_refused_in_yaml(tmp_path: Path) -> None:
    document = feature_spec_document()
    spec_body(document)["runtime_gates"]["tradeability"]["max_spread_pct"] = float("inf")  # YAML .inf
    path = write_yaml(tmp_path / "FS_inf.yaml", document)
    assert ".inf" in path.read_text()

    with pytest.raises(SpecError) as info:
        load_contract(FeatureSpec, path)

    assert info.value.field == "feature_spec.runtime_gates.tradeability.max_spread_pct"
    assert "finite number" in info.value.reason


def test_an_infinite_anchor_and_nan_metrics_are_refused_in_a_manifest() -> None:
    document = artifact_manifest_document()
    manifest_body(document)["dataset_ref"]["labeling"]["anchor_param"] = float("inf")
    assert_rejected(ArtifactManifest, document, "artifact_manifest.dataset_ref.labeling.anchor_param", "finite number")
    document = artifact_manifest_document()
    manifest_body(document)["performance_oos"]["metrics"]["precision_at_budget"] = float("nan")
    assert_rejected(
        ArtifactManifest, document, "artifact_manifest.performance_oos.metrics.precision_at_budget", "finite number"
    )
