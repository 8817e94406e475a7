"""The lab's resources: where the lake, the FeatureSpecs and the artifact store are.

Chosen in one place, :func:`sigma9_dag.definitions.lab_resources`. A directory left unset (``None``, as
:data:`sigma9_dag.definitions.defs` leaves them) comes from the environment **when a run, sensor or
schedule uses the resource**, never when a module is imported: ``SIGMA9_DATA_ROOT`` (default ``data``),
``SIGMA9_SPECS_DIR`` (default ``feature_specs``), ``SIGMA9_RUNS_DIR`` (default ``run_configs``) and
``SIGMA9_ARTIFACTS_ROOT`` (default ``artifacts``), relative to the working directory; the Dask scheduler the
per-ticker work runs on from ``SIGMA9_DASK_ADDRESS`` (default: none, local processes). A value given
explicitly (a test, another caller) wins over the environment.

(``dg.EnvVar`` would show the variable in the UI but fails a run whose variable is unset; the lab's
variables have defaults, so each resource resolves its own.)
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from pydantic import Field

from sigma9_dag.lab.store import LabStore
from sigma9_dag.parallel import TaskExecutor, configured_executor
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.contracts.io import load_backtest_run_config, load_feature_spec
from sigma9_runtime.errors import SpecError
from sigma9_runtime.file_cache import ParsedFiles
from sigma9_runtime.lake.layout import LakeLayout, open_lake, resolve_data_root
from sigma9_runtime.lake.object_lake import local_work_dir
from sigma9_runtime.registry import is_object_store_url


def from_environment(value: str | None, variable: str, default: str) -> str:
    """``value`` when given, else the environment variable ``variable`` when set, else ``default`` (read now)."""
    return value if value is not None else os.environ.get(variable, default)


class ComputeResource(dg.ConfigurableResource):
    """Where the lab's per-ticker work runs: local worker processes, or a Dask cluster (:mod:`sigma9_dag.parallel`)."""

    dask_address: str | None = Field(
        default=None,
        description="The Dask scheduler (tcp://HOST:PORT) of the per-ticker work; unset: $SIGMA9_DASK_ADDRESS, else "
        "local worker processes (read when a run uses it).",
    )

    def executor(self, workers: int = 2) -> TaskExecutor:
        """The executor of this run's per-ticker work (``workers``: the size of a local pool)."""
        return configured_executor(self.dask_address, workers)


class LakeResource(dg.ConfigurableResource):
    """The market data lake (``sigma9 lake synth`` or the importers fill it)."""

    root: str | None = Field(
        default=None,
        description="The lake: a directory or object storage (s3://bucket/prefix); unset: $SIGMA9_DATA_ROOT, else "
        "data (read when a run uses it).",
    )

    def resolved_root(self) -> str:
        """The lake's location as configured (:attr:`root`, else the environment, else ``data``)."""
        return from_environment(self.root, "SIGMA9_DATA_ROOT", "data")

    def layout(self) -> LakeLayout:
        """The lake's layout (a lake in object storage: its local mirror of the latest version)."""
        return open_lake(self.resolved_root())

    def lab(self, spec_id: str) -> LabStore:
        """Where the lab keeps its stage outputs for ``spec_id``: under the lake's ``experiments/``; for a lake in
        object storage, under this machine's lake cache (:func:`~sigma9_runtime.lake.object_lake.local_work_dir`)."""
        location = resolve_data_root(self.resolved_root())
        root = local_work_dir(location) if isinstance(location, str) else location
        return LabStore(root / "experiments" / "lab" / spec_id)


@dataclass
class SpecCatalog:
    """The spec files of a directory: valid specs by id (file, spec) and problems by id (else file stem)."""

    specs: dict[str, tuple[Path, FeatureSpec]] = field(default_factory=dict)
    problems: dict[str, SpecError] = field(default_factory=dict)


_SPEC_FILES: ParsedFiles[FeatureSpec, SpecError] = ParsedFiles(load_feature_spec, SpecError)
"""Spec files read once per version: the sensor and every asset re-read only changed files."""


