"""Per-ticker work spread over processes: one task per ticker, results independent of the worker count."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")


def map_tickers(
    fn: Callable[[Task], Result],
    tasks: Iterable[Task],
    *,
    workers: int = 2,
    progress: str | None = None,
) -> Iterator[Result]:
    """``fn(task)`` for every task (one per ticker), in worker processes when ``workers > 1``.

    ``fn`` must be a module-level function (spawn pickles it by name). ``progress`` names a
    progress bar (tqdm) when given. Results come in completion order.
    """
    tasks = list(tasks)
    bar = None
    if progress and tasks:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), unit="ticker", desc=progress)
    try:
        if workers <= 1 or len(tasks) <= 1:
            for task in tasks:
                yield fn(task)
                if bar is not None:
                    bar.update()
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
            for future in as_completed([pool.submit(fn, task) for task in tasks]):
                yield future.result()
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
