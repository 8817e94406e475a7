"""For the same day, config and artifact, the replay's alerts equal the Nautilus backtest's.

One synthetic lake day with an event (HWDJ crosses +10% at 08:06, pre-market: after its cross it is no
candidate on either side), three symbols, the shipped
FeatureSpec with gates the thin synthetic names pass (runtime gates are not part of the schema hash, so
the session's artifact fits), scored 07:30-09:30: the pre-market session after 210 minutes of data.
``sigma9 replay`` plays the day from 04:00 with the run's plugin, params, artifact, budget and cooldown over
the backtest's steps; the backtest runs with the shipped 250 ms feed and order latencies. Each side starts
from its own copy of the lake, so neither reads feature statistics the other wrote.

The same again on the lake of daily + 1-minute bars only (the session's lake without trades and 1-second
bars) with the minute-bar FeatureSpec FS_2026-01-16_003: the replay sends AM frames alone (a container
subscribed to ``AM.*``), the backtest streams 1-minute bars alone; both gate and end candidates on them.
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
from tests.stubs import (
    ARTIFACT_ID,
    MINUTE_BAR_FEATURE_SPEC,
    artifact_manifest_body,
    feature_spec_document,
    minute_bar_feature_spec_document,
    run_config_document,
    write_yaml,
)

DAY = dt.date(2025, 1, 23)
TICKERS = ["DFIO", "GRLN", "HWDJ"]
PARAMS: dict[str, dict[str, float | bool]] = {
    "seismograph": {"threshold": 0.2},  # the heuristic seldom reaches its default 0.8 on a thin market
    "seismograph_ml": {"use_ml_overlay": True, "ml_weight": 1.0},  # the artifact's thresholds
}
BUDGET, COOLDOWN_SEC = 60, 180
MINUTE_ARTIFACT_ID = "ART_2026-01-16_003"


LOOSE_GATES = {"min_dollar_volume_1m": 1000, "max_spread_pct": 50}
"""Gates the synthetic small caps pass ($1k a minute, 50% spread)."""


@pytest.fixture
def loose_spec(tmp_path: Path) -> Path:
    """The shipped spec with gates the synthetic small caps pass."""
    document = feature_spec_document()
    document["feature_spec"]["runtime_gates"]["tradeability"] = LOOSE_GATES
    return write_yaml(tmp_path / "FS_loose.yaml", document)


@pytest.fixture
def loose_minute_spec(tmp_path: Path) -> Path:
    """The shipped minute-bar spec with gates the synthetic small caps pass."""
    document = minute_bar_feature_spec_document()
    document["feature_spec"]["runtime_gates"]["tradeability"] = LOOSE_GATES
    return write_yaml(tmp_path / "FS_minute_loose.yaml", document)


@pytest.fixture(scope="module")
def minute_artifact_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifact of FS_2026-01-16_003 (a tiny LightGBM scorer and cluster pipeline fitted on random rows
    of its width), requiring ``AM.*`` alone."""
    import lightgbm
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sigma9_dag.export import build_payload, publish_artifact
    from sigma9_runtime.features.names import feature_names

    names = feature_names(load_feature_spec(MINUTE_BAR_FEATURE_SPEC))
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(600, len(names)))
    labels = (rows[:, 0] + rows[:, 1] + rng.normal(scale=0.5, size=600) > 0.8).astype(int)
    clusters = (rows[:, 2] > 0).astype(int)
    scorer = lightgbm.LGBMClassifier(n_estimators=30, num_leaves=8, random_state=3, verbose=-1, n_jobs=1)
    scorer.fit(rows, labels)
    cluster_model = make_pipeline(SimpleImputer(), LogisticRegression(max_iter=500)).fit(rows, clusters)
    payload = build_payload(scorer, names, rows, cluster_model=cluster_model)
    root = tmp_path_factory.mktemp("minute-artifacts")
    body = artifact_manifest_body(MINUTE_ARTIFACT_ID)
    body["compatibility"]["required_streams"] = ["AM.*"]
    publish_artifact(root, body, payload.files, MINUTE_BAR_FEATURE_SPEC)
    return root


