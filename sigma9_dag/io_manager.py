"""The lab's IO manager: each stage's :class:`~sigma9_dag.lab.store.StageOutput`, kept in the lab store.

A stage writes its tables, documents and models into the FeatureSpec's lab store itself (Parquet, JSON,
joblib, each written atomically); what its asset returns is the small record naming them. This IO manager
keeps that record as JSON beside them, per partition (FeatureSpec id) and asset::

    <lake root>/experiments/lab/<FeatureSpec id>/<asset>/output.json

written to a temporary name and renamed (a reader sees the whole record or none), and loads it again for
every stage and asset check that takes the asset as an input, bound to the lab store of the run's lake.
Nothing is pickled into Dagster's own storage.

Example
-------
>>> resources = {"lake": lake, LAB_STORE: LabStoreIOManager(lake=lake)}  # doctest: +SKIP
>>> read_output(lake, "FS_2026-01-16_002", "export", ExportOutput).artifact_id  # doctest: +SKIP
'ART_2026-12-04_001'
"""

import hashlib
from typing import Any, TypeVar

import dagster as dg
from pydantic import ValidationError

from sigma9_dag.lab.store import StageOutput
from sigma9_dag.resources import LakeResource
from sigma9_runtime.errors import DataError

LAB_STORE = "lab_store"
"""Resource key of :class:`LabStoreIOManager`; every lab asset names it as its ``io_manager_key``."""
RECORD = "output"
"""Name of an asset's record in its directory of the lab store (``<asset>/output.json``)."""

OutputT = TypeVar("OutputT", bound=StageOutput)


def _asset_dir(asset: dg.AssetKey | str) -> str:
    return "/".join(dg.AssetKey.from_coercible(asset).path)


def write_output(lake: LakeResource, spec_id: str, asset: dg.AssetKey | str, value: StageOutput) -> None:
    """Keep ``value``, the output of ``asset`` for ``spec_id``, as its record in the lab store of ``lake``."""
    store = lake.lab(spec_id)
    if value.store != store.root:
        raise DataError(
            f"{_asset_dir(asset)} [{spec_id}]: the stage wrote to {value.store}, but the lab store of this run's "
            f"lake is {store.root}; give the asset and the IO manager the same lake resource"
        )
    store.write_json(_asset_dir(asset), RECORD, value.model_dump(mode="json"))


def read_output(lake: LakeResource, spec_id: str, asset: dg.AssetKey | str, kind: type[OutputT]) -> OutputT:
    """The output of ``asset`` for ``spec_id`` as ``kind``, from its record in the lab store of ``lake``."""
    store = lake.lab(spec_id)
    record = store.read_json(_asset_dir(asset), RECORD)  # names the asset to materialize when missing
    try:
        return kind.model_validate({**record, "store": store.root})
    except ValidationError as e:
        path = store.path(_asset_dir(asset), f"{RECORD}.json")
        raise DataError(f"{path}: not a {kind.__name__} record ({e}); rematerialize {_asset_dir(asset)}") from e


def has_output(lake: LakeResource, spec_id: str, asset: dg.AssetKey | str) -> bool:
    """Whether ``asset`` has a record for ``spec_id`` in the lab store of ``lake``."""
    return lake.lab(spec_id).path(_asset_dir(asset), f"{RECORD}.json").exists()


def file_digests(value: StageOutput) -> dict[str, dict[str, Any]]:
    """Each file the stage wrote (``<stage>/<name>``) with its path, size and sha256: what a materialization's
    ``stage_files`` metadata shows, so a run's outputs can be compared by hash (directories are listed without)."""
    store = value.lab()
    named = (
        *((t, ".parquet") for t in value.tables),
        *((d, ".json") for d in value.documents),
        *((m, ".joblib") for m in value.models),
        *((f, "") for f in value.files),
    )
    out: dict[str, dict[str, Any]] = {}
    for name, suffix in named:
        path = store.path(value.stage, name + suffix)
        entry: dict[str, Any] = {"path": str(path)}
        if path.is_file():
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            entry |= {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}
        out[f"{value.stage}/{name}{suffix}"] = entry
    return out


class LabStoreIOManager(dg.ConfigurableIOManager):
    """Stores each lab asset's :class:`StageOutput` as a JSON record in the FeatureSpec's lab store.

    Partition-aware: the partition key is the FeatureSpec id, which picks the lab store. The loaded value's
    class is the input's annotation (else the upstream asset's return annotation).
    """

    lake: dg.ResourceDependency[LakeResource]

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        """Write the record of ``obj``, the asset's output for the run's partition."""
        asset = context.asset_key.to_user_string()
        if not isinstance(obj, StageOutput):
            raise DataError(
                f"{asset}: the lab's IO manager stores StageOutput values (large tables stay Parquet in the lab "
                f"store), got {type(obj).__name__}"
            )
        write_output(self.lake, _spec_id(context, asset), context.asset_key, obj)
        context.add_output_metadata({"stage_files": dg.MetadataValue.json(file_digests(obj))})

    def load_input(self, context: dg.InputContext) -> StageOutput:
        """The upstream asset's output for the run's partition, read from its record."""
        upstream = context.upstream_output
        if upstream is None or not context.has_asset_key:
            raise DataError(f"input {context.name}: the lab's IO manager loads lab assets only")
        asset = context.asset_key.to_user_string()
        return read_output(self.lake, _spec_id(context, asset), context.asset_key, _kind(context, upstream, asset))


def _spec_id(context: dg.InputContext | dg.OutputContext, asset: str) -> str:
    if not context.has_asset_partitions:
        raise DataError(f"{asset}: not partitioned; the lab's assets are partitioned by FeatureSpec id")
    return context.asset_partition_key


def _kind(context: dg.InputContext, upstream: dg.OutputContext, asset: str) -> type[StageOutput]:
    kind = context.dagster_type.typing_type
    if not _is_output_class(kind):  # an unannotated input: the upstream asset's return type, when it is known
        try:
            kind = upstream.dagster_type.typing_type
        except dg.DagsterInvariantViolationError:  # the upstream asset is not part of this run
            pass
    if _is_output_class(kind):
        return kind  # type: ignore[no-any-return]
    raise DataError(
        f"input {context.name} ({asset}): annotate it (or the asset's return) with the StageOutput class to load"
    )


def _is_output_class(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, StageOutput)
