"""scikit-learn's estimator checks over every public estimator, with a reason for each
expected failure."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgal import SersicGalaxySimulator

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


def _expected_failed_checks(estimator):
    if isinstance(estimator, SersicGalaxySimulator):
        return SIMULATOR_XFAIL
    return {}


@parametrize_with_checks([SersicGalaxySimulator(image_size=8, pixel_scale=8.0)],
                         expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
