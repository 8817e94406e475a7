"""Per-ticker (and per-day) work spread over processes or a Dask cluster, with results independent of either.

One interface, :class:`TaskExecutor`: ``map(fn, tasks)`` yields ``fn(task)`` for every task, in completion
order (callers that keep an order sort by the task's key). Two implementations:

* :class:`LocalPool` — worker processes on this machine (``spawn``), the default;
* :class:`DaskCluster` — the workers of a Dask ``distributed`` scheduler at an address (``tcp://HOST:PORT``),
  which may sit on other machines that see the same lake.

Which one runs: the executor of the innermost :func:`use_executor` block, else a Dask cluster when
``$SIGMA9_DASK_ADDRESS`` is set (every ``sigma9`` command's ``--dask ADDRESS`` sets it; read when the work
starts, never at import), else a local pool of the caller's ``workers``. A task must be a module-level
function of the project and picklable arguments; a failing task raises its own exception, with a note naming
the work and the task (its ticker, and day when it has one).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")

DASK_ADDRESS_VARIABLE = "SIGMA9_DASK_ADDRESS"
"""The environment variable naming the Dask scheduler the lab's per-ticker work runs on (unset: this machine)."""


class TaskExecutor(Protocol):
    """Runs independent tasks and yields their results in completion order."""

    def map(
        self, fn: Callable[[Task], Result], tasks: list[Task], *, progress: str | None = None
    ) -> Iterator[Result]: ...


@dataclass(frozen=True)
class LocalPool:
    """Worker processes on this machine (``workers`` <= 1: in this process)."""

    workers: int = 2

    def map(self, fn: Callable[[Task], Result], tasks: list[Task], *, progress: str | None = None) -> Iterator[Result]:
        """``fn(task)`` for every task, in completion order."""
        with _progress_bar(progress, len(tasks)) as advance:
            if self.workers <= 1 or len(tasks) <= 1:
                for task in tasks:
                    yield _named(fn, task, progress)
                    advance()
                return
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), mp_context=context) as pool:
                futures = {pool.submit(_on_worker, fn, task): task for task in tasks}
                for future in as_completed(futures):
                    yield _result(future.result, futures[future], progress)
                    advance()


@dataclass(frozen=True)
class DaskCluster:
    """The workers of the Dask scheduler at ``address`` (``tcp://HOST:PORT``); ``connect_timeout`` seconds to reach
    it."""

    address: str
    connect_timeout: float = 20.0

    def map(self, fn: Callable[[Task], Result], tasks: list[Task], *, progress: str | None = None) -> Iterator[Result]:
        """``fn(task)`` for every task on the cluster's workers, in completion order."""
        from distributed import Client, as_completed

        from sigma9_runtime.errors import Sigma9Error

        if not tasks:
            return
        try:
            client = Client(self.address, set_as_default=False, timeout=self.connect_timeout)
        except OSError as e:
            raise Sigma9Error(f"Dask scheduler {self.address}: cannot connect ({e})") from e
        with client, client.as_current(), _progress_bar(progress, len(tasks)) as advance:
            futures = client.map(_on_worker, [fn] * len(tasks), tasks, pure=False)
            task_of = {future.key: task for future, task in zip(futures, tasks, strict=True)}
            for future in as_completed(futures):
                yield _result(future.result, task_of[future.key], progress)
                advance()
                future.release()


def _on_worker(fn: Callable[[Task], Result], task: Task) -> Result:
    """``fn(task)`` in a worker process, its allocator first set for array work (:func:`release_small_frees_lazily`)."""
    release_small_frees_lazily()
    return fn(task)


MMAP_THRESHOLD_BYTES = 32 << 20
TRIM_THRESHOLD_BYTES = 64 << 20
_ALLOCATOR_SET = False


