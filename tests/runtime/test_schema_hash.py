"""The FeatureSpec schema hash: stable under presentation, blind to metadata, sensitive to feature-defining values."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sigma9_runtime.contracts import FeatureSpec, load_feature_spec, parse_contract
from sigma9_runtime.errors import SchemaMismatch, Sigma9Error
from sigma9_runtime.schema_hash import canonical_feature_definition, require_schema_hash, schema_hash
from tests.stubs import SHIPPED_FEATURE_SPEC, feature_spec_document, shipped_schema_hash, write_json, write_yaml

Edit = Callable[[dict[str, Any]], None]

HYPOTHESIS = settings(database=None, deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])


def hash_of(document: dict[str, Any]) -> str:
    return schema_hash(parse_contract(FeatureSpec, document))


def hash_after(edit: Edit) -> str:
    document = feature_spec_document()
    edit(document["feature_spec"])
    return hash_of(document)


SHIPPED_HASH = shipped_schema_hash()


# --- form -----------------------------------------------------------------------------------------


def test_schema_hash_is_sha256_prefix_and_64_lowercase_hex() -> None:
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", SHIPPED_HASH)


def test_schema_hash_of_the_shipped_spec_is_the_same_on_every_load() -> None:
    assert schema_hash(load_feature_spec(SHIPPED_FEATURE_SPEC)) == schema_hash(load_feature_spec(SHIPPED_FEATURE_SPEC))
    assert hash_of(feature_spec_document()) == SHIPPED_HASH


def test_canonical_definition_holds_only_the_hashed_sections_and_a_format_version() -> None:
    payload = canonical_feature_definition(load_feature_spec(SHIPPED_FEATURE_SPEC))

    assert set(payload) == {"schema_hash_version", "calendar", "sources", "windows", "features", "normalization"}
    assert payload["schema_hash_version"] == 1
    assert [w["name"] for w in payload["windows"]] == ["w15s", "w5m", "w5s", "w60s"]  # sorted by name
    assert [w["length"] for w in payload["windows"]] == ["15s", "300s", "5s", "60s"]  # in seconds
    assert [f["key"] for f in payload["features"]][:2] == ["intensity.trade_count_z", "intensity.volume_rvol_tod"]


# --- presentation does not matter -----------------------------------------------------------------


def test_schema_hash_is_the_same_from_yaml_and_from_the_same_document_as_json(tmp_path: Path) -> None:
    path = write_json(tmp_path / "spec.json", feature_spec_document())

    assert schema_hash(load_feature_spec(path)) == SHIPPED_HASH


def test_schema_hash_ignores_comments_blank_lines_and_quoting(tmp_path: Path) -> None:
    text = SHIPPED_FEATURE_SPEC.read_text(encoding="utf-8")
    stripped = "\n\n".join(
        line.split("#", 1)[0].rstrip() for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    unquoted = stripped.replace('"w15s"', "w15s").replace('"gap"', "'gap'")
    assert unquoted != text
    path = tmp_path / "spec.yaml"
    path.write_text(unquoted, encoding="utf-8")

    assert schema_hash(load_feature_spec(path)) == SHIPPED_HASH


def test_schema_hash_ignores_yaml_block_or_flow_style(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(feature_spec_document(), default_flow_style=True, width=60), encoding="utf-8")

    assert schema_hash(load_feature_spec(path)) == SHIPPED_HASH


def _permute_keys(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _permute_keys(item, rng) for key, item in items}
    if isinstance(value, list):
        return [_permute_keys(item, rng) for item in value]
    return value


@HYPOTHESIS
@given(rng=st.randoms(use_true_random=False))
def test_schema_hash_is_stable_under_any_recursive_key_order(rng: random.Random) -> None:
    permuted = _permute_keys(feature_spec_document(), rng)

    assert hash_of(permuted) == SHIPPED_HASH


@HYPOTHESIS
@given(rng=st.randoms(use_true_random=False))
def test_schema_hash_is_stable_under_key_order_of_a_written_file(
    rng: random.Random, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = write_yaml(tmp_path_factory.mktemp("permuted") / "spec.yaml", _permute_keys(feature_spec_document(), rng))

    assert schema_hash(load_feature_spec(path)) == SHIPPED_HASH


@HYPOTHESIS
@given(sessions=st.permutations(["pre", "regular", "after"]))
def test_schema_hash_ignores_the_order_of_sessions(sessions: list[str]) -> None:
    assert hash_after(lambda body: body["calendar"].__setitem__("sessions", sessions)) == SHIPPED_HASH


@HYPOTHESIS
@given(rng=st.randoms(use_true_random=False))
def test_schema_hash_ignores_the_order_of_windows_and_source_fields(rng: random.Random) -> None:
    def shuffle(body: dict[str, Any]) -> None:
        rng.shuffle(body["windows"])
        for source in ("tick", "bar_1s", "bar_1m"):
            rng.shuffle(body["sources"][source]["fields"])

    assert hash_after(shuffle) == SHIPPED_HASH


@pytest.mark.parametrize(
    ("window", "field", "spelling"),
    [(2, "length", "1m"), (3, "length", "300s"), (3, "step", "60s"), (0, "length", "5s")],
)
def test_schema_hash_ignores_the_spelling_of_a_duration(window: int, field: str, spelling: str) -> None:
    assert hash_after(lambda body: body["windows"][window].__setitem__(field, spelling)) == SHIPPED_HASH


def test_schema_hash_counts_defaults_as_if_written() -> None:
    def drop_defaults(body: dict[str, Any]) -> None:
        del body["calendar"]["timezone"]  # default America/New_York
        del body["calendar"]["treat_halts_as"]  # default gap
        del body["sources"]["daily"]["parquet_path"]  # default daily/all_daily.parquet
        body["features"][2]["params"] = {}  # linreg_slope on: close
        del body["normalization"]["clip"]  # winsor 0.005 / 0.995
        del body["normalization"]["missing"]  # keep_nan_and_flag

    assert hash_after(drop_defaults) == SHIPPED_HASH


# --- metadata is not hashed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda body: body.__setitem__("id", "FS_2030-01-01_999"), id="id"),
        pytest.param(lambda body: body.__setitem__("version", "9.9.9"), id="version"),
        pytest.param(lambda body: body.__setitem__("owner", "someone else"), id="owner"),
        pytest.param(lambda body: body.__setitem__("description", "another text"), id="description"),
        pytest.param(lambda body: body.pop("description"), id="description-omitted"),
        pytest.param(lambda body: body.__setitem__("created_at", "2030-05-05T12:00:00-04:00"), id="created_at"),
        pytest.param(
            lambda body: body["runtime_gates"]["alert_budget"].update(max_alerts_per_day=1, symbol_cooldown_sec=9999),
            id="runtime_gates.alert_budget",
        ),
        pytest.param(
            lambda body: body["runtime_gates"]["tradeability"].update(min_dollar_volume_1m=1.0, max_spread_pct=0.1),
            id="runtime_gates.tradeability",
        ),
    ],
)
def test_schema_hash_does_not_change_with_metadata_or_runtime_gates(edit: Edit) -> None:
    assert hash_after(edit) == SHIPPED_HASH


# --- every feature-defining value is hashed -------------------------------------------------------


def _swap_features(body: dict[str, Any]) -> None:
    features = body["features"]
    features[0], features[1] = features[1], features[0]


def _to_zscore(body: dict[str, Any]) -> None:
    body["features"][1].update(op="zscore", params={"lookback": "20d_tod"})


def _disable_bar_1m(body: dict[str, Any]) -> None:
    body["sources"]["bar_1m"]["enabled"] = False
    body["windows"] = [window for window in body["windows"] if window["base"] != "bar_1m"]


def _move_window_to_minute_bars(body: dict[str, Any]) -> None:
    body["windows"][1].update(base="bar_1m", length="15m", step="1m")


FEATURE_DEFINING_EDITS = [
    # calendar.timezone and sources.daily.parquet_path take one value each (the contract refuses others)
    pytest.param(lambda b: b["calendar"].__setitem__("sessions", ["pre", "regular"]), id="calendar.sessions"),
    pytest.param(lambda b: b["calendar"].__setitem__("treat_halts_as", "drop"), id="calendar.treat_halts_as"),
    pytest.param(lambda b: b["sources"]["daily"].__setitem__("enabled", False), id="sources.daily.enabled"),
    pytest.param(_disable_bar_1m, id="sources.bar_1m.enabled"),
    pytest.param(lambda b: b["sources"]["bar_1s"]["fields"].append("vw"), id="sources.bar_1s.fields"),
    pytest.param(lambda b: b["sources"]["tick"]["fields"].append("exchange"), id="sources.tick.fields"),
    pytest.param(lambda b: b["windows"][2].__setitem__("length", "120s"), id="window.length"),
    pytest.param(lambda b: b["windows"][0].__setitem__("step", "5s"), id="window.step"),
    pytest.param(_move_window_to_minute_bars, id="window.base"),
    pytest.param(
        lambda b: b["windows"].append({"name": "w30m", "base": "bar_1m", "length": "30m", "step": "1m"}),
        id="window.added",
    ),
    pytest.param(lambda b: b["features"][2].__setitem__("key", "path.slope"), id="feature.key"),
    pytest.param(lambda b: b["features"][0].__setitem__("window", "w5s"), id="feature.window"),
    pytest.param(_to_zscore, id="feature.op"),
    pytest.param(lambda b: b["features"][2].__setitem__("input", "bar_1m"), id="feature.input"),
    pytest.param(lambda b: b["features"][3]["inputs"].reverse(), id="feature.inputs-order"),
    pytest.param(lambda b: b["features"][0]["params"].__setitem__("lookback", "20d"), id="zscore.lookback-tod"),
    pytest.param(lambda b: b["features"][0]["params"].__setitem__("lookback", "21d_tod"), id="zscore.lookback-days"),
    pytest.param(lambda b: b["features"][1]["params"].__setitem__("lookback_days", 21), id="rvol_tod.lookback_days"),
    pytest.param(lambda b: b["features"][1]["params"].__setitem__("baseline", "mean"), id="rvol_tod.baseline"),
    pytest.param(lambda b: b["features"][2]["params"].__setitem__("on", "vwap"), id="linreg_slope.on"),
    pytest.param(
        lambda b: b["features"][3]["params"].__setitem__("signed_proxy", "tick_rule"), id="ratio.signed_proxy"
    ),
    pytest.param(lambda b: b["features"][4]["params"].__setitem__("use", ["high", "low", "open"]), id="range_pct.use"),
    pytest.param(_swap_features, id="features.order"),
    pytest.param(lambda b: b["features"].pop(), id="features.removed"),
    pytest.param(lambda b: b["normalization"].__setitem__("mode", "global"), id="normalization.mode"),
    pytest.param(lambda b: b["normalization"].__setitem__("lookback", "30d"), id="normalization.lookback"),
    pytest.param(lambda b: b["normalization"]["clip"].__setitem__("method", "none"), id="normalization.clip.method"),
    pytest.param(lambda b: b["normalization"]["clip"].__setitem__("p_high", 0.99), id="normalization.clip.p_high"),
    pytest.param(
        lambda b: b["normalization"]["missing"].__setitem__("policy", "forward_fill"), id="normalization.missing"
    ),
]


@pytest.mark.parametrize("edit", FEATURE_DEFINING_EDITS)
def test_schema_hash_changes_with_every_feature_defining_value(edit: Edit) -> None:
    assert hash_after(edit) != SHIPPED_HASH


def test_feature_defining_edits_give_pairwise_different_hashes() -> None:
    hashes = [hash_after(param.values[0]) for param in FEATURE_DEFINING_EDITS]

    assert len(set(hashes)) == len(hashes)


@HYPOTHESIS
@given(p_low=st.floats(min_value=0.0, max_value=0.99, allow_nan=False))
def test_schema_hash_changes_with_any_other_clip_p_low(p_low: float) -> None:
    assume(p_low != 0.005)

    changed = hash_after(lambda body: body["normalization"]["clip"].__setitem__("p_low", p_low))

    assert changed != SHIPPED_HASH
    assert changed == hash_after(lambda body: body["normalization"]["clip"].__setitem__("p_low", p_low))


@HYPOTHESIS
@given(days=st.integers(min_value=1, max_value=10_000))
def test_schema_hash_changes_with_any_other_rvol_lookback_days(days: int) -> None:
    assume(days != 20)

    assert hash_after(lambda body: body["features"][1]["params"].__setitem__("lookback_days", days)) != SHIPPED_HASH


# --- require_schema_hash --------------------------------------------------------------------------


def test_require_schema_hash_accepts_the_matching_hash() -> None:
    require_schema_hash(load_feature_spec(SHIPPED_FEATURE_SPEC), SHIPPED_HASH, subject="manifest ART_x")


def test_require_schema_hash_raises_schema_mismatch_naming_both_hashes() -> None:
    spec = load_feature_spec(SHIPPED_FEATURE_SPEC)
    expected = "sha256:" + "0" * 64

    with pytest.raises(SchemaMismatch) as info:
        require_schema_hash(spec, expected, subject="manifest ART_x")

    error = info.value
    assert isinstance(error, Sigma9Error)
    assert error.expected == expected
    assert error.actual == SHIPPED_HASH
    assert expected in str(error)
    assert SHIPPED_HASH in str(error)
    assert "manifest ART_x" in str(error)
    assert "FS_2026-01-16_001" in str(error)


def test_require_schema_hash_refuses_a_spec_changed_after_the_hash_was_taken() -> None:
    document = feature_spec_document()
    document["feature_spec"]["windows"][2]["length"] = "30s"
    changed = parse_contract(FeatureSpec, document)

    with pytest.raises(SchemaMismatch) as info:
        require_schema_hash(changed, SHIPPED_HASH, subject="manifest ART_x")

    assert info.value.expected == SHIPPED_HASH
    assert info.value.actual == schema_hash(changed)
