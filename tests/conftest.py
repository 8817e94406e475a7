"""Test-wide settings: nothing a test runs writes into the checkout."""

import os
import tempfile

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="sigma9-hypothesis-"))
settings.register_profile("sigma9", database=None, deadline=None)
settings.load_profile("sigma9")
# a lab run's experiment history (MLflow) goes to a temporary store, never to the checkout's mlflow/
os.environ["SIGMA9_MLFLOW_URI"] = f"sqlite:///{tempfile.mkdtemp(prefix='sigma9-mlflow-')}/mlflow.db"


@pytest.fixture(scope="session")
def synthetic_lake(tmp_path_factory: pytest.TempPathFactory):
    """A small synthetic market shared by the session (10 tickers x 24 days, warm-up 8 days); read-only."""
    from sigma9_dag.lake.synth import generate_synthetic_lake
    from sigma9_runtime.lake.layout import LakeLayout

    root = tmp_path_factory.mktemp("synthetic-lake")
    generate_synthetic_lake(root, tickers=10, days=24, seed=11, history_days=30, workers=2)
    return LakeLayout(root)


@pytest.fixture(scope="session")
def minute_lake(synthetic_lake, tmp_path_factory: pytest.TempPathFactory):
    """The session's synthetic lake without trades and 1-second bars: daily + 1-minute bars only, as a user
    with Massive's minute and day aggregates holds (ground truth kept for comparison); read-only."""
    import os
    import shutil

    from sigma9_runtime.lake.layout import LakeLayout

    root = tmp_path_factory.mktemp("minute-lake") / "lake"
    shutil.copytree(
        synthetic_lake.root,
        root,
        ignore=shutil.ignore_patterns("trades", "1s", "derived", "experiments"),
        copy_function=os.link,
    )
    return LakeLayout(root)


@pytest.fixture(scope="session")
def trained_models():
    """(scorer, cluster_model, rows): a tiny LightGBM scorer and cluster pipeline fitted once per session."""
    from tests.stubs import train_models

    return train_models()


@pytest.fixture(scope="session")
def exported_payload(trained_models):
    """The payload files (ONNX + model.json) of the session's models, built once."""
    from sigma9_dag.export import build_payload
    from sigma9_runtime.contracts import load_feature_spec
    from sigma9_runtime.features.names import feature_names
    from tests.stubs import SHIPPED_FEATURE_SPEC

    scorer, cluster_model, rows = trained_models
    names = feature_names(load_feature_spec(SHIPPED_FEATURE_SPEC))
    return build_payload(scorer, names, rows, cluster_model=cluster_model)


@pytest.fixture
def artifact_store(tmp_path, exported_payload):
    """An artifact store in ``tmp_path`` holding one published artifact (``tests.stubs.ARTIFACT_ID``)."""
    from sigma9_dag.export import publish_artifact
    from tests.stubs import SHIPPED_FEATURE_SPEC, artifact_manifest_body

    root = tmp_path / "artifacts"
    publish_artifact(root, artifact_manifest_body(), exported_payload.files, SHIPPED_FEATURE_SPEC)
    return root


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 protocol server (moto in server mode) on 127.0.0.1, started here and stopped by its PID;
    yields its endpoint URL. Tests point the AWS SDK at it with :func:`tests.stubs.use_s3`."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the S3 server did not start on 127.0.0.1:{port}") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
