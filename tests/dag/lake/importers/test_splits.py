import datetime as dt
import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sigma9_dag.cli import EXIT_BAD_INPUT, main
from sigma9_dag.lake.importers import import_massive_flat, import_splits
from sigma9_runtime.calendar import local_to_ns
from sigma9_runtime.errors import DataError
from sigma9_runtime.lake.closes import previous_closes
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_splits

from . import AGGS_HEADER, DAY, NEXT_DAY, agg_line, report_of, snapshot, write_csv_gz


def split(ticker: str, day: str, split_from: Any, split_to: Any, **extra: Any) -> dict[str, Any]:
    """One result of Massive's splits endpoint."""
    return {"ticker": ticker, "execution_date": day, "split_from": split_from, "split_to": split_to, **extra}


def endpoint_body(results: list[Any], *, next_url: str | None = None) -> dict[str, Any]:
    """The JSON body of ``GET /stocks/v1/splits`` as saved from a response."""
    body: dict[str, Any] = {"results": results, "status": "OK", "request_id": "6a7e466379af0a71039d60cc78e72282"}
    if next_url:
        body["next_url"] = next_url
    return body


def write_json(path: Path, body: Any) -> Path:
    path.write_text(json.dumps(body))
    return path


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


BODY = endpoint_body(
    [
        split("ABC", "2025-01-03", 10, 1, id="E1a2b", adjustment_type="reverse_split",
              historical_adjustment_factor=10.0),  # a 1-for-10 reverse split
        split("XYZ", "2024-06-10", 1, 2, id="E3c4d", adjustment_type="forward_split",
              historical_adjustment_factor=0.5),
        split("BRK.B", "2010-01-21", 1.0, 50.0, id="E5e6f"),
    ],
    next_url="https://api.massive.com/stocks/v1/splits?cursor=YWN0aXZlPXRydWU",
)  # fmt: skip
CSV = ["ticker,execution_date,split_from,split_to,source", "QRS,2025-01-02,1,4,broker", "ABC,2025-01-03,10,1,broker"]


def rows(root: Path) -> list[tuple[str, dt.date, float, float]]:
    table = read_splits(LakeLayout(root)).to_pylist()
    return [(r["ticker"], r["execution_date"], r["split_from"], r["split_to"]) for r in table]


