"""Time-of-day baselines: one symbol's minute rows reused over many days give what a fresh computation gives."""

import datetime as dt

import numpy as np
import pytest

from sigma9_runtime.calendar import local_to_ns, trading_days
from sigma9_runtime.features.baselines import BaselineKey, MinuteBars, tod_baseline
from sigma9_runtime.units import NANOS_PER_MINUTE


def _bars(days: list[dt.date], seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Random 1-minute bars (sorted starts) on most of ``days``, some days without any."""
    rng = np.random.default_rng(seed)
    starts = []
    for day in days:
        if rng.random() < 0.15:
            continue  # a day without data: not a baseline day
        minutes = np.sort(rng.choice(np.arange(240, 1200), size=int(rng.integers(5, 300)), replace=False))
        starts.append(local_to_ns(day, dt.time(0, 0)) + minutes * NANOS_PER_MINUTE)
    ts = np.concatenate(starts).astype(np.int64)
    return ts, {"transactions": rng.integers(0, 50, ts.size).astype(np.float64), "volume": rng.gamma(2, 300, ts.size)}


@pytest.mark.parametrize("seed", [0, 1])
def test_minute_rows_reused_over_many_days_equal_a_fresh_baseline_per_day(seed: int) -> None:
    days = trading_days(dt.date(2025, 1, 2), dt.date(2025, 3, 31))
    ts, columns = _bars(days, seed)
    bars = MinuteBars(ts, columns)  # one index for every day, as a batch over a ticker's days holds it
    keys = [
        BaselineKey("transactions", 20, "mean_std"),
        BaselineKey("volume", 10, "median"),
        BaselineKey("volume", 5, "mean"),
    ]
    defined = 0
    for day in days[3:]:
        for key in keys:
            reused = bars.baseline(day, key)
            fresh = tod_baseline(ts, columns[key.series], day, key)
            assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(reused, fresh, strict=True)), (day, key)
            defined += int(np.isfinite(reused[0]).any())
    assert defined > 100  # most days have enough history for a defined baseline
