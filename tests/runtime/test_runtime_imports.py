"""sigma9_runtime stays light: no lab package is imported, and nothing in it can load a pickle."""

import re
import subprocess
import sys
from pathlib import Path

import sigma9_runtime

LAB_PACKAGES = (
    "dagster",
    "nautilus_trader",
    "lightgbm",
    "hdbscan",
    "umap",
    "sklearn",
    "skl2onnx",
    "onnxmltools",
    "onnx",
    "pandas",
    "duckdb",
    "sigma9_dag",
)
RUNTIME_DIR = Path(sigma9_runtime.__file__).parent

_PROBE = """
import importlib, pkgutil, sys
import sigma9_runtime
for module in pkgutil.walk_packages(sigma9_runtime.__path__, "sigma9_runtime."):
    importlib.import_module(module.name)
lab = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:]))
print(",".join(lab))
"""


def test_importing_every_runtime_module_imports_no_lab_package() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *LAB_PACKAGES],
        cwd=RUNTIME_DIR.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == "", f"sigma9_runtime imported lab packages: {result.stdout.strip()}"


def test_runtime_sources_never_unpickle() -> None:
    pattern = re.compile(
        r"\bimport (pickle|joblib|dill|cloudpickle)\b|\bfrom (pickle|joblib)\b|allow_pickle|\.load\(\s*open"
    )
    offenders = [
        f"{path.relative_to(RUNTIME_DIR)}:{number}"
        for path in sorted(RUNTIME_DIR.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
