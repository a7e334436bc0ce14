"""Proper scores for Gaussian predictions of ``q``: likelihood, CRPS, coverage, PIT.

The thesis ranks its networks by the test negative log-likelihood (its Table 1), and
so does :data:`nll_scorer`. Every function takes the true values and the predicted
means and standard deviations, as returned by
``ProbabilisticQRegressor.predict(X, return_std=True)``.
"""

import numpy as np
from scipy.stats import norm


def _check(y_true, mean, std):
    y_true = np.asarray(y_true, dtype=float).reshape(-1)
    mean = np.asarray(mean, dtype=float).reshape(-1)
    std = np.asarray(std, dtype=float).reshape(-1)
    if not (y_true.shape == mean.shape == std.shape):
        raise ValueError(f"y_true, mean and std must have one length; got {y_true.shape[0]}, "
                         f"{mean.shape[0]} and {std.shape[0]}")
    if y_true.size == 0:
        raise ValueError("y_true is empty")
    for name, values in (("y_true", y_true), ("mean", mean), ("std", std)):
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be finite")
    if np.any(std <= 0):
        raise ValueError("std must be > 0")
    return y_true, mean, std


def gaussian_nll(y_true, mean, std):
    """Mean negative log-likelihood of ``y_true`` under Normal(mean, std): the thesis's loss.

    Examples
    --------
    >>> from skgal.metrics import gaussian_nll
    >>> round(gaussian_nll([0.0], [0.0], [1.0]), 4)  # log(2 pi) / 2
    0.9189
    """
    y_true, mean, std = _check(y_true, mean, std)
    z = (y_true - mean) / std
    return float(np.mean(0.5 * z ** 2 + np.log(std) + 0.5 * np.log(2 * np.pi)))


def crps_gaussian(y_true, mean, std):
    """Mean continuous ranked probability score of Normal(mean, std) (lower is better).

    Closed form (Gneiting & Raftery 2007):
    ``std * (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi))`` with ``z = (y - mean) / std``.
    In the units of ``q``; it reduces to the absolute error as ``std -> 0``.
    """
    y_true, mean, std = _check(y_true, mean, std)
    z = (y_true - mean) / std
    crps = std * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    return float(np.mean(crps))


def interval_coverage(y_true, mean, std, coverage=0.68):
    """Fraction of ``y_true`` inside the central ``coverage`` interval of each prediction.

    A calibrated model gives about ``coverage``; more means too wide (under-confident).
    """
    y_true, mean, std = _check(y_true, mean, std)
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1); got {coverage!r}")
    half = norm.ppf(0.5 + coverage / 2) * std
    return float(np.mean(np.abs(y_true - mean) <= half))


def pit_values(y_true, mean, std):
    """Probability integral transform, ``Phi((y - mean) / std)``: uniform when calibrated."""
    y_true, mean, std = _check(y_true, mean, std)
    return norm.cdf((y_true - mean) / std)


def regression_report(y_true, mean, std):
    """Every score of one set of predictions, as a dict.

    Keys: ``nll``, ``rmse``, ``bias`` (mean of mean - y), ``crps``, ``coverage_68``,
    ``coverage_95`` and ``n``.
    """
    y_true, mean, std = _check(y_true, mean, std)
    return {
        "nll": gaussian_nll(y_true, mean, std),
        "rmse": float(np.sqrt(np.mean((mean - y_true) ** 2))),
        "bias": float(np.mean(mean - y_true)),
        "crps": crps_gaussian(y_true, mean, std),
        "coverage_68": interval_coverage(y_true, mean, std, 0.68),
        "coverage_95": interval_coverage(y_true, mean, std, 0.95),
        "n": int(y_true.size),
    }


def scores_by_inclination(y_true, mean, std, inclination):
    """:func:`regression_report` for each inclination (degrees) separately.

    Returns
    -------
    dict
        ``{inclination: report}``, sorted by inclination. Continuous inclinations
        can be binned first (``np.round(i, -1)`` for 10-degree bins, say).
    """
    y_true, mean, std = _check(y_true, mean, std)
    inclination = np.asarray(inclination, dtype=float).reshape(-1)
    if inclination.shape != y_true.shape:
        raise ValueError(f"inclination has {inclination.size} values for {y_true.size} "
                         "predictions")
    return {float(i): regression_report(y_true[inclination == i], mean[inclination == i],
                                        std[inclination == i])
            for i in np.unique(inclination)}


def nll_scorer(estimator, X, y):
    """Scorer for ``GridSearchCV(..., scoring=nll_scorer)``: minus the Gaussian NLL.

    Greater is better, as scikit-learn's scorers require. ``estimator`` (or the last
    step of a pipeline) must support ``predict(X, return_std=True)``.
    """
    mean, std = estimator.predict(X, return_std=True)
    return -gaussian_nll(y, mean, std)
