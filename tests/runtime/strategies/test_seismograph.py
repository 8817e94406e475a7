"""Seismograph heuristic: hand-computed scores, NaN handling, families, explanation."""

import math

import numpy as np
import pytest

from sigma9_runtime.features.names import feature_names
from sigma9_runtime.strategies.seismograph import SeismographParams, explain, family_of, score
from tests.stubs import feature_spec

NAMES = feature_names(feature_spec())
# ['intensity.trade_count_z', 'intensity.volume_rvol_tod', 'path.return_slope',
#  'impact.ret_over_signed_vol', 'vol.range_pct', then five ':missing' flags]


def _row(values: list[float]) -> np.ndarray:
    flags = [1.0 if math.isnan(v) else 0.0 for v in values]
    return np.array(values + flags)


def _logistic(linear: float) -> float:
    return 1.0 / (1.0 + math.exp(-2.0 * (linear - 1.5)))


def test_score_of_a_hand_made_row_matches_the_documented_formula() -> None:
    row = _row([3.0, 1.0, 2.0, -1.0, 0.5])
    linear = 0.45 * (3.0 + 1.0) / 2 + 0.30 * 2.0 + 0.10 * -1.0 + 0.15 * 0.5
    assert score(row, NAMES)[0] == pytest.approx(_logistic(linear))


def test_values_are_clipped_at_four() -> None:
    assert score(_row([40.0, 4.0, 0, 0, 0]), NAMES)[0] == score(_row([4.0, 4.0, 0, 0, 0]), NAMES)[0]


def test_nan_is_skipped_inside_a_family_and_an_all_nan_family_counts_as_zero() -> None:
    half = score(_row([3.0, math.nan, 0.0, 0.0, 0.0]), NAMES)[0]
    assert half == pytest.approx(_logistic(0.45 * 3.0))
    assert score(_row([math.nan] * 5), NAMES)[0] == pytest.approx(_logistic(0.0))


def test_scores_lie_in_zero_one_and_rise_with_intensity() -> None:
    rows = np.array([_row([z, z, 0.0, 0.0, 0.0]) for z in (-10, -2, 0, 1, 2, 3, 10)])
    got = score(rows, NAMES)
    assert ((got >= 0) & (got <= 1)).all()
    assert (np.diff(got) > 0).all()  # -10 and 10 clip to -4 and 4, still below/above their neighbours


def test_missing_flags_and_unknown_families_do_not_move_the_score() -> None:
    names = ["intensity.a", "mystery.b", "intensity.a:missing"]
    base = score([[2.0, 0.0, 0.0]], names)[0]
    assert score([[2.0, 99.0, 1.0]], names)[0] == base


def test_works_for_any_spec_by_family_and_the_vol_alias() -> None:
    names = ["volatility.range", "vol.range_pct", "intensity.x"]
    assert family_of("vol.range_pct") == family_of("volatility.range") == "volatility"
    assert family_of("path.return_slope:missing") is None
    got = score([[2.0, 0.0, 0.0]], names)[0]
    assert got == pytest.approx(_logistic(0.15 * 1.0))


def test_weights_are_parameters() -> None:
    params = SeismographParams(weights={"path": 1.0}, center=0.0, slope=1.0)
    assert score(_row([5.0, 5.0, 1.0, 0.0, 0.0]), NAMES, params)[0] == pytest.approx(1 / (1 + math.exp(-1.0)))


def test_rows_with_the_wrong_width_are_refused_naming_both_counts() -> None:
    with pytest.raises(ValueError, match="3 columns, names list 10"):
        score(np.zeros((2, 3)), NAMES)


def test_explanation_contributions_sum_to_the_linear_term_and_rank_the_cause_first() -> None:
    row = _row([3.0, 1.0, 2.0, math.nan, 0.5])
    why = explain(row, NAMES)
    assert why.score == pytest.approx(score(row, NAMES)[0])
    assert sum(c for _, c in why.contributions) == pytest.approx(why.linear)
    assert why.top(2) == (("intensity.trade_count_z", pytest.approx(0.675)), ("path.return_slope", pytest.approx(0.6)))
    assert dict(why.contributions)["impact.ret_over_signed_vol"] == 0.0
    assert not any(name.endswith(":missing") for name, _ in why.contributions)


def test_a_compiled_heuristic_scores_and_explains_as_the_functions_do_bit_for_bit() -> None:
    from sigma9_runtime.strategies.seismograph import Heuristic

    rng = np.random.default_rng(2)
    rows = rng.normal(scale=3.0, size=(50, len(NAMES)))
    rows[rng.random(rows.shape) < 0.2] = np.nan
    params = SeismographParams(clip=3.0, center=1.0)
    heuristic = Heuristic(NAMES, params)
    for _ in range(2):  # reused: nothing carried over between calls
        assert heuristic.score(rows).tobytes() == score(rows, NAMES, params).tobytes()
        assert heuristic.explain(rows[3]) == explain(rows[3], NAMES, params)


def test_a_rows_score_does_not_depend_on_the_rows_scored_with_it() -> None:
    """Family sums are added in column order row by row (a matrix product's order depends on the batch): one row
    alone, in a pair or in a thousand scores the same bits, so a batch scored ahead equals a step's rows."""
    names = feature_names(feature_spec())
    rng = np.random.default_rng(4)
    rows = rng.normal(scale=3.0, size=(1000, len(names)))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    together = score(rows, names)
    for size in (1, 2, 3, 7):
        apart = np.concatenate([score(rows[i : i + size], names) for i in range(0, 994, size)])
        assert np.array_equal(apart, together[: apart.size])
