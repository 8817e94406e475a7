"""Every benchmark script starts from any working directory as its docstring says (``--help`` parses)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_a_benchmark_starts_from_another_directory(script: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_every_benchmark_is_checked() -> None:
    assert {p.name for p in BENCHMARKS} >= {"backtest.py", "features.py", "lake.py", "runtime.py", "scale.py"}
