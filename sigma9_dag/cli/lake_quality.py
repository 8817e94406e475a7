"""``sigma9 lake splits`` and ``sigma9 lake check``: the split decisions and the data-quality report of a lake."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from sigma9_dag.lake.commit import reading
from sigma9_runtime.lake.layout import LakeLayout, open_lake


def register(
    actions: argparse._SubParsersAction,  # type: ignore[type-arg]
    add_root_argument: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``splits`` and ``check`` to the ``sigma9 lake`` actions."""
    splits = actions.add_parser(
        "splits",
        help="recorded splits the lake applied, and the split guard's suspects",
        description="List the splits that adjusted a previous close (from the splits table) and, with --suspects, "
        "the overnight moves that look like a split no row explains (kept out of events), each with its evidence: "
        "price ratio, share and dollar volume ratios, the previous day's move and the reason. --out writes them "
        "as a CSV/Parquet whose first columns are the splits table's (ticker, execution_date, split_from, "
        "split_to): check the rows, delete the wrong ones, and confirm the rest with `sigma9 lake import splits`.",
    )
    add_root_argument(splits)
    which = splits.add_mutually_exclusive_group()
    which.add_argument("--suspects", action="store_true", help="only the suspects (unrecorded split-like moves)")
    which.add_argument("--all", action="store_true", help="every decision: applied, suspect and cleared moves")
    splits.add_argument("--out", type=Path, metavar="FILE", help="write the rows (.csv or .parquet)")
    splits.add_argument("--json", action="store_true", help="print JSON")
    splits.set_defaults(handler=_splits)

    check = actions.add_parser(
        "check",
        help="data-quality report: coverage gaps, splits, days without a previous close, history for a spec",
        description="Report what may corrupt labels or features: coverage gaps per ticker (trading days missing "
        "inside a ticker's daily span, intraday data without a daily bar), applied splits and split suspects, "
        "ticker-days of intraday data without a previous close (by reason), and with --spec the symbol-days "
        "without the history the spec needs. Always exits 0 when the lake can be read.",
    )
    add_root_argument(check)
    check.add_argument("--spec", type=Path, metavar="FS.yaml", help="also check history against this FeatureSpec")
    check.add_argument("--json", action="store_true", help="print JSON instead of the table")
    check.set_defaults(handler=_check)


def _layout(root: str | None) -> LakeLayout:
    """The lake at ``root`` (``$SIGMA9_DATA_ROOT``, ``data``); one line when there is none."""
    from sigma9_runtime.errors import LakeError

    layout = open_lake(root)
    if not layout.meta.exists():
        raise LakeError(f"{layout.root}: no lake here (no {layout.meta.name}); build one with sigma9 lake synth")
    return layout


def _splits(args: argparse.Namespace) -> int:
    from sigma9_dag.lake.quality import VERDICTS, split_decisions
    from sigma9_dag.lake.table_file import check_table_path, write_table_file

    if args.out is not None:
        check_table_path(args.out, "splits")  # before reading the lake
    verdicts = ("suspect",) if args.suspects else VERDICTS if args.all else ("recorded",)
    layout = _layout(args.root)
    with reading(layout.root):
        frame = split_decisions(layout, verdicts)
    if args.out is not None:
        write_table_file(args.out, frame, "splits")
    if args.json:
        from sigma9_dag.lake.quality import json_value

        rows = [{k: json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]
        print(json.dumps(rows, indent=2))
    elif len(frame):
        shown = frame[["ticker", "execution_date", "split_from", "split_to", "verdict", "reason"]]
        print(shown.to_string(index=False, float_format=lambda x: f"{x:g}"))
    noun = "suspect" if args.suspects else "decision" if args.all else "applied split"
    if not args.json:
        print(f"{len(frame):,} {noun}{'' if len(frame) == 1 else 's'}")
        if args.out is not None:
            print(f"written to {args.out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from sigma9_dag.lake.quality import check_lake
    from sigma9_runtime.contracts.io import load_feature_spec

    spec = load_feature_spec(args.spec) if args.spec is not None else None
    layout = _layout(args.root)
    with reading(layout.root):
        report = check_lake(layout, spec)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.render())
    return 0
