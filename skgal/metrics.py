"""Proper scores and calibration checks for predictive distributions of ``q`` (and more).

The thesis ranks its networks by the test negative log-likelihood (its Table 1), and
so does :data:`nll_scorer`. Two kinds of input:

- any predictive distribution (``ProbabilisticQRegressor.predict_distribution(X)``, a
  :class:`skgal.Normal`, :class:`skgal.NormalMixture` or
  :class:`skgal.MultivariateNormalMixture`): :func:`negative_log_likelihood`,
  :func:`crps`, :func:`coverage`, :func:`pit`, and the calibration checks
  :func:`sbc_ranks`, :func:`uniformity_test`, :func:`hpd_coverage` and
  :func:`tarp_coverage`;
- Gaussian predictions as means and standard deviations (``predict(X,
  return_std=True)``): the closed forms :func:`gaussian_nll`, :func:`crps_gaussian`,
  :func:`interval_coverage` and :func:`pit_values`.

:func:`regression_report` and :func:`scores_by_inclination` take either.
"""

import numbers

import numpy as np
from scipy import stats
from scipy.special import ndtr
from scipy.stats import norm
from sklearn.utils import check_random_state

from ._distributions import Normal, NormalMixture, PredictiveDistribution

__all__ = [
    "coverage",
    "crps",
    "crps_gaussian",
    "gaussian_nll",
    "hpd_coverage",
    "interval_coverage",
    "multi_target_report",
    "negative_log_likelihood",
    "nll_scorer",
    "pit",
    "pit_values",
    "predictive_distribution",
    "regression_report",
    "sbc_ranks",
    "scores_by_inclination",
    "tarp_coverage",
    "uniformity_test",
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


def _distribution(y_true, dist_or_mean, std=None):
    """(y_true, distribution) from a distribution or from Gaussian means and stds."""
    if isinstance(dist_or_mean, PredictiveDistribution):
        if std is not None:
            raise TypeError("give a distribution, or means and standard deviations, not both")
        dist = dist_or_mean
        y_true = np.asarray(y_true, dtype=float)
        if dist.n_targets == 1:
            y_true = y_true.reshape(-1)
        if y_true.shape[0] != len(dist):
            raise ValueError(f"y_true has {y_true.shape[0]} rows for {len(dist)} predictions")
        if y_true.size == 0:
            raise ValueError("y_true is empty")
        if not np.all(np.isfinite(y_true)):
            raise ValueError("y_true must be finite")
        return y_true, dist
    if std is None:
        raise TypeError(f"expected a predictive distribution, or means and standard "
                        f"deviations; got {type(dist_or_mean).__name__} and no std")
    y_true, mean, std = _check(y_true, dist_or_mean, std)
    return y_true, Normal(mean, std)


def _one_target(dist, name):
    if dist.n_targets != 1:
        raise ValueError(f"{name} scores one target; take dist.marginal(j) of a joint "
                         f"distribution of {dist.n_targets}")


def predictive_distribution(estimator, X):
    """The predictive distribution of a fitted estimator or pipeline for ``X``.

    Uses ``predict_distribution`` where the estimator (or a pipeline's last step) has
    it, and otherwise ``predict(X, return_std=True)`` as a :class:`skgal.Normal`, so
    scikit-learn's Bayesian regressors are scored the same way.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline
    X : array-like

    Returns
    -------
    distribution : PredictiveDistribution

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import BayesianRidge
    >>> from skgal.metrics import predictive_distribution
    >>> X = np.linspace(0, 1, 20)[:, None]
    >>> predictive_distribution(BayesianRidge().fit(X, X[:, 0]), X)
    Normal(n=20)
    """
    last = estimator
    if hasattr(estimator, "steps"):  # a Pipeline: transform, then ask the last step
        last = estimator.steps[-1][1]
        if hasattr(last, "predict_distribution"):
            for _, step in estimator.steps[:-1]:
                if step is not None and step != "passthrough":
                    X = step.transform(X)
    if hasattr(last, "predict_distribution"):
        return last.predict_distribution(X)
    mean, std = estimator.predict(X, return_std=True)
    return Normal(mean, std)


def negative_log_likelihood(y_true, dist):
    """Mean negative log-likelihood of ``y_true`` under each prediction (lower is better).

    On the targets' own scale: for a bounded head, the density of ``q`` itself (with
    the Jacobian of its logit), so it compares with the thesis's Gaussian NLL. For a
    joint distribution of several targets, the joint NLL of the rows of ``y_true``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_targets)
        True values.
    dist : PredictiveDistribution
        One prediction per row (``predict_distribution(X)``).

    Returns
    -------
    float
        Nats per galaxy; ``inf`` when a true value has zero density (outside the
        bounds of a bounded head).

    Examples
    --------
    >>> from skgal import Normal
    >>> from skgal.metrics import negative_log_likelihood
    >>> round(negative_log_likelihood([0.0], Normal([0.0], [1.0])), 4)
    0.9189
    """
    y_true, dist = _distribution(y_true, dist)
    return float(np.mean(-dist.logpdf(y_true)))


def _crps_normal_mixture(y, w, loc, scale):
    """Closed-form CRPS of 1-D Gaussian mixtures (Grimit et al. 2006)."""
    def a(mu, var):
        s = np.sqrt(var)
        t = mu / s
        return 2 * s * norm.pdf(t) + mu * (2 * ndtr(t) - 1)

    first = np.sum(w * a(y[:, None] - loc, scale ** 2), axis=1)
    second = np.sum(w[:, :, None] * w[:, None, :]
                    * a(loc[:, :, None] - loc[:, None, :],
                        scale[:, :, None] ** 2 + scale[:, None, :] ** 2), axis=(1, 2))
    return first - 0.5 * second


def _crps_numerical(y, dist, n_nodes=100):
    """CRPS = integral of (F(x) - 1{x >= y})^2 dx by Simpson's rule on each segment.

    The nodes are ``n_nodes`` quantiles of each prediction (dense where F rises fast),
    ``n_nodes`` evenly spaced points of the support, and y itself (where the integrand
    jumps), so every segment is short in x and in F and the integrand is smooth on it.
    """
    levels = (np.arange(n_nodes) + 0.5) / n_nodes
    if getattr(dist, "bounds", None) is not None:
        low, high = dist.bounds
    else:  # unbounded: beyond these, (F or 1 - F)^2 < 1e-14 adds nothing measurable
        low, high = dist.ppf(1e-7), dist.ppf(1 - 1e-7)
    # a quantile recalibration's cdf has kinks at its knots: nodes there keep Simpson's
    # rule on smooth pieces
    kinks = getattr(dist, "knots", (None, np.array([0.0, 1.0])))[1][1:-1]
    nodes = np.column_stack([dist.ppf(p) for p in (*levels, *kinks)] + [y]
                            + [np.broadcast_to(low + (high - low) * t, (len(y),))
                               for t in np.linspace(0, 1, n_nodes)])
    nodes = np.sort(nodes, axis=1)
    left, right = nodes[:, :-1], nodes[:, 1:]
    above = left >= y[:, None]  # the segment lies above the true value: (1 - F)^2

    def integrand(x):
        f = np.column_stack([dist.cdf(x[:, j]) for j in range(x.shape[1])])
        return np.where(above, 1 - f, f) ** 2

    return np.sum((right - left) / 6 * (integrand(left) + 4 * integrand(0.5 * (left + right))
                                        + integrand(right)), axis=1)


def crps(y_true, dist):
    """Mean continuous ranked probability score (lower is better), in the units of ``y``.

    ``integral (F(x) - 1{x >= y})^2 dx``. Closed forms for Gaussians and unbounded
    Gaussian mixtures (Grimit et al. 2006); for any other distribution (bounded
    mixtures, quantile-recalibrated ones), Simpson's rule on nodes at 100 quantiles of
    each prediction and 100 points of its support (between its 1e-7 and 1 - 1e-7
    quantiles where it is unbounded): relative error about 1e-9 in the tests.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values.
    dist : PredictiveDistribution
        One 1-D prediction per row.

    Returns
    -------
    float

    Examples
    --------
    >>> from skgal import NormalMixture
    >>> from skgal.metrics import crps
    >>> round(crps([0.5], NormalMixture([[1.0]], [[0.5]], [[0.1]])), 4)
    0.0234
    """
    y_true, dist = _distribution(y_true, dist)
    _one_target(dist, "crps")
    bounded = getattr(dist, "bounds", None) is not None
    if isinstance(dist, Normal):
        z = (y_true - dist.loc[:, 0]) / dist.scale[:, 0]
        values = dist.scale[:, 0] * (z * (2 * ndtr(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    elif isinstance(dist, NormalMixture) and not bounded:
        values = _crps_normal_mixture(y_true, dist.weights, dist.loc, dist.scale)
    elif not bounded:
        values = _crps_numerical(y_true, dist)
    else:
        values = _crps_numerical(np.clip(y_true, *dist.bounds), dist)
        # a value outside the support adds the distance to it (F is 0 or 1 there)
        values = values + np.maximum(dist.bounds[0] - y_true, 0) + np.maximum(
            y_true - dist.bounds[1], 0)
    return float(np.mean(values))


def coverage(y_true, dist, level=0.68):
    """Fraction of ``y_true`` inside each prediction's central ``level`` interval.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    dist : PredictiveDistribution
        One 1-D prediction per row.
    level : float, default=0.68
        Probability of the central interval, in (0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> from skgal import Normal
    >>> from skgal.metrics import coverage
    >>> coverage([0.30, 0.50, 0.90], Normal([0.35, 0.50, 0.60], [0.1, 0.1, 0.1]))
    0.6666666666666666
    """
    y_true, dist = _distribution(y_true, dist)
    _one_target(dist, "coverage")
    lower, upper = dist.interval(level)
    return float(np.mean((lower <= y_true) & (y_true <= upper)))


def pit(y_true, dist):
    """Probability integral transform ``F(y)`` of each prediction: uniform when calibrated.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    dist : PredictiveDistribution
        One 1-D prediction per row.

    Returns
    -------
    ndarray of shape (n_samples,), in [0, 1]
    """
    y_true, dist = _distribution(y_true, dist)
    _one_target(dist, "pit")
    return dist.cdf(y_true)


def sbc_ranks(y_true, dist, n_draws=99, random_state=None):
    """Simulation-based calibration ranks (Talts et al. 2018): uniform when calibrated.

    For each galaxy, the rank of the true value among ``n_draws`` draws from its
    predictive distribution, per target: an integer in ``[0, n_draws]``. When the
    predictions are the true posteriors and the galaxies are drawn from the prior, every
    rank is equally likely. Their histogram (:func:`skgal.plotting.plot_rank_histogram`)
    and :func:`uniformity_test` show a bias (a slope), too narrow predictions (a U) or
    too wide ones (a hump).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_targets)
    dist : PredictiveDistribution
    n_draws : int, default=99
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    ndarray of int, shape (n_samples,) or (n_samples, n_targets)

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import Normal
    >>> from skgal.metrics import sbc_ranks, uniformity_test
    >>> rng = np.random.RandomState(0)
    >>> mean = rng.uniform(0.2, 1.0, 2000)
    >>> y = mean + 0.05 * rng.standard_normal(2000)     # calibrated predictions
    >>> ranks = sbc_ranks(y, Normal(mean, np.full(2000, 0.05)), random_state=0)
    >>> bool(uniformity_test(ranks, n_draws=99)["pvalue"] > 0.01)
    True
    """
    y_true, dist = _distribution(y_true, dist)
    if not (isinstance(n_draws, numbers.Integral) and n_draws >= 1):
        raise ValueError(f"n_draws must be an integer >= 1; got {n_draws!r}")
    draws = dist.sample(n_draws, random_state=random_state)  # (n, S) or (n, S, d)
    if dist.n_targets == 1:
        return np.sum(draws < y_true[:, None], axis=1)
    return np.sum(draws < y_true[:, None, :], axis=1)


def uniformity_test(values, n_draws=None, n_bins=None):
    """Are PIT values (or SBC ranks) uniform? A chi-square test over equal bins.

    Parameters
    ----------
    values : array-like of shape (n_samples,)
        PIT values in [0, 1], or, with ``n_draws``, SBC ranks in ``[0, n_draws]``.
    n_draws : int, default=None
        The draws behind SBC ranks; None for PIT values.
    n_bins : int, default=None
        Equal bins; by default about ``n / 50`` (at least 5, at most 20), and for ranks
        a divisor of ``n_draws + 1``, so each bin holds as many ranks.

    Returns
    -------
    dict
        ``statistic`` and ``pvalue`` of the chi-square test, ``n_bins``, the ``counts``,
        and for PIT values the Kolmogorov-Smirnov ``ks_statistic`` and ``ks_pvalue``.
        A small p-value (below 0.01, say) says the predictions are miscalibrated.
    """
    values = np.asarray(values, dtype=float).reshape(-1)
    if values.size < 5:
        raise ValueError(f"values must hold at least 5 entries; got {values.size}")
    n_bins = int(np.clip(values.size // 50, 5, 20)) if n_bins is None else int(n_bins)
    out = {}
    if n_draws is None:
        if np.any((values < 0) | (values > 1)):
            raise ValueError("PIT values must lie in [0, 1]")
        counts = np.histogram(values, bins=n_bins, range=(0, 1))[0]
        ks = stats.kstest(values, "uniform")
        out.update(ks_statistic=float(ks.statistic), ks_pvalue=float(ks.pvalue))
    else:
        m = int(n_draws) + 1
        if np.any((values < 0) | (values > n_draws) | (values != np.round(values))):
            raise ValueError(f"ranks must be integers in [0, {n_draws}]")
        while m % n_bins:
            n_bins -= 1
        counts = np.bincount((values * n_bins // m).astype(int), minlength=n_bins)
    chi2 = stats.chisquare(counts)
    out.update(statistic=float(chi2.statistic), pvalue=float(chi2.pvalue), n_bins=n_bins,
               counts=counts)
    return out


DEFAULT_LEVELS = np.linspace(0.02, 0.98, 49)


def hpd_coverage(y_true, dist, levels=DEFAULT_LEVELS, n_draws=1000, random_state=None):
    """Expected coverage of the highest-density regions at many credibility levels.

    For each galaxy, the credibility of its true value is the probability of the
    region denser than the truth: the fraction of draws whose density exceeds the
    density at the true value. The truth is inside the ``level`` highest-density region
    when that credibility is below ``level``; a calibrated model's coverage equals the
    level at every level. For a joint distribution the regions are joint, so this
    checks the ``(q, i)`` posterior as a whole, degeneracy included.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_targets)
    dist : PredictiveDistribution
    levels : array-like, default=49 levels from 0.02 to 0.98
        Credibility levels in (0, 1).
    n_draws : int, default=1000
        Draws per galaxy estimating each credibility.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    levels, coverage : ndarray
        The levels and the observed coverage at each.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import Normal
    >>> from skgal.metrics import hpd_coverage
    >>> rng = np.random.RandomState(0)
    >>> mean = rng.uniform(0.2, 1.0, 1000)
    >>> y = mean + 0.05 * rng.standard_normal(1000)
    >>> levels, cov = hpd_coverage(y, Normal(mean, np.full(1000, 0.05)), [0.68, 0.95],
    ...                            random_state=0)
    >>> np.abs(cov - levels).max() < 0.03
    np.True_
    """
    y_true, dist = _distribution(y_true, dist)
    levels = np.asarray(levels, dtype=float).reshape(-1)
    if np.any((levels <= 0) | (levels >= 1)):
        raise ValueError(f"levels must lie in (0, 1); got {levels!r}")
    draws = dist.sample(n_draws, random_state=random_state)
    truth = dist.logpdf(y_true)
    denser = np.zeros(len(dist))
    for s in range(draws.shape[1]):
        denser += dist.logpdf(draws[:, s]) > truth
    credibility = denser / draws.shape[1]
    return levels, np.array([np.mean(credibility < a) for a in levels])


def tarp_coverage(y_true, draws, levels=DEFAULT_LEVELS, references=None, random_state=None):
    """TARP's expected coverage of random-centred balls (Lemos et al. 2023).

    For each galaxy a reference point is drawn; the ball around it that reaches the
    true value holds some fraction of the posterior draws. Over many galaxies that
    fraction is uniform exactly when the posteriors are right (a necessary and
    sufficient test, unlike marginal checks), so the expected coverage at each level
    then equals the level. It needs only draws, so it also checks samplers.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_targets)
    draws : array-like of shape (n_samples, n_draws) or (n_samples, n_draws, n_targets)
        Posterior draws for each galaxy (``dist.sample(n_draws)``).
    levels : array-like, default=49 levels from 0.02 to 0.98
    references : array-like of shape (n_samples, n_targets), default=None
        The reference points; by default uniform over the box spanned by ``y_true``.
        Distances are in units of each target's standard deviation over ``y_true``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    levels, coverage : ndarray
    """
    y_true = np.asarray(y_true, dtype=float)
    draws = np.asarray(draws, dtype=float)
    if y_true.ndim == 1:
        y_true = y_true[:, None]
    if draws.ndim == 2:
        draws = draws[..., None]
    if draws.ndim != 3 or draws.shape[0] != y_true.shape[0] or draws.shape[2] != \
            y_true.shape[1]:
        raise ValueError(f"draws must have shape (n_samples, n_draws, n_targets) = "
                         f"({y_true.shape[0]}, S, {y_true.shape[1]}); got {draws.shape}")
    levels = np.asarray(levels, dtype=float).reshape(-1)
    scale = np.where(y_true.std(axis=0) > 0, y_true.std(axis=0), 1.0)
    if references is None:
        rng = check_random_state(random_state)
        low, high = y_true.min(axis=0), y_true.max(axis=0)
        references = rng.uniform(low, high, size=y_true.shape)
    references = np.asarray(references, dtype=float).reshape(y_true.shape)
    d_draws = np.linalg.norm((draws - references[:, None, :]) / scale, axis=-1)
    d_true = np.linalg.norm((y_true - references) / scale, axis=-1)
    fraction = np.mean(d_draws < d_true[:, None], axis=1)
    return levels, np.array([np.mean(fraction < a) for a in levels])


def regression_report(y_true, mean, std=None):
    """Every score of one set of predictions, as a dict.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values of ``q``.
    mean : array-like of shape (n_samples,), or a PredictiveDistribution
        Predicted means (with ``std``), or the predictions themselves.
    std : array-like of shape (n_samples,), default=None
        Predicted standard deviations (``std > 0``), with ``mean``.

    Returns
    -------
    dict
        ``nll`` (:func:`negative_log_likelihood`), ``rmse`` and ``bias`` (mean of
        ``mean - y``) of the means, ``crps`` (:func:`crps`), ``mean_std`` (the
        sharpness: the mean predicted standard deviation, which means something only
        next to the coverages), ``coverage_68`` and ``coverage_95`` (:func:`coverage`),
        and ``n``, the number of galaxies.

    Examples
    --------
    >>> from skgal.metrics import regression_report
    >>> report = regression_report([0.3, 0.5, 0.9], [0.35, 0.5, 0.8], [0.05, 0.05, 0.1])
    >>> sorted(report)
    ['bias', 'coverage_68', 'coverage_95', 'crps', 'mean_std', 'n', 'nll', 'rmse']
    >>> round(report["bias"], 4), report["coverage_95"]
    (-0.0167, 1.0)
    """
    y_true, dist = _distribution(y_true, mean, std)
    _one_target(dist, "regression_report")
    mean = dist.mean()
    return {
        "nll": negative_log_likelihood(y_true, dist),
        "rmse": float(np.sqrt(np.mean((mean - y_true) ** 2))),
        "bias": float(np.mean(mean - y_true)),
        "crps": crps(y_true, dist),
        "mean_std": float(np.mean(dist.std())),
        "coverage_68": coverage(y_true, dist, 0.68),
        "coverage_95": coverage(y_true, dist, 0.95),
        "n": int(y_true.size),
    }


def multi_target_report(y_true, dist, target_names=None):
    """Scores of a joint prediction of several targets: the joint NLL and each marginal's.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets)
    dist : MultivariateNormalMixture
        Joint predictions (``predict_distribution`` of a regressor fitted on several
        targets).
    target_names : sequence of str, default=None
        Names of the targets (``"q"``, ``"inclination"``); by default their indices.

    Returns
    -------
    dict
        ``nll`` (joint), ``n``, and for each target its :func:`regression_report`.
    """
    y_true, dist = _distribution(y_true, dist)
    if dist.n_targets < 2:
        raise ValueError("multi_target_report needs a joint distribution of several targets")
    names = list(range(dist.n_targets)) if target_names is None else list(target_names)
    if len(names) != dist.n_targets:
        raise ValueError(f"target_names has {len(names)} names for {dist.n_targets} targets")
    out = {"nll": negative_log_likelihood(y_true, dist), "n": len(dist)}
    for j, name in enumerate(names):
        out[name] = regression_report(y_true[:, j], dist.marginal(j))
    return out


def scores_by_inclination(y_true, mean, std=None, inclination=None):
    """:func:`regression_report` for each inclination (degrees) separately.

    This is how the random-projection method is scored in table 1: one report per
    inclination its galaxies were seen at. Call it as ``(y_true, mean, std,
    inclination)`` or ``(y_true, dist, inclination)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values of ``q``.
    mean : array-like of shape (n_samples,), or a PredictiveDistribution
        Predicted means (with ``std``), or the predictions themselves.
    std : array-like of shape (n_samples,)
        Predicted standard deviations (``std > 0``); for a distribution, the
        inclinations may come here.
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
    if isinstance(mean, PredictiveDistribution) and inclination is None:
        std, inclination = None, std
    if inclination is None:
        raise TypeError("scores_by_inclination needs the inclination of every prediction")
    y_true, dist = _distribution(y_true, mean, std)
    inclination = np.asarray(inclination, dtype=float).reshape(-1)
    if inclination.shape != y_true.shape:
        raise ValueError(f"inclination has {inclination.size} values for {y_true.size} "
                         "predictions")
    return {float(i): regression_report(y_true[inclination == i], dist[inclination == i])
            for i in np.unique(inclination)}


def nll_scorer(estimator, X, y):
    """Scorer for ``GridSearchCV(..., scoring=nll_scorer)``: minus the mean NLL.

    Greater is better, as scikit-learn's scorers require. The estimator (or a
    pipeline's last step) gives a predictive distribution through
    ``predict_distribution``, or Gaussian predictions through ``predict(X,
    return_std=True)`` (:func:`predictive_distribution`).

    Parameters
    ----------
    estimator : fitted estimator
        A :class:`skgal.ProbabilisticQRegressor`, or a pipeline ending in one.
    X : array-like
        Input the estimator predicts from.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        True values.

    Returns
    -------
    float
        ``-negative_log_likelihood(y, distribution)``.

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
    return -negative_log_likelihood(y, predictive_distribution(estimator, X))
