"""Kernels: each op against a plain reference on hand-made windows; the registry covers the contract."""

import numpy as np
import pytest

from sigma9_runtime.contracts.feature_spec import FEATURE_OPS
from sigma9_runtime.errors import SpecError
from sigma9_runtime.features.baselines import BaselineKey
from sigma9_runtime.features.kernels import FOLD_MIN_ROWS, OPS, seq_extreme, seq_sum
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.features.plan import FeaturePlan
from tests.stubs import feature_spec


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


def _feature(key: str):  # type: ignore[no-untyped-def]
    spec = feature_spec()
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
