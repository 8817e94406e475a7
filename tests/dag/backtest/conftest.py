"""A tiny hand-made lake (one ticker, one day, twenty minutes of trades) and run configs over it."""

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import DAILY_SCHEMA, EVENTS_SCHEMA, TRADES_SCHEMA, bars_table_from_trades
from sigma9_runtime.units import MINUTE_NS, SECOND_NS
from tests.stubs import feature_spec, run_config_document

DAY = dt.date(2025, 1, 6)
PREVIOUS_DAY = dt.date(2025, 1, 3)
PREV_CLOSE = 11.83
"""Previous close: +10% is 13.013, first reached by the 13.02 print at 10:15:00 (T0_NS)."""
TICKER = "ABCD"
START_NS = local_to_ns(DAY, dt.time(10, 0))
T0_NS = local_to_ns(DAY, dt.time(10, 15))
SECONDS = 1200
# The gate is lowered to let a thin hand-made name through.
SPEC = feature_spec(
    **{"runtime_gates.tradeability.min_dollar_volume_1m": 1.0, "runtime_gates.tradeability.max_spread_pct": 5.0}
)


def tiny_prices() -> np.ndarray:
    """One trade a second from 10:00:00: ten minutes bouncing 10.00 / 10.02, then up one cent a second."""
    k = np.arange(SECONDS)
    return np.where(k < 600, np.where(k % 2 == 0, 10.00, 10.02), 10.02 + 0.01 * (k - 600)).round(4)


def write_tiny_lake(root: Path) -> LakeLayout:
    """The lake of :func:`tiny_prices`: trades, 1 s and 1 m bars, the day's and the previous day's daily rows,
    and the one event they make (also as ground truth)."""
    layout = LakeLayout(root)
    ts = START_NS + np.arange(SECONDS, dtype=np.int64) * SECOND_NS
    trades = pa.table(
        {
            "ticker": [TICKER] * SECONDS,
            "ts": ts,
            "price": tiny_prices(),
            "size": np.full(SECONDS, 100.0),
            "exchange": np.full(SECONDS, 4, np.int32),
            "conditions": [[]] * SECONDS,
            "sequence": np.arange(SECONDS, dtype=np.int64),
            "correction": np.zeros(SECONDS, np.int32),
        },
        schema=TRADES_SCHEMA,
    )
    for path, table in (
        (layout.trades(TICKER, DAY), trades),
        (layout.bars("1s", TICKER), bars_table_from_trades(trades, SECOND_NS)),
        (layout.bars("1m", TICKER), bars_table_from_trades(trades, MINUTE_NS)),
        (
            layout.daily,
            pa.table(
                {
                    "ticker": [TICKER, TICKER],
                    "date": [PREVIOUS_DAY, DAY],
                    "open": [11.5, 10.0],
                    "high": [12.0, 22.0],
                    "low": [11.4, 10.0],
                    "close": [PREV_CLOSE, 22.0],
                    "volume": [100000.0, 120000.0],
                    "vwap": [11.7, 14.0],
                    "transactions": [SECONDS, SECONDS],
                },
                schema=DAILY_SCHEMA,
            ),
        ),
        (
            layout.events,
            pa.table(
                {
                    "ticker": [TICKER],
                    "date": [DAY],
                    "t0_ns": [T0_NS],
                    "archetype": ["ramp"],
                    "prev_close": [PREV_CLOSE],
                    "onset_ns": [START_NS],
                },
                schema=EVENTS_SCHEMA,
            ),
        ),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    return layout


def tiny_run_document(root: Path, out: Path) -> dict[str, Any]:
    """A run over the tiny lake: seismograph at threshold 0, one alert a day, regular session only."""
    doc = run_config_document()
    run = doc["backtest_run"]
    run.pop("artifact_ref")
    run["data"]["parquet_root"] = str(root)
    run["data"]["universe"] = {"source": "watchlist", "tickers": [TICKER]}
    run["strategy"] = {"plugin": "seismograph", "params": {"threshold": 0.0}}
    run["time"].update(
        start="2025-01-02",
        end="2025-01-06",
        session_filter=["regular"],
        warmup={"daily_lookback_days": 1, "intraday_warmup_min": 0},
    )
    run["splits"] = {
        "type": "oos_holdout",
        "train_end": "2025-01-03",
        "test_start": "2025-01-06",
        "test_end": "2025-01-06",
    }
    run["evaluation"]["alert_budget"] = {"max_alerts_per_day": 1, "symbol_cooldown_sec": 60}
    run["output"]["base_dir"] = str(out)
    return doc


@pytest.fixture
def tiny_lake(tmp_path: Path) -> LakeLayout:
    return write_tiny_lake(tmp_path / "lake")


@pytest.fixture
def tiny_run(tiny_lake: LakeLayout, tmp_path: Path) -> BacktestRunConfig:
    return BacktestRunConfig.model_validate(tiny_run_document(tiny_lake.root, tmp_path / "out")["backtest_run"])