def release_small_frees_lazily() -> bool:
    """Undo, once per process, the fixed malloc thresholds a Dask nanny gives its workers; True when it did.

    The nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (``distributed.nanny.pre-spawn-environ``), so
    that they hand freed memory back to the OS at once; it also sets the variable in its own process, so the
    local pools a process starts after a ``LocalCluster`` inherit it. Setting it also turns off glibc's sliding
    mmap threshold: every allocation above 128 KiB — each temporary array of the feature kernels — is then a
    fresh ``mmap``, zero-filled page by page, and unmapped when freed. That made the dataset stage 1.14-1.48x
    slower on a Dask worker than in a local process (``benchmarks/distributed.py``). This sets the thresholds
    the sliding rule reaches by itself (mmap above 32 MiB, trim above 64 MiB): arrays reuse the heap, and large
    frees still go back to the OS. Only glibc's ``mallopt``; elsewhere (or without the variable) nothing changes.
    """
    global _ALLOCATOR_SET
    if _ALLOCATOR_SET or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return False
    _ALLOCATOR_SET = True
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(m_trim_threshold, TRIM_THRESHOLD_BYTES)
    )


_ACTIVE: ContextVar[TaskExecutor | None] = ContextVar("sigma9_executor", default=None)


@contextmanager
def use_executor(executor: TaskExecutor | None) -> Iterator[None]:
    """Run the per-ticker work inside the block on ``executor`` (None: as configured outside the block)."""
    token = _ACTIVE.set(executor) if executor is not None else None
    try:
        yield
    finally:
        if token is not None:
            _ACTIVE.reset(token)


def active_executor(workers: int = 2) -> TaskExecutor:
    """The executor per-ticker work runs on now (see the module docstring); ``workers`` sizes a local pool."""
    chosen = _ACTIVE.get()
    return chosen if chosen is not None else configured_executor(None, workers)


def configured_executor(address: str | None, workers: int = 2) -> TaskExecutor:
    """A Dask cluster at ``address`` (None: ``$SIGMA9_DASK_ADDRESS``), else a local pool of ``workers`` when that
    is unset or empty."""
    address = (os.environ.get(DASK_ADDRESS_VARIABLE, "") if address is None else address).strip()
    return DaskCluster(address) if address else LocalPool(workers)


def map_tickers(
    fn: Callable[[Task], Result],
    tasks: Iterable[Task],
    *,
    workers: int = 2,
    progress: str | None = None,
) -> Iterator[Result]:
    """``fn(task)`` for every task (one per ticker) on the active executor (:func:`active_executor`).

    ``fn`` must be a module-level function (workers import it by name). ``progress`` names a progress bar
    (tqdm) and the work in a failing task's note. Results come in completion order.
    """
    return active_executor(workers).map(fn, list(tasks), progress=progress)


def describe_task(task: Any) -> str:
    """A task as its failure names it: its ``label`` (the project's tasks name their ticker and days), else its
    text."""
    label = getattr(task, "label", None)
    if isinstance(label, str):
        return label
    text = repr(task)
    return text if len(text) <= 80 else text[:77] + "..."


def days_label(ticker: str, days: Iterable[Any]) -> str:
    """``ticker T, day D`` or ``ticker T, days D1..D2`` (or ``ticker T``) for a task's label."""
    ordered = sorted(days)
    if not ordered:
        return f"ticker {ticker}"
    if len(ordered) == 1:
        return f"ticker {ticker}, day {ordered[0]}"
    return f"ticker {ticker}, days {ordered[0]}..{ordered[-1]}"


def _named(fn: Callable[[Task], Result], task: Task, progress: str | None) -> Result:
    return _result(lambda: fn(task), task, progress)


def _result(get: Callable[[], Result], task: Any, progress: str | None) -> Result:
    try:
        return get()
    except Exception as e:
        label = describe_task(task)
        if label not in str(e):  # an error naming its file already says where
            e.add_note(f"in {progress or 'a task'} of {label}")
        raise


@contextmanager
def _progress_bar(progress: str | None, total: int) -> Iterator[Callable[[], None]]:
    if not progress or not total:
        yield lambda: None
        return
    from tqdm import tqdm

    bar = tqdm(total=total, unit="ticker", desc=progress)
    try:
        yield bar.update
    finally:
        bar.close()
