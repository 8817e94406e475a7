"""The whole lab chain in process on a small synthetic lake, its blocking checks, and the nightly schedule."""

import json
import shutil
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
import yaml

from sigma9_dag.assets.checks import VERDICTS
from sigma9_dag.assets.dataset import DatasetOutput
from sigma9_dag.assets.distill import DistillOutput
from sigma9_dag.assets.export import ExportOutput
from sigma9_dag.assets.validation import ValidationOutput
from sigma9_dag.definitions import CHECKS
from sigma9_dag.io_manager import read_output
from sigma9_dag.lab.checks import artifact_problems, leakage_problems, parity_problems
from sigma9_dag.partitions import sync_spec_partitions
from sigma9_dag.resources import SpecCatalogResource
from sigma9_dag.schedules import nightly_retrain
from sigma9_runtime.contracts.io import load_artifact_manifest
from sigma9_runtime.features.names import feature_names
from sigma9_runtime.registry import FilesystemArtifactRegistry
from sigma9_runtime.schema_hash import schema_hash
from tests.stubs import SMALL_LAKE_CONFIG, materialized_lab

PROJECT = Path(__file__).parents[3]
SPEC_ID = "FS_2026-01-16_002"


@pytest.fixture(scope="module")
def chain(synthetic_lake, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The whole chain materialized once for SPEC_ID: (result, lake, specs, artifacts)."""
    root = tmp_path_factory.mktemp("chain")
    lake_root = root / "lake"
    shutil.copytree(synthetic_lake.root, lake_root, ignore=shutil.ignore_patterns("experiments"))
    with materialized_lab(lake_root, root / "artifacts", SPEC_ID, SMALL_LAKE_CONFIG) as (result, resources, instance):
        yield result, resources["lake"], resources["specs"], resources["artifacts"], instance


@pytest.mark.slow
def test_the_whole_chain_publishes_an_artifact_the_runtime_loads(chain) -> None:  # type: ignore[no-untyped-def]
    result, lake, specs, artifacts, _ = chain
    assert result.success
    done = {e.materialization.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert done == {"dataset", "discovery", "validation", "distill", "backtest", "export", "experiment"}
    evaluations = result.get_asset_check_evaluations()
    blocking = {e.check_name: e.passed for e in evaluations if e.severity == dg.AssetCheckSeverity.ERROR}
    assert blocking == {
        "dataset_has_no_leakage": True,
        "candidate_artifact_verifies": True,
        "candidate_onnx_parity": True,
        "exported_artifact_verifies": True,
    }
    verdicts = {e.check_name: e for e in evaluations if e.severity == dg.AssetCheckSeverity.WARN}
    assert set(verdicts) == set(VERDICTS)  # met or missed, each says which and by how much
    assert all(e.description.endswith(("met", "missed")) for e in verdicts.values())
    published = read_output(lake, SPEC_ID, "export", ExportOutput)  # the value export handed on
    assert published.document("published") == {"artifact_id": published.artifact_id, "manifest": published.manifest}
    manifest = load_artifact_manifest(published.manifest)
    assert manifest.feature_spec_ref.id == SPEC_ID
    assert set(manifest.performance_oos.baselines) == {"seismograph_only", "random_budget_matched"}
    assert manifest.performance_oos.split.train_end < manifest.performance_oos.split.test_start
    registry = FilesystemArtifactRegistry(artifacts.path())
    loaded = registry.load_latest(specs.spec(SPEC_ID), subscribed_streams=["T.*", "A.*", "AM.*"])
    assert loaded.manifest.id == manifest.id
    assert (lake.lab(SPEC_ID).path("backtest", "backtest_report.json")).exists()
    (run,) = chain[4].get_runs()
    assert run.tags["sigma9/artifact_id"] == manifest.id  # added by export, beside the launch's tags
    assert run.tags["sigma9/schema_hash"] == manifest.feature_spec_ref.schema_hash
    assert run.tags["sigma9/run_config_id"] == specs.run_config(SPEC_ID).id
    assert run.tags["sigma9/git_commit"] == manifest.producer.git_commit


@pytest.mark.slow
def test_the_backtest_and_export_show_their_plots_tables_and_numbers_in_the_ui(chain) -> None:  # type: ignore[no-untyped-def]
    result = chain[0]
    metadata = {
        e.materialization.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    backtest = metadata["backtest"]
    for plot in ("equity_curve", "metrics_plot"):
        assert backtest[plot].value.startswith(f"![{plot}](data:image/png;base64,")
    alerts, trades = backtest["alerts_first_rows"], backtest["trades_first_rows"]
    assert isinstance(alerts, dg.TableMetadataValue) and isinstance(trades, dg.TableMetadataValue)
    assert [c.name for c in alerts.schema.columns][:3] == ["time", "symbol", "score"]
    assert len(alerts.records) == min(20, backtest["alerts"].value)
    assert len(trades.records) == min(20, backtest["trades"].value)
    export = metadata["export"]
    assert (
        "| global threshold |" in export["manifest_content"].value and "| tuning |" in export["manifest_content"].value
    )
    assert isinstance(export["actionable_precision_at_budget"], dg.FloatMetadataValue | dg.TextMetadataValue)
    for stage in ("validation", "distill"):
        counts = [
            metadata[stage][k].value for k in ("test_events_hit", "test_events_hit_actionable", "test_events_in_scope")
        ]
        assert all(isinstance(n, int) for n in counts) and counts[1] <= counts[0] <= counts[2]


@pytest.mark.slow
def test_every_lab_run_is_in_the_experiment_history_beside_the_earlier_ones(chain) -> None:  # type: ignore[no-untyped-def]
    from mlflow import MlflowClient

    from sigma9_dag.assets.experiment import ExperimentOutput
    from sigma9_dag.definitions import ASSETS

    _, lake, specs, _, instance = chain
    logged = read_output(lake, SPEC_ID, "experiment", ExperimentOutput).logged()
    client = MlflowClient(tracking_uri=logged["tracking_uri"])
    (run,) = client.search_runs([client.get_experiment_by_name("sigma9-lab").experiment_id])
    assert run.info.run_id == logged["mlflow_run_id"] and run.info.status == "FINISHED"
    manifest = load_artifact_manifest(read_output(lake, SPEC_ID, "export", ExportOutput).manifest)
    assert run.data.params["spec_id"] == SPEC_ID and run.data.params["artifact_id"] == manifest.id
    assert run.data.params["schema_hash"] == manifest.feature_spec_ref.schema_hash
    assert run.data.tags["sigma9/run_config_id"] == specs.run_config(SPEC_ID).id
    oos = manifest.performance_oos
    if oos.metrics.precision_at_budget is not None:
        assert run.data.metrics["oos.model.precision_at_budget"] == pytest.approx(oos.metrics.precision_at_budget)
    assert {"validation.auc.test", "discovery.noise_fraction", "oos.random_budget_matched.utility_score"} <= set(
        run.data.metrics
    )
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {f"{manifest.id}.json", "plots.png", "scatter.png", "rules.md", "equity_curve.png"} <= artifacts
    # a second run (a nightly retrain) shows beside the first
    again = dg.materialize(
        ASSETS, selection=["experiment"], instance=instance, resources=_chain_resources(chain), partition_key=SPEC_ID
    )
    assert again.success
    assert len(client.search_runs([run.info.experiment_id])) == 2


def _chain_resources(chain):  # type: ignore[no-untyped-def]
    from sigma9_dag.definitions import lab_resources
    from sigma9_dag.resources import ExperimentTrackerResource

    _, lake, specs, artifacts, _ = chain
    logged = read_output(lake, SPEC_ID, "experiment", _experiment_output()).logged()
    return lab_resources(lake, specs, artifacts, tracker=ExperimentTrackerResource(tracking_uri=logged["tracking_uri"]))


def _experiment_output():  # type: ignore[no-untyped-def]
    from sigma9_dag.assets.experiment import ExperimentOutput

    return ExperimentOutput


def _payload_digests(manifest) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.name: f.sha256 for f in manifest.payload.files}


@pytest.mark.slow
def test_on_dask_with_the_lake_and_artifacts_in_a_bucket_the_chain_publishes_the_same_payload(  # type: ignore[no-untyped-def]
    chain, synthetic_lake, s3_endpoint, monkeypatch, tmp_path
) -> None:
    from distributed import LocalCluster

    from sigma9_dag.lake.copy import copy_lake
    from sigma9_runtime.registry import open_registry
    from tests.stubs import use_s3

    _, lake, _, _, _ = chain
    on_disk = load_artifact_manifest(read_output(lake, SPEC_ID, "export", ExportOutput).manifest)
    monkeypatch.setenv("SIGMA9_LAKE_CACHE", str(tmp_path / "lake-cache"))
    bucket = use_s3(monkeypatch, s3_endpoint, "sigma9-chain")
    copy_lake(synthetic_lake, f"{bucket}/lake")
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,  # its workers start now, with the bucket's settings in their environment
        materialized_lab(
            f"{bucket}/lake", f"{bucket}/artifacts", SPEC_ID, SMALL_LAKE_CONFIG, cluster.scheduler_address
        ) as (result, _, _),
    ):
        assert result.success
        assert cluster.scheduler.transition_counter > 0  # the per-ticker work ran on the cluster
    assert (tmp_path / "lake-cache" / "local").is_dir()  # the lab's outputs beside the bucket's lake, not in it
    (in_bucket,) = open_registry(f"{bucket}/artifacts", cache_dir=tmp_path / "artifacts").list_manifests().manifests
    assert _payload_digests(in_bucket) == _payload_digests(on_disk)
    assert in_bucket.performance_oos == on_disk.performance_oos


@pytest.mark.slow
def test_every_check_evaluation_is_recorded_for_the_spec_partition(chain) -> None:  # type: ignore[no-untyped-def]
    result, _, _, _, instance = chain
    assert {e.partition for e in result.get_asset_check_evaluations()} == {SPEC_ID}
    for check in CHECKS:
        for key in check.check_keys:
            (record,) = instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
            assert record.partition == SPEC_ID, key
            evaluation = record.event.dagster_event.event_specific_data  # the stored evaluation event
            assert evaluation.partition == SPEC_ID, key
            assert evaluation.passed or evaluation.severity == dg.AssetCheckSeverity.WARN, key  # verdicts may warn


@pytest.mark.slow
def test_the_leakage_check_fails_on_a_planted_leak(chain) -> None:  # type: ignore[no-untyped-def]
    _, lake, _, _, _ = chain
    dataset = read_output(lake, SPEC_ID, "dataset", DatasetOutput)
    samples, events, split = dataset.samples(), dataset.events(), dataset.split()
    assert leakage_problems(samples, events, split) == []
    leaked = samples.copy()
    test_row = leaked.index[leaked["part"] == "test"][0]
    leaked.loc[test_row, "part"] = "train"
    assert any("training sample" in p for p in leakage_problems(leaked, events, split))
    peeked = samples.copy()
    peeked.loc[peeked.index[0], "step_ns"] = peeked.loc[peeked.index[0], "ts_ns"] + 1_000_000_000
    assert any("after their sample time" in p for p in leakage_problems(peeked, events, split))


@pytest.mark.slow
def test_the_artifact_check_fails_on_a_tampered_snapshot(chain, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, lake, specs, artifacts, _ = chain
    spec = specs.spec(SPEC_ID)
    artifact_id = read_output(lake, SPEC_ID, "export", ExportOutput).artifact_id
    store = tmp_path / "artifacts"
    shutil.copytree(artifacts.path(), store)
    assert artifact_problems(store, artifact_id, spec) == []
    (snapshot,) = (store / "feature_specs_snapshot").glob("*.yaml")
    document = yaml.safe_load(snapshot.read_text())
    window = next(w for w in document["feature_spec"]["windows"] if w["name"] == "w15m")
    window["length"] = "16m"  # a different definition under the same id
    snapshot.write_text(yaml.safe_dump(document, sort_keys=False))
    (problem,) = artifact_problems(store, artifact_id, spec)
    assert "schema hash" in problem


@pytest.mark.slow
def test_the_parity_check_compares_onnx_with_the_native_models(chain, trained_models) -> None:  # type: ignore[no-untyped-def]
    _, lake, specs, _, _ = chain
    spec = specs.spec(SPEC_ID)
    distill = read_output(lake, SPEC_ID, "distill", DistillOutput)
    staging, candidate = distill.candidate_store(), distill.candidate_id
    samples = read_output(lake, SPEC_ID, "dataset", DatasetOutput).samples()
    rows = samples[samples["part"] == "test"][feature_names(spec)].to_numpy(np.float64)[:500]  # held out of every fit
    scorer, cluster_model = read_output(lake, SPEC_ID, "validation", ValidationOutput).scorer(), distill.cluster_model()
    problems, figures = parity_problems(staging, candidate, spec, scorer, cluster_model, rows)
    assert problems == [] and figures["scorer_max_abs_diff"] <= figures["tolerance"]
    other = scorer.__class__(**{**scorer.get_params(), "n_estimators": 5}).fit(rows, np.arange(len(rows)) % 2)
    problems, _ = parity_problems(staging, candidate, spec, other, cluster_model, rows)
    assert problems and "differ from LightGBM" in problems[0]


def test_the_nightly_schedule_requests_one_tagged_run_per_spec_partition() -> None:
    specs = SpecCatalogResource(directory=str(PROJECT / "feature_specs"), runs_directory=str(PROJECT / "run_configs"))
    with dg.instance_for_test() as instance:
        added = sync_spec_partitions(instance, specs)
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=_night(), resources={"specs": specs}
        )
        requests = list(nightly_retrain(context))
    assert sorted(r.partition_key for r in requests) == sorted(added) == sorted(specs.paths())
    assert len({r.run_key for r in requests}) == len(requests)
    for request in requests:
        spec_id = request.partition_key
        assert request.tags["sigma9/spec_id"] == spec_id
        assert request.tags["sigma9/schema_hash"] == schema_hash(specs.spec(spec_id))
        assert request.tags["sigma9/run_config_id"] == specs.run_config(spec_id).id
        assert len(request.tags["sigma9/git_commit"]) in (40, len("unknown"))
    assert "sigma9 lab schedule on" in (nightly_retrain.description or "")


def _night():  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime(2026, 1, 17, 2, 0, tzinfo=dt.UTC)


def test_the_manifest_body_follows_the_contract_without_a_payload() -> None:
    from sigma9_dag.lab.manifest import manifest_body, min_bar_history
    from sigma9_runtime.contracts import load_backtest_run_config, load_feature_spec
    from sigma9_runtime.contracts.artifact_manifest import Thresholds

    spec = load_feature_spec(PROJECT / "feature_specs" / f"{SPEC_ID}.yaml")
    run = load_backtest_run_config(PROJECT / "run_configs" / "RUN_2026-01-16_002.yaml")
    split = {
        "parts": {
            "train": ["2025-01-02", "2025-02-01"],
            "validation": ["2025-02-03", "2025-02-20"],
            "test": ["2025-02-24", "2025-03-20"],
        },
        "settings": {"anchor": 0.1, "pre_window_min": [-30, -5], "negatives": ["hard_negative"], "negative_ratio": 5},
    }
    metrics = {"precision_at_budget": 0.2, "median_lead_time_min": 8.0, "tail_loss_p95": -0.05, "utility_score": 0.1}
    body = manifest_body(
        artifact_id="ART_x",
        spec=spec,
        run=run,
        split=split,
        universe="lake",
        thresholds=Thresholds(global_score_min=0.5),
        performance={"metrics": metrics, "baselines": {"random_budget_matched": metrics}},
    )
    assert body["performance_oos"]["split"] == {
        "train_end": "2025-02-20",
        "test_start": "2025-02-24",
        "test_end": "2025-03-20",
    }
    assert body["compatibility"]["required_streams"] == ["T.*", "A.*", "AM.*"]
    assert min_bar_history(spec) == {"bar_1s": "300s", "bar_1m": "30m", "daily": "60d"}
    # With any payload, the body is a valid ArtifactManifest (every field the lab writes passes the contract).
    from sigma9_runtime.contracts.artifact_manifest import ArtifactManifest
    from sigma9_runtime.contracts.io import parse_contract
    from sigma9_runtime.schema_hash import schema_hash
    from tests.stubs import artifact_manifest_document

    payload = artifact_manifest_document()["artifact_manifest"]["payload"]  # publishing adds these two
    ref = {"id": spec.id, "schema_hash": schema_hash(spec), "snapshot_path": f"feature_specs_snapshot/{spec.id}.yaml"}
    document = json.loads(json.dumps({"artifact_manifest": {**body, "payload": payload, "feature_spec_ref": ref}}))
    manifest = parse_contract(ArtifactManifest, document)
    assert manifest.id == "ART_x" and manifest.model.thresholds.global_score_min == 0.5
    assert manifest.performance_oos.metrics.precision_at_budget == 0.2
