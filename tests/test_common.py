"""scikit-learn's estimator checks over every public estimator, with a reason for each
expected failure."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skgal import (AlignToMajorAxis, CCDNoise, CorrelatedGaussianNoise, GaussianSNRNoise, ProjectionSelector,
                   RandomDihedral, SersicGalaxySimulator, ToMagnitudes)

from skgal.experiments import PriorBaseline  # noqa: E402

pytest.importorskip("tensorflow")
from skgal import ProbabilisticQRegressor  # noqa: E402

# The simulator's input is a table of physical parameters: 4 to 6 named columns
# (I_e, R_e, n, q[, inclination[, position_angle]]) with I_e, R_e, n > 0 and
# 0 < q <= 1. These checks feed tables of 1, 2, 3 or 10 columns of arbitrary numbers
# (negative radii, q > 1), which it rejects with a ValueError that names the column,
# by design. Every other check passes.
_NOT_GALAXIES = ("feeds a table that is not galaxy parameters (1, 2, 3 or 10 columns, "
                 "negative or > 1 values); the simulator rejects it by design")
SIMULATOR_XFAIL = dict.fromkeys([
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
], _NOT_GALAXIES)


# The selector's input is image stacks (n, H, W, C) with one channel per inclination;
# these checks feed 2-D tables, which it rejects by design.
_NOT_IMAGES = "feeds a 2-D table; the selector takes image stacks (n, H, W, C) by design"
SELECTOR_XFAIL = dict.fromkeys([
    "check_fit_score_takes_y", "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
    "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_dtype_object",
    "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_transformer_data_not_an_array",
    "check_transformer_general", "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
    "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
    "check_fit2d_predict1d",
], _NOT_IMAGES)

# The regressor: two checks, both inherent (the issue allows at most four).
REGRESSOR_XFAIL = {
    "check_estimator_tags_renamed": (
        "scikeras 0.13's BaseWrapper defines the pre-1.6 _more_tags (scikeras #332); this "
        "check walks the MRO, so no subclass can pass it. Ours defines __sklearn_tags__."),
    "check_sample_weight_equivalence_on_dense_data": (
        "minibatch SGD: weighting a sample is not the same training trajectory as repeating "
        "it, so the fitted networks differ"),
}


# The observation steps (noise, photometry, the augmentation, the alignment) pass every check that applies: their tags
# say they take image stacks, so scikit-learn skips the 2-D-table checks. So do the
# likelihood fit and the moments inversion (tests/test_likelihood.py and
# tests/test_benchmark.py test them directly). The prior baseline, like scikit-learn's
# DummyRegressor, counts its input's rows and passes every check.


def _expected_failed_checks(estimator):
    if isinstance(estimator, SersicGalaxySimulator):
        return SIMULATOR_XFAIL
    if isinstance(estimator, ProjectionSelector):
        return SELECTOR_XFAIL
    if isinstance(estimator, ProbabilisticQRegressor):
        return REGRESSOR_XFAIL
    return {}


@parametrize_with_checks([SersicGalaxySimulator(image_size=8, pixel_scale=8.0),
                          PriorBaseline(),
                          ProjectionSelector(),
                          CCDNoise(random_state=0), GaussianSNRNoise(random_state=0),
                          CorrelatedGaussianNoise(correlation=[[0.0, 0.3, 0.0],
                                                               [0.3, 1.0, 0.3],
                                                               [0.0, 0.3, 0.0]],
                                                  random_state=0),
                          ToMagnitudes(), RandomDihedral(random_state=0), AlignToMajorAxis(),
                          ProbabilisticQRegressor(epochs=2, batch_size=16, dense_units=8,
                                                  random_state=0)],
                         expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
