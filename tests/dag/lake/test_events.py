import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sigma9_dag.lake.events import DEFAULT_ANCHOR, find_events, looks_like_split, previous_closes
from sigma9_dag.lake.writer import LakeTransaction
from sigma9_runtime.bars import SECOND_NS
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.feeds.events import AggBatch
from sigma9_runtime.lake.closes import previous_closes as runtime_previous_closes
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import DAILY_SCHEMA, SPLITS_SCHEMA, TRADES_SCHEMA, read_bars, read_daily, read_splits
from sigma9_runtime.strategies.crossing import CrossTracker

D1, D2 = dt.date(2025, 1, 2), dt.date(2025, 1, 3)


def _daily(rows: list[tuple[str, dt.date, float, float, float]]) -> pa.Table:
    return pa.table(
        {
            "ticker": [r[0] for r in rows],
            "date": [r[1] for r in rows],
            "open": [r[2] for r in rows],
            "high": [max(r[2], r[3]) for r in rows],
            "low": [min(r[2], r[3]) for r in rows],
            "close": [r[3] for r in rows],
            "volume": [r[4] for r in rows],
            "vwap": [r[3] for r in rows],
            "transactions": [1] * len(rows),
        },
        schema=DAILY_SCHEMA,
    )


def _trades(ticker: str, day: dt.date, prices: list[float], conditions: list[list[int]] | None = None) -> pa.Table:
    start = session_bounds(day).regular[0]
    n = len(prices)
    return pa.table(
        {
            "ticker": [ticker] * n,
            "ts": [start + i * 1_000_000_000 for i in range(n)],
            "price": prices,
            "size": [100.0] * n,
            "exchange": [1] * n,
            "conditions": conditions or [[] for _ in range(n)],
            "sequence": list(range(n)),
            "correction": [0] * n,
        },
        schema=TRADES_SCHEMA,
    )


def _lake(root: Path, *, with_split_table: bool) -> LakeLayout:
    layout = LakeLayout(root)
    with LakeTransaction(layout) as txn:
        txn.write_daily(
            _daily(
                [
                    ("SURG", D1, 10.0, 10.0, 1e5),
                    ("SURG", D2, 10.2, 11.5, 1e6),
                    ("REVS", D1, 1.0, 1.0, 1e5),
                    ("REVS", D2, 10.0, 10.1, 1e4),  # 1-for-10 reverse split
                ]
            )
        )
        # The excluded average-price print at 12.0 must not set T0; the eligible 11.0 does.
        txn.write_trades_day("SURG", D2, _trades("SURG", D2, [10.2, 12.0, 10.9, 11.0, 11.5], [[], [2], [], [], []]))
        txn.write_trades_day("REVS", D2, _trades("REVS", D2, [10.0, 10.1]))
        if with_split_table:
            txn.write_splits(
                pa.table(
                    {"ticker": ["REVS"], "execution_date": [D2], "split_from": [10.0], "split_to": [1.0]},
                    schema=SPLITS_SCHEMA,
                )
            )
        txn.commit({"source": "test"})
    return layout


def test_t0_is_the_first_eligible_trade_at_or_above_prev_close_plus_anchor(tmp_path: Path) -> None:
    scan = find_events(_lake(tmp_path, with_split_table=True))
    assert scan.events[["ticker", "date"]].values.tolist() == [["SURG", D2]]
    event = scan.events.iloc[0]
    assert event["t0_price"] == 11.0
    assert event["t0_ns"] == session_bounds(D2).regular[0] + 3_000_000_000
    assert scan.split_flagged == []


def test_a_recorded_reverse_split_adjusts_prev_close_and_is_no_event(tmp_path: Path) -> None:
    layout = _lake(tmp_path, with_split_table=True)
    closes = previous_closes(pd.read_parquet(layout.daily), pd.read_parquet(layout.splits)).set_index(
        ["ticker", "date"]
    )
    assert closes.at[("REVS", D2), "prev_close"] == pytest.approx(10.0)
    assert not closes.at[("REVS", D2), "split_suspect"]


