"""`sigma9 replay` (lake and capture) and `sigma9 features consistency` on the synthetic lake."""

import json

import pyarrow.parquet as pq
import pytest

from sigma9_dag.cli import main
from sigma9_runtime.lake.tables import read_events
from sigma9_runtime.replay import lake_day_feed, lake_frames
from tests.stubs import SHIPPED_FEATURE_SPEC, feature_spec_document, write_yaml

WINDOW = ["--from", "09:30", "--to", "09:40"]


def _event_day(lake):
    events = read_events(lake).to_pandas()
    row = events.iloc[0]
    return str(row["date"]), row["ticker"], [t for t in lake.trade_tickers() if t != row["ticker"]][:2]


@pytest.fixture
def loose_spec(tmp_path):
    """The shipped spec with gates the synthetic small caps pass ($1k a minute, 50% spread); the
    schema hash is unchanged (runtime gates are not part of it), so the session's artifact fits."""
    document = feature_spec_document()
    document["feature_spec"]["runtime_gates"]["tradeability"] = {"min_dollar_volume_1m": 1000, "max_spread_pct": 50}
    return write_yaml(tmp_path / "FS_loose.yaml", document)


def _replay(lake, day, tickers, *extra, spec=SHIPPED_FEATURE_SPEC) -> list[str]:
    base = ["replay", "--root", str(lake.root), "--date", day, "--spec", str(spec), "--workers", "1"]
    return [*base, "--tickers", *tickers, *WINDOW, *extra]


