import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sigma9_dag.lake.events import DEFAULT_ANCHOR, find_events
from sigma9_dag.lake.writer import LakeTransaction
from sigma9_runtime.calendar import session_bounds
from sigma9_runtime.feeds.events import AggBatch
from sigma9_runtime.lake.closes import close_table
from sigma9_runtime.lake.closes import previous_closes as runtime_previous_closes
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import DAILY_SCHEMA, SPLITS_SCHEMA, TRADES_SCHEMA, read_bars, read_daily, read_splits
from sigma9_runtime.strategies.crossing import CrossTracker
from sigma9_runtime.units import SECOND_NS

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
    closes = pd.DataFrame(close_table(read_daily(layout), read_splits(layout)).columns()).set_index(["ticker", "date"])
    assert closes.at[("REVS", D2), "prev_close"] == pytest.approx(10.0)
    assert closes.at[("REVS", D2), "status"] != "split_suspect"


def test_an_unrecorded_split_is_flagged_and_kept_out_of_events(tmp_path: Path) -> None:
    scan = find_events(_lake(tmp_path, with_split_table=False))
    assert scan.split_flagged == [("REVS", D2)]
    assert "REVS" not in scan.events["ticker"].tolist()


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
    lab = pd.DataFrame(close_table(read_daily(synthetic_lake), read_splits(synthetic_lake)).columns())
    lab = lab[lab["status"] == "ok"]
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


# --- the finest resolution, flags and the cache (tests.stubs.write_event_lake) ---------------------


def _event_lake(tmp_path: Path) -> LakeLayout:
    from tests.stubs import write_event_lake

    return write_event_lake(tmp_path / "lake")


def _day_and_open() -> tuple[dt.date, int]:
    from tests.stubs import EVENT_LAKE_DAYS

    day = dt.date.fromisoformat(EVENT_LAKE_DAYS[-1])
    return day, session_bounds(day).regular[0]


def test_each_day_is_timed_by_trades_else_1s_bars_else_1m_bars_at_the_end_of_the_crossing_bar(
    tmp_path: Path,
) -> None:
    day, open_ns = _day_and_open()
    events = find_events(_event_lake(tmp_path)).events.set_index("ticker")
    assert set(events.index) == {"TRDE", "SECS", "MINS", "SPLT"}
    assert (events.loc["TRDE", "t0_resolution"], events.loc["TRDE", "t0_ns"]) == ("trade", open_ns + 60 * SECOND_NS)
    assert events.loc["TRDE", "t0_price"] == 11.0  # the excluded 12.0 print at 20 s is no cross
    assert (events.loc["SECS", "t0_resolution"], events.loc["SECS", "t0_ns"]) == ("1s", open_ns + 46 * SECOND_NS)
    assert events.loc["SECS", "t0_price"] == 5.6  # the crossing bar's high
    assert (events.loc["MINS", "t0_resolution"], events.loc["MINS", "t0_ns"]) == ("1m", open_ns + 120 * SECOND_NS)
    assert events.loc["MINS", "t0_price"] == 2.25
    assert list(events.columns) == [
        "date", "t0_ns", "prev_close", "threshold", "t0_price", "prev_date", "t0_resolution", "max_gain", "flags",
    ]  # fmt: skip
    assert events["t0_ns"].dtype == np.int64
    assert (events["date"] == day).all()


def test_max_gain_is_the_days_eligible_peak_over_prev_close(tmp_path: Path) -> None:
    events = find_events(_event_lake(tmp_path)).events.set_index("ticker")
    assert events.loc["TRDE", "max_gain"] == pytest.approx(11.5 / 10.0 - 1)  # not the ineligible 12.0
    assert events.loc["SECS", "max_gain"] == pytest.approx(5.6 / 5.0 - 1)
    assert events.loc["MINS", "max_gain"] == pytest.approx(2.3 / 2.0 - 1)


def test_a_recorded_split_flags_the_event_split_adjusted_and_a_missing_previous_day_leaves_no_close(
    tmp_path: Path,
) -> None:
    day, _ = _day_and_open()
    scan = find_events(_event_lake(tmp_path))
    events = scan.events.set_index("ticker")
    assert events.loc["SPLT", "flags"] == "split_adjusted"
    assert events.loc["SPLT", "prev_close"] == pytest.approx(10.0)  # 1.0 x 10 (1-for-10 reverse split)
    assert "GAPS" not in events.index  # 2025-01-03 is missing: never the close of 2025-01-02
    assert dict(zip(scan.no_prev_close_days, scan.no_prev_close_why))[("GAPS", day)] == "prev_day_missing"
    assert events.loc[["TRDE", "SECS", "MINS"], "flags"].tolist() == ["", "", ""]
    assert events.loc["TRDE", "prev_date"] == dt.date(2025, 1, 3)


def test_split_like_days_and_days_without_a_previous_close_are_counted_on_bar_lakes_too(tmp_path: Path) -> None:
    day, _ = _day_and_open()
    scan = find_events(_event_lake(tmp_path))
    assert scan.split_flagged == [("SUSP", day)]
    assert (scan.no_prev_close, scan.no_prev_close_days) == (2, [("GAPS", day), ("NOPC", day)])
    assert scan.no_prev_close_counts() == {"first_day": 1, "prev_day_missing": 1}
    assert not {"SUSP", "NOPC", "QUIE"} & set(scan.events["ticker"])