def test_cli_merges_a_splits_endpoint_body_and_a_csv_into_the_splits_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "lake"
    body = write_json(tmp_path / "splits-page1.json", BODY)
    csv = write_csv(tmp_path / "splits.csv", CSV)
    code = main(["lake", "import", "splits", "--root", str(root), str(body), str(csv), "--no-progress"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith(f"imported into {root}: splits: 2 file(s), 4 ticker(s), 0 day(s): ")
    assert "4 splits, 1 quarantined" in out
    assert rows(root) == [
        ("ABC", NEXT_DAY, 10.0, 1.0),
        ("BRK.B", dt.date(2010, 1, 21), 1.0, 50.0),
        ("QRS", DAY, 1.0, 4.0),
        ("XYZ", dt.date(2024, 6, 10), 1.0, 2.0),
    ]
    report = json.loads(next((root / "reports").glob("import-splits-*.json")).read_text())
    assert report["source"] == "splits" and report["summary"]["splits"] == 4
    assert report["quarantined"] == {"duplicate_split": 1}  # ABC given by both files
    assert report["samples"]["duplicate_split"][0]["source"] == "(across files)"
    assert report["notes"] == {f"more_pages: {body}": 1}


def test_a_bare_json_list_and_a_gzip_csv_are_read(tmp_path: Path) -> None:
    listed = write_json(tmp_path / "splits.json", [split("ABC", "2025-01-03", 10, 1)])
    packed = tmp_path / "splits.csv.gz"
    packed.write_bytes(gzip.compress(("\n".join(CSV[:2]) + "\n").encode()))
    summary = import_splits(tmp_path / "lake", [listed, packed])
    assert summary.splits == 2 and summary.files == 2
    assert rows(tmp_path / "lake") == [("ABC", NEXT_DAY, 10.0, 1.0), ("QRS", DAY, 1.0, 4.0)]


def test_a_reverse_split_multiplies_the_close_before_it_by_split_from_over_split_to(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    day_aggs = write_csv_gz(
        tmp_path / "day_aggs_v1.csv.gz",
        AGGS_HEADER,
        [
            agg_line("ABC", local_to_ns(DAY, dt.time(0)), 0.5, 0.52, 0.48, 0.5, 2_000_000),
            agg_line("ABC", local_to_ns(NEXT_DAY, dt.time(0)), 5.0, 5.1, 4.9, 5.05, 150_000),  # 1-for-10 reverse
        ],
    )
    import_massive_flat(root, [day_aggs])
    import_splits(root, [write_json(tmp_path / "splits.json", endpoint_body([split("ABC", "2025-01-03", 10, 1)]))])
    assert previous_closes(LakeLayout(root), NEXT_DAY)["ABC"] == pytest.approx(5.0)  # 0.5 * 10 / 1


def test_a_later_import_replaces_the_split_of_the_same_ticker_and_date(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    import_splits(root, [write_json(tmp_path / "a.json", BODY)])
    corrected = endpoint_body([split("ABC", "2025-01-03", 20, 1)])
    import_splits(root, [write_json(tmp_path / "b.json", corrected)])
    assert ("ABC", NEXT_DAY, 20.0, 1.0) in rows(root) and len(rows(root)) == 3


def test_a_repeated_row_is_quarantined_and_a_conflicting_one_refused(tmp_path: Path) -> None:
    again = write_csv(tmp_path / "again.csv", [*CSV, "ABC,2025-01-03,10,1,copy"])
    report = report_of(import_splits(tmp_path / "lake", [again]))
    assert report["quarantined"] == {"duplicate_split": 1}
    assert report["samples"]["duplicate_split"][0]["row"] == 2  # line 4
    conflict = write_csv(tmp_path / "conflict.csv", [*CSV, "ABC,2025-01-03,5,1,other"])
    with pytest.raises(DataError, match=r"conflict\.csv: two splits of ABC on 2025-01-03 with different ratios"):
        import_splits(tmp_path / "lake2", [conflict])
    other = write_json(tmp_path / "other.json", [split("ABC", "2025-01-03", 5, 1)])
    with pytest.raises(
        DataError, match=r"other\.json: split of ABC on 2025-01-03 is 5:1 .* but .*again\.csv gives 10:1"
    ):
        import_splits(tmp_path / "lake2", [again, other])


def test_a_symbol_outside_the_lakes_universe_is_quarantined_not_refused(tmp_path: Path) -> None:
    body = endpoint_body([split("ABC", "2025-01-03", 10, 1), split("BACpB", "2025-01-03", 1, 2)])
    summary = import_splits(tmp_path / "lake", [write_json(tmp_path / "s.json", body)])
    assert (summary.splits, summary.quarantined) == (1, 1)
    assert read_splits(LakeLayout(tmp_path / "lake")).column("ticker").to_pylist() == ["ABC"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("s.json", '{"results": [', r"s\.json:1: not JSON"),
        ("s.json", "ticker,execution_date", r"s\.json:1: not JSON"),
        ("s.json", json.dumps({"status": "ERROR", "request_id": "x", "error": "Unknown API Key"}),
         r"s\.json: the response has status 'ERROR' and no results \(Unknown API Key\)"),
        ("s.json", json.dumps({"count": 1}), r"s\.json: not a splits response \(no 'results' list"),
        ("s.json", json.dumps(endpoint_body([split("ABC", "2025-01-03", 10, 1), {"ticker": "XYZ"}])),
         r"s\.json: results\[1\]: missing field\(s\) execution_date, split_from, split_to"),
        ("s.json", json.dumps(endpoint_body([split("ABC", "2025-01-03", 0, 1)])),
         r"s\.json: results\[0\]: field 'split_from': 0 is not a finite number > 0"),
        ("s.json", json.dumps([split("ABC", "2025-01-03", 10, -1)]),
         r"s\.json: \[0\]: field 'split_to': -1 is not a finite number > 0"),
        ("s.json", '[{"ticker": "ABC", "execution_date": "2025-01-03", "split_from": NaN, "split_to": 1}]',
         r"s\.json: \[0\]: field 'split_from': nan is not a finite number"),
        ("s.json", '[{"ticker": "ABC", "execution_date": "2025-01-03", "split_from": 1e999, "split_to": 1}]',
         r"s\.json: \[0\]: field 'split_from': inf is not a finite number"),
        ("s.json", json.dumps([split("ABC", "2025-01-03", True, 1)]), r"field 'split_from': True is not a finite"),
        ("s.json", json.dumps([split("ABC", "2025-13-01", 10, 1)]),
         r"s\.json: \[0\]: field 'execution_date': '2025-13-01' is not a date YYYY-MM-DD"),
        ("s.json", json.dumps([split("ABC", "01/03/2025", 10, 1)]), r"field 'execution_date': '01/03/2025'"),
        ("s.json", json.dumps([split(7, "2025-01-03", 10, 1)]), r"s\.json: \[0\]: field 'ticker': 7 is not a symbol"),
        ("s.json", json.dumps(endpoint_body([])), r"s\.json: holds no rows \(no results\)"),
        ("s.csv", "ticker,execution_date,split_from\nABC,2025-01-03,10\n",
         r"s\.csv:1: missing column\(s\) split_to"),
        ("s.csv", "ticker,execution_date,split_from,split_to\nABC,2025-01-03,10,1\nXYZ,2025-01-03,ten,1\n",
         r"s\.csv:3: field 'split_from': 'ten' is not a finite number > 0"),
        ("s.csv", "ticker,execution_date,split_from,split_to\nABC,2025-01-03,10\n",
         r"s\.csv:2: expected 4 columns, got 3"),
        ("s.csv", "ticker,execution_date,split_from,split_to\n", r"s\.csv: holds no rows \(header only\)"),
        ("s.csv", "", r"s\.csv: holds no rows \(empty file, 0 bytes\)"),
        ("s.csv", b"ticker,execution_date,split_from,split_to\nAB\xc3,2025-01-03,10,1\n", r"s\.csv:2: not UTF-8 text"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line_naming_file_row_and_field_and_leaves_the_lake_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | bytes, message: str
) -> None:
    root = tmp_path / "lake"
    import_splits(root, [write_json(tmp_path / "good.json", BODY)])
    before = snapshot(root)
    bad = tmp_path / name
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    code = main(["lake", "import", "splits", "--root", str(root), str(tmp_path / "good.json"), str(bad)])
    _, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("sigma9: error: ")
    assert re.search(message, err), err
    assert snapshot(root) == before


def test_the_csv_of_split_decisions_imports_as_it_is_written(tmp_path: Path) -> None:
    # As `sigma9 lake splits --suspects --out F.csv` writes it (pandas to_csv): the splits columns first.
    header = (
        "ticker,execution_date,split_from,split_to,verdict,prev_date,prev_close,price_ratio,share_volume_ratio,"
        "dollar_volume_ratio,prior_move,reason"
    )
    line = 'ABC,2025-01-03,10.0,1.0,suspect,2025-01-02,0.5,10.1,0.075,0.76,1.0,"open 10.1x the previous close, 1:10"'
    summary = import_splits(tmp_path / "lake", [write_csv(tmp_path / "suspects.csv", [header, line])])
    assert summary.splits == 1 and rows(tmp_path / "lake") == [("ABC", NEXT_DAY, 10.0, 1.0)]
