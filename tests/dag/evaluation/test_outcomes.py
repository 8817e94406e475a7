"""Hits, lead times and trade returns of hand-made alerts, checked by hand."""

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigma9_dag.evaluation import EvaluationSettings, label_hits, trade_returns
from sigma9_dag.evaluation.prices import DayBars, LakePrices
from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.contracts import load_backtest_run_config
from sigma9_runtime.errors import DataError, SpecError
from sigma9_runtime.lake.layout import LakeLayout
from tests.stubs import SHIPPED_RUN_CONFIG, run_config_document, write_yaml

S = 1_000_000_000
M = 60 * S
DAY = dt.date(2025, 1, 6)
T = local_to_ns(DAY, dt.time(10))
H = 15 * M


class FakePrices(LakePrices):
    """LakePrices over hand-made bars instead of a lake."""

    def __init__(self, bars: dict[tuple[str, dt.date], DayBars]) -> None:
        super().__init__(LakeLayout(Path("/nonexistent")))
        self.bars = bars

    def _read(self, symbol: str, day: dt.date, kind: str = "A") -> DayBars:
        return self.bars.get((symbol, day), DayBars.empty())


def bars(ts: list[int], open_: list[float], close: list[float] | None = None) -> DayBars:
    o = np.array(open_, dtype=float)
    c = np.array(close if close is not None else open_, dtype=float)
    count = len(ts)
    return DayBars(np.array(ts, np.int64), o, o + 0.05, o - 0.05, c, o, np.full(count, 100.0), np.ones(count, np.int64))


def alerts(rows: list[tuple[str, int]], spread_pct: float = 1.0) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["symbol", "ts_ns"])
    frame["spread_pct"] = spread_pct
    return frame


def test_hit_when_t0_falls_strictly_after_the_alert_and_at_most_the_horizon_later() -> None:
    events = pd.DataFrame({"ticker": ["AAA", "BBB"], "t0_ns": [T, T]})
    got = label_hits(
        alerts(
            [
                ("AAA", T - H),  # exactly the horizon before T0: hit, lead 15
                ("AAA", T - H - 1),  # a nanosecond too early
                ("AAA", T - 6 * M),  # hit, lead 6
                ("AAA", T),  # at T0: not after it
                ("AAA", T + M),  # after T0
                ("BBB", T - 2 * M),  # other symbol's event: hit, lead 2
                ("CCC", T - 2 * M),  # no event
            ]
        ),
        events,
        H,
    )
    assert got["hit"].tolist() == [True, False, True, False, False, True, False]
    assert got["lead_min"].tolist()[:3] == [15.0, pytest.approx(np.nan, nan_ok=True), 6.0]
    assert got.loc[got["hit"], "t0_ns"].tolist() == [T, T, T]
    assert (got.loc[~got["hit"], "t0_ns"] == -1).all()
    assert got["actionable"].equals(got["hit"])  # no band given: every hit is actionable


def test_an_actionable_hit_comes_between_target_min_and_the_horizon_before_t0() -> None:
    events = pd.DataFrame({"ticker": ["AAA"], "t0_ns": [T]})
    got = label_hits(
        alerts(
            [
                ("AAA", T - H),  # 15 min: the band's far edge
                ("AAA", T - 5 * M),  # 5 min: the band's near edge
                ("AAA", T - 5 * M + 1),  # a nanosecond inside 5 min: a hit, too late to act on
                ("AAA", T - M),  # the last minute's run-up
                ("AAA", T - H - 1),  # before the horizon: no hit at all
            ]
        ),
        events,
        H,
        actionable_ns=5 * M,
    )
    assert got["hit"].tolist() == [True, True, True, True, False]
    assert got["actionable"].tolist() == [True, True, False, False, False]


def test_an_alert_hits_the_next_event_of_its_symbol_not_an_earlier_one() -> None:
    tomorrow = local_to_ns(DAY + dt.timedelta(days=1), dt.time(10))
    events = pd.DataFrame({"symbol": ["AAA", "AAA"], "t0_ns": [tomorrow, T]})
    got = label_hits(alerts([("AAA", T + M), ("AAA", tomorrow - M)]), events, H)
    assert got["hit"].tolist() == [False, True]
    assert got["t0_ns"].tolist() == [-1, tomorrow]


def test_events_need_a_ticker_and_t0_column() -> None:
    with pytest.raises(DataError, match="t0_ns"):
        label_hits(alerts([("AAA", T)]), pd.DataFrame({"ticker": ["AAA"]}), H)


