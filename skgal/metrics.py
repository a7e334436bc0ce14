"""Proper scores for Gaussian predictions of ``q``: likelihood, CRPS, coverage, PIT.

The thesis ranks its networks by the test negative log-likelihood (its Table 1), and
so does :data:`nll_scorer`. Every function takes the true values and the predicted
means and standard deviations, as returned by
``ProbabilisticQRegressor.predict(X, return_std=True)``.
"""

import numpy as np
from scipy.stats import norm

__all__ = [
    "crps_gaussian",
    "gaussian_nll",
    "interval_coverage",
    "nll_scorer",
    "pit_values",
    "regression_report",
    "scores_by_inclination",
]


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

    ``mean(0.5 z**2 + log(std) + 0.5 log(2 pi))`` with ``z = (y - mean) / std``; lower
    is better. Since ``q`` lives in [0.2, 1], a good model has ``std`` well below 1 and so
    a negative NLL (the thesis's best is -2.375).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values of ``q``.
    mean, std : array-like of shape (n_samples,)
        Predicted means and standard deviations (``std > 0``), in the units of ``q``.

    Returns
    -------
    float
        The mean NLL, in nats per galaxy.

    Raises
    ------
    ValueError
        If the arrays differ in length, are empty or not finite, or ``std <= 0``.

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
    In the units of ``q``; it reduces to the absolute error as ``std -> 0``. Unlike the
    NLL it stays finite for over-confident predictions, so one bad galaxy cannot dominate.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values of ``q``.
    mean, std : array-like of shape (n_samples,)
        Predicted means and standard deviations (``std > 0``), in the units of ``q``.

    Returns
    -------
    float
        The mean CRPS, in the units of ``q``.

    Examples
    --------
    >>> from skgal.metrics import crps_gaussian
    >>> round(crps_gaussian([0.5], [0.5], [0.1]), 4)  # std (sqrt(2) - 1) / sqrt(pi)
    0.0234
    >>> round(crps_gaussian([0.5], [0.3], [1e-9]), 4)  # the absolute error
    0.2
    """
    y_true, mean, std = _check(y_true, mean, std)
    z = (y_true - mean) / std
    crps = std * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    return float(np.mean(crps))


def interval_coverage(y_true, mean, std, coverage=0.68):
    """Fraction of ``y_true`` inside the central ``coverage`` interval of each prediction.

    The interval is ``mean +- z std`` with ``z = Phi^-1(0.5 + coverage / 2)`` (1.0 for
    0.68, 1.96 for 0.95). A calibrated model gives about ``coverage``; more means too
    wide (under-confident), less means too narrow (over-confident).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values of ``q``.
    mean, std : array-like of shape (n_samples,)
        Predicted means and standard deviations (``std > 0``), in the units of ``q``.
    coverage : float, default=0.68
        Nominal probability of the central interval, in (0, 1).

    Returns
    -------
    float
        The observed fraction, in [0, 1].

    Examples
    --------
    >>> from skgal.metrics import interval_coverage
    >>> interval_coverage([0.30, 0.50, 0.90], [0.35, 0.50, 0.60], [0.1, 0.1, 0.1])
    0.6666666666666666
    """
    y_true, mean, std = _check(y_true, mean, std)
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1); got {coverage!r}")
    half = norm.ppf(0.5 + coverage / 2) * std
    return float(np.mean(np.abs(y_true - mean) <= half))


def pit_values(y_true, mean, std):
    """Probability integral transform, ``Phi((y - mean) / std)``: uniform when calibrated.

    Their histogram (:func:`skgal.plotting.plot_calibration`) is flat for calibrated
    predictions, peaked in the middle when the ``std`` are too wide and U-shaped when
    they are too narrow.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values of ``q``.
    mean, std : array-like of shape (n_samples,)
        Predicted means and standard deviations (``std > 0``), in the units of ``q``.

    Returns
    -------
    ndarray of shape (n_samples,)
        Values in [0, 1].

    Examples
    --------
    >>> from skgal.metrics import pit_values
    >>> pit_values([0.5, 0.6], [0.5, 0.5], [0.1, 0.1]).round(3)
    array([0.5  , 0.841])
    """
    y_true, mean, std = _check(y_true, mean, std)
    return norm.cdf((y_true - mean) / std)


def regression_report(y_true, mean, std):
    """Every score of one set of predictions, as a dict.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values of ``q``.
    mean, std : array-like of shape (n_samples,)
        Predicted means and standard deviations (``std > 0``), in the units of ``q``.

    Returns
    -------
    dict
        ``nll`` (:func:`gaussian_nll`), ``rmse`` and ``bias`` (mean of ``mean - y``) of the
        means, ``crps`` (:func:`crps_gaussian`), ``mean_std`` (the sharpness: the mean
        predicted standard deviation, which means something only next to the
        coverages), ``coverage_68`` and ``coverage_95`` (:func:`interval_coverage`), and
        ``n``, the number of galaxies.

    Examples
    --------
    >>> from skgal.metrics import regression_report
    >>> report = regression_report([0.3, 0.5, 0.9], [0.35, 0.5, 0.8], [0.05, 0.05, 0.1])
    >>> sorted(report)
    ['bias', 'coverage_68', 'coverage_95', 'crps', 'mean_std', 'n', 'nll', 'rmse']
    >>> round(report["bias"], 4), report["coverage_95"]
    (-0.0167, 1.0)
    """
    y_true, mean, std = _check(y_true, mean, std)
    return {
        "nll": gaussian_nll(y_true, mean, std),
        "rmse": float(np.sqrt(np.mean((mean - y_true) ** 2))),
        "bias": float(np.mean(mean - y_true)),
        "crps": crps_gaussian(y_true, mean, std),
        "mean_std": float(np.mean(std)),
        "coverage_68": interval_coverage(y_true, mean, std, 0.68),
        "coverage_95": interval_coverage(y_true, mean, std, 0.95),
        "n": int(y_true.size),
    }


def scores_by_inclination(y_true, mean, std, inclination):
    """:func:`regression_report` for each inclination (degrees) separately.

    This is how the random-projection method is scored in table 1: one report per
    inclination its galaxies were seen at.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values of ``q``.
    mean, std : array-like of shape (n_samples,)
        Predicted means and standard deviations (``std > 0``), in the units of ``q``.
    inclination : array-like of shape (n_samples,)
        The inclination, in degrees, of the image each prediction was made from (the
        second output of :meth:`skgal.ProjectionSelector.select`).

    Returns
    -------
    dict
        ``{inclination: report}``, sorted by inclination. Continuous inclinations
        can be binned first (``np.round(i, -1)`` for 10-degree bins, say).

    Examples
    --------
    >>> from skgal.metrics import scores_by_inclination
    >>> by_i = scores_by_inclination([0.3, 0.5, 0.9, 0.4], [0.6, 0.6, 0.6, 0.41],
    ...                              [0.3, 0.3, 0.3, 0.02], [0, 0, 0, 90])
    >>> [(i, r["n"], round(r["rmse"], 3)) for i, r in by_i.items()]
    [(0.0, 3, 0.252), (90.0, 1, 0.01)]
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

    Parameters
    ----------
    estimator : fitted estimator
        A :class:`skgal.ProbabilisticQRegressor`, or a pipeline ending in one.
    X : array-like
        Input the estimator predicts from.
    y : array-like of shape (n_samples,)
        True values of ``q``.

    Returns
    -------
    float
        ``-gaussian_nll(y, mean, std)``.

    Examples
    --------
    Any estimator with ``predict(X, return_std=True)`` can be scored; scikit-learn's
    Bayesian ridge is one:

    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from skgal.metrics import nll_scorer
    >>> X = np.linspace(0, 1, 50)[:, None]
    >>> y = 0.2 + 0.8 * X[:, 0]
    >>> nll_scorer(BayesianRidge().fit(X, y), X, y) > 3
    True

    In a search, ``GridSearchCV(pipeline, grid, scoring=nll_scorer)``.
    """
    mean, std = estimator.predict(X, return_std=True)
    return -gaussian_nll(y, mean, std)