def test_replay_writes_alerts_and_a_feature_log_consistent_with_the_offline_batch(
    synthetic_lake, tmp_path, capsys, loose_spec
):
    day, ticker, others = _event_day(synthetic_lake)
    tickers = [ticker, *others]
    out, log = tmp_path / "alerts.jsonl", tmp_path / "features.parquet"
    params = ["--param", "threshold=0.0", "--cooldown", "120"]
    options = [*params, "--out", str(out), "--log-features", str(log)]
    code = main(_replay(synthetic_lake, day, tickers, *options, spec=loose_spec))
    printed = capsys.readouterr().out
    assert code == 0 and f"replay {day}: strategy seismograph" in printed
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    assert alerts and {a["symbol"] for a in alerts} <= set(tickers)
    assert all(a["alert"] and a["strategy"] == "seismograph" and json.loads(a["explanation"]) for a in alerts)
    assert pq.read_table(log).num_rows == 3 * 600  # three symbols x ten minutes of 1 s steps

    code = main(["features", "consistency", "--root", str(synthetic_lake.root), "--spec", str(SHIPPED_FEATURE_SPEC),
                 "--log", str(log), "--workers", "1"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "mismatch ratio    0.0000%" in printed and "missing ratio     0.0000%" in printed
    assert "CONSISTENT" in printed

    # one changed value and one dropped row are found
    table = pq.read_table(log)
    column = table.column("path.return_slope").to_numpy().copy()
    column[0] = 123.0
    changed = table.set_column(table.schema.get_field_index("path.return_slope"), "path.return_slope", [column])
    keep = [i for i in range(changed.num_rows) if i != 900]  # a row inside the span: a step not logged
    pq.write_table(changed.take(keep), log)
    code = main(["features", "consistency", "--root", str(synthetic_lake.root), "--spec", str(SHIPPED_FEATURE_SPEC),
                 "--log", str(log), "--workers", "1"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 1 and "NOT CONSISTENT" in printed and "path.return_slope" in printed
    assert "mismatch ratio    0.0556% (1 rows" in printed and "missing ratio     0.0556% (1 rows)" in printed


def test_a_capture_replays_to_the_same_alerts_as_the_lake(synthetic_lake, tmp_path, capsys, artifact_store, loose_spec):
    day, ticker, others = _event_day(synthetic_lake)
    tickers = [ticker, *others]
    import datetime as dt

    from sigma9_runtime.calendar import local_to_ns
    from sigma9_runtime.features.grid import day_grid
    from tests.stubs import feature_spec

    date = dt.date.fromisoformat(day)
    grid = day_grid(feature_spec(), date).steps_ns
    cuts = grid[grid < local_to_ns(date, dt.time(9, 40))]
    frames = lake_frames(lake_day_feed(synthetic_lake, date, tickers), cuts, tail=False)
    capture = tmp_path / "capture.jsonl"
    capture.write_text("".join(f + "\n" for f in frames))
    ml = ["--artifacts", str(artifact_store), "--param", "ml_weight=1.0", "--cooldown", "60"]
    lake_out, capture_out = tmp_path / "lake.parquet", tmp_path / "capture.parquet"
    assert main(_replay(synthetic_lake, day, tickers, *ml, "--out", str(lake_out), spec=loose_spec)) == 0
    from_capture = ["--capture", str(capture), "--out", str(capture_out)]
    assert main(_replay(synthetic_lake, day, tickers, *ml, *from_capture, spec=loose_spec)) == 0
    printed = capsys.readouterr().out
    assert "strategy seismograph_ml, artifact ART_2026-01-16_001" in printed
    lake_alerts, capture_alerts = pq.read_table(lake_out).to_pylist(), pq.read_table(capture_out).to_pylist()
    assert lake_alerts == capture_alerts
    assert lake_alerts and all(a["artifact_id"] == "ART_2026-01-16_001" for a in lake_alerts)


def test_several_days_replayed_as_tasks_are_each_day_replayed_alone(synthetic_lake, tmp_path, capsys, loose_spec):
    day, ticker, others = _event_day(synthetic_lake)
    other_day = next(str(d) for d in synthetic_lake.trade_dates() if str(d) != day)
    tickers, params = [ticker, *others], ["--param", "threshold=0.0", "--cooldown", "120"]
    alone = []
    for one in (day, other_day):
        assert (
            main(
                _replay(synthetic_lake, one, tickers, *params, "--out", str(tmp_path / f"{one}.jsonl"), spec=loose_spec)
            )
            == 0
        )
        alone += (tmp_path / f"{one}.jsonl").read_text().splitlines()
    capsys.readouterr()
    together = _replay(
        synthetic_lake, other_day, tickers, *params, "--out", str(tmp_path / "both.jsonl"), spec=loose_spec
    )
    together[together.index("--date") + 1 : together.index("--date") + 2] = [other_day, day]  # any order given
    together[together.index("--workers") + 1] = "2"  # two worker processes, a day each
    assert main(together) == 0
    printed = capsys.readouterr().out
    assert printed.index(f"replay {min(day, other_day)}:") < printed.index(f"replay {max(day, other_day)}:")
    by_day = sorted(alone, key=lambda line: json.loads(line)["ts_ns"])
    assert (tmp_path / "both.jsonl").read_text().splitlines() == by_day and by_day


def test_several_days_refuse_a_capture_and_a_feature_log(synthetic_lake, tmp_path, capsys):
    days = ["--date", "2025-01-02", "2025-01-03"]
    for extra, why in (
        (["--capture", "x.jsonl"], "--capture replays the one day"),
        (["--log-features", "f.parquet"], "--log-features logs one day"),
    ):
        assert main(["replay", "--root", str(synthetic_lake.root), *days, *extra]) == 2
        assert why in capsys.readouterr().err


def test_replay_refuses_a_day_the_lake_does_not_hold_and_an_unknown_plugin(synthetic_lake, capsys):
    assert main(["replay", "--root", str(synthetic_lake.root), "--date", "2001-01-02"]) == 2
    err = capsys.readouterr().err  # the default spec: the newest shipped one the lake holds the tables of
    assert "FS_2026-12-05_001 reads tick; the lake at" in err and "has no trades on 2001-01-02" in err
    day, ticker, _ = _event_day(synthetic_lake)
    code = main(_replay(synthetic_lake, day, [ticker], "--strategy", "nope"))
    assert code == 2 and "unknown strategy plugin 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["--param=novalue", "--from=25:00"])
def test_replay_options_are_checked(bad, capsys):
    with pytest.raises(SystemExit):
        main(["replay", "--date", "2025-01-02", bad])


def test_with_an_artifact_store_the_default_spec_is_the_newest_that_has_an_artifact_there(
    synthetic_lake, artifact_store, tmp_path, monkeypatch
):
    from sigma9_dag.cli.replay import default_spec
    from sigma9_dag.lake.coverage import lake_coverage
    from tests.stubs import ROOT, SHIPPED_FEATURE_SPEC

    monkeypatch.chdir(ROOT)
    coverage = lake_coverage(synthetic_lake)
    assert default_spec(coverage).name == "FS_2026-12-05_001.yaml"  # the newest the lake holds the tables of
    assert default_spec(coverage, artifact_store).name == SHIPPED_FEATURE_SPEC.name  # the one published there
    assert default_spec(coverage, tmp_path / "no-store").name == "FS_2026-12-05_001.yaml"  # none published
