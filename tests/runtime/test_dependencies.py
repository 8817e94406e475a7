"""The runtime imports nothing beyond its declared dependencies (``[project].dependencies``, not the ``lab`` extra).

Every ``sigma9_runtime`` module is imported in a fresh interpreter where only the standard library, the
declared dependencies and what they themselves require can be imported: any other top-level package (Dagster,
pandas, DuckDB, LightGBM, ...) raises ImportError there, as it would in the Sigma9 container.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_NAME = re.compile(r"^[A-Za-z0-9._-]+")


def _requirement_name(requirement: str) -> str | None:
    """The distribution a requirement names; None when it only applies under an extra."""
    if "extra ==" in requirement.replace('"', "'").replace("extra=='", "extra =='"):
        return None
    match = _NAME.match(requirement.strip())
    return match.group(0) if match else None


def _closure(names: list[str]) -> set[str]:
    """The distributions ``names`` need, their own requirements included (extras left out)."""
    seen: set[str] = set()
    todo = [n.lower().replace("_", "-") for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [n.lower().replace("_", "-") for r in requires if (n := _requirement_name(r)) is not None]
    return seen


def _import_names(distributions: set[str]) -> set[str]:
    """Top-level module names the installed ``distributions`` provide."""
    out: set[str] = set()
    for module, owners in metadata.packages_distributions().items():
        if any(o.lower().replace("_", "-") in distributions for o in owners):
            out.add(module)
    return out


CHILD = r"""
import importlib, importlib.abc, pkgutil, sys
allowed = set(ALLOWED)

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in allowed or top in sys.stdlib_module_names or top.startswith("_") or top == "sigma9_runtime":
            return None
        raise ImportError(f"{name} is not a declared runtime dependency")

sys.meta_path.insert(0, Blocker())
import sigma9_runtime
failed = {}
for info in pkgutil.walk_packages(sigma9_runtime.__path__, "sigma9_runtime."):
    try:
        importlib.import_module(info.name)
    except ImportError as e:
        failed[info.name] = str(e)
print(failed)
"""


def test_every_runtime_module_imports_with_the_declared_dependencies_alone() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [n for r in project["dependencies"] if (n := _requirement_name(r)) is not None]
    allowed = _import_names(_closure(declared))
    assert "numpy" in allowed and "dagster" not in allowed and "pandas" not in allowed
    code = CHILD.replace("ALLOWED", json.dumps(sorted(allowed)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "{}", result.stdout