class SpecCatalogResource(dg.ConfigurableResource):
    """The FeatureSpec files (``FS_*.yaml``) of a directory, a spec's partition key is its id; and the
    run configs (``RUN_*.yaml``) that say how a spec's candidates are evaluated and backtested."""

    directory: str | None = Field(
        default=None, description="The FeatureSpec files' directory; unset: $SIGMA9_SPECS_DIR, else feature_specs."
    )
    runs_directory: str | None = Field(
        default=None, description="The run configs' directory; unset: $SIGMA9_RUNS_DIR, else run_configs."
    )

    def resolved_directory(self) -> str:
        """The FeatureSpec files' directory (:attr:`directory`, else the environment, else ``feature_specs``)."""
        return from_environment(self.directory, "SIGMA9_SPECS_DIR", "feature_specs")

    def resolved_runs_directory(self) -> str:
        """The run configs' directory (:attr:`runs_directory`, else the environment, else ``run_configs``)."""
        return from_environment(self.runs_directory, "SIGMA9_RUNS_DIR", "run_configs")

    def catalog(self) -> SpecCatalog:
        """Every ``FS_*.yaml`` of the directory read (each file parsed once per version), the valid ones by id
        and the others with their error: one bad file is its own partition's problem, not every partition's."""
        catalog = SpecCatalog()
        for path in sorted(Path(self.resolved_directory()).glob("FS_*.yaml")):
            read = _SPEC_FILES.read(path)
            if isinstance(read, SpecError):
                catalog.problems[path.stem] = read
            elif read.id in catalog.specs:
                first = catalog.specs.pop(read.id)[0]
                catalog.problems[read.id] = SpecError(f"{path}: FeatureSpec id {read.id} is also in {first}")
            elif read.id in catalog.problems:
                continue  # already a duplicate
            else:
                catalog.specs[read.id] = (path, read)
        return catalog

    def paths(self) -> dict[str, Path]:
        """FeatureSpec id -> file, for every valid ``FS_*.yaml`` with an id no other file has."""
        return {spec_id: path for spec_id, (path, _) in self.catalog().specs.items()}

    def path(self, spec_id: str) -> Path:
        """The file of ``spec_id``; its file's error when that file is invalid (or shares its id)."""
        return self._entry(spec_id)[0]

    def spec(self, spec_id: str) -> FeatureSpec:
        """The FeatureSpec ``spec_id``."""
        return self._entry(spec_id)[1]

    def _entry(self, spec_id: str) -> tuple[Path, FeatureSpec]:
        catalog = self.catalog()
        if spec_id in catalog.specs:
            return catalog.specs[spec_id]
        if spec_id in catalog.problems:
            raise catalog.problems[spec_id].with_traceback(None)
        have = ", ".join(catalog.specs) or "none"
        raise SpecError(f"{self.resolved_directory()}: no FeatureSpec with id {spec_id} (have: {have})")

    def all_specs(self) -> list[FeatureSpec]:
        """Every valid FeatureSpec of the directory, by id."""
        return [spec for _, spec in self.catalog().specs.values()]

    def run_config_path(self, spec_id: str) -> Path:
        """The run config of ``spec_id``: the last ``RUN_*.yaml`` (by file name) whose ``feature_spec_ref.id`` is it."""
        runs = self.resolved_runs_directory()
        found = [
            path
            for path in sorted(Path(runs).glob("RUN_*.yaml"))
            if load_backtest_run_config(path).feature_spec_ref.id == spec_id
        ]
        if not found:
            raise SpecError(
                f"{runs}: no run config (RUN_*.yaml) has feature_spec_ref.id {spec_id}; "
                "the lab evaluates and backtests a spec with its run config"
            )
        return found[-1]

    def run_config(self, spec_id: str) -> BacktestRunConfig:
        """The run config of ``spec_id`` (:meth:`run_config_path`)."""
        return load_backtest_run_config(self.run_config_path(spec_id))


class ExperimentTrackerResource(dg.ConfigurableResource):
    """Where the lab logs its experiment history: an MLflow tracking store (:mod:`sigma9_dag.tracking`)."""

    tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI (sqlite:///..., http://host:5000); unset: $SIGMA9_MLFLOW_URI, else the "
        "embedded SQLite store mlflow/mlflow.db under the working directory (read when a run uses it).",
    )

    def uri(self) -> str:
        """The tracking URI (:attr:`tracking_uri`, else the environment, else the embedded store, created here)."""
        from sigma9_dag.tracking import default_tracking_uri

        return from_environment(self.tracking_uri, "SIGMA9_MLFLOW_URI", "") or default_tracking_uri()


class ArtifactStoreResource(dg.ConfigurableResource):
    """The artifact store the export stage publishes to and the runtime's registry reads."""

    root: str | None = Field(
        default=None,
        description="The store: a directory, or object storage by URL (s3://bucket/prefix); unset: "
        "$SIGMA9_ARTIFACTS_ROOT, else artifacts (read when a run uses it).",
    )

    def location(self) -> Path | str:
        """The store (:attr:`root`, else the environment, else ``artifacts``): a directory, or a URL kept as text."""
        value = from_environment(self.root, "SIGMA9_ARTIFACTS_ROOT", "artifacts")
        return value if is_object_store_url(value) else Path(value)

    def path(self) -> Path:
        """The store's root directory (refused for a store in object storage: use :meth:`location`)."""
        location = self.location()
        if not isinstance(location, Path):
            raise SpecError(f"artifact store {location} is in object storage, not a directory")
        return location
