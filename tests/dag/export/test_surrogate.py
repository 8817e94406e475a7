import numpy as np
import pytest

from sigma9_dag.export import fit_linear_surrogate, scorer_logit
from sigma9_runtime.inference import LinearExplainer


def test_surrogate_recovers_an_exactly_linear_logit_and_centers_are_finite_means() -> None:
    rng = np.random.default_rng(3)
    rows = rng.normal(loc=[1.0, -2.0, 5.0], scale=[1.0, 3.0, 0.5], size=(1000, 3))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    surrogate = fit_linear_surrogate(rows, _filled_logit(rows), l2=0.0)
    np.testing.assert_allclose(surrogate.centers, np.nanmean(rows, axis=0), rtol=1e-12)
    np.testing.assert_allclose(surrogate.coefficients, [2.0, -0.25, 4.0], rtol=1e-9)
    assert surrogate.intercept == pytest.approx(_filled_logit(np.nanmean(rows, axis=0)[None, :])[0])  # logit at centers
    assert surrogate.fit.r2 == pytest.approx(1.0)
    assert surrogate.fit.rows == 1000


def _filled_logit(rows: np.ndarray) -> np.ndarray:
    """The exactly linear logit where a NaN value counts as its column's mean (the surrogate's own convention)."""
    filled = np.where(np.isnan(rows), np.nanmean(rows, axis=0), rows)
    return 0.5 + 2.0 * filled[:, 0] - 0.25 * filled[:, 1] + 4.0 * filled[:, 2]


def test_surrogate_intercept_plus_contributions_reproduces_its_fitted_logit() -> None:
    rng = np.random.default_rng(4)
    rows = rng.normal(size=(500, 4))
    rows[rng.random(rows.shape) < 0.2] = np.nan
    surrogate = fit_linear_surrogate(rows, np.tanh(np.nan_to_num(rows[:, 0])) + np.nan_to_num(rows[:, 2]) ** 2)
    explainer = LinearExplainer(surrogate, ["a", "b", "c", "d"])
    deviation = np.where(np.isnan(rows), 0.0, rows - np.asarray(surrogate.centers))
    expected = surrogate.intercept + deviation @ np.asarray(surrogate.coefficients)
    np.testing.assert_allclose(explainer.surrogate_logit(rows), expected, rtol=1e-12)


def test_surrogate_of_the_scorer_explains_most_of_its_logit(trained_models) -> None:
    scorer, _, rows = trained_models
    logit = scorer_logit(scorer, rows)
    np.testing.assert_allclose(1 / (1 + np.exp(-logit)), scorer.predict_proba(rows)[:, 1], atol=1e-12)
    assert fit_linear_surrogate(rows, logit).fit.r2 > 0.5


def test_a_constant_or_all_nan_column_gets_a_zero_coefficient() -> None:
    rng = np.random.default_rng(5)
    rows = np.column_stack([rng.normal(size=200), np.full(200, 7.0), np.full(200, np.nan)])
    surrogate = fit_linear_surrogate(rows, 3.0 * rows[:, 0])
    assert surrogate.coefficients[1:] == [0.0, 0.0]
    assert surrogate.centers[1:] == [7.0, 0.0]


def test_surrogate_refuses_mismatched_or_non_finite_targets() -> None:
    with pytest.raises(ValueError, match="need rows"):
        fit_linear_surrogate(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="non-finite"):
        fit_linear_surrogate(np.zeros((2, 2)), np.array([0.0, np.inf]))
