"""Warm-up lines and ``--strict`` of `sigma9 replay`, `sigma9 features parity` and `sigma9 lab run` on a short
hand-made lake: one symbol with 30 days of minute bars (and trades on its last 3), one listed 3 days ago."""

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sigma9_dag.cli import main
from sigma9_runtime.calendar import local_to_ns, trading_days
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import DAILY_SCHEMA, TRADES_SCHEMA, bars_table_from_trades
from sigma9_runtime.units import MINUTE_NS, SECOND_NS
from tests.stubs import MINUTE_BAR_FEATURE_SPEC

DAYS = trading_days(dt.date(2025, 2, 3), dt.date(2025, 3, 31))[:30]
OLD, NEW = "OLDS", "NEWS"
LAST = DAYS[-1]


def _trades(ticker: str, day: dt.date, seed: int) -> pa.Table:
    """Two hours of one trade every 20 s from the regular open, a random walk around 5.00."""
    n = 360
    prices = np.round(5.0 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.002, n))), 4)
    return pa.table(
        {
            "ticker": [ticker] * n,
            "ts": local_to_ns(day, dt.time(9, 30)) + np.arange(n, dtype=np.int64) * 20 * SECOND_NS,
            "price": prices,
            "size": np.full(n, 100.0),
            "exchange": np.full(n, 4, np.int32),
            "conditions": [[]] * n,
            "sequence": np.arange(n, dtype=np.int64),
            "correction": np.zeros(n, np.int32),
        },
        schema=TRADES_SCHEMA,
    )


def _write(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


@pytest.fixture(scope="module")
def short_lake(tmp_path_factory: pytest.TempPathFactory) -> LakeLayout:
    layout = LakeLayout(tmp_path_factory.mktemp("warmup") / "lake")
    daily = []
    for ticker, days in ((OLD, DAYS), (NEW, DAYS[-3:])):
        trades = [_trades(ticker, day, seed) for seed, day in enumerate(days)]
        _write(layout.bars("1m", ticker), bars_table_from_trades(pa.concat_tables(trades), MINUTE_NS))
        for day, table in zip(days, trades, strict=True):
            close = float(table.column("price")[-1].as_py())
            daily.append({"ticker": ticker, "date": day, "open": 5.0, "high": close, "low": close, "close": close,
                          "volume": 36000.0, "vwap": close, "transactions": 360})  # fmt: skip
    recent = [_trades(OLD, day, 100 + i) for i, day in enumerate(DAYS[-3:])]  # trades (and 1 s bars): 3 days
    for day, table in zip(DAYS[-3:], recent, strict=True):
        _write(layout.trades(OLD, day), table)
    _write(layout.bars("1s", OLD), bars_table_from_trades(pa.concat_tables(recent), SECOND_NS))
    _write(layout.daily, pa.Table.from_pylist(daily, schema=DAILY_SCHEMA))
    return layout


def _replay(lake: LakeLayout, *extra: str) -> list[str]:
    return ["replay", "--root", str(lake.root), "--date", str(LAST), "--spec", str(MINUTE_BAR_FEATURE_SPEC),
            "--from", "09:30", "--to", "09:35", "--workers", "1", *extra]  # fmt: skip


def test_replay_prints_the_warmup_of_a_short_symbol_and_strict_refuses_it(short_lake, capsys) -> None:
    assert main(_replay(short_lake)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "warm-up (FS_2026-01-16_003; needs 20 normalization days, 10 baseline days): 1 of 2 symbol-days have full "
        "history; 1 short: 1 with every feature NaN (under 5 normalization days)"
    )
    assert out[1] == f"  {NEW} {LAST}: 2/20 normalization days, 2/10 baseline days — features NaN"
    assert out[2].startswith(f"replay {LAST}: strategy seismograph")

    assert main(_replay(short_lake, "--strict")) == 2
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err.count("\n") == 1
    assert printed.err.startswith("sigma9: error: --strict: 1 of 2 symbol-days lack the history FS_2026-01-16_003")

    assert main(_replay(short_lake, "--strict", "--tickers", OLD)) == 0  # the old symbol alone: full history
    assert "warm-up" not in capsys.readouterr().out


def test_parity_strict_refuses_a_day_whose_features_would_be_nan(short_lake, capsys) -> None:
    args = ["features", "parity", "--root", str(short_lake.root), "--spec", str(MINUTE_BAR_FEATURE_SPEC),
            "--date", str(DAYS[3]), "--no-progress", "--workers", "1"]  # fmt: skip
    assert main([*args, "--strict"]) == 2
    err = capsys.readouterr().err
    assert f"{OLD} {DAYS[3]}: 3/20 normalization days, 3/10 baseline days — features NaN" in err
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("warm-up (FS_2026-01-16_003; needs 20 normalization days, 10 baseline days): 0 of 1")
    assert "EQUAL" in out


def test_lab_run_names_the_usable_days_and_strict_refuses_a_short_symbol(short_lake, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SIGMA9_DATA_ROOT", str(short_lake.root))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["lab", "run", "--spec-id", "FS_2026-01-16_001"]) == 2
    assert capsys.readouterr().err == (
        "sigma9: error: date split: 3 of 30 lake days are usable for FS_2026-01-16_001 (the days holding trades, "
        "1-second bars and 1-minute bars, which its tick, bar_1s and bar_1m sources read; the other 27: 27 without "
        "trades, 27 without 1-second bars); these 3 leave none to train on after 20 warm-up days, 1 validation, "
        "1 test and 2 x 1 purge days (the split needs at least 26 days)\n"
    )
    assert main(["lab", "run", "--spec-id", "FS_2026-01-16_003", "--strict"]) == 2
    printed = capsys.readouterr()
    assert printed.out.count("\n") == 0 and printed.err.count("\n") == 1
    assert f"e.g. {NEW} {DAYS[-3]}: 0/20 normalization days, 0/10 baseline days — features NaN" in printed.err
