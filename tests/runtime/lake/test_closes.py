"""Previous closes: the previous exchange trading day's close, recorded splits, and the split guard on the shapes
of real overnight moves (reverse splits up to 1:187 with rising dollar volume, a surge continuation, a news gap).
"""

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from sigma9_dag.lake.writer import LakeTransaction
from sigma9_runtime.calendar import iter_trading_days, previous_trading_day
from sigma9_runtime.lake.closes import close_table, day_closes, judge_split, previous_closes
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import DAILY_SCHEMA, SPLITS_SCHEMA

START = dt.date(2025, 3, 3)
DAYS = list(iter_trading_days(START, 25))
DAY = DAYS[-1]  # the day judged


def _history(
    ticker: str,
    price: float,
    shares: float,
    *,
    open_ratio: float,
    dollar_volume_ratio: float,
    prior_move: float = 1.0,
) -> list[dict[str, object]]:
    """A quiet daily history of ``ticker`` at ``price`` trading ``shares`` a day, then a day before ``DAY`` that
    closed ``prior_move`` times its previous close (on ``prior_move`` times its volume), then ``DAY``: open at
    ``open_ratio`` times the previous close, dollar volume ``dollar_volume_ratio`` times the previous day's."""
    rows = []
    for day in DAYS[:-2]:
        rows.append(_row(ticker, day, price, price, shares))
    prev_close = price * prior_move
    prev_shares = shares * max(prior_move, 1.0) ** 2  # a surge day trades far more shares
    rows.append(_row(ticker, DAYS[-2], price, prev_close, prev_shares))
    level = prev_close * open_ratio
    shares_today = prev_shares * prev_close * dollar_volume_ratio / level
    rows.append(_row(ticker, DAY, level, level * 1.02, shares_today))
    return rows


def _row(ticker: str, day: dt.date, open_: float, close: float, shares: float) -> dict[str, object]:
    vwap = (open_ + close) / 2
    return {
        "ticker": ticker,
        "date": day,
        "open": open_,
        "high": max(open_, close),
        "low": min(open_, close),
        "close": close,
        "volume": shares,
        "vwap": vwap,
        "transactions": 100,
    }


def _status(rows: list[dict[str, object]], splits: pa.Table | None = None) -> dict[tuple[str, dt.date], str]:
    table = close_table(pa.Table.from_pylist(rows, schema=DAILY_SCHEMA), splits or SPLITS_SCHEMA.empty_table())
    return {(t, d): s for t, d, s in zip(table.ticker, table.date, table.status)}


# Seven real reverse splits the earlier guard missed: ratios above 100, and dollar volume up 5-12x after the split.
MISSED_SPLITS = {
    "R108": dict(price=0.046, shares=30e6, open_ratio=108 * 1.03, dollar_volume_ratio=1.4),
    "R120": dict(price=0.031, shares=50e6, open_ratio=120 * 0.96, dollar_volume_ratio=0.7),
    "R149": dict(price=0.021, shares=80e6, open_ratio=149 * 1.05, dollar_volume_ratio=2.5),
    "R179": dict(price=0.018, shares=90e6, open_ratio=179 * 0.98, dollar_volume_ratio=1.1),
    "R187": dict(price=0.012, shares=120e6, open_ratio=187 * 1.01, dollar_volume_ratio=3.0),
    "R11": dict(price=0.31, shares=4e6, open_ratio=11 * 1.04, dollar_volume_ratio=12.0),
    "R25": dict(price=0.19, shares=6e6, open_ratio=25 * 0.97, dollar_volume_ratio=5.0),
}


@pytest.mark.parametrize("ticker", sorted(MISSED_SPLITS))
def test_reverse_splits_at_any_ratio_and_with_rising_dollar_volume_are_flagged(ticker: str) -> None:
    assert _status(_history(ticker, **MISSED_SPLITS[ticker]))[(ticker, DAY)] == "split_suspect"  # type: ignore[arg-type]


def test_a_surge_continuation_and_a_news_gap_are_not_flagged() -> None:
    # The day after a +170% day it opened 2.06x the previous close on 1.7x the dollar volume: a real surge.
    continuation = _history("CONT", 1.2, 2e6, open_ratio=2.06, dollar_volume_ratio=1.7, prior_move=2.7)
    # Merger news: open 2.8x on 150x the dollar volume.
    news = _history("NEWS", 3.0, 1e6, open_ratio=2.8, dollar_volume_ratio=150.0)
    status = _status(continuation + news)
    assert (status[("CONT", DAY)], status[("NEWS", DAY)]) == ("ok", "ok")


def test_a_plain_reverse_split_a_forward_split_and_a_crash() -> None:
    plain = _history("PLAIN", 0.5, 5e6, open_ratio=10.1, dollar_volume_ratio=0.9)
    forward = _history("FWD", 80.0, 1e6, open_ratio=0.51, dollar_volume_ratio=1.2)
    crash = _history("CRSH", 20.0, 1e6, open_ratio=0.49, dollar_volume_ratio=12.0)
    status = _status(plain + forward + crash)
    assert [status[(t, DAY)] for t in ("PLAIN", "FWD", "CRSH")] == ["split_suspect", "split_suspect", "ok"]


