"""The lake's commit protocol: one writer at a time, all-or-nothing commits, readers that never see half.

Three files at the lake root carry it (none is a table; every reader's globs skip them):

``.lake.lock``
    The writer lock (``flock``), held by a :class:`~sigma9_dag.lake.writer.LakeTransaction` from
    its opening to its end. A second writer waits up to ``SIGMA9_LAKE_LOCK_TIMEOUT`` seconds
    (default :data:`DEFAULT_LOCK_TIMEOUT`), then fails with one line naming the holder. The
    kernel releases it when its holder dies, however it dies.
``.lake-commit.json``
    The commit journal: which staged files go where, and which top-level entries a replacing
    commit moves aside. Written atomically *before* the first move; its appearance is the commit
    point. Every move is idempotent, so a commit killed at any instant is rolled forward by the
    next writer or reader (:func:`recover`); the journal is removed last.
``.lake-commit.lock``
    Held exclusively during the moves (the commit window, milliseconds); a reader takes it shared
    (:func:`reading`) so it opens the lake before or after a commit, never in the middle.

Leftovers of a dead writer (``.tmp-txn-*`` staging, ``.tmp-trash-*``) are removed only under
the writer lock, so never while their writer lives.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sigma9_runtime.atomic import TEMP_PREFIX, atomic_write_text, fsync_dir
from sigma9_runtime.errors import LakeBusy, LakeError

WRITER_LOCK = ".lake.lock"
COMMIT_LOCK = ".lake-commit.lock"
JOURNAL = ".lake-commit.json"
STAGING_PREFIX = f"{TEMP_PREFIX}txn-"
TRASH_PREFIX = f"{TEMP_PREFIX}trash-"
LOCK_TIMEOUT_ENV = "SIGMA9_LAKE_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 600.0
"""Seconds a writer waits for another to finish: long enough for a large import, short enough to notice."""
POLL_SECONDS = 0.05


class CommitJournal(BaseModel):
    """What one commit moves: staged files into place (``install``, in order, ``lake.json`` last) and,
    for a replacing commit, the lake's top-level entries aside first (``set_aside``, into ``trash``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    staging: str
    install: list[str]
    trash: str | None = None
    set_aside: list[str] = []


def lock_timeout() -> float:
    """Seconds to wait for the writer lock: ``$SIGMA9_LAKE_LOCK_TIMEOUT`` or :data:`DEFAULT_LOCK_TIMEOUT`."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV)
    if raw is None or raw == "":
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise LakeError(f"{LOCK_TIMEOUT_ENV}={raw!r}: expected a number of seconds") from None
    if not value >= 0 or value == float("inf"):
        raise LakeError(f"{LOCK_TIMEOUT_ENV}={raw!r}: expected a finite number of seconds >= 0")
    return value


# --- locks -------------------------------------------------------------------------------------


def _open_lock(root: Path, name: str) -> int:
    return os.open(root / name, os.O_RDWR | os.O_CREAT, 0o666)


def _acquire(fd: int, mode: int, timeout: float) -> bool:
    """``flock`` ``fd`` in ``mode``, retrying until ``timeout`` seconds have passed; False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f" by {text}" if text else ""


class WriterLock:
    """The lake's writer lock, held from :meth:`acquire` to :meth:`release` (or its holder's death)."""

    def __init__(self, root: Path, timeout: float | None = None) -> None:
        self.root = root
        self.timeout = lock_timeout() if timeout is None else timeout
        self._fd: int | None = None

    def acquire(self) -> WriterLock:
        """Take the lock (waiting up to the timeout), then roll forward or remove a dead writer's leftovers.

        Raises :class:`~sigma9_runtime.errors.LakeBusy` naming the holder when the wait times out.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd = _open_lock(self.root, WRITER_LOCK)
        if not _acquire(fd, fcntl.LOCK_EX, self.timeout):
            holder = _holder(fd)
            os.close(fd)
            raise LakeBusy(
                f"{self.root}: another writer holds the lake{holder}; waited {self.timeout:g} s "
                f"(set {LOCK_TIMEOUT_ENV} to wait longer, or run the writes one after the other)"
            )
        os.ftruncate(fd, 0)
        command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))[:300]
        os.pwrite(fd, f"pid {os.getpid()} ({command}) since {time.strftime('%H:%M:%S')}\n".encode(), 0)
        self._fd = fd
        try:
            os.close(_open_lock(self.root, COMMIT_LOCK))  # readers find it from now on
            recover(self.root)
            sweep(self.root)
        except BaseException:
            self.release()  # an unreadable journal: refused, and the lock not kept by this process
            raise
        return self

    def release(self) -> None:
        """Let the next writer in."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