def _settings(**changes: object) -> EvaluationSettings:
    values: dict[str, object] = {
        "horizon_min": 15,
        "notional_usd": 10_000,
        "spread_mult": 1.0,
        "fixed_bps": 5,
        "commission_per_share": 0.005,
        "commission_min": 1.0,
        "feed_latency_ms": 250,
        "order_latency_ms": 250,
    }
    return EvaluationSettings(**{**values, **changes})  # type: ignore[arg-type]


def test_trade_buys_the_next_bar_open_after_latency_and_sells_at_the_horizon_after_costs() -> None:
    day_bars = bars([T, T + S, T + 2 * S, T + H, T + H + S], [9.0, 10.0, 10.5, 11.0, 12.0])
    prices = FakePrices({("AAA", DAY): day_bars})
    got = trade_returns(alerts([("AAA", T)], spread_pct=1.0), prices, _settings())
    row = got.iloc[0]
    # Entry order at T + 0.5 s -> the bar stamped T + 1 s; exit order at T + 15 min + 0.25 s -> T + 15 min + 1 s.
    assert (row["entry_ts_ns"], row["entry_price"]) == (T + S, 10.0)
    assert (row["exit_ts_ns"], row["exit_price"]) == (T + H + S, 12.0)
    slippage = 1.0 * 1.0 / 100 / 2 + 5 / 10_000  # half of a 1% spread, plus 5 bps, per side
    commission = max(1.0, 0.005 * 10_000 / 10.0)  # 1,000 shares: $5 per order
    assert row["gross_return"] == pytest.approx(0.2)
    assert row["cost"] == pytest.approx(2 * slippage + 2 * commission / 10_000)
    assert row["net_return"] == pytest.approx(0.2 - 0.0110 - 0.001)


def test_commission_minimum_applies_to_small_orders() -> None:
    prices = FakePrices({("AAA", DAY): bars([T + S, T + H + S], [100.0, 100.0])})
    got = trade_returns(alerts([("AAA", T)], spread_pct=0.0), prices, _settings(fixed_bps=0))
    assert got["cost"].iloc[0] == pytest.approx(2 * 1.0 / 10_000)  # 100 shares x $0.005 < $1 minimum


def test_exit_without_a_later_bar_is_the_days_last_close_and_no_entry_means_no_trade() -> None:
    prices = FakePrices({("AAA", DAY): bars([T + S, T + 2 * S], [10.0, 10.2], close=[10.1, 10.4])})
    got = trade_returns(alerts([("AAA", T), ("AAA", T + 10 * S), ("ZZZ", T)]), prices, _settings())
    assert (got["exit_ts_ns"].iloc[0], got["exit_price"].iloc[0]) == (T + 2 * S, 10.4)
    assert got["gross_return"].iloc[0] == pytest.approx(0.04)
    assert np.isnan(got["net_return"].iloc[1]) and got["entry_ts_ns"].iloc[1] == -1
    assert np.isnan(got["net_return"].iloc[2])


def test_conservative_fills_buy_the_high_and_sell_the_low() -> None:
    prices = FakePrices({("AAA", DAY): bars([T + S, T + H + S], [10.0, 11.0])})
    got = trade_returns(alerts([("AAA", T)]), prices, _settings(fill_model="conservative"))
    assert (got["entry_price"].iloc[0], got["exit_price"].iloc[0]) == (10.05, 10.95)


def test_settings_come_from_the_run_config() -> None:
    settings = EvaluationSettings.from_run_config(load_backtest_run_config(SHIPPED_RUN_CONFIG))
    assert settings == _settings(seed=7, actionable_min=5)
    assert settings.horizon_ns == 15 * M and settings.actionable_ns == 5 * M
    overridden = EvaluationSettings.from_run_config(load_backtest_run_config(SHIPPED_RUN_CONFIG), horizon_min=30)
    assert overridden.horizon_min == 30


def test_mid_fills_are_refused_naming_the_field(tmp_path: Path) -> None:
    document = run_config_document()
    document["backtest_run"]["execution"]["fill_model"] = "mid"
    run = load_backtest_run_config(write_yaml(tmp_path / "run.yaml", document))
    with pytest.raises(SpecError, match=r"backtest_run\.execution\.fill_model"):
        EvaluationSettings.from_run_config(run)
