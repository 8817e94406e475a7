"""Feature names and order: the model's input contract, derived from the FeatureSpec alone.

The order is the spec's feature order; with ``missing.policy: keep_nan_and_flag`` each feature is
followed, after all features, by its missing flag ``<key>:missing`` (1.0 when the value is NaN).
The schema hash covers every input of this function, so equal hashes mean equal names.
"""

from __future__ import annotations

from sigma9_runtime.contracts.feature_spec import FeatureSpec

MISSING_SUFFIX = ":missing"


def value_names(spec: FeatureSpec) -> list[str]:
    """The feature keys in spec order."""
    return [feature.key for feature in spec.features]


def flag_names(spec: FeatureSpec) -> list[str]:
    """Missing-flag columns (empty unless the policy is ``keep_nan_and_flag``)."""
    if spec.normalization.missing.policy != "keep_nan_and_flag":
        return []
    return [key + MISSING_SUFFIX for key in value_names(spec)]


def feature_names(spec: FeatureSpec) -> list[str]:
    """Every column of the feature vector, in order: values, then missing flags.

    Examples
    --------
    >>> feature_names(spec)[:2]  # doctest: +SKIP
    ['intensity.trade_count_z', 'intensity.volume_rvol_tod']
    """
    return value_names(spec) + flag_names(spec)
