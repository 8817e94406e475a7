"""Scale: a synthetic universe through synth, dataset and validation, with time and peak memory per stage.

Usage (from the project root or anywhere; ``make test`` or ``make demo`` installs what it needs)::

    .venv/bin/python benchmarks/scale.py [--tickers 2000] [--days 30] [--reference-tickers 200]
                                         [--spec-id FS_2026-01-16_002] [--workdir DIR] [--json]

Two universes run the same way in one run: the reference (``--reference-tickers``) and the large one
(``--tickers``), each on ``--days`` intraday days of its own synthetic lake. Each stage is its own process
through the project's CLI (``sigma9 lake synth``, then ``sigma9 lab run --select dataset`` and
``--select validation``), so its wall time and peak resident memory are its own: the stage's process and its
largest worker process (``ru_maxrss`` of the process and of its waited-for children). Printed per stage:
seconds, seconds per ticker, peak RSS of the process and of a worker, and the large universe's figures as
ratios to the reference's. Time should grow with the tickers (ratio near the universe ratio); memory with the
work per ticker, not with the universe (ratio near 1). Nothing is asserted. Lakes and lab outputs are written
under ``--workdir`` (default: a temporary directory, removed afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RSS_MARK = "@@sigma9-scale-rss "
QUIET = ("--force", "--no-progress")

# Runs the project's CLI in this process, then reports the peak RSS of the process and of its largest
# waited-for child (the stage's worker processes), in KiB (Linux ru_maxrss).
STAGE_CODE = f"""
import json, resource, sys
from sigma9_dag.cli import main
code = main(sys.argv[1:])
usage = resource.getrusage
print({RSS_MARK!r} + json.dumps([usage(resource.RUSAGE_SELF).ru_maxrss, usage(resource.RUSAGE_CHILDREN).ru_maxrss]))
sys.exit(code)
"""


@dataclass
class StageFigures:
    """One stage of one universe."""

    universe: int
    stage: str
    seconds: float
    rss_mib: float
    worker_rss_mib: float

    @property
    def per_ticker_ms(self) -> float:
        return 1000.0 * self.seconds / self.universe


def run_stage(stage: str, args: list[str], env: dict[str, str], universe: int) -> StageFigures:
    """Run ``sigma9 ARGS`` as its own process; its wall time and peak RSS."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", STAGE_CODE, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise SystemExit(f"scale: {stage} of {universe} tickers failed (exit {done.returncode}):\n{tail}")
    marks = [line for line in done.stdout.splitlines() if line.startswith(RSS_MARK)]
    own, children = json.loads(marks[-1][len(RSS_MARK) :])
    return StageFigures(universe, stage, seconds, own / 1024.0, children / 1024.0)


def run_universe(tickers: int, days: int, spec_id: str, workdir: Path) -> list[StageFigures]:
    """synth, dataset and validation of one universe."""
    lake, artifacts, home = (workdir / f"{tickers}" / name for name in ("lake", "artifacts", "dagster_home"))
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SIGMA9_DATA_ROOT": str(lake),
        "SIGMA9_ARTIFACTS_ROOT": str(artifacts),
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    stages = [
        ("synth", ["lake", "synth", "--root", str(lake), "--tickers", str(tickers), "--days", str(days), *QUIET]),
        ("dataset", ["lab", "run", "--spec-id", spec_id, "--select", "dataset"]),
        ("validation", ["lab", "run", "--spec-id", spec_id, "--select", "validation"]),
    ]
    figures = []
    for stage, args in stages:
        figures.append(run_stage(stage, args, env, tickers))
        print(f"  {tickers:>5} tickers  {stage:<10} {figures[-1].seconds:8.1f} s", flush=True)
    return figures


def report(reference: list[StageFigures], large: list[StageFigures]) -> str:
    """The table: each stage of both universes, and the large one's ratios to the reference."""
    universe_ratio = large[0].universe / reference[0].universe
    lines = [
        f"{'stage':<11}{'tickers':>8}{'seconds':>10}{'ms/ticker':>11}{'RSS MiB':>9}{'worker MiB':>11}",
    ]
    for ref, big in zip(reference, large, strict=True):
        for row in (ref, big):
            lines.append(
                f"{row.stage:<11}{row.universe:>8}{row.seconds:>10.1f}{row.per_ticker_ms:>11.1f}"
                f"{row.rss_mib:>9.0f}{row.worker_rss_mib:>11.0f}"
            )
        lines.append(
            f"{'':<11}{'ratio':>8}{big.seconds / ref.seconds:>10.2f}{big.per_ticker_ms / ref.per_ticker_ms:>11.2f}"
            f"{big.rss_mib / ref.rss_mib:>9.2f}{big.worker_rss_mib / max(ref.worker_rss_mib, 1e-9):>11.2f}"
        )
    lines.append(
        f"universe ratio {universe_ratio:.1f}: time should scale near it (ms/ticker ratio near 1), "
        "memory should not (RSS ratios near 1)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickers", type=int, default=2000, help="the large universe (default 2000)")
    parser.add_argument("--days", type=int, default=30, help="intraday days of each lake (default 30)")
    parser.add_argument("--reference-tickers", type=int, default=200, help="the reference universe (default 200)")
    parser.add_argument("--spec-id", default="FS_2026-01-16_002", help="FeatureSpec of the lab stages")
    parser.add_argument("--workdir", type=Path, help="keep the lakes here (default: a temporary directory)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON as well")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sigma9-scale-") as scratch:
        workdir = args.workdir or Path(scratch)
        print(f"scale: {args.reference_tickers} and {args.tickers} tickers x {args.days} days, {args.spec_id}")
        reference = run_universe(args.reference_tickers, args.days, args.spec_id, workdir)
        large = run_universe(args.tickers, args.days, args.spec_id, workdir)
    print(report(reference, large))
    if args.json:
        print(json.dumps([asdict(f) for f in reference + large]))


if __name__ == "__main__":
    main()