def lake_copy(lake: LakeLayout, root: Path) -> LakeLayout:
    """A private copy of the session's lake (scoring writes feature statistics into the lake)."""
    shutil.copytree(lake.root, root)
    return LakeLayout(root)


def parity_run(
    lake: LakeLayout, spec_path: Path, plugin: str, store: Path, artifact_id: str = ARTIFACT_ID
) -> BacktestRunConfig:
    """The shipped run config scoring DAY's pre-market (a minute spec: and regular session) from 07:30 with
    ``plugin`` over TICKERS."""
    run = run_config_document()["backtest_run"]
    spec = load_feature_spec(spec_path)
    run["data"]["parquet_root"] = str(lake.root)
    run["data"]["universe"] = {"source": "watchlist", "tickers": TICKERS}
    if not spec.sources.is_enabled("bar_1s"):
        run["data"]["intraday"]["bar_1s"] = None
    run["feature_spec_ref"] = {"id": spec.id, "path": str(spec_path)}
    run["strategy"] = {"plugin": plugin, "params": PARAMS[plugin]}
    if plugin == "seismograph":
        run.pop("artifact_ref")
    else:
        run["artifact_ref"] = {
            "id": artifact_id,
            "manifest_path": str(store / "manifests" / f"{artifact_id}.json"),
        }
    run["time"].update(
        start="2025-01-02",
        end="2025-02-06",
        # a 1-minute spec steps 60x less often: it scores the regular session as well, for alerts enough
        session_filter=["pre"] if spec.sources.is_enabled("bar_1s") else ["pre", "regular"],
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


@pytest.mark.parametrize(
    ("lake_kind", "spec_kind", "plugin"),
    [
        ("full", "seconds", "seismograph"),
        ("full", "seconds", "seismograph_ml"),
        ("minute", "minute", "seismograph_ml"),
        ("full", "minute", "seismograph"),
    ],
    ids=["full-lake-seismograph", "full-lake-seismograph_ml", "minute-lake-seismograph_ml", "minute-spec-on-full-lake"],
)  # each plugin on each kind of bars; a minute spec on the minute lake and on the full lake (AM frames alone)
def test_the_replay_raises_the_backtests_alerts_for_the_same_day_config_and_artifact(
    plugin: str, lake_kind: str, spec_kind: str, request: pytest.FixtureRequest, tmp_path: Path, capsys
) -> None:
    minute = spec_kind == "minute"  # the runtime subscribes to AM.* alone, whatever the lake holds
    source: LakeLayout = request.getfixturevalue("minute_lake" if lake_kind == "minute" else "synthetic_lake")
    spec_path: Path = request.getfixturevalue("loose_minute_spec" if minute else "loose_spec")
    store: Path = request.getfixturevalue("minute_artifact_store" if minute else "artifact_store")
    artifact_id = MINUTE_ARTIFACT_ID if minute else ARTIFACT_ID
    events = read_events(source).to_pandas()
    event = events[(events["ticker"] == "HWDJ") & (events["date"] == DAY)]
    assert len(event) == 1
    bar_ns = 60_000_000_000 if minute else 1_000_000_000  # the runtime's gate bars: AM alone, or A
    crossed_ns = (int(event["t0_ns"].iloc[0]) // bar_ns + 1) * bar_ns  # the end of the bar holding the cross
    spec = load_feature_spec(spec_path)

    lake = lake_copy(source, tmp_path / "backtest-lake")
    run = parity_run(lake, spec_path, plugin, store, artifact_id)
    result = run_backtest(run, spec, lake_root=lake.root, out_dir=tmp_path / "out", days=[DAY], tickers=TICKERS)
    backtest = pd.read_parquet(result.paths["alerts"])
    prepared = prepare(run, spec, lake_root=lake.root, out_dir=tmp_path / "out", days=[DAY], tickers=TICKERS)
    steps = day_window(prepared, DAY, round(run.evaluation.lead_time.target_max * 60e9)).steps

    replay_lake = lake_copy(source, tmp_path / "replay-lake")
    out = tmp_path / "replay.parquet"
    assert main(replay_command(replay_lake, spec_path, plugin, store, steps, out)) == 0, capsys.readouterr()
    replay = pd.read_parquet(out)

    assert len(replay) >= 3  # alerts enough for the comparison to mean something
    assert not ((replay["symbol"] == "HWDJ") & (replay["ts_ns"] >= crossed_ns)).any()  # candidates end at the cross
    report = json.loads((tmp_path / "out" / "backtest_report.json").read_text())
    assert report["summary"]["after_cross"] > 0 and "after cross (not candidates)" in capsys.readouterr().out
    assert list(zip(backtest["symbol"], backtest["ts_ns"])) == list(zip(replay["symbol"], replay["ts_ns"]))
    np.testing.assert_allclose(backtest["score"].to_numpy(), replay["score"].to_numpy(), rtol=0, atol=1e-12)
    assert backtest["cluster_id"].tolist() == replay["cluster_id"].tolist()
    if plugin == "seismograph_ml":
        assert replay["cluster_id"].notna().all() and set(replay["artifact_id"]) == {artifact_id}
    if minute:  # every alert at a whole minute: the spec's steps are minutes
        assert (replay["ts_ns"] % bar_ns == 0).all()
        assert report["engine_stats"]["trades"] == 0
        assert report["summary"]["trades"] > 0  # orders fill on bars when no trade tick comes


@pytest.mark.parametrize(
    ("plugin", "threshold"),
    [("seismograph", 0.8), ("seismograph", 0.2), ("seismograph_ml", None)],
    ids=["seismograph-few-steps-reached", "seismograph-many-reached", "seismograph_ml"],
)
def test_a_backtest_scored_ahead_in_batch_writes_what_one_stepped_every_second_writes(
    plugin: str, threshold: float | None, synthetic_lake: LakeLayout, loose_spec: Path, artifact_store: Path, tmp_path
) -> None:
    """The host steps the runtime online only where the day's batch scores reach a threshold and passes over the
    other steps (sigma9_dag.backtest.prescore); every output file is the same as when it steps every second."""
    lake = lake_copy(synthetic_lake, tmp_path / "lake")
    run = parity_run(lake, loose_spec, plugin, artifact_store)
    if threshold is not None:
        document = run.model_dump(mode="json")
        document["strategy"]["params"]["threshold"] = threshold
        run = BacktestRunConfig.model_validate(document)
    spec = load_feature_spec(loose_spec)
    outputs = {}
    for prescore in (False, True):
        out = tmp_path / f"out-{prescore}"
        result = run_backtest(
            run, spec, lake_root=lake.root, out_dir=out, days=[DAY], tickers=TICKERS, prescore=prescore
        )
        outputs[prescore] = result
    stepped, prescored = outputs[False], outputs[True]
    report = {k: json.loads(r.paths["report"].read_text()) for k, r in outputs.items()}
    passed = {k: r["engine_stats"].pop("passed_steps") for k, r in report.items()}
    assert passed[False] == 0 and 0 < passed[True] < report[True]["engine_stats"]["steps"]
    assert report[True]["summary"]["alerts"] > 0 or threshold == 0.8
    assert report[True] == report[False]
    for name in ("alerts", "baseline_alerts", "trades", "equity_curve"):
        pd.testing.assert_frame_equal(pd.read_parquet(prescored.paths[name]), pd.read_parquet(stepped.paths[name]))
    assert prescored.paths["metrics"].read_text() == stepped.paths["metrics"].read_text()
