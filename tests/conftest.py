"""Test-wide settings: nothing a test runs writes into the checkout."""

import tempfile

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="sigma9-hypothesis-"))
settings.register_profile("sigma9", database=None, deadline=None)
settings.load_profile("sigma9")


@pytest.fixture(scope="session")
def synthetic_lake(tmp_path_factory: pytest.TempPathFactory):
    """A small synthetic market shared by the session (10 tickers x 24 days, warm-up 8 days); read-only."""
    from sigma9_dag.lake.synth import generate_synthetic_lake
    from sigma9_runtime.lake.layout import LakeLayout

    root = tmp_path_factory.mktemp("synthetic-lake")
    generate_synthetic_lake(root, tickers=10, days=24, seed=11, history_days=30, workers=2)
    return LakeLayout(root)
