"""The lake's commit protocol: one writer at a time, commits all or nothing under SIGKILL, readers never see half."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sigma9_dag.cli import EXIT_BAD_INPUT, main
from sigma9_dag.lake.commit import JOURNAL, CommitJournal, WriterLock, reading, recover
from sigma9_dag.lake.importers import import_massive_flat
from sigma9_dag.lake.writer import LakeTransaction
from sigma9_runtime.errors import LakeBusy
from sigma9_runtime.lake.layout import LakeLayout
from sigma9_runtime.lake.tables import read_bars, read_daily

from . import bars_table
from .importers import DAY, NEXT_DAY, at, write_csv_gz
from .importers.test_massive_flat import TRADES_HEADER, trade_line

TICKERS = [f"T{i:02d}" for i in range(12)]


def _processes() -> Any:
    """Writer processes forked from a server that has imported the importers once (a child starts in ms)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sigma9_dag.lake.importers", "tests.dag.lake.test_commit"])
    return context


def _trades_file(path: Path, day: Any, tickers: list[str], price: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        trade_line(ticker, at(day, f"10:{minute:02d}:00"), price + k + minute / 100, 100, minute + 1)
        for k, ticker in enumerate(tickers)
        for minute in range(3)
    ]
    return write_csv_gz(path, TRADES_HEADER, lines)


_STAMP = re.compile(r"\d{8}T\d{6}Z(-\d+)?")


def _state(root: Path) -> dict[str, Any]:
    """The lake's content as readers see it: every table file's bytes; JSON without its clock fields.

    Lock files and ``.tmp-*`` leftovers are not content; report names and ``at``/``created_at`` carry the
    wall clock of the run.
    """
    state: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        hidden = relative in (".lake.lock", ".lake-commit.lock") or ".tmp-" in relative  # readers skip .tmp-*
        if not path.is_file() or hidden:
            continue
        if path.suffix == ".json":
            content = _without_clock(json.loads(path.read_bytes()))
            # Two imports in one second are told apart by a -2 suffix: name them by their content instead.
            name = _STAMP.sub(hashlib.sha256(json.dumps(content).encode()).hexdigest()[:8], relative)
            state[name] = content
        else:
            state[relative] = path.read_bytes()
    return state


def _differences(state: dict[str, Any], *references: dict[str, Any]) -> list[list[str]]:
    """Per reference, the names whose content differs from ``state``'s."""
    return [sorted(n for n in state.keys() | ref.keys() if state.get(n) != ref.get(n)) for ref in references]


def _without_clock(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k not in ("at", "created_at", "report")}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


# --- one writer at a time -----------------------------------------------------------------------


def test_a_second_writer_waits_then_fails_with_one_line_naming_the_holder(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path / "lake")
    with LakeTransaction(layout) as first:
        first.write_bars("1m", "ABC", bars_table([0, 60], 1.0))
        began = time.monotonic()
        with pytest.raises(
            LakeBusy, match=rf"another writer holds the lake by pid {os.getpid()} \(.*\) since [\d:]+; waited 0.3 s"
        ):
            LakeTransaction(layout, lock_timeout=0.3)
        assert time.monotonic() - began >= 0.3
        assert first.staging_root.is_dir()  # the refused writer swept nothing of the live one
        first.commit({"source": "first"})
    assert read_bars(layout, "1m", "ABC").column("close").to_pylist() == [1.0, 1.0]


def test_the_cli_refuses_a_busy_lake_with_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "lake"
    source = _trades_file(tmp_path / "trades_v1.csv.gz", DAY, ["ABC"], 10.0)
    monkeypatch.setenv("SIGMA9_LAKE_LOCK_TIMEOUT", "0.2")
    lock = WriterLock(root).acquire()
    try:
        assert main(["lake", "import", "massive-flat", "--root", str(root), str(source)]) == EXIT_BAD_INPUT
    finally:
        lock.release()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "another writer holds the lake" in err and "SIGMA9_LAKE_LOCK_TIMEOUT" in err
    monkeypatch.setenv("SIGMA9_LAKE_LOCK_TIMEOUT", "soon")
    assert main(["lake", "import", "massive-flat", "--root", str(root), str(source)]) == EXIT_BAD_INPUT
    assert "SIGMA9_LAKE_LOCK_TIMEOUT='soon': expected a number of seconds" in capsys.readouterr().err


