"""Stage outputs of the lab for one FeatureSpec: parquet tables and JSON documents, written atomically.

Layout: ``<lake root>/experiments/lab/<FeatureSpec id>/<stage>/<name>.parquet|json`` (and plain files:
plots, the lab's fitted models). A file is
written to a temporary name and renamed, so a reader sees a whole file or none.

:class:`StageOutput` is what a stage's asset returns and Dagster hands to the stages and checks after it:
the names of the files the stage wrote here (large tables stay Parquet files; the value only names them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

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


class StageOutput(BaseModel):
    """What one lab stage wrote for one FeatureSpec: its files in the lab store, by kind and name.

    A stage's asset returns one (each stage declares a subclass with typed readers and the few small values
    it hands on inline); the lab's IO manager (:mod:`sigma9_dag.io_manager`) keeps it as a JSON record and
    loads it for the stages and checks that take the asset as an input. Those read the stage's files through
    it, never by a file name of their own.

    Fields
    ------
    store
        The FeatureSpec's lab directory (:attr:`LabStore.root`). Not part of the record: the IO manager
        sets it to the lab store of the run's lake when it loads the value.
    stage
        The stage's directory in it.
    tables
        Names of its Parquet tables (``<stage>/<name>.parquet``).
    documents
        Names of its JSON documents (``<stage>/<name>.json``).
    models
        Names of its fitted lab models (``<stage>/<name>.joblib``, read only inside the lab).
    files
        Names of its other files and directories (plots, an artifact store, the backtest's outputs).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    store: Annotated[Path, Field(exclude=True)]
    stage: str
    tables: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def lab(self) -> LabStore:
        """The FeatureSpec's lab store."""
        return LabStore(self.store)

    def table(self, name: str) -> pd.DataFrame:
        """The stage's table ``name``."""
        return self.lab().read_table(self.stage, self._named(name, self.tables, "table"))

    def document(self, name: str) -> Any:
        """The stage's JSON document ``name``."""
        return self.lab().read_json(self.stage, self._named(name, self.documents, "document"))

    def model(self, name: str) -> Any:
        """The stage's fitted lab model ``name``."""
        return self.lab().read_model(self.stage, self._named(name, self.models, "model"))

    def path(self, name: str) -> Path:
        """The stage's file or directory ``name``."""
        return self.lab().path(self.stage, self._named(name, self.files, "file"))

    def _named(self, name: str, names: tuple[str, ...], kind: str) -> str:
        if name not in names:
            where, have = self.lab().path(self.stage, ""), ", ".join(names) or "none"
            raise DataError(f"{where}: the {self.stage} stage wrote no {kind} {name!r} (its {kind}s: {have})")
        return name
