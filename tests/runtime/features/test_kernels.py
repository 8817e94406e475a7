"""Kernels: each op against a plain reference on hand-made windows; the registry covers the contract."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigma9_runtime.contracts.feature_spec import FEATURE_OPS
from sigma9_runtime.errors import SpecError
from sigma9_runtime.features.baselines import BaselineKey
from sigma9_runtime.features.kernels import (
    FOLD_MIN_ROWS,
    OPS,
    clv_signed_volume,
    flow_series,
    seq_extreme,
    seq_sum,
    tick_sign,
    tick_signs,
    window_value,
    zscore_baseline,
)
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.features.plan import FeaturePlan
from tests.stubs import demo_feature_spec, feature_spec, hour_feature_spec, minute_bar_feature_spec


class View:
    """A window view over explicit blocks (rows x length)."""

    def __init__(self, blocks: dict[str, np.ndarray], close_before: float = np.nan, unit_seconds: int = 1) -> None:
        self.blocks = {k: np.atleast_2d(np.asarray(v, dtype=float)) for k, v in blocks.items()}
        self.rows, self.length = next(iter(self.blocks.values())).shape
        self.unit_seconds = unit_seconds
        self._before = close_before

    def block(self, series: str) -> np.ndarray:
        return self.blocks.get(series, np.zeros((self.rows, self.length)))

    def derived(self, name: str, fn, *series: str) -> np.ndarray:  # type: ignore[no-untyped-def]
        return fn(*(self.block(s) for s in series))

    def close_before(self, group: str) -> np.ndarray:
        return np.full(self.rows, self._before)


class Context:
    def __init__(self, baselines: dict[str, tuple[float, ...]]) -> None:
        self.values = baselines

    def baseline(self, key: BaselineKey) -> tuple[np.ndarray, ...]:
        return tuple(np.array([v]) for v in self.values[key.series])


def _feature(key: str, spec=None):  # type: ignore[no-untyped-def]
    spec = spec or feature_spec()
    return next(f for f in spec.features if f.key == key)


def test_registry_has_exactly_the_contract_ops() -> None:
    assert set(OPS) == set(FEATURE_OPS)


def test_sequential_sum_adds_oldest_first() -> None:
    block = np.array([[1e16, 1.0, -1e16, 1.0]])
    assert seq_sum(block)[0] == ((1e16 + 1.0) - 1e16) + 1.0


def test_zscore_scales_the_per_minute_baseline_to_the_window() -> None:
    feature = _feature("intensity.trade_count_z")
    view = View({"t.count": [[2, 0, 1, 0, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0, 1]]})  # 8 trades in 15 s
    value = OPS["zscore"].kernel(view, feature, Context({"transactions": (20.0, 8.0)}))
    assert value[0] == pytest.approx((8 - 20 * 0.25) / (8 * 0.25))
    assert np.isnan(OPS["zscore"].kernel(view, feature, Context({"transactions": (20.0, 0.0)}))[0])


def test_rvol_is_window_volume_over_the_scaled_median() -> None:
    feature = _feature("intensity.volume_rvol_tod")
    view = View({"s.volume": [np.r_[np.full(59, 10.0), 410.0]]})
    assert OPS["rvol_tod"].kernel(view, feature, Context({"volume": (500.0,)}))[0] == pytest.approx(1000 / 500)


def test_linreg_slope_is_the_per_minute_slope_of_log_close_over_present_bars() -> None:
    feature = _feature("path.return_slope")
    present = np.zeros(60)
    present[[3, 10, 30, 59]] = 1
    close = np.where(present > 0, np.exp(0.001 * np.arange(60)), 0.0)
    value = OPS["linreg_slope"].kernel(View({"s.present": [present], "s.close": [close]}), feature, None)
    assert value[0] == pytest.approx(0.001 * 60)
    lonely = np.zeros(60)
    lonely[5] = 1
    assert np.isnan(
        OPS["linreg_slope"].kernel(View({"s.present": [lonely], "s.close": [lonely * 3]}), feature, None)[0]
    )


def test_ratio_divides_close_return_by_signed_volume() -> None:
    feature = _feature("impact.ret_over_signed_vol")
    present = np.zeros(15)
    present[[2, 9]] = 1
    close = np.zeros(15)
    close[[2, 9]] = [10.0, 10.5]
    signed = np.zeros(15)
    signed[[2, 9]] = [300.0, -100.0]
    view = View({"s.present": [present], "s.close": [close], "t.signed_volume": [signed]}, close_before=10.0)
    assert OPS["ratio"].kernel(view, feature, None)[0] == pytest.approx(np.log(10.5 / 10.0) / 200.0)
    flat = View({"s.present": [present], "s.close": [close], "t.signed_volume": [np.zeros(15)]}, close_before=10.0)
    assert np.isnan(OPS["ratio"].kernel(flat, feature, None)[0])


def test_range_pct_uses_present_bars_and_the_last_close() -> None:
    feature = _feature("vol.range_pct")
    present = np.zeros(60)
    present[[0, 40]] = 1
    high, low, close = (
        np.where(present > 0, v, 0.0)
        for v in (np.r_[10.2, np.full(59, 10.6)], np.r_[9.9, np.full(59, 10.1)], np.full(60, 10.0))
    )
    view = View({"s.present": [present], "s.high": [high], "s.low": [low], "s.close": [close], "s.open": [close]})
    assert OPS["range_pct"].kernel(view, feature, None)[0] == pytest.approx((10.6 - 9.9) / 10.0)
    assert np.isnan(OPS["range_pct"].kernel(View({"s.present": [np.zeros(60)]}), feature, None)[0])


def test_names_follow_spec_order_with_missing_flags_after() -> None:
    spec = feature_spec()
    names = feature_names(spec)
    keys = [f.key for f in spec.features]
    assert names == keys + [k + ":missing" for k in keys]
    assert feature_names(feature_spec(**{"normalization.missing": {"policy": "forward_fill"}})) == keys


def test_plan_rejects_what_the_engine_cannot_compute() -> None:
    features = feature_spec().model_dump(mode="json", context={"canonical": True})["features"]
    daily = [dict(features[0], input="daily.close", op="zscore")]
    with pytest.raises(SpecError, match=r"features\[0\].*daily inputs"):
        FeaturePlan.from_spec(feature_spec(features=daily))
    on_minutes = [dict(features[0], window="w5m")]
    with pytest.raises(SpecError, match=r"features\[0\].*trade inputs need a bar_1s window"):
        FeaturePlan.from_spec(feature_spec(features=on_minutes))


def test_sequential_sums_agree_bit_for_bit_whichever_way_they_are_computed() -> None:
    rng = np.random.default_rng(5)
    block = rng.standard_normal((300, 60)) * 10.0 ** rng.integers(-8, 12, size=(300, 60))
    weights = np.arange(60, dtype=np.float64)
    few_rows = np.concatenate([seq_sum(block[i : i + 10], weights) for i in range(0, 300, 10)])  # np.cumsum
    assert block.shape[0] >= FOLD_MIN_ROWS  # column by column
    assert np.array_equal(seq_sum(block, weights), few_rows)
    assert np.array_equal(seq_sum(block), np.concatenate([seq_sum(block[i : i + 10]) for i in range(0, 300, 10)]))
    assert np.array_equal(seq_extreme(block, np.maximum), block.max(axis=1))


# --- bar-based series: trade counts and the close-location signed volume --------------------------


def test_clv_signed_volume_signs_a_bar_by_where_its_close_sits_in_its_range() -> None:
    # (close - low) - (high - close) = 0.4 - 0.1 of a 0.5 range: 60% of the volume counts as bought.
    assert float(clv_signed_volume(10.5, 10.0, 10.4, 1000.0)) == pytest.approx(600.0)
    high, low, close = np.array([10.5, 10.5, 10.5]), np.array([10.0, 10.0, 10.0]), np.array([10.5, 10.0, 10.25])
    assert clv_signed_volume(high, low, close, np.full(3, 200.0)).tolist() == [200.0, -200.0, 0.0]


def test_clv_signed_volume_is_zero_on_a_flat_bar() -> None:
    assert float(clv_signed_volume(10.0, 10.0, 10.0, 5000.0)) == 0.0
    assert clv_signed_volume(np.zeros(4), np.zeros(4), np.zeros(4), np.zeros(4)).tolist() == [0.0] * 4  # no bar


def test_clv_signed_volume_of_one_bar_equals_it_within_a_day_of_bars_bit_for_bit() -> None:
    rng = np.random.default_rng(2)
    low = rng.uniform(1, 20, 500)
    high = low + rng.choice([0.0, 0.01, 0.37], 500)
    close = low + (high - low) * rng.random(500)
    volume = rng.integers(0, 10**6, 500).astype(float)
    whole = clv_signed_volume(high, low, close, volume)
    one_by_one = [float(clv_signed_volume(h, l, c, v)) for h, l, c, v in zip(high, low, close, volume, strict=True)]
    assert np.array_equal(whole, np.array(one_by_one))


def test_bar_transactions_and_signed_volume_proxy_are_flows_of_their_bar_group() -> None:
    assert flow_series("bar_1m.transactions") == "m.transactions"
    assert flow_series("bar_1s.transactions") == "s.transactions"
    assert flow_series("bar_1m.signed_volume_proxy") == "m.signed_volume"
    assert flow_series("bar_1s.signed_volume_proxy") == "s.signed_volume"
    assert flow_series("bar_1m") == flow_series("bar_1m.volume") == "m.volume"
    with pytest.raises(SpecError, match="not a flow"):
        flow_series("bar_1m.high")


@pytest.mark.parametrize(
    ("key", "spec", "series"),
    [
        ("intensity.trade_count_z_5m", "minute", "transactions"),  # bar_1m.transactions
        ("intensity.volume_z_5m", "minute", "volume"),  # bar_1m.volume
        ("intensity.trade_count_z", "shipped", "transactions"),  # tick
    ],
)
def test_zscore_baseline_is_transactions_for_trade_counts_and_volume_otherwise(
    key: str, spec: str, series: str
) -> None:
    source = minute_bar_feature_spec() if spec == "minute" else feature_spec()
    feature = _feature(key, source)
    assert zscore_baseline(feature).series == series
    plain_bars = feature.model_copy(update={"input": "bar_1m"})
    assert zscore_baseline(plain_bars).series == "volume"


def test_zscore_of_bar_transactions_sums_the_bars_trade_counts() -> None:
    feature = _feature("intensity.trade_count_z_5m", minute_bar_feature_spec())
    view = View({"m.transactions": [[40, 0, 12, 30, 18]], "m.volume": [[1e6] * 5]}, unit_seconds=60)
    value = OPS["zscore"].kernel(view, feature, Context({"transactions": (10.0, 4.0)}))
    assert value[0] == pytest.approx((100 - 10 * 5) / (4 * 5))


def test_ratio_divides_close_return_by_the_bar_signed_volume() -> None:
    feature = _feature("impact.ret_over_signed_vol_15m", minute_bar_feature_spec())
    present = np.zeros(15)
    present[[4, 14]] = 1
    close = np.where(present > 0, 10.2, 0.0)
    signed = np.zeros(15)
    signed[[4, 14]] = clv_signed_volume(np.array([10.3, 10.25]), np.array([10.0, 10.1]), close[[4, 14]], 1000.0)
    view = View({"m.present": [present], "m.close": [close], "m.signed_volume": [signed]}, 10.0, 60)
    assert OPS["ratio"].kernel(view, feature, None)[0] == pytest.approx(np.log(10.2 / 10.0) / signed.sum())
    assert OPS["ratio"].series(feature) == {"m.present", "m.close", "m.signed_volume"}


def test_the_minute_bar_spec_reads_minute_bars_and_no_trades() -> None:
    plan = FeaturePlan.from_spec(minute_bar_feature_spec())
    assert plan.series["s"] == frozenset()
    assert {"m.transactions", "m.signed_volume", "m.volume", "m.close"} <= plan.series["m"]
    assert not plan.reads_trades
    assert {key.series for key in plan.baselines} == {"transactions", "volume"}
    assert FeaturePlan.from_spec(feature_spec()).reads_trades


@given(
    st.lists(st.sampled_from([9.99, 10.0, 10.01, 10.02]), max_size=40),
    st.lists(st.booleans(), max_size=40),
    st.sampled_from([math.nan, 10.0]),
    st.sampled_from([-1.0, 0.0, 1.0]),
)
def test_the_tick_rule_is_one_rule_in_scalar_and_segmented_form(prices, starts, last_price, last_sign) -> None:
    """tick_signs over segments == tick_sign trade by trade with each segment's state carried in."""
    price = np.array(prices)
    first = np.array([True, *starts, *[False] * price.size], dtype=bool)[: price.size]  # the first trade starts one
    expected = []
    for p, f in zip(price.tolist(), first.tolist()):
        if f:
            state = (last_price, last_sign)
        sign = tick_sign(p, *state)
        state = (p, sign)
        expected.append(sign)
    assert tick_signs(price, first, last_price, last_sign).tolist() == expected