def test_near_misses_on_bars_end_at_the_peak_bar_and_name_their_resolution(tmp_path: Path) -> None:
    day, open_ns = _day_and_open()
    scan = find_events(_event_lake(tmp_path), near_miss_from=0.05)
    assert scan.near_misses.to_dict("records") == [
        {
            "ticker": "QUIE",
            "date": day,
            "peak_ns": open_ns + 180 * SECOND_NS,  # the minute 120-180 s holds the 8.5 print at 130 s
            "prev_close": 8.0,
            "peak_pct": pytest.approx(8.5 / 8.0 - 1),
            "resolution": "1m",
        }
    ]


def test_tickers_and_days_restrict_the_scan(tmp_path: Path) -> None:
    day, _ = _day_and_open()
    layout = _event_lake(tmp_path)
    assert find_events(layout, tickers=["MINS", "SUSP"]).events["ticker"].tolist() == ["MINS"]
    assert find_events(layout, tickers=["MINS"]).split_flagged == []
    empty = find_events(layout, days=[day + dt.timedelta(days=1)])
    assert (len(empty.events), empty.split_flagged, empty.no_prev_close) == (0, [], 0)


def test_events_do_not_depend_on_the_number_of_workers(synthetic_lake: LakeLayout) -> None:
    one = find_events(synthetic_lake, near_miss_from=0.05)
    two = find_events(synthetic_lake, near_miss_from=0.05, workers=2)
    pd.testing.assert_frame_equal(one.events, two.events)
    pd.testing.assert_frame_equal(one.near_misses, two.near_misses)
    assert len(one.events) >= 3


def test_a_lake_without_daily_bars_has_no_events_and_says_why(tmp_path: Path) -> None:
    from sigma9_runtime.errors import LakeError

    layout = _event_lake(tmp_path)
    layout.daily.unlink()
    with pytest.raises(LakeError, match=r"all_daily\.parquet: not found; events need the daily bars"):
        find_events(layout)


def test_lake_events_are_cached_and_a_second_call_reads_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sigma9_dag.lake import events as module

    layout = _event_lake(tmp_path)
    first = module.lake_events(layout)
    files = module.cached_event_files(layout)
    assert [p.parent for p in files] == [layout.root / "derived" / "events"]
    assert files == [module.events_cache_path(layout)]

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("recomputed although cached")

    monkeypatch.setattr(module, "find_events", no_scan)
    second = module.lake_events(layout)
    pd.testing.assert_frame_equal(second.events, first.events, check_dtype=False)
    assert second.events["t0_ns"].dtype == np.int64
    assert (second.split_flagged, second.no_prev_close_days) == (first.split_flagged, first.no_prev_close_days)


def test_changing_a_table_file_invalidates_the_cache(tmp_path: Path) -> None:
    from sigma9_dag.lake.events import cached_event_files, lake_events

    layout = _event_lake(tmp_path)
    day, _ = _day_and_open()
    assert lake_events(layout).split_flagged == [("SUSP", day)]
    stale = cached_event_files(layout)
    with LakeTransaction(layout) as txn:  # record SUSP's split: its day is no longer split-like
        txn.write_splits(
            pa.table({"ticker": ["SUSP"], "execution_date": [day], "split_from": [10.0], "split_to": [1.0]},
                     schema=SPLITS_SCHEMA)
        )  # fmt: skip
        txn.commit({"source": "test"})
    fresh = lake_events(layout)
    assert fresh.split_flagged == []
    assert len(cached_event_files(layout)) == 1 and cached_event_files(layout) != stale


def test_the_fingerprint_changes_with_any_table_file_and_not_with_other_files(tmp_path: Path) -> None:
    import os

    from sigma9_dag.lake.events import lake_fingerprint

    layout = _event_lake(tmp_path)
    before = lake_fingerprint(layout)
    (layout.root / "experiments").mkdir()
    (layout.root / "experiments" / "notes.txt").write_text("mine")
    assert lake_fingerprint(layout) == before
    bars = layout.bars("1m", "MINS")
    stat = bars.stat()
    os.utime(bars, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert lake_fingerprint(layout) != before


def test_the_event_table_orders_by_t0_and_gives_new_york_time(tmp_path: Path) -> None:
    from sigma9_dag.lake.events import EVENT_TABLE_COLUMNS, event_table

    table = event_table(find_events(_event_lake(tmp_path)).events)
    assert tuple(table.columns) == EVENT_TABLE_COLUMNS == (
        "ticker", "date", "prev_close", "prev_date", "t0_ns", "t0_ny", "t0_resolution", "max_gain", "flags",
    )  # fmt: skip
    assert table["ticker"].tolist() == ["SECS", "TRDE", "MINS", "SPLT"]
    assert table["t0_ns"].is_monotonic_increasing
    assert table.loc[1, "t0_ny"] == "2025-01-06T09:31:00.000-05:00"
    assert table.loc[0, "t0_ny"] == "2025-01-06T09:30:46.000-05:00"
