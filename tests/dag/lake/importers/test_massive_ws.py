import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from sigma9_dag.lake.importers import import_massive_ws
from sigma9_runtime.errors import DataError
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_bars, read_trades

from . import DAY, assert_bars_rebuilt_from_trades, at, daily_row, expected_daily, report_of, snapshot


def ms(day_clock: str) -> int:
    return at(DAY, day_clock) // 1_000_000


def t(sym: str, clock: str, price: float, size: float, q: int, c: list[int] | None = None) -> dict[str, Any]:
    message = {"ev": "T", "sym": sym, "x": 4, "i": str(q), "z": 3, "p": price, "s": size, "t": ms(clock), "q": q}
    if c is not None:
        message["c"] = c
    return message


def agg(ev: str, sym: str, clock: str, seconds: int, o: float, h: float, l: float, c: float, v: float, vw: float,
        z: float) -> dict[str, Any]:  # fmt: skip
    start = ms(clock)
    return {"ev": ev, "sym": sym, "v": v, "av": 10 * v, "op": o, "vw": vw, "o": o, "c": c, "h": h, "l": l,
            "a": vw, "z": z, "s": start, "e": start + 1000 * seconds}  # fmt: skip


SECOND_BAR = agg("A", "ABC", "09:30:00", 1, 10.0, 10.2, 10.0, 10.2, 150, 10.07, 75)
MINUTE_BAR = agg("AM", "ABC", "09:30", 60, 10.0, 10.3, 9.9, 10.1, 300, 10.1, 100)
CAPTURE = [
    json.dumps([{"ev": "status", "status": "connected", "message": "Connected Successfully"}]),
    json.dumps([
        t("ABC", "09:30:00.100", 10.0, 100, 1, [37]),
        t("ABC", "09:30:00.600", 10.2, 50, 2),
        SECOND_BAR,
        t("XYZ", "09:30:00.700", 1.5, 10, 3),
    ]),
    "",
    "this is not json",
    json.dumps([t("ABC", "09:30:01", -1, 100, 4), {"ev": "Q", "sym": "ABC"}, MINUTE_BAR]),
    json.dumps([t("ABC", "09:31:05", 10.1, 10, 5, [2]), t("ABC", "09:31:06", 10.3, 20, 6)]),
]  # fmt: skip


def write_capture(path: Path, lines: list[str], *, gz: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_a_capture_lands_as_trades_and_given_bars_with_the_rest_rebuilt(tmp_path: Path, gz: bool) -> None:
    root = tmp_path / "lake"
    path = write_capture(tmp_path / ("capture.jsonl.gz" if gz else "capture.jsonl"), CAPTURE, gz=gz)
    summary = import_massive_ws(root, [path])
    layout = LakeLayout(root)

    abc = read_trades(layout, "ABC", DAY)
    assert abc.column("sequence").to_pylist() == [1, 2, 5, 6]
    assert abc.column("ts").to_pylist()[0] == at(DAY, "09:30:00.100")
    assert abc.column("conditions").to_pylist() == [[37], [], [2], []]
    assert abc.column("exchange").to_pylist() == [4] * 4 and abc.column("correction").to_pylist() == [0] * 4

    seconds = read_bars(layout, "1s", "ABC").to_pylist()
    assert seconds == [
        {"ticker": "ABC", "ts": at(DAY, "09:30"), "open": 10.0, "high": 10.2, "low": 10.0, "close": 10.2,
         "volume": 150.0, "vwap": 10.07, "transactions": 2},
    ]  # fmt: skip
    minutes = read_bars(layout, "1m", "ABC").to_pylist()
    assert [(b["ts"], b["close"], b["vwap"], b["transactions"]) for b in minutes] == [(at(DAY, "09:30"), 10.1, 10.1, 3)]
    assert_bars_rebuilt_from_trades(layout, "XYZ", DAY)
    assert daily_row(layout, "ABC", DAY) == expected_daily(layout, "ABC", DAY)

    assert (summary.trades, summary.bars_1s, summary.bars_1m, summary.daily) == (5, 2, 2, 2)
    report = report_of(summary)
    assert report["quarantined"] == {"malformed_json": 1, "bad_price": 1, "unknown_ev": 1}
    assert summary.quarantined == 3
    assert report["re_sorted"] == []  # tickers interleave in a stream; each is in time order
    sample = report["samples"]["bad_price"][0]
    assert (sample["source"], sample["row"], sample["values"]["line"]) == (str(path), 4, 5)
    assert report["samples"]["malformed_json"][0]["values"] == {"line": 4, "frame": "this is not json"}
    assert report["websocket"][str(path)] == {
        "lines": 5,
        "status_messages": 1,
        "dropped": {"malformed_json": 1, "bad_price": 1, "unknown_ev": 1},
    }


def test_trades_repeated_across_two_captures_are_quarantined_once(tmp_path: Path) -> None:
    first = write_capture(tmp_path / "a.jsonl", CAPTURE[:2])
    second = write_capture(tmp_path / "b.jsonl", CAPTURE[1:2] + CAPTURE[5:])
    summary = import_massive_ws(tmp_path / "lake", [first, second])
    report = report_of(summary)
    assert report["quarantined"] == {"duplicate_trade": 3, "duplicate_bar": 1}
    assert report["samples"]["duplicate_trade"][0]["source"] == "(across files)"
    assert read_trades(LakeLayout(tmp_path / "lake"), "ABC", DAY).column("sequence").to_pylist() == [1, 2, 5, 6]


def test_trades_out_of_time_order_within_a_ticker_are_sorted_and_noted(tmp_path: Path) -> None:
    late_first = json.dumps([t("ABC", "09:30:02", 10.0, 1, 2), t("XYZ", "09:30:00", 1.0, 1, 3)])
    path = write_capture(tmp_path / "c.jsonl", [late_first, json.dumps([t("ABC", "09:30:01", 10.0, 1, 1)])])
    report = report_of(import_massive_ws(tmp_path / "lake", [path]))
    assert report["re_sorted"] == [str(path)]
    assert read_trades(LakeLayout(tmp_path / "lake"), "ABC", DAY).column("sequence").to_pylist() == [1, 2]


def test_duplicates_within_one_capture_are_quarantined_with_their_line(tmp_path: Path) -> None:
    path = write_capture(tmp_path / "c.jsonl", [CAPTURE[1], CAPTURE[1]])
    report = report_of(import_massive_ws(tmp_path / "lake", [path]))
    assert report["quarantined"] == {"duplicate_trade": 3, "duplicate_bar": 1}
    assert {s["row"] for s in report["samples"]["duplicate_trade"]} == {1}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00garbage\n[]\n", r"c\.jsonl:1: not UTF-8 text"),
        (b"\x1f\x8b\x08\x00garbage-after-a-gzip-magic", r"c\.jsonl: corrupt or truncated gzip"),
        (gzip.compress(("\n".join(CAPTURE * 50)).encode())[:300], r"c\.jsonl: corrupt or truncated gzip"),
        (b"ticker,price\nABC,1.0\n", r"c\.jsonl: no line is a JSON frame"),
    ],
)
def test_a_file_that_is_not_a_capture_raises_and_leaves_the_lake_unchanged(
    tmp_path: Path, content: bytes, message: str
) -> None:
    root = tmp_path / "lake"
    import_massive_ws(root, [write_capture(tmp_path / "ok.jsonl", CAPTURE)])
    before = snapshot(root)
    bad = tmp_path / "c.jsonl"
    bad.write_bytes(content)
    with pytest.raises(DataError, match=message):
        import_massive_ws(root, [tmp_path / "ok.jsonl", bad])
    assert snapshot(root) == before


