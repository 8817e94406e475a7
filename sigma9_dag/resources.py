"""The lab's resources: where the lake, the FeatureSpecs and the artifact store are.

Chosen in one place, :data:`sigma9_dag.definitions.defs`, from the environment:
``SIGMA9_DATA_ROOT`` (default ``data``), ``SIGMA9_SPECS_DIR`` (default ``feature_specs``),
``SIGMA9_RUNS_DIR`` (default ``run_configs``) and ``SIGMA9_ARTIFACTS_ROOT`` (default ``artifacts``),
relative to the working directory.
"""

from pathlib import Path

import dagster as dg

from sigma9_dag.lab.store import LabStore
from sigma9_runtime.contracts.backtest_run_config import BacktestRunConfig
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.contracts.io import load_backtest_run_config, load_feature_spec
from sigma9_runtime.errors import SpecError
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


class SpecCatalogResource(dg.ConfigurableResource):
    """The FeatureSpec files (``FS_*.yaml``) of a directory, a spec's partition key is its id; and the
    run configs (``RUN_*.yaml``) that say how a spec's candidates are evaluated and backtested."""

    directory: str = "feature_specs"
    runs_directory: str = "run_configs"

    def paths(self) -> dict[str, Path]:
        """FeatureSpec id -> file, for every ``FS_*.yaml`` (the id is read from the file)."""
        out: dict[str, Path] = {}
        for path in sorted(Path(self.directory).glob("FS_*.yaml")):
            spec = load_feature_spec(path)
            if spec.id in out:
                raise SpecError(f"{path}: FeatureSpec id {spec.id} is also in {out[spec.id]}")
            out[spec.id] = path
        return out

    def path(self, spec_id: str) -> Path:
        """The file of ``spec_id``."""
        paths = self.paths()
        if spec_id not in paths:
            raise SpecError(f"{self.directory}: no FeatureSpec with id {spec_id} (have: {', '.join(paths) or 'none'})")
        return paths[spec_id]

    def spec(self, spec_id: str) -> FeatureSpec:
        """The FeatureSpec ``spec_id``."""
        return load_feature_spec(self.path(spec_id))

    def all_specs(self) -> list[FeatureSpec]:
        """Every FeatureSpec of the directory, by id."""
        return [load_feature_spec(path) for path in self.paths().values()]

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
