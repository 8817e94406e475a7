"""A tiny deterministic backtest checked by hand: one alert, its fills, fees, slippage, hit and outputs."""

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigma9_dag.backtest import run_backtest
from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.lake.layout import LakeLayout
from tests.dag.backtest.conftest import DAY, SPEC, START_NS, T0_NS, TICKER, tiny_prices

S = 1_000_000_000


def spread_pct(at_ns: int) -> float:
    """200 x mean |log move| of the 1-second closes stamped in [at - 300 s, at) and completed by ``at``."""
    ts = START_NS + np.arange(tiny_prices().size) * S
    close = tiny_prices()[(ts >= at_ns - 300 * S) & (ts + S <= at_ns)]
    return 200.0 * float(np.mean(np.abs(np.diff(np.log(close)))))


@pytest.fixture
def result(tiny_run: BacktestRunConfig, tiny_lake: LakeLayout, tmp_path: Path):
    return run_backtest(tiny_run, SPEC, lake_root=tiny_lake.root, out_dir=tmp_path / "out")


def test_tiny_backtest_fills_fees_and_slippage_match_the_hand_computation(result) -> None:
    alerts = pd.read_parquet(result.paths["alerts"])
    trades = pd.read_parquet(result.paths["trades"])
    assert len(alerts) == len(trades) == 1
    # The first step with five 1-second pairs for the spread estimate: 10:00:06.
    t = local_to_ns(DAY, dt.time(10, 0, 6))
    assert alerts["ts_ns"].tolist() == [t] and alerts["symbol"].tolist() == [TICKER]
    trade = trades.iloc[0]
    feed = order = 250_000_000
    # Sized at the last trade known at the decision (10:00:06, 10.00): 1000 shares.
    assert trade["shares"] == 1000
    # Entry: sent at t + feed, arrives 250 ms later, fills at the next 1-second bar's open (10:00:07, 10.02)
    # plus slippage = 1.0 x spread / 2 + 5 bps, rounded to 0.0001.
    assert trade["entry_order_ts_ns"] == t + feed
    slip_in = spread_pct(t + feed) / 100 / 2 + 5e-4
    assert trade["entry_price"] == pytest.approx(round(10.02 * (1 + slip_in), 4), abs=1e-9)
    assert trade["entry_commission"] == pytest.approx(max(1.0, 0.005 * 1000))
    # Exit: sent at t + 15 min, fills at the open of the bar after its arrival (10:15:07), less slippage.
    exit_order = t + 15 * 60 * S
    assert trade["exit_order_ts_ns"] == exit_order
    exit_bar = (exit_order + order - START_NS) // S + 1
    slip_out = spread_pct(exit_order) / 100 / 2 + 5e-4
    assert trade["exit_price"] == pytest.approx(round(tiny_prices()[exit_bar] * (1 - slip_out), 4), abs=1e-9)
    pnl = (trade["exit_price"] - trade["entry_price"]) * 1000 - trade["entry_commission"] - trade["exit_commission"]
    assert trade["pnl"] == pytest.approx(pnl)
    assert trade["net_return"] == pytest.approx(pnl / (trade["entry_price"] * 1000))
    # T0 10:15:00 comes 14.9 minutes after the alert: a hit within the 15-minute horizon.
    assert alerts["hit"].tolist() == [True]
    assert alerts["lead_min"].iloc[0] == pytest.approx((T0_NS - t) / 60e9)
    assert result.metrics["precision_at_budget"] == 1.0
    assert result.metrics["utility_score"] == pytest.approx(trade["net_return"])