def test_a_line_that_is_not_utf8_after_the_first_is_a_malformed_frame(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(CAPTURE[1].encode() + b'\n[{"ev":"T","sym":"\xff"}]\n')
    report = report_of(import_massive_ws(tmp_path / "lake", [path]))
    assert report["quarantined"] == {"malformed_json": 1}


# --- sanity at import ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "unit"),
    [(1 / 1000, "seconds"), (1_000, "microseconds"), (1_000_000, "nanoseconds")],
)
def test_timestamps_in_another_unit_than_milliseconds_raise_naming_the_unit(
    tmp_path: Path, scale: float, unit: str
) -> None:
    stamp = int(ms("09:30") * scale)
    trade = {**t("ABC", "09:30", 10.0, 100, 1), "t": stamp}
    path = write_capture(tmp_path / "c.jsonl", [CAPTURE[0], json.dumps([trade])])
    message = rf"c\.jsonl:2: field 't': timestamps look like {unit} \({stamp} → 2025-01-02\), expected milliseconds"
    with pytest.raises(DataError, match=message):
        import_massive_ws(tmp_path / "lake", [path])


def test_aggregate_start_times_are_checked_too(tmp_path: Path) -> None:
    bar = {**SECOND_BAR, "s": SECOND_BAR["s"] // 1000, "e": SECOND_BAR["e"] // 1000}
    path = write_capture(tmp_path / "c.jsonl", [json.dumps([bar])])
    with pytest.raises(DataError, match=r"c\.jsonl:1: field 's': timestamps look like seconds"):
        import_massive_ws(tmp_path / "lake", [path])


def test_absurd_prices_and_sizes_are_quarantined(tmp_path: Path) -> None:
    frame = [t("ABC", "09:30:00.100", 10.0, 100, 1), t("ABC", "09:30:00.200", 1e308, 100, 2),
             t("ABC", "09:30:00.300", 10.0, 1e308, 3), {**SECOND_BAR, "vw": 1e308}]  # fmt: skip
    report = report_of(import_massive_ws(tmp_path / "lake", [write_capture(tmp_path / "c.jsonl", [json.dumps(frame)])]))
    assert report["quarantined"] == {"bad_price": 2, "bad_size": 1}
    assert read_trades(LakeLayout(tmp_path / "lake"), "ABC", DAY).column("price").to_pylist() == [10.0]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], r"holds no rows \(empty file, 0 bytes\)"),
        (["", "  "], r"holds no rows \(no frames\)"),
        ([CAPTURE[0], json.dumps([{"ev": "status", "status": "auth_success"}])],
         r"holds no rows \(2 frame\(s\) of status messages only\)"),
        ([json.dumps([{"ev": "Q", "sym": "ABC"}, t("ABC", "09:30", -1, 100, 1)])],
         r"holds no rows \(every message was dropped: bad_price 1, unknown_ev 1\)"),
    ],
)  # fmt: skip
def test_a_capture_without_rows_raises_like_every_importer(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() if lines else b"")
    with pytest.raises(DataError, match=r"c\.jsonl: " + message):
        import_massive_ws(tmp_path / "lake", [path])
