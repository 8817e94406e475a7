"""Dask overhead: the dataset stage on a 2-worker Dask ``LocalCluster`` against the local process pool.

Usage (``make test`` or ``make demo`` installs what it needs)::

    .venv/bin/python benchmarks/distributed.py [--lake DIR] [--tickers 100 --days 80] [--spec-id FS_2026-01-16_002]
                                               [--workdir DIR] [--json] [--scheduler-process]

Without ``--lake`` a synthetic lake of ``--tickers`` x ``--days`` (default: the demo's) is generated first. The
dataset stage (``build_dataset``, the lab's dataset asset without Dagster) then runs twice on copies of the lake
whose feature statistics are removed, so both compute the same work from scratch: once on a local pool of 2
processes and once on a ``LocalCluster`` of 2 worker processes (1 thread each) on 127.0.0.1, started by this
script; then, with ``--scheduler-process``, once more on a ``dask scheduler`` and ``dask worker --nworkers 2``
started as processes of their own, as a cluster is deployed (a ``LocalCluster`` runs its scheduler inside the
calling process, beside the stage's own work). Printed: seconds of each, each cluster's time as a ratio to the
pool's (target: overhead <= 15%, a ratio <= 1.15), the bytes each Dask worker process read during the stage
(``psutil``'s ``read_chars``: every byte its read calls returned, from disk or the page cache), and whether every run
produced equal samples and scan frames. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder comes first on the path and its name would hide the distributed package.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.15


def _worker_read_bytes() -> int:
    import psutil

    counters = psutil.Process().io_counters()
    return int(getattr(counters, "read_chars", counters.read_bytes))


@contextlib.contextmanager
def _cluster_processes(work: Path) -> Iterator[str]:
    """A ``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` on 127.0.0.1, each a process of its own
    (stopped on exit); yields the scheduler's address."""
    import socket

    from distributed import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    logs = open(work / "dask-processes.log", "w")  # closed below
    started = [
        subprocess.Popen(
            [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=logs,
            stderr=logs,
        )
    ]
    try:
        started.append(
            subprocess.Popen(
                [str(bin_dir / "dask"), "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                stdout=logs,
                stderr=logs,
            )
        )
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=60)
        logs.close()


def _fresh_copy(lake: Path, target: Path) -> Path:
    """A copy of ``lake`` without its derived feature statistics (each run computes them)."""
    shutil.copytree(lake, target, ignore=shutil.ignore_patterns("derived", "experiments"))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, default=None, help="existing lake (default: a new synthetic one)")
    parser.add_argument("--tickers", type=int, default=100)
    parser.add_argument("--days", type=int, default=80)
    parser.add_argument("--spec-id", default="FS_2026-01-16_002")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the copies here (default: a temp dir)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON as well")
    parser.add_argument(
        "--scheduler-process",
        action="store_true",
        help="also run on a dask scheduler and 2 dask workers started as processes of their own",
    )
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    from sigma9_dag.lab.dataset import DatasetSettings, build_dataset
    from sigma9_dag.lake.synth import generate_synthetic_lake
    from sigma9_dag.parallel import DaskCluster, LocalPool, use_executor
    from sigma9_runtime.contracts.io import load_feature_spec
    from sigma9_runtime.lake.layout import LakeLayout

    spec = load_feature_spec(ROOT / "feature_specs" / f"{args.spec_id}.yaml")
    settings = DatasetSettings(workers=2)
    with tempfile.TemporaryDirectory(prefix="sigma9-distributed-") as scratch:
        work = args.workdir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        lake = args.lake
        if lake is None:
            lake = work / "lake"
            if not (lake / "lake.json").exists():
                generate_synthetic_lake(lake, tickers=args.tickers, days=args.days, workers=2, force=True)
        figures: dict[str, object] = {"lake": str(lake)}
        frames = {}

        target = work / "pool"
        shutil.rmtree(target, ignore_errors=True)
        layout = LakeLayout(_fresh_copy(lake, target))
        began = time.perf_counter()
        with use_executor(LocalPool(2)):
            frames["pool"] = build_dataset(layout, spec, settings)
        figures["pool_seconds"] = round(time.perf_counter() - began, 1)

        target = work / "dask"
        shutil.rmtree(target, ignore_errors=True)
        layout = LakeLayout(_fresh_copy(lake, target))
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            before = client.run(_worker_read_bytes)
            began = time.perf_counter()
            with use_executor(DaskCluster(cluster.scheduler_address)):
                frames["dask"] = build_dataset(layout, spec, settings)
            figures["dask_seconds"] = round(time.perf_counter() - began, 1)
            after = client.run(_worker_read_bytes)
        figures["dask_over_pool"] = round(figures["dask_seconds"] / figures["pool_seconds"], 3)  # type: ignore[operator]
        figures["worker_read_mib"] = {w: round((after[w] - before[w]) / 2**20, 1) for w in sorted(after)}
        if args.scheduler_process:
            layout = LakeLayout(_fresh_copy(lake, work / "dask-processes"))
            with _cluster_processes(work) as address:
                began = time.perf_counter()
                with use_executor(DaskCluster(address)):
                    frames["dask_processes"] = build_dataset(layout, spec, settings)
                figures["dask_processes_seconds"] = round(time.perf_counter() - began, 1)
            figures["dask_processes_over_pool"] = round(
                figures["dask_processes_seconds"] / figures["pool_seconds"],  # type: ignore[operator]
                3,
            )
        figures["equal_outputs"] = all(
            frames["pool"].samples.equals(frame.samples) and frames["pool"].scan.equals(frame.scan)
            for frame in frames.values()
        )
    print(f"dataset stage, {args.spec_id}, lake {figures['lake']}")
    print(f"  local pool, 2 processes          {figures['pool_seconds']:>8} s")
    print(f"  Dask LocalCluster, 2 workers     {figures['dask_seconds']:>8} s")
    verdict = "ok" if figures["dask_over_pool"] <= TARGET_RATIO else "MISSED"  # type: ignore[operator]
    print(f"  Dask / pool                      {figures['dask_over_pool']:>8}   target <= {TARGET_RATIO}  {verdict}")
    if "dask_processes_seconds" in figures:
        ratio = figures["dask_processes_over_pool"]
        print(f"  dask scheduler + 2 workers       {figures['dask_processes_seconds']:>8} s")
        verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"  # type: ignore[operator]
        print(f"  (processes) / pool               {ratio:>8}   target <= {TARGET_RATIO}  {verdict}")
    for worker, mib in figures["worker_read_mib"].items():  # type: ignore[attr-defined]
        print(f"  read by worker {worker}: {mib} MiB")
    print(f"  samples and scan equal (every run): {figures['equal_outputs']}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