@contextlib.contextmanager
def _commit_window(root: Path, mode: int) -> Iterator[None]:
    fd = _open_lock(root, COMMIT_LOCK)
    try:
        fcntl.flock(fd, mode)  # the window lasts milliseconds: wait for it without a timeout
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def reading(root: Path) -> Iterator[None]:
    """Hold the lake still for a reader: no commit starts or is half done while inside.

    A reader opening the lake during a commit waits for it (milliseconds); one left half done by a
    killed writer is rolled forward first. A root no writer has opened yet is read as is.

    Examples
    --------
    >>> with reading(layout.root):  # doctest: +SKIP
    ...     coverage = lake_coverage(layout)
    """
    try:  # read-only: works on a lake the reader cannot write
        fd = os.open(root / COMMIT_LOCK, os.O_RDONLY)
    except OSError:  # not a lake yet (every writer creates the file before its first commit)
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        if (root / JOURNAL).exists():  # its writer died mid-commit (a live one holds the lock exclusively)
            fcntl.flock(fd, fcntl.LOCK_UN)
            lock = WriterLock(root).acquire()  # recovers under the writer lock
            lock.release()
            fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


# --- commits -----------------------------------------------------------------------------------


def commit_staged(root: Path, journal: CommitJournal) -> None:
    """Make ``journal``'s moves visible all at once: the journal first (the commit point), the moves, its removal.

    The caller holds the writer lock and has staged every file ``journal.install`` names.
    """
    staging = root / journal.staging
    missing = [name for name in journal.install if not (staging / name).is_file()]
    if missing:
        raise LakeError(f"{staging}: staged file(s) missing before commit: {', '.join(missing[:5])}")
    with _commit_window(root, fcntl.LOCK_EX):
        atomic_write_text(root / JOURNAL, journal.model_dump_json() + "\n")
        _roll_forward(root, journal)
    _discard(root, journal)


def recover(root: Path) -> bool:
    """Roll a commit left half done by a killed writer forward; True when there was one.

    The caller holds the writer lock. A journal that cannot be read was never complete (it is
    written atomically), so it cannot exist; one that does not parse is refused naming the file.
    """
    path = root / JOURNAL
    if not path.exists():
        return False
    try:
        journal = CommitJournal.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise LakeError(f"{path}: unreadable commit journal ({e.__class__.__name__}); move it away to go on") from e
    with _commit_window(root, fcntl.LOCK_EX):
        _roll_forward(root, journal)
    _discard(root, journal)
    return True


def _roll_forward(root: Path, journal: CommitJournal) -> None:
    """Every move of ``journal`` not yet done, in order, then the journal's removal. Each step can be
    repeated: an entry is moved aside only while the trash lacks it; a file is installed only while staged."""
    if journal.trash is not None:
        trash = root / journal.trash
        trash.mkdir(exist_ok=True)
        for name in journal.set_aside:
            if not (trash / name).exists() and (root / name).exists():
                os.replace(root / name, trash / name)
    staging = root / journal.staging
    parents: set[Path] = {root}
    for name in journal.install:
        source, target = staging / name, root / name
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            parents.add(target.parent)
    for parent in parents:
        fsync_dir(parent)
    (root / JOURNAL).unlink()
    fsync_dir(root)


def _discard(root: Path, journal: CommitJournal) -> None:
    shutil.rmtree(root / journal.staging, ignore_errors=True)
    if journal.trash is not None:
        shutil.rmtree(root / journal.trash, ignore_errors=True)


def sweep(root: Path) -> list[str]:
    """Remove a dead writer's leftovers at the root (the caller holds the writer lock); their names.

    Only writers create ``.tmp-*`` entries at the root: staging and trash directories, and the
    temporary file of a journal being written.
    """
    removed = []
    for stale in sorted(root.glob(f"{TEMP_PREFIX}*")):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        removed.append(stale.name)
    return removed
