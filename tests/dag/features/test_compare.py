"""The value comparison shared by `sigma9 features parity` and `sigma9 features consistency`."""

import math

import numpy as np

from sigma9_dag.features.compare import mismatches


def test_values_match_bit_for_bit_or_within_a_tolerance_and_nan_matches_nan() -> None:
    online = np.array([1.0, np.nan, 2.0, 3.0])
    offline = np.array([1.0, np.nan, 2.0 + 1e-12, 3.5])
    bad, largest = mismatches(online, offline)
    assert bad.tolist() == [False, False, True, True] and largest == 0.5
    bad, largest = mismatches(online, offline, tolerance=1e-9)
    assert bad.tolist() == [False, False, False, True] and largest == 0.5
    assert mismatches(online, online)[1] == 0.0


def test_a_number_against_nan_is_an_infinite_difference() -> None:
    bad, largest = mismatches(np.array([[1.0, np.nan]]), np.array([[np.nan, np.nan]]))
    assert bad.tolist() == [[True, False]] and math.isinf(largest)
