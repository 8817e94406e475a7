"""Per-ticker work on a local pool and on a Dask cluster: the same results, failures named by ticker and day."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sigma9_dag.parallel import (
    DASK_ADDRESS_VARIABLE,
    DaskCluster,
    LocalPool,
    active_executor,
    days_label,
    map_tickers,
    use_executor,
)
from sigma9_runtime.errors import DataError


@dataclass(frozen=True)
class Job:
    ticker: str
    days: tuple[dt.date, ...]

    @property
    def label(self) -> str:
        return days_label(self.ticker, self.days)


def square_sum(job: Job) -> tuple[str, int]:
    if job.ticker == "BAD":
        raise DataError(f"lake/trades/{job.ticker}: not a trades table")
    return job.ticker, sum(d.day**2 for d in job.days)


JOBS = [Job(f"T{i:02d}", tuple(dt.date(2025, 1, 2 + k) for k in range(i % 4 + 1))) for i in range(12)]


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    """A Dask LocalCluster of 2 worker processes on 127.0.0.1, closed after the module."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_the_executor_is_the_blocks_else_the_environments_else_a_local_pool(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(DASK_ADDRESS_VARIABLE, raising=False)
    assert active_executor(3) == LocalPool(3)
    monkeypatch.setenv(DASK_ADDRESS_VARIABLE, "tcp://127.0.0.1:8786")
    assert active_executor(3) == DaskCluster("tcp://127.0.0.1:8786")
    with use_executor(LocalPool(1)):
        assert active_executor(3) == LocalPool(1)
        with use_executor(None):
            assert active_executor(3) == LocalPool(1)
    assert active_executor(3) == DaskCluster("tcp://127.0.0.1:8786")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_local_pool_gives_every_result_whatever_its_size(workers: int) -> None:
    assert sorted(map_tickers(square_sum, JOBS, workers=workers)) == sorted(map(square_sum, JOBS))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_task_raises_its_own_error_noting_its_ticker_and_days(workers: int) -> None:
    jobs = [*JOBS[:3], Job("BAD", (dt.date(2025, 1, 6), dt.date(2025, 1, 7)))]
    with pytest.raises(DataError, match="not a trades table") as failure:
        list(LocalPool(workers).map(square_sum, jobs, progress="feature rows"))
    assert failure.value.__notes__ == ["in feature rows of ticker BAD, days 2025-01-06..2025-01-07"]


def test_the_dask_cluster_gives_the_local_pools_results_and_names_a_failing_task(dask_address: str) -> None:
    executor = DaskCluster(dask_address)
    assert sorted(executor.map(square_sum, JOBS)) == sorted(map(square_sum, JOBS))
    with pytest.raises(DataError, match="not a trades table") as failure:
        list(executor.map(square_sum, [*JOBS, Job("BAD", (dt.date(2025, 1, 6),))], progress="feature rows"))
    assert "in feature rows of ticker BAD, day 2025-01-06" in failure.value.__notes__
    assert list(executor.map(square_sum, [])) == []


def allocator_of_this_process(job: Job) -> tuple[str | None, bool]:
    import os

    import sigma9_dag.parallel as parallel

    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), parallel._ALLOCATOR_SET


def test_a_dask_worker_gets_back_the_allocator_of_a_local_process(dask_address: str) -> None:
    # the nanny fixes malloc's thresholds for its workers; each task's process resets them once (see the docstring)
    assert set(DaskCluster(dask_address).map(allocator_of_this_process, JOBS[:4])) == {("65536", True)}
    pool = set(LocalPool(2).map(allocator_of_this_process, JOBS[:2]))  # set too when the variable is inherited
    assert all(reset == (variable is not None) for variable, reset in pool)


def test_an_unreachable_scheduler_is_one_clear_error() -> None:
    from sigma9_runtime.errors import Sigma9Error

    with pytest.raises(Sigma9Error, match=r"Dask scheduler tcp://127.0.0.1:9: cannot connect"):
        list(DaskCluster("tcp://127.0.0.1:9", connect_timeout=1.0).map(square_sum, JOBS[:2]))


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*.parquet"))
    }


@pytest.mark.slow
def test_a_lake_and_its_feature_rows_made_on_dask_equal_the_local_pools(tmp_path: Path, dask_address: str) -> None:
    from sigma9_dag.cli import main
    from sigma9_dag.features.stats import ensure_stats
    from sigma9_runtime.contracts.io import load_feature_spec
    from sigma9_runtime.lake.layout import LakeLayout

    args = ["lake", "synth", "--tickers", "4", "--days", "6", "--history-days", "30", "--no-progress"]
    assert main([*args, "--root", str(tmp_path / "local"), "--workers", "2"]) == 0
    assert main([*args, "--root", str(tmp_path / "dask"), "--dask", dask_address]) == 0
    local, on_dask = _hashes(tmp_path / "local"), _hashes(tmp_path / "dask")
    assert len(local) > 10 and local == on_dask

    spec = load_feature_spec(Path(__file__).parents[2] / "feature_specs" / "FS_2026-01-16_002.yaml")
    stats = {}
    for name, executor in (("local", LocalPool(2)), ("dask", DaskCluster(dask_address))):
        layout = LakeLayout(tmp_path / name)
        with use_executor(executor):
            stats[name] = ensure_stats(layout, spec, layout.trade_tickers(), layout.trade_dates(), workers=2)
    assert stats["local"] == stats["dask"] and stats["local"]
    assert _hashes(tmp_path / "local") == _hashes(tmp_path / "dask")


def test_a_command_whose_ticker_task_fails_names_the_ticker_and_days_in_its_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from sigma9_dag.cli import main
    from sigma9_dag.lake.synth import generate_synthetic_lake
    from sigma9_runtime.lake.layout import LakeLayout

    generate_synthetic_lake(tmp_path / "lake", tickers=2, days=6, history_days=30, workers=1)
    layout = LakeLayout(tmp_path / "lake")
    ticker, day = layout.trade_tickers()[-1], layout.trade_dates()[2]
    layout.trades(ticker, day).write_bytes(b"not parquet")
    spec = Path(__file__).parents[2] / "feature_specs" / "FS_2026-01-16_002.yaml"
    args = ["features", "stats", "--root", str(layout.root), "--spec", str(spec), "--workers", "2", "--no-progress"]
    code = main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert str(layout.trades(ticker, day)) in err[0] and f"of ticker {ticker}, days " in err[0]
