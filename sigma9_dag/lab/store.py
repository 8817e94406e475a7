"""Stage outputs of the lab for one FeatureSpec: parquet tables and JSON documents, written atomically.

Layout: ``<lake root>/experiments/lab/<FeatureSpec id>/<stage>/<name>.parquet|json`` (and plain files:
plots, the lab's fitted models). A file is
written to a temporary name and renamed, so a reader sees a whole file or none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sigma9_runtime.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from sigma9_runtime.errors import DataError


@dataclass(frozen=True)
class LabStore:
    """The lab's directory for one FeatureSpec."""

    root: Path

    def path(self, stage: str, name: str) -> Path:
        """File ``name`` of ``stage``."""
        return self.root / stage / name

    def write_table(self, stage: str, name: str, frame: pd.DataFrame) -> Path:
        """Write ``frame`` as ``<stage>/<name>.parquet``."""
        target = self.path(stage, f"{name}.parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            frame.to_parquet(tmp, index=False)
        return target

    def read_table(self, stage: str, name: str) -> pd.DataFrame:
        """Read ``<stage>/<name>.parquet``; a missing file names the stage to materialize first."""
        path = self.path(stage, f"{name}.parquet")
        if not path.exists():
            raise DataError(f"{path}: not found — materialize the {stage} stage first")
        return pd.read_parquet(path)

    def write_json(self, stage: str, name: str, document: Any) -> Path:
        """Write ``document`` as ``<stage>/<name>.json``."""
        target = self.path(stage, f"{name}.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
        return target

    def read_json(self, stage: str, name: str) -> Any:
        """Read ``<stage>/<name>.json``."""
        path = self.path(stage, f"{name}.json")
        if not path.exists():
            raise DataError(f"{path}: not found — materialize the {stage} stage first")
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: line {e.lineno}: not valid JSON ({e.msg})") from e

    def write_bytes(self, stage: str, name: str, data: bytes) -> Path:
        """Write the file ``<stage>/<name>`` (a plot, a fitted model kept inside the lab)."""
        target = self.path(stage, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)
        return target

    def read_bytes(self, stage: str, name: str) -> bytes:
        """Read the file ``<stage>/<name>``."""
        path = self.path(stage, name)
        if not path.exists():
            raise DataError(f"{path}: not found — materialize the {stage} stage first")
        return path.read_bytes()

    def write_model(self, stage: str, name: str, model: Any) -> Path:
        """Keep a fitted lab model as ``<stage>/<name>.joblib``.

        A joblib pickle, read back only by later lab stages of this store; what leaves the lab for the
        runtime is ONNX + JSON (:mod:`sigma9_dag.export`).
        """
        import io

        import joblib

        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        return self.write_bytes(stage, f"{name}.joblib", buffer.getvalue())

    def read_model(self, stage: str, name: str) -> Any:
        """A model kept by :meth:`write_model`."""
        import io

        import joblib

        return joblib.load(io.BytesIO(self.read_bytes(stage, f"{name}.joblib")))
