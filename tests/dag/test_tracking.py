"""The experiment history's record: finite numbers only, and where a logged run is seen."""

import math
from pathlib import Path

from sigma9_dag.tracking import LabRunRecord, LoggedRun, log_lab_run


def test_only_numbers_are_metrics_and_an_infinite_ratio_is_kept_plottable() -> None:
    record = LabRunRecord("r", {}, {})
    record.add_metrics("oos.model", {"precision": 0.3, "lead": None, "nan": math.nan, "hit": True, "name": "x"})
    record.add_metrics("ratio", {"random": math.inf, "events": 12})
    assert record.metrics == {"oos.model.precision": 0.3, "ratio.random": 1e9, "ratio.events": 12.0}


def test_a_run_is_seen_in_make_mlflow_ui_or_on_its_tracking_server() -> None:
    assert LoggedRun("sqlite:////x/mlflow.db", "1", "abc").ui_url == "http://127.0.0.1:5000/#/experiments/1/runs/abc"
    assert LoggedRun("http://mlflow:5000/", "3", "d").ui_url == "http://mlflow:5000/#/experiments/3/runs/d"


def test_runs_of_one_experiment_are_logged_side_by_side_with_their_artifacts(tmp_path: Path) -> None:
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path}/store/mlflow.db"  # its directory is made; artifacts go beside it
    plot = tmp_path / "plots.png"
    plot.write_bytes(b"\x89PNG")
    first = LabRunRecord("FS_a ART_1", {"sigma9/spec_id": "FS_a"}, {"spec_id": "FS_a"}, {"oos.model.precision": 0.2})
    first.artifacts = [plot, tmp_path / "missing.md"]  # a file the stage did not write is skipped
    second = LabRunRecord("FS_a ART_2", {"sigma9/spec_id": "FS_a"}, {"spec_id": "FS_a"}, {"oos.model.precision": 0.3})
    logged = [log_lab_run(first, uri), log_lab_run(second, uri)]
    assert logged[0].experiment_id == logged[1].experiment_id
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([logged[0].experiment_id], order_by=["attributes.start_time ASC"])
    assert [r.data.metrics["oos.model.precision"] for r in runs] == [0.2, 0.3]
    assert [a.path for a in client.list_artifacts(logged[0].run_id)] == ["plots.png"]
    assert (tmp_path / "store" / "artifacts").is_dir()
