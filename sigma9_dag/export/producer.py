"""The manifest's ``producer`` section: which code, Python and OS built the artifact."""

from __future__ import annotations

import platform
import re
import subprocess
from pathlib import Path

from sigma9_runtime.contracts.artifact_manifest import Producer

PRODUCER_SYSTEM = "sigma9_dag"
PROJECT_DIR = Path(__file__).resolve().parents[2]
"""The checkout this package runs from."""

_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


def git_commit(project_dir: str | Path = PROJECT_DIR) -> str:
    """``git rev-parse HEAD`` in ``project_dir``, or ``unknown`` when it is not a git checkout (or git is missing)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project_dir, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and _COMMIT.match(commit) else "unknown"


def producer_section(project_dir: str | Path = PROJECT_DIR, *, system: str = PRODUCER_SYSTEM) -> Producer:
    """The ``producer`` of a manifest built now, from ``project_dir``.

    Examples
    --------
    >>> producer_section()  # doctest: +SKIP
    Producer(system='sigma9_dag', git_commit='1bef5cb...', python='3.11.7', os='linux')
    """
    return Producer(
        system=system,
        git_commit=git_commit(project_dir),
        python=platform.python_version(),
        os=platform.system().lower() or "unknown",
    )