def test_a_days_first_trades_are_unsigned_until_the_first_move() -> None:
    assert tick_signs(np.array([10.0, 10.0, 10.1, 10.1, 10.0, 10.0, 10.2])).tolist() == [0, 0, 1, 1, -1, -1, 1]
    assert tick_signs(np.zeros(0)).size == 0


# --- the hour before T0: log_return and flow_change -----------------------------------------------


def test_log_return_is_the_log_of_the_last_close_over_the_close_before_the_window() -> None:
    feature = _feature("path.log_return_15m", hour_feature_spec())
    present = np.zeros(15)
    present[[3, 11]] = 1
    close = np.zeros(15)
    close[[3, 11]] = [10.4, 10.8]
    view = View({"m.present": [present], "m.close": [close]}, close_before=10.0, unit_seconds=60)
    value = OPS["log_return"].kernel(view, feature, None)
    assert value[0] == pytest.approx(math.log(10.8 / 10.0))
    assert np.array_equal(value, window_value(view, "bar_1m.close_return"))  # the ratio's close return, bit for bit
    assert OPS["log_return"].series(feature) == {"m.present", "m.close"}


def test_log_return_is_nan_without_a_close_before_the_window_and_zero_without_a_bar_in_it() -> None:
    feature = _feature("path.log_return_60m", hour_feature_spec())
    present = np.zeros(60)
    present[30] = 1
    close = np.where(present > 0, 10.5, 0.0)
    first_of_day = View({"m.present": [present], "m.close": [close]}, close_before=np.nan, unit_seconds=60)
    assert np.isnan(OPS["log_return"].kernel(first_of_day, feature, None)[0])
    quiet = View({"m.present": [np.zeros(60)]}, close_before=10.0, unit_seconds=60)  # the close carried forward
    assert OPS["log_return"].kernel(quiet, feature, None)[0] == 0.0


