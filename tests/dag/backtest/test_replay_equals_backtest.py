"""For the same day, config and artifact, the replay's alerts equal the Nautilus backtest's.

One synthetic lake day with an event (HWDJ crosses +10% at 08:06, pre-market: after its cross it is no
candidate on either side), three symbols, the shipped
FeatureSpec with gates the thin synthetic names pass (runtime gates are not part of the schema hash, so
the session's artifact fits), scored 07:30-09:30: the pre-market session after 210 minutes of data.
``sigma9 replay`` plays the day from 04:00 with the run's plugin, params, artifact, budget and cooldown over
the backtest's steps; the backtest runs with the shipped 250 ms feed and order latencies. Each side starts
from its own copy of the lake, so neither reads feature statistics the other wrote.
"""

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigma9_dag.backtest import run_backtest
from sigma9_dag.backtest.config import prepare
from sigma9_dag.backtest.engine import day_window
from sigma9_dag.cli import main
from sigma9_runtime.calendar import ns_to_local
from sigma9_runtime.contracts import load_feature_spec
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_events
from tests.stubs import ARTIFACT_ID, feature_spec_document, run_config_document, write_yaml

DAY = dt.date(2025, 1, 23)
TICKERS = ["DFIO", "GRLN", "HWDJ"]
PARAMS: dict[str, dict[str, float | bool]] = {
    "seismograph": {"threshold": 0.2},  # the heuristic seldom reaches its default 0.8 on a thin market
    "seismograph_ml": {"use_ml_overlay": True, "ml_weight": 1.0},  # the artifact's thresholds
}
BUDGET, COOLDOWN_SEC = 60, 180


@pytest.fixture
def loose_spec(tmp_path: Path) -> Path:
    """The shipped spec with gates the synthetic small caps pass ($1k a minute, 50% spread)."""
    document = feature_spec_document()
    document["feature_spec"]["runtime_gates"]["tradeability"] = {"min_dollar_volume_1m": 1000, "max_spread_pct": 50}
    return write_yaml(tmp_path / "FS_loose.yaml", document)


def lake_copy(lake: LakeLayout, root: Path) -> LakeLayout:
    """A private copy of the session's lake (scoring writes feature statistics into the lake)."""
    shutil.copytree(lake.root, root)
    return LakeLayout(root)


def parity_run(lake: LakeLayout, spec_path: Path, plugin: str, store: Path) -> BacktestRunConfig:
    """The shipped run config scoring DAY's pre-market from 07:30 with ``plugin`` over TICKERS."""
    run = run_config_document()["backtest_run"]
    run["data"]["parquet_root"] = str(lake.root)
    run["data"]["universe"] = {"source": "watchlist", "tickers": TICKERS}
    run["feature_spec_ref"]["path"] = str(spec_path)
    run["strategy"] = {"plugin": plugin, "params": PARAMS[plugin]}
    if plugin == "seismograph":
        run.pop("artifact_ref")
    else:
        run["artifact_ref"]["manifest_path"] = str(store / "manifests" / f"{ARTIFACT_ID}.json")
    run["time"].update(
        start="2025-01-02",
        end="2025-02-06",
        session_filter=["pre"],
        warmup={"daily_lookback_days": 10, "intraday_warmup_min": 210},
    )
    day = DAY.isoformat()
    run["splits"] = {"type": "oos_holdout", "train_end": "2025-01-22", "test_start": day, "test_end": day}
    run["evaluation"]["alert_budget"] = {"max_alerts_per_day": BUDGET, "symbol_cooldown_sec": COOLDOWN_SEC}
    return BacktestRunConfig.model_validate(run)


def replay_command(lake: LakeLayout, spec: Path, plugin: str, store: Path, steps: np.ndarray, out: Path) -> list[str]:
    """``sigma9 replay`` of DAY over ``steps`` (``--from`` the first, ``--to`` a second after the last)."""
    first, last = ns_to_local(int(steps[0])), ns_to_local(int(steps[-1]) + 1_000_000_000)
    params = [arg for key, value in PARAMS[plugin].items() for arg in ("--param", f"{key}={value}".lower())]
    artifacts = ["--artifacts", str(store)] if plugin == "seismograph_ml" else []
    return [
        "replay", "--root", str(lake.root), "--date", DAY.isoformat(), "--spec", str(spec),
        "--strategy", plugin, *params, *artifacts, "--tickers", *TICKERS,
        "--from", f"{first:%H:%M:%S}", "--to", f"{last:%H:%M:%S}",
        "--max-alerts-per-day", str(BUDGET), "--cooldown", str(COOLDOWN_SEC),
        "--out", str(out), "--workers", "1",
    ]  # fmt: skip


@pytest.mark.parametrize("plugin", ["seismograph", "seismograph_ml"])
def test_the_replay_raises_the_backtests_alerts_for_the_same_day_config_and_artifact(
    plugin: str, synthetic_lake: LakeLayout, artifact_store: Path, loose_spec: Path, tmp_path: Path, capsys
) -> None:
    events = read_events(synthetic_lake).to_pandas()
    event = events[(events["ticker"] == "HWDJ") & (events["date"] == DAY)]
    assert len(event) == 1
    crossed_ns = (int(event["t0_ns"].iloc[0]) // 1_000_000_000 + 1) * 1_000_000_000  # end of T0's second
    spec = load_feature_spec(loose_spec)

    lake = lake_copy(synthetic_lake, tmp_path / "backtest-lake")
    run = parity_run(lake, loose_spec, plugin, artifact_store)
    result = run_backtest(run, spec, lake_root=lake.root, out_dir=tmp_path / "out", days=[DAY], tickers=TICKERS)
    backtest = pd.read_parquet(result.paths["alerts"])
    prepared = prepare(run, spec, lake_root=lake.root, out_dir=tmp_path / "out", days=[DAY], tickers=TICKERS)
    steps = day_window(prepared, DAY, round(run.evaluation.lead_time.target_max * 60e9)).steps

    replay_lake = lake_copy(synthetic_lake, tmp_path / "replay-lake")
    out = tmp_path / "replay.parquet"
    assert main(replay_command(replay_lake, loose_spec, plugin, artifact_store, steps, out)) == 0, capsys.readouterr()
    replay = pd.read_parquet(out)

    assert len(replay) >= 3  # alerts enough for the comparison to mean something
    assert not ((replay["symbol"] == "HWDJ") & (replay["ts_ns"] >= crossed_ns)).any()  # candidates end at the cross
    report = json.loads((tmp_path / "out" / "backtest_report.json").read_text())
    assert report["summary"]["after_cross"] > 0 and "after cross (not candidates)" in capsys.readouterr().out
    assert list(zip(backtest["symbol"], backtest["ts_ns"])) == list(zip(replay["symbol"], replay["ts_ns"]))
    np.testing.assert_allclose(backtest["score"].to_numpy(), replay["score"].to_numpy(), rtol=0, atol=1e-12)
    assert backtest["cluster_id"].tolist() == replay["cluster_id"].tolist()
    if plugin == "seismograph_ml":
        assert replay["cluster_id"].notna().all() and set(replay["artifact_id"]) == {ARTIFACT_ID}