def test_every_candidates_verdict_carries_its_evidence() -> None:
    rows = _history("R25", **MISSED_SPLITS["R25"]) + _history("NEWS", 3.0, 1e6, open_ratio=2.8, dollar_volume_ratio=150)  # type: ignore[arg-type]
    table = close_table(pa.Table.from_pylist(rows, schema=DAILY_SCHEMA), SPLITS_SCHEMA.empty_table())
    last = {t: i for i, t in enumerate(table.ticker)}
    r25, news = last["R25"], last["NEWS"]
    assert (table.split_ratio[r25], table.split_reason[r25].split(":")[0]) == ("1:24", "suspect")  # x24.25
    assert table.share_volume_ratio[r25] == pytest.approx(5.0 / (25 * 0.97))
    assert table.split_reason[news].startswith("cleared: ")
    assert table.dollar_volume_ratio[news] == pytest.approx(150.0 * 1.01)  # the day's vwap is 1% above its open
    assert [table.split_reason[i] for i in range(len(table)) if i not in (r25, news)] == [""] * (len(table) - 2)


def test_a_recorded_split_explains_the_move() -> None:
    rows = _history("R108", **MISSED_SPLITS["R108"])  # type: ignore[arg-type]
    splits = pa.Table.from_pylist(
        [{"ticker": "R108", "execution_date": DAY, "split_from": 108.0, "split_to": 1.0}], schema=SPLITS_SCHEMA
    )
    table = close_table(pa.Table.from_pylist(rows, schema=DAILY_SCHEMA), splits)
    i = len(table) - 1
    assert (table.status[i], table.split_factor[i]) == ("ok", 108.0)
    assert table.prev_close[i] == pytest.approx(0.046 * 108)


@pytest.mark.parametrize(
    ("price_ratio", "share_volume_ratio", "dollar_volume_ratio", "prior_move", "suspect"),
    [
        (1.5, 0.1, 0.1, 1.0, False),  # too small a move to be judged
        (2.5, 0.4, 1.0, 1.0, False),  # 25% from 1:2 and 1:3
        (400.0, 0.01, 4.0, 1.0, True),
        (1500.0, 0.001, 1.5, 1.0, False),  # beyond 1:1000
        (3.0, float("nan"), float("nan"), float("nan"), True),  # price evidence only
        (8.0, 3.9, 31.2, 1.0, True),  # 1:8 while shares traded rose less than 4x
        (8.0, 4.1, 32.8, 1.0, False),
        (2.0, 0.8, 1.6, 1.8, False),  # 1:2-like, but the day after a +80% day: a continuation
        (6.0, 0.5, 3.0, 1.8, True),  # 1:6-like after a +80% day: too big a gap for a continuation
    ],
)
def test_the_guards_rule(
    price_ratio: float, share_volume_ratio: float, dollar_volume_ratio: float, prior_move: float, suspect: bool
) -> None:
    assert judge_split(price_ratio, share_volume_ratio, dollar_volume_ratio, prior_move).suspect is suspect


# --- the previous exchange trading day --------------------------------------------------------------------


def _lake(root: Path, rows: list[dict[str, object]]) -> LakeLayout:
    layout = LakeLayout(root)
    with LakeTransaction(layout) as txn:
        txn.write_daily(pa.Table.from_pylist(rows, schema=DAILY_SCHEMA))
        txn.commit({"source": "test"})
    return layout


def test_the_previous_close_is_the_previous_trading_days_never_an_older_one(tmp_path: Path) -> None:
    carter = dt.date(2025, 1, 9)  # a special closure: Jan 8 is the trading day before Jan 10
    rows = [
        _row("HOLI", dt.date(2025, 1, 8), 2.0, 2.0, 1e6),
        _row("HOLI", dt.date(2025, 1, 10), 2.0, 2.1, 1e6),
        _row("GAPD", dt.date(2024, 12, 2), 5.0, 5.0, 1e6),  # 26 trading days earlier
        _row("GAPD", dt.date(2025, 1, 10), 5.0, 5.5, 1e6),
        _row("FRST", dt.date(2025, 1, 10), 1.0, 1.0, 1e6),
    ]
    layout = _lake(tmp_path / "lake", rows)
    assert previous_trading_day(dt.date(2025, 1, 10)) == dt.date(2025, 1, 8) != carter
    closes = day_closes(layout, dt.date(2025, 1, 10), ["HOLI", "GAPD", "FRST", "NONE"])
    assert closes.closes == {"HOLI": 2.0}
    assert closes.missing == {"GAPD": "prev_day_missing", "FRST": "first_day", "NONE": "first_day"}
    assert closes.summary() == (
        "previous closes on 2025-01-10: 1 of 4 symbols; none for 2 first day, 1 prev day missing (their cross "
        "rule stays off)"
    )
    # live (no bar of the day yet): the day's previous trading day decides alike
    assert previous_closes(layout, dt.date(2025, 1, 13)) == {"HOLI": 2.1, "GAPD": 5.5, "FRST": 1.0}
    assert previous_closes(layout, dt.date(2025, 1, 14)) == {}