def test_a_waiting_writer_lands_after_the_first_and_merges_with_it(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path / "lake")
    second_done = threading.Event()

    def second() -> None:
        with LakeTransaction(layout, lock_timeout=30) as txn:
            txn.write_bars("1m", "ABC", bars_table([60, 120], 2.0))
            txn.commit({"source": "second"})
        second_done.set()

    with LakeTransaction(layout) as first:
        thread = threading.Thread(target=second)
        thread.start()
        first.write_bars("1m", "ABC", bars_table([0, 60], 1.0))
        time.sleep(0.2)
        assert not second_done.is_set()  # it waits for the lock
        first.commit({"source": "first"})
    thread.join(30)
    assert second_done.is_set()
    merged = read_bars(layout, "1m", "ABC")
    assert merged.column("ts").to_pylist() == [0, 60, 120] and merged.column("close").to_pylist() == [1.0, 2.0, 2.0]
    assert [h["source"] for h in json.loads(layout.meta.read_text())["history"]] == ["first", "second"]


def _import(root: str, path: str) -> None:
    import_massive_flat(root, [path])


def test_overlapping_import_processes_both_land(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    first = _trades_file(tmp_path / "a" / "trades_v1.csv.gz", DAY, TICKERS[:6], 10.0)
    second = _trades_file(tmp_path / "b" / "trades_v1.csv.gz", NEXT_DAY, TICKERS[3:], 20.0)
    context = _processes()
    processes = [context.Process(target=_import, args=(str(root), str(p))) for p in (first, second)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0]
    daily = read_daily(LakeLayout(root)).to_pydict()
    assert sorted(zip(daily["ticker"], daily["date"])) == sorted(
        [(t, DAY) for t in TICKERS[:6]] + [(t, NEXT_DAY) for t in TICKERS[3:]]
    )
    assert len(json.loads(LakeLayout(root).meta.read_text())["history"]) == 2
    assert not list(root.glob(".tmp-*"))


# --- recovery -----------------------------------------------------------------------------------


def test_a_reader_rolls_a_half_done_commit_forward_before_reading(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    staging = root / ".tmp-txn-dead"
    (staging / "1m").mkdir(parents=True)
    (root / "1m").mkdir(parents=True)
    (root / "1m" / "A.parquet").write_bytes(b"new A")  # moved before the kill
    (staging / "1m" / "B.parquet").write_bytes(b"new B")
    (staging / "lake.json").write_bytes(b"{}")
    (root / "lake.json").write_bytes(b"old")
    journal = CommitJournal(staging=staging.name, install=["1m/A.parquet", "1m/B.parquet", "lake.json"])
    (root / JOURNAL).write_text(journal.model_dump_json())
    (root / ".lake-commit.lock").touch()  # left by the killed writer
    with reading(root):
        assert (root / "1m" / "B.parquet").read_bytes() == b"new B" and (root / "lake.json").read_bytes() == b"{}"
        assert not (root / JOURNAL).exists()
    assert not staging.exists()
    assert recover(root) is False


def test_a_reader_opening_the_lake_during_a_commit_waits_for_its_end(tmp_path: Path) -> None:
    layout = LakeLayout(tmp_path / "lake")
    with LakeTransaction(layout) as txn:
        txn.write_bars("1m", "ABC", bars_table([0], 1.0))
        txn.commit({"source": "test"})
    entered: list[float] = []

    def reader() -> None:
        with reading(layout.root):
            entered.append(time.monotonic())

    window = os.open(layout.root / ".lake-commit.lock", os.O_RDWR)
    fcntl.flock(window, fcntl.LOCK_EX)  # a commit's moves in progress
    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.2)
    ended = time.monotonic()
    os.close(window)  # the commit ends
    thread.join(10)
    assert entered and entered[0] >= ended


# --- chaos: SIGKILL at any instant ---------------------------------------------------------------


class _Killer:
    """In the child: SIGKILL this process at its ``at``-th os.replace / os.unlink call (a kill inside the commit)."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0

    def install(self) -> None:
        for name in ("replace", "unlink", "rename"):
            original = getattr(os, name)
            setattr(os, name, self._wrap(original))

    def _wrap(self, original: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self.at:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)

        return call


def _write(root: str, kind: str, path: str, kill_at: int, calls_file: str) -> None:
    """The child: one import (``kind="import"``) or one replacing commit (``"replace"``), killed at call ``kill_at``."""
    killer = _Killer(kill_at or -1)  # 0: count the calls only
    killer.install()
    if kind == "import":
        import_massive_flat(root, [path])
    else:
        layout = LakeLayout(Path(root))
        with LakeTransaction(layout, replace=True) as txn:
            for k, ticker in enumerate(TICKERS):
                bars = bars_table([0, 60], 5.0 + k, ticker)
                txn.write_bars("1m", ticker, bars)
            txn.commit({"source": "replacement"})
    Path(calls_file).write_text(str(killer.calls))


def _run(context: Any, *args: Any, kill_after: float | None = None) -> int | None:
    process = context.Process(target=_write, args=args)
    process.start()
    if kill_after is not None:
        time.sleep(kill_after)
        if process.is_alive():
            with contextlib.suppress(ProcessLookupError):  # it may end between the check and the kill: "after"
                os.kill(process.pid, signal.SIGKILL)
    process.join(120)
    return process.exitcode


@pytest.mark.parametrize("kind", ["import", "replace"])
def test_a_writer_killed_at_any_instant_leaves_the_lake_as_before_or_after(tmp_path: Path, kind: str) -> None:
    """≥ 30 SIGKILLs per kind: at random instants of the whole run, and at every stage of the commit."""
    context = _processes()
    base = tmp_path / "base"
    import_massive_flat(base, [_trades_file(tmp_path / "a" / "trades_v1.csv.gz", DAY, TICKERS[:8], 10.0)])
    source = _trades_file(tmp_path / "b" / "trades_v1.csv.gz", NEXT_DAY, TICKERS[4:], 20.0)
    calls_file = tmp_path / "calls"

    def fresh() -> Path:
        root = tmp_path / "lake"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(base, root)
        return root

    before = _state(base)
    root = fresh()
    began = time.monotonic()
    assert _run(context, str(root), kind, str(source), 0, str(calls_file)) == 0
    duration = time.monotonic() - began
    print(f"{kind}: one uninterrupted run {duration:.3f} s")
    after = _state(root)
    calls = int(calls_file.read_text())
    assert before != after and calls > 10

    rng = random.Random(15)
    trials = [("call", rng.randint(1, calls)) for _ in range(18)] + [
        ("time", rng.uniform(0, duration)) for _ in range(14)
    ]
    outcomes = {"before": 0, "after": 0}
    for how, at_ in trials:
        root = fresh()
        if how == "call":
            exit_code = _run(context, str(root), kind, str(source), at_, str(calls_file))
        else:
            exit_code = _run(context, str(root), kind, str(source), 0, str(calls_file), kill_after=at_)
        assert exit_code in (0, -signal.SIGKILL)
        with reading(root):  # the next reader finishes a commit its writer began
            state = _state(root)
        assert state in (before, after), f"{how} {at_}: neither before nor after: {_differences(state, before, after)}"
        outcomes["before" if state == before else "after"] += 1
        with LakeTransaction(LakeLayout(root)) as txn:  # the next writer removes what is left
            txn.rollback()
        assert not list(root.glob(".tmp-*")) and not (root / JOURNAL).exists()
    assert outcomes["before"] and outcomes["after"]  # the kills hit both sides of the commit point