def test_flow_change_is_the_log_of_the_newer_half_over_the_older_half() -> None:
    feature = _feature("intensity.volume_change_60m", hour_feature_spec())
    volume = np.r_[np.full(30, 100.0), np.full(30, 250.0)]
    volume[[0, 45]] = [400.0, 0.0]  # older half 3,300, newer half 7,250
    view = View({"m.volume": [volume]}, unit_seconds=60)
    assert OPS["flow_change"].kernel(view, feature, None)[0] == pytest.approx(math.log(7250.0 / 3300.0))
    assert OPS["flow_change"].series(feature) == {"m.volume"}
    assert OPS["flow_change"].baselines(feature) == []


def test_flow_change_of_trades_counts_the_trades_of_each_half() -> None:
    feature = _feature("intensity.trade_count_change_5m", hour_feature_spec())
    count = np.zeros(300)
    count[[10, 100, 149]] = [2, 1, 1]  # 4 trades in the older 150 s
    count[[150, 200, 299]] = [5, 3, 4]  # 12 in the newer
    value = OPS["flow_change"].kernel(View({"t.count": [count]}), feature, None)
    assert value[0] == pytest.approx(math.log(3.0))
    assert OPS["flow_change"].series(feature) == {"t.count"}


@pytest.mark.parametrize("halves", [(0.0, 5.0), (5.0, 0.0), (0.0, 0.0)])
def test_flow_change_is_nan_where_either_half_is_empty(halves: tuple[float, float]) -> None:
    feature = _feature("intensity.volume_change_30m", hour_feature_spec())
    volume = np.r_[np.full(15, halves[0]), np.full(15, halves[1])]
    assert np.isnan(OPS["flow_change"].kernel(View({"m.volume": [volume]}, unit_seconds=60), feature, None)[0])


