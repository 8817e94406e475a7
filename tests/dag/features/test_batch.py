"""The dataset's per-ticker tasks as they travel to a worker."""

import datetime as dt
import pickle

import numpy as np

from sigma9_dag.features.batch import _pack_steps, _TickerTask
from sigma9_runtime.contracts.io import load_feature_spec
from tests.stubs import SHIPPED_FEATURE_SPEC


def test_a_task_travels_with_its_regular_steps_as_a_rule_and_arrives_with_the_same_steps() -> None:
    day = dt.date(2025, 1, 2)
    regular = 1_735_826_400_000_000_000 + 60_000_000_000 * np.arange(960, dtype=np.int64)
    scattered = np.sort(np.r_[regular[::7], regular[3] + 1_000_000_000, regular[-1] + 3])
    short = regular[:2].copy()
    steps = ((day, regular), (day + dt.timedelta(days=1), scattered), (day + dt.timedelta(days=2), short))
    task = _TickerTask("lake", load_feature_spec(SHIPPED_FEATURE_SPEC), "ABC", steps, (day,))
    data = pickle.dumps(task)
    assert len(pickle.dumps(_pack_steps(regular))) < 100  # a regular grid travels as a rule
    assert len(pickle.dumps(_pack_steps(scattered))) < scattered.nbytes / 2  # others as compressed differences
    back = pickle.loads(data)
    assert (back.lake, back.spec, back.ticker, back.stats_days) == (task.lake, task.spec, task.ticker, task.stats_days)
    for (day_a, a), (day_b, b) in zip(task.steps, back.steps, strict=True):
        assert day_a == day_b and a.dtype == b.dtype == np.int64 and np.array_equal(a, b)
