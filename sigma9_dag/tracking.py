"""The lab's experiment history in MLflow: one MLflow run per lab run, to compare retrains and specs side by side.

Each lab run of a FeatureSpec logs, to the experiment ``sigma9-lab``:

* **tags**: the lab run's ``sigma9/*`` tags (spec id, schema hash, run-config id, git commit, artifact id) and the
  Dagster run id;
* **params**: spec id and schema hash, run-config id, the strategy's ``ml_weight``, the tuned thresholds and how
  they were tuned (metric, folds), every stage's seed;
* **metrics**: every out-of-sample metric of the model and both baselines (``oos.<stream>.<metric>``) and the
  model / baseline ratios, the scorer's AUCs, discovery's ARI and noise share, the backtest's metrics
  (``backtest.<stream>.<metric>``);
* **artifacts**: the published manifest, the validation and discovery plots, the backtest's plots and
  ``rules.md``.

The store is MLflow's own: by default a SQLite file under the working directory (``mlflow/mlflow.db``, its
artifacts beside it), nothing to start; ``$SIGMA9_MLFLOW_URI`` (or the resource's ``tracking_uri``) names
another, such as a shared tracking server (``http://mlflow.internal:5000``). ``make mlflow-ui`` serves it.
Only the lab logs: the runtime never imports MLflow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPERIMENT = "sigma9-lab"
DEFAULT_DIRECTORY = Path("mlflow")
"""The embedded store's directory, relative to the working directory: ``mlflow.db`` and ``artifacts/``."""


def default_tracking_uri(directory: Path = DEFAULT_DIRECTORY) -> str:
    """The embedded SQLite store under ``directory`` (made absolute, created when missing)."""
    root = directory.resolve()
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}"


@dataclass
class LabRunRecord:
    """What one lab run logs."""

    name: str
    tags: dict[str, str]
    params: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: list[Path] = field(default_factory=list)

    def add_metrics(self, prefix: str, values: Mapping[str, Any]) -> None:
        """Every finite number of ``values`` as ``<prefix>.<name>`` (None and NaN are left out; an infinite ratio
        is logged as a large finite number MLflow can store and plot)."""
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                continue
            self.metrics[f"{prefix}.{name}"] = min(float(value), 1e9)


EMBEDDED_UI = "http://127.0.0.1:5000"
"""Where ``make mlflow-ui`` serves the embedded store."""


@dataclass(frozen=True)
class LoggedRun:
    """Where a lab run was logged."""

    tracking_uri: str
    experiment_id: str
    run_id: str

    @property
    def ui_url(self) -> str:
        """The run's page in the MLflow UI: the tracking server's, or ``make mlflow-ui``'s for a SQLite store."""
        base = self.tracking_uri.rstrip("/") if self.tracking_uri.startswith(("http://", "https://")) else EMBEDDED_UI
        return f"{base}/#/experiments/{self.experiment_id}/runs/{self.run_id}"


def log_lab_run(record: LabRunRecord, tracking_uri: str, experiment: str = EXPERIMENT) -> LoggedRun:
    """Log ``record`` as one finished MLflow run in ``experiment`` (created with its artifacts beside an embedded
    store)."""
    from mlflow import MlflowClient

    if tracking_uri.startswith("sqlite:///"):
        Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        experiment_id = found.experiment_id
    else:
        location = None
        if tracking_uri.startswith("sqlite:///"):
            location = (Path(tracking_uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri()
        experiment_id = client.create_experiment(experiment, artifact_location=location)
    run = client.create_run(experiment_id, run_name=record.name, tags=record.tags)
    run_id = run.info.run_id
    try:
        for key, value in record.params.items():
            client.log_param(run_id, key, value)
        for key, value in record.metrics.items():
            client.log_metric(run_id, key, value)
        for path in record.artifacts:
            if path.is_file():
                client.log_artifact(run_id, str(path))
    except Exception:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id)
    return LoggedRun(tracking_uri, experiment_id, run_id)