def test_outputs_hold_alerts_trades_equity_metrics_plots_and_a_report_with_both_baselines(result) -> None:
    for name in (
        "alerts",
        "baseline_alerts",
        "trades",
        "equity_curve",
        "metrics",
        "report",
        "equity_plot",
        "metrics_plot",
    ):
        assert result.paths[name].is_file(), name
    report = json.loads(result.paths["report"].read_text())
    assert report["kind"] == "sigma9.backtest_report"
    assert set(report["baselines"]) == {"seismograph_only", "random_budget_matched"}
    assert set(result.baselines) == {"seismograph_only", "random_budget_matched"}
    assert report["metrics"] == result.metrics
    assert report["summary"]["alerts"] == 1 and report["summary"]["trades"] == 1
    baseline_alerts = pd.read_parquet(result.paths["baseline_alerts"])
    assert len(baseline_alerts) > 0  # a subset test alone would pass on an empty table
    assert set(baseline_alerts["stream"]) <= {"seismograph_only", "random_budget_matched"}
    curve = pd.read_parquet(result.paths["equity_curve"])
    assert curve["equity"].iloc[-1] == pytest.approx(report["trading"]["starting_cash"] + report["summary"]["net_pnl"])
    assert not math.isnan(report["metrics"]["tail_loss_p95"])
    # the lake's only day has no earlier one: the report says its features are NaN
    assert report["warmup"]["symbol_days"] == 1 and report["warmup"]["insufficient"] == 1
    assert report["warmup"]["short_symbol_days"][0]["normalization_days"] == 0
    assert (report["engine_stats"]["symbol_days"], report["engine_stats"]["no_prev_close"]) == (1, {})


def test_a_missing_previous_trading_day_leaves_no_previous_close_and_is_counted(
    tiny_run: BacktestRunConfig, tiny_lake: LakeLayout, tmp_path: Path
) -> None:
    """The daily bar of 2025-01-03 moved to 2025-01-02: never that older close; the cross rule is off."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    daily = pq.read_table(tiny_lake.daily)
    dates = [dt.date(2025, 1, 2) if d == dt.date(2025, 1, 3) else d for d in daily.column("date").to_pylist()]
    pq.write_table(daily.set_column(1, "date", pa.array(dates, pa.date32())), tiny_lake.daily)

    result = run_backtest(tiny_run, SPEC, lake_root=tiny_lake.root, out_dir=tmp_path / "out")

    report = json.loads(result.paths["report"].read_text())
    assert report["engine_stats"]["no_prev_close"] == {"prev_day_missing": 1}
    assert report["summary"]["after_cross"] == 0  # no previous close: no candidate ends at a cross


def test_the_same_config_and_data_give_identical_outputs(tiny_run, tiny_lake: LakeLayout, tmp_path: Path) -> None:
    first = run_backtest(tiny_run, SPEC, lake_root=tiny_lake.root, out_dir=tmp_path / "a")
    second = run_backtest(tiny_run, SPEC, lake_root=tiny_lake.root, out_dir=tmp_path / "b")
    assert sorted(first.paths) == sorted(second.paths)
    for name, path in first.paths.items():
        assert path.read_bytes() == second.paths[name].read_bytes(), name


def test_backtest_prints_the_warmup_on_stderr_and_strict_refuses_before_the_engine(
    tiny_lake: LakeLayout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sigma9_dag.cli import main
    from tests.dag.backtest.conftest import tiny_run_document
    from tests.stubs import write_yaml

    out = tmp_path / "out"
    path = write_yaml(tmp_path / "RUN_tiny.yaml", tiny_run_document(tiny_lake.root, out))
    assert main(["backtest", str(path), "--root", str(tiny_lake.root), "--strict"]) == 2
    printed = capsys.readouterr()
    assert printed.out == "" and not out.exists()
    assert printed.err.count("\n") == 1 and printed.err.startswith(
        "sigma9: error: --strict: 1 of 1 symbol-days lack the history FS_2026-01-16_001 needs (features NaN), "
        f"e.g. {TICKER} {DAY}: 0/60 normalization days, 0/20 baseline days — features NaN"
    )
    seen: list[str] = []

    def stop(report) -> None:  # type: ignore[no-untyped-def]  # the callback runs before the engine: stop there
        seen.extend(report.lines())
        raise ValueError("stop")

    run = BacktestRunConfig.model_validate(tiny_run_document(tiny_lake.root, out)["backtest_run"])
    with pytest.raises(ValueError, match="stop"):
        run_backtest(run, SPEC, on_warmup=stop)
    assert seen[0].startswith("warm-up (FS_2026-01-16_001; needs 60 normalization days, 20 baseline days): 0 of 1")
    assert seen[1] == f"  {TICKER} {DAY}: 0/60 normalization days, 0/20 baseline days — features NaN"
    assert not out.exists()