def test_flow_change_agrees_bit_for_bit_whichever_way_its_halves_are_summed() -> None:
    """Online a block has few rows (np.cumsum), offline many (column by column): the same bits."""
    feature = _feature("intensity.volume_change_60m", hour_feature_spec())
    rng = np.random.default_rng(3)
    block = rng.integers(0, 10**7, size=(300, 60)) * 10.0 ** rng.integers(-3, 3, size=(300, 60))
    block[::7, :30] = 0.0  # some empty older halves
    many = OPS["flow_change"].kernel(View({"m.volume": block}, unit_seconds=60), feature, None)
    few = [
        OPS["flow_change"].kernel(View({"m.volume": block[i : i + 10]}, 60), feature, None) for i in range(0, 300, 10)
    ]
    assert block.shape[0] >= FOLD_MIN_ROWS
    assert np.array_equal(many, np.concatenate(few), equal_nan=True)
    assert np.isnan(many[::7]).all() and np.isfinite(many[1::7]).all()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"input": "tick.signed_volume_proxy"}, "non-negative flow.*'tick.signed_volume_proxy'"),
        ({"input": "bar_1s.high", "window": "w60s"}, "'bar_1s.high' is not a flow"),
        ({"window": "w30m"}, "trade inputs need a bar_1s window"),
    ],
)
def test_plan_rejects_flow_change_of_what_is_not_a_non_negative_flow_of_its_window(
    changes: dict[str, str], message: str
) -> None:
    features = hour_feature_spec().model_dump(mode="json", context={"canonical": True})["features"]
    index = [f["key"] for f in features].index("intensity.trade_count_change_5m")
    features[index].update(changes)
    with pytest.raises(SpecError, match=rf"features\[{index}\].*{message}"):
        FeaturePlan.from_spec(hour_feature_spec(features=features))


def test_plan_rejects_log_return_of_bars_other_than_its_windows() -> None:
    spec = hour_feature_spec()
    features = spec.model_dump(mode="json", context={"canonical": True})["features"]
    index = [f["key"] for f in features].index("path.log_return_15m")
    seconds = [dict(f, input="bar_1s") if i == index else f for i, f in enumerate(features)]
    with pytest.raises(SpecError, match=rf"features\[{index}\].*'bar_1s' does not match window w15m"):
        FeaturePlan.from_spec(hour_feature_spec(features=seconds))


def test_the_hour_spec_keeps_an_hour_of_minute_bars_and_the_demo_specs_baselines() -> None:
    plan = FeaturePlan.from_spec(hour_feature_spec())
    assert plan.max_length == {"s": 300, "m": 60}
    assert {"m.volume", "m.close", "m.present", "t.count"} <= plan.series["m"] | plan.series["s"]
    assert set(plan.baselines) == set(FeaturePlan.from_spec(demo_feature_spec()).baselines)