def test_an_unrecorded_split_is_flagged_and_kept_out_of_events(tmp_path: Path) -> None:
    scan = find_events(_lake(tmp_path, with_split_table=False))
    assert scan.split_flagged == [("REVS", D2)]
    assert "REVS" not in scan.events["ticker"].tolist()


@pytest.mark.parametrize(
    ("price_ratio", "dollar_volume_ratio", "expected"),
    [
        (10.1, 0.9, True),
        (0.5, 1.1, True),
        (2.0, 20.0, False),
        (1.4, 1.0, False),
        (7.5, 1.0, False),
        (9.0, float("nan"), True),
    ],
)
def test_split_heuristic_needs_a_split_ratio_and_a_steady_dollar_volume(
    price_ratio: float, dollar_volume_ratio: float, expected: bool
) -> None:
    assert looks_like_split(price_ratio, dollar_volume_ratio) is expected


@pytest.mark.parametrize("with_split_table", [True, False])
def test_the_runtimes_previous_closes_adjust_splits_and_leave_out_unrecorded_ones(
    tmp_path: Path, with_split_table: bool
) -> None:
    layout = _lake(tmp_path, with_split_table=with_split_table)
    expected = {"SURG": 10.0, "REVS": 10.0} if with_split_table else {"SURG": 10.0}
    assert runtime_previous_closes(layout, D2) == expected
    assert runtime_previous_closes(layout, D2, ["SURG"]) == {"SURG": 10.0}
    assert runtime_previous_closes(layout, D1) == {}  # no earlier daily bar
    assert runtime_previous_closes(layout, D2 + dt.timedelta(days=3)) == {
        "SURG": 11.5,
        "REVS": 10.1,
    }  # live: no bar yet


def test_the_runtimes_previous_closes_are_the_labs_on_the_synthetic_lake(synthetic_lake: LakeLayout) -> None:
    lab = previous_closes(read_daily(synthetic_lake).to_pandas(), read_splits(synthetic_lake).to_pandas())
    lab = lab[lab["prev_close"].notna() & ~lab["split_suspect"]]
    for day, rows in lab.groupby("date"):
        assert runtime_previous_closes(synthetic_lake, day) == dict(zip(rows["ticker"], rows["prev_close"]))


def test_the_runtimes_cross_is_the_end_of_the_second_holding_the_labs_t0(synthetic_lake: LakeLayout) -> None:
    """The lab's T0 (first eligible trade at or above the threshold) and the runtime's cross (end of the first
    1-second bar whose high reaches it) agree: cross = floor(T0, 1 s) + 1 s, for every event of the lake."""
    events = find_events(synthetic_lake).events
    assert len(events) >= 3
    for day, rows in events.groupby("date"):
        closes = runtime_previous_closes(synthetic_lake, day)
        tracker = CrossTracker(DEFAULT_ANCHOR)
        tracker.start_day(day, closes)
        bounds = session_bounds(day)
        for ticker in sorted(closes):
            bars = read_bars(synthetic_lake, "1s", ticker, bounds.start, bounds.end).to_pydict()
            start = np.asarray(bars["ts"], dtype=np.int64)
            column = {
                k: np.asarray(bars[k], dtype=np.float64) for k in ("open", "high", "low", "close", "volume", "vwap")
            }
            tracker.add_batch(
                AggBatch("A", np.asarray(bars["ticker"], dtype=object), start, start + SECOND_NS, **column,
                         transactions=np.asarray(bars["transactions"], dtype=np.int64))
            )  # fmt: skip
        expected = {t: (int(t0) // SECOND_NS + 1) * SECOND_NS for t, t0 in zip(rows["ticker"], rows["t0_ns"])}
        assert tracker.crossings == expected
