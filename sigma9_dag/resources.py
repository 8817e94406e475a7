"""The lab's resources: where the lake, the FeatureSpecs and the artifact store are.

Chosen in one place, :data:`sigma9_dag.definitions.defs`, from the environment:
``SIGMA9_DATA_ROOT`` (default ``data``), ``SIGMA9_SPECS_DIR`` (default ``feature_specs``),
``SIGMA9_RUNS_DIR`` (default ``run_configs``) and ``SIGMA9_ARTIFACTS_ROOT`` (default ``artifacts``),
relative to the working directory.
"""

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from sigma9_dag.lab.store import LabStore
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.contracts.io import load_backtest_run_config, load_feature_spec
from sigma9_runtime.errors import SpecError
from sigma9_runtime.file_cache import ParsedFiles
from sigma9_runtime.lake.layout import LakeLayout


class LakeResource(dg.ConfigurableResource):
    """The market data lake (``sigma9 lake synth`` or the importers fill it)."""

    root: str = "data"

    def layout(self) -> LakeLayout:
        """The lake's layout."""
        return LakeLayout(Path(self.root))

    def lab(self, spec_id: str) -> LabStore:
        """Where the lab keeps its stage outputs for ``spec_id`` (under the lake's ``experiments/``)."""
        return LabStore(Path(self.root) / "experiments" / "lab" / spec_id)


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

    directory: str = "feature_specs"
    runs_directory: str = "run_configs"

    def catalog(self) -> SpecCatalog:
        """Every ``FS_*.yaml`` of the directory read (each file parsed once per version), the valid ones by id
        and the others with their error: one bad file is its own partition's problem, not every partition's."""
        catalog = SpecCatalog()
        for path in sorted(Path(self.directory).glob("FS_*.yaml")):
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
        raise SpecError(f"{self.directory}: no FeatureSpec with id {spec_id} (have: {have})")

    def all_specs(self) -> list[FeatureSpec]:
        """Every valid FeatureSpec of the directory, by id."""
        return [spec for _, spec in self.catalog().specs.values()]

    def run_config_path(self, spec_id: str) -> Path:
        """The run config of ``spec_id``: the last ``RUN_*.yaml`` (by file name) whose ``feature_spec_ref.id`` is it."""
        found = [
            path
            for path in sorted(Path(self.runs_directory).glob("RUN_*.yaml"))
            if load_backtest_run_config(path).feature_spec_ref.id == spec_id
        ]
        if not found:
            raise SpecError(
                f"{self.runs_directory}: no run config (RUN_*.yaml) has feature_spec_ref.id {spec_id}; "
                "the lab evaluates and backtests a spec with its run config"
            )
        return found[-1]

    def run_config(self, spec_id: str) -> BacktestRunConfig:
        """The run config of ``spec_id`` (:meth:`run_config_path`)."""
        return load_backtest_run_config(self.run_config_path(spec_id))


class ArtifactStoreResource(dg.ConfigurableResource):
    """The artifact store the export stage publishes to and the runtime's registry reads."""

    root: str = "artifacts"

    def path(self) -> Path:
        """The store's root directory."""
        return Path(self.root)
