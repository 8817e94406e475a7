"""The lab's resources: where the lake, the FeatureSpecs and the artifact store are.

Chosen in one place, :data:`sigma9_dag.definitions.defs`, from the environment:
``SIGMA9_DATA_ROOT`` (default ``data``), ``SIGMA9_SPECS_DIR`` (default ``feature_specs``) and
``SIGMA9_ARTIFACTS_ROOT`` (default ``artifacts``), relative to the working directory.
"""

from pathlib import Path

import dagster as dg

from sigma9_dag.lab.store import LabStore
from sigma9_runtime.contracts.feature_spec import FeatureSpec
from sigma9_runtime.contracts.io import load_feature_spec
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
    """The FeatureSpec files (``FS_*.yaml``) of a directory; a spec's partition key is its id."""

    directory: str = "feature_specs"

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


class ArtifactStoreResource(dg.ConfigurableResource):
    """The artifact store the export stage publishes to and the runtime's registry reads."""

    root: str = "artifacts"

    def path(self) -> Path:
        """The store's root directory."""
        return Path(self.root)
