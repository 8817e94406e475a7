import math

import numpy as np
import pytest

from sigma9_runtime.contracts.model_descriptor import LinearSurrogate, SurrogateFit
from sigma9_runtime.inference import Contribution, LinearExplainer

SURROGATE = LinearSurrogate(
    top_k=2,
    intercept=-1.0,
    coefficients=[2.0, -1.0, 0.5, 0.0],
    centers=[1.0, 0.0, 10.0, 3.0],
    fit=SurrogateFit(rows=10, r2=0.9, l2=0.0),
)
EXPLAINER = LinearExplainer(SURROGATE, ["a", "b", "c", "d"])


def test_contribution_is_coefficient_times_distance_from_center() -> None:
    contributions = EXPLAINER.contributions(np.array([[2.0, 3.0, 12.0, 100.0]]))
    np.testing.assert_array_equal(contributions, [[2.0, -3.0, 1.0, 0.0]])
    assert EXPLAINER.surrogate_logit(np.array([[2.0, 3.0, 12.0, 100.0]]))[0] == pytest.approx(-1.0)


def test_top_k_orders_by_absolute_contribution() -> None:
    (top,) = EXPLAINER.top_k(np.array([[2.0, 3.0, 12.0, 3.0]]), 3)
    assert top == (Contribution("b", -3.0), Contribution("a", 2.0), Contribution("c", 1.0))


def test_a_nan_value_contributes_zero_and_zeros_are_left_out() -> None:
    (top,) = EXPLAINER.top_k(np.array([[np.nan, 1.0, np.nan, 9.0]]), 4)
    assert top == (Contribution("b", -1.0),)


def test_ties_keep_feature_order_and_k_caps_the_list() -> None:
    (top,) = EXPLAINER.top_k(np.array([[1.5, -1.0, 12.0, 0.0]]), 2)  # a: 1.0, b: 1.0, c: 1.0
    assert [c.feature for c in top] == ["a", "b"]
    assert len(EXPLAINER.top_k(np.zeros((3, 4)), 10)) == 3


def test_an_infinite_value_on_a_zero_coefficient_contributes_zero() -> None:
    contributions = EXPLAINER.contributions(np.array([[1.0, 0.0, 10.0, math.inf]]))
    np.testing.assert_array_equal(contributions, [[0.0, 0.0, 0.0, 0.0]])


def test_explainer_refuses_a_surrogate_of_another_width() -> None:
    with pytest.raises(ValueError, match="4 coefficients for 3 features"):
        LinearExplainer(SURROGATE, ["a", "b", "c"])
