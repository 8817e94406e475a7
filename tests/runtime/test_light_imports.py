"""The runtime library stays light: importing every sigma9_runtime module loads no lab package."""

import subprocess
import sys

FORBIDDEN = ("dagster", "nautilus_trader", "lightgbm", "hdbscan", "umap", "sklearn", "pandas", "duckdb", "sigma9_dag")

SCRIPT = """
import importlib, pkgutil, sys
import sigma9_runtime
for module in pkgutil.walk_packages(sigma9_runtime.__path__, "sigma9_runtime."):
    importlib.import_module(module.name)
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_importing_all_of_sigma9_runtime_loads_no_lab_package() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert "sigma9_runtime" in loaded
    assert loaded.isdisjoint(FORBIDDEN), sorted(loaded & set(FORBIDDEN))
