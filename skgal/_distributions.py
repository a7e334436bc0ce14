"""Predictive distributions: what a probabilistic regressor returns for each galaxy.

One object holds the predictions for ``n`` galaxies and answers the questions a user,
a metric or a plot asks of them: ``logpdf``, ``cdf``, ``ppf``, ``mean``, ``std``,
``interval`` and ``sample``. The network's heads (``skgal._heads``), the scores
(:mod:`skgal.metrics`) and the figures (:mod:`skgal.plotting`) share these classes.

Every distribution here is a mixture of Gaussians in a *transformed* space. A target
``y`` with bounds ``(low, high)`` is mapped to ``z = logit((y - low) / (high - low))``,
so the density in ``y`` is the mixture's density in ``z`` times the Jacobian
``dz/dy = (high - low) / ((y - low) (high - y))``, and it puts no mass outside the
bounds. Without bounds ``z = y``. Log-densities are always on the original scale of
``y``, so they compare with the thesis's Gaussian NLL.

Only numpy and scipy here: this module sits below the estimators.
"""

import numbers

import numpy as np
from scipy.special import expit, log_ndtr, logsumexp, ndtr, ndtri
from sklearn.utils import check_random_state

__all__ = ["MultivariateNormalMixture", "Normal", "NormalMixture", "PredictiveDistribution",
           "QuantileRecalibrated", "Tabulated", "mixture_of"]

_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite.hermgauss(64)
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _check_bounds(bounds, name="bounds"):
    if bounds is None:
        return None
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be None or a pair (low, high); got {bounds!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"{name} must be finite with low < high; got {bounds!r}")
    return low, high


def _to_latent(y, bounds):
    """z and log|dz/dy| for targets y (nan where y is outside the open bounds)."""
    if bounds is None:
        return y, np.zeros_like(y)
    low, high = bounds
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (y - low) / (high - low)
        inside = (u > 0) & (u < 1)
        u = np.where(inside, u, 0.5)
        z = np.log(u) - np.log1p(-u)
        log_jac = -np.log(high - low) - np.log(u) - np.log1p(-u)
    return np.where(inside, z, np.nan), np.where(inside, log_jac, -np.inf)


def _from_latent(z, bounds):
    if bounds is None:
        return z
    low, high = bounds
    return low + (high - low) * expit(z)


def _normalised(weights):
    # weights summing to 1 to rounding are kept as they are, so that a distribution
    # stored and read back (to_arrays, from_arrays) is the same to the last bit
    total = weights.sum(axis=1, keepdims=True)
    return weights if np.all(np.abs(total - 1) < 1e-12) else weights / total


def _check_probability(p, name):
    p = np.asarray(p, dtype=float)
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError(f"{name} must be probabilities in [0, 1]; got {p!r}")
    return p


class PredictiveDistribution:
    """Base of the predictive distributions: a batch of ``n`` distributions, one per galaxy."""

    n_targets = 1

    def __len__(self):
        return self._n

    def pdf(self, y):
        """Probability density at ``y`` (see :meth:`logpdf`)."""
        return np.exp(self.logpdf(y))

    def marginal(self, j):
        """The distribution of target ``j`` alone: for one target, ``j = 0``, itself.

        Joint distributions (:class:`MultivariateNormalMixture`) return their
        marginal, so code written for several targets takes one-target ones too.
        """
        if not (isinstance(j, numbers.Integral) and 0 <= j < self.n_targets):
            raise ValueError(f"j must be a target index in [0, {self.n_targets}); got {j!r}")
        return self

    def interval(self, coverage=0.68):
        """Central interval holding ``coverage`` of the probability: ``(lower, upper)``.

        Parameters
        ----------
        coverage : float, default=0.68
            Probability inside the interval, in (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n,) (or (n, n_targets), one interval per target)
        """
        if not (isinstance(coverage, numbers.Real) and 0 < coverage < 1):
            raise ValueError(f"coverage must be a probability in (0, 1); got {coverage!r}")
        return self.ppf(0.5 - coverage / 2), self.ppf(0.5 + coverage / 2)


class NormalMixture(PredictiveDistribution):
    """Mixtures of ``K`` Gaussians, optionally in the logit space of bounded targets.

    Parameters
    ----------
    weights : array-like of shape (n, K)
        Component weights, non-negative, each row summing to 1.
    loc, scale : array-like of shape (n, K)
        Means and standard deviations (``> 0``) of the components, in the latent space
        ``z`` (``y`` itself when ``bounds`` is None).
    bounds : (float, float), default=None
        Open support ``(low, high)`` of the target. With bounds the components live in
        ``z = logit((y - low) / (high - low))`` and the density of ``y`` carries the
        Jacobian; without them the mixture is in ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import NormalMixture
    >>> d = NormalMixture([[0.5, 0.5]], [[-1.0, 1.0]], [[0.5, 0.5]], bounds=(0.2, 1.0))
    >>> d.cdf([0.6]).round(6)       # the median: z = 0 is the middle of the bounds
    array([0.5])
    >>> lower, upper = d.interval(0.95)
    >>> bool(0.2 < lower[0] < upper[0] < 1.0)
    True
    """

    def __init__(self, weights, loc, scale, bounds=None):
        weights = np.atleast_2d(np.asarray(weights, dtype=float))
        loc = np.atleast_2d(np.asarray(loc, dtype=float))
        scale = np.atleast_2d(np.asarray(scale, dtype=float))
        if not (weights.shape == loc.shape == scale.shape) or weights.ndim != 2:
            raise ValueError(f"weights, loc and scale must share one shape (n, K); got "
                             f"{weights.shape}, {loc.shape} and {scale.shape}")
        if not (np.all(np.isfinite(loc)) and np.all(np.isfinite(scale))
                and np.all(np.isfinite(weights))):
            raise ValueError("weights, loc and scale must be finite")
        if np.any(scale <= 0):
            raise ValueError("scale must be > 0")
        if np.any(weights < 0) or not np.allclose(weights.sum(axis=1), 1, atol=1e-6):
            raise ValueError("weights must be non-negative and sum to 1 in each row")
        self.weights = _normalised(weights)
        self.loc, self.scale = loc, scale
        self.bounds = _check_bounds(bounds)
        self._n = weights.shape[0]

    @property
    def n_components(self):
        return self.weights.shape[1]

    def _target(self, y):
        y = np.asarray(y, dtype=float)
        if y.ndim == 0:
            y = np.full(self._n, float(y))
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
        if y.shape[0] != self._n:
            raise ValueError(f"y has {y.shape[0]} rows for {self._n} distributions")
        return y

    def __getitem__(self, index):
        return type(self)._subset(self, index)

    def _subset(self, index):
        return NormalMixture(self.weights[index], self.loc[index], self.scale[index],
                             self.bounds)

    def with_scale(self, factor):
        """The same distributions with every component's scale times ``factor``.

        This is the temperature of :meth:`ProbabilisticQRegressor.recalibrate`'s
        mixtures: it widens or narrows each component in the latent space and keeps the
        weights and the means.
        """
        factor = float(factor)
        if not (np.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be finite and > 0; got {factor!r}")
        out = self._subset(slice(None))
        out.scale = out.scale * factor
        return out

    def logpdf(self, y):
        """Log density of ``y``, one value per distribution (``-inf`` outside the bounds).

        Parameters
        ----------
        y : array-like of shape (n,)
            One value per distribution, in the units of the target.

        Returns
        -------
        ndarray of shape (n,)
        """
        y = self._target(y)
        z, log_jac = _to_latent(y, self.bounds)
        t = (z[:, None] - self.loc) / self.scale
        with np.errstate(divide="ignore"):
            comp = np.log(self.weights) - 0.5 * t ** 2 - np.log(self.scale) - _LOG_SQRT_2PI
        out = logsumexp(comp, axis=1) + log_jac
        return np.where(np.isnan(z), -np.inf, out)

    def cdf(self, y):
        """Cumulative probability ``P(Y <= y)``, one value per distribution."""
        y = self._target(y)
        z, _ = _to_latent(y, self.bounds)
        out = np.sum(self.weights * ndtr((z[:, None] - self.loc) / self.scale), axis=1)
        if self.bounds is not None:
            out = np.where(y <= self.bounds[0], 0.0, np.where(y >= self.bounds[1], 1.0, out))
        return out

    def _latent_ppf(self, p):
        # The mixture's quantile lies between its components' quantiles: bisect there.
        with np.errstate(divide="ignore"):
            q = self.loc + self.scale * ndtri(np.clip(p, 1e-300, 1 - 1e-16))[:, None]
        lo, hi = q.min(axis=1), q.max(axis=1)
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            below = np.sum(self.weights * ndtr((mid[:, None] - self.loc) / self.scale),
                           axis=1) < p
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def ppf(self, p):
        """Quantile function: the ``y`` with ``cdf(y) = p``, one per distribution.

        Parameters
        ----------
        p : float or array-like of shape (n,)
            Probabilities in [0, 1].
        """
        p = _check_probability(p, "p")
        p = np.broadcast_to(p, (self._n,)).astype(float)
        z = self._latent_ppf(p)
        if self.bounds is None:
            return np.where(p == 0, -np.inf, np.where(p == 1, np.inf, z))
        y = _from_latent(z, self.bounds)
        return np.where(p == 0, self.bounds[0], np.where(p == 1, self.bounds[1], y))

    def _moments(self):
        if self.bounds is None:
            mean = np.sum(self.weights * self.loc, axis=1)
            second = np.sum(self.weights * (self.loc ** 2 + self.scale ** 2), axis=1)
            return mean, second
        # E[g(z)] for z ~ N(loc, scale) by 64-point Gauss-Hermite quadrature
        z = self.loc[..., None] + np.sqrt(2) * self.scale[..., None] * _HERMITE_NODES
        g = _from_latent(z, self.bounds)
        w = self.weights[..., None] * _HERMITE_WEIGHTS / np.sqrt(np.pi)
        return np.sum(w * g, axis=(1, 2)), np.sum(w * g ** 2, axis=(1, 2))

    def mean(self):
        """Mean of each distribution, shape (n,)."""
        return self._moments()[0]

    def std(self):
        """Standard deviation of each distribution, shape (n,)."""
        mean, second = self._moments()
        return np.sqrt(np.maximum(second - mean ** 2, 0.0))

    def sample(self, size=1, random_state=None):
        """Draws from each distribution.

        Parameters
        ----------
        size : int, default=1
            Draws per distribution.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.

        Returns
        -------
        ndarray of shape (n, size)
        """
        rng = check_random_state(random_state)
        u = rng.uniform(size=(self._n, int(size)))
        k = np.minimum((np.cumsum(self.weights, axis=1)[:, None, :] < u[..., None]).sum(-1),
                       self.n_components - 1)
        rows = np.arange(self._n)[:, None]
        z = self.loc[rows, k] + self.scale[rows, k] * rng.standard_normal(k.shape)
        return _from_latent(z, self.bounds)

    def __repr__(self):
        return (f"{type(self).__name__}(n={self._n}, n_components={self.n_components}, "
                f"bounds={self.bounds})")


class Normal(NormalMixture):
    """Gaussian predictions ``N(loc, scale)``: the thesis's head, with closed forms.

    Parameters
    ----------
    loc, scale : array-like of shape (n,)
        Means and standard deviations (``> 0``).

    Examples
    --------
    >>> from skgal import Normal
    >>> d = Normal([0.5, 0.6], [0.1, 0.2])
    >>> d.logpdf([0.5, 0.6]).round(4)
    array([1.3836, 0.6905])
    >>> d.ppf(0.975).round(4)
    array([0.696, 0.992])
    """

    def __init__(self, loc, scale):
        loc = np.asarray(loc, dtype=float).reshape(-1)
        scale = np.asarray(scale, dtype=float).reshape(-1)
        if loc.shape != scale.shape:
            raise ValueError(f"loc and scale must have one length; got {loc.size} and "
                             f"{scale.size}")
        super().__init__(np.ones((loc.size, 1)), loc[:, None], scale[:, None])

    def _subset(self, index):
        return Normal(self.loc[index, 0], self.scale[index, 0])

    def logpdf(self, y):
        z = (self._target(y) - self.loc[:, 0]) / self.scale[:, 0]
        return -0.5 * z ** 2 - np.log(self.scale[:, 0]) - _LOG_SQRT_2PI

    def cdf(self, y):
        return ndtr((self._target(y) - self.loc[:, 0]) / self.scale[:, 0])

    def logcdf(self, y):
        return log_ndtr((self._target(y) - self.loc[:, 0]) / self.scale[:, 0])

    def ppf(self, p):
        p = np.broadcast_to(_check_probability(p, "p"), (self._n,))
        return self.loc[:, 0] + self.scale[:, 0] * ndtri(p)

    def mean(self):
        return self.loc[:, 0].copy()

    def std(self):
        return self.scale[:, 0].copy()

    def __repr__(self):
        return f"Normal(n={self._n})"


class MultivariateNormalMixture(PredictiveDistribution):
    """Joint predictions of several targets: mixtures of full-covariance Gaussians.

    The components live in the latent space, where each bounded target is mapped by its
    own logit (as in :class:`NormalMixture`); there the covariance carries the
    correlation of the targets, such as the degeneracy of ``q`` with the inclination.

    Parameters
    ----------
    weights : array-like of shape (n, K)
        Component weights, each row summing to 1.
    loc : array-like of shape (n, K, d)
        Component means in the latent space.
    scale_tril : array-like of shape (n, K, d, d)
        Lower-triangular Cholesky factors of the components' covariances (positive
        diagonal).
    bounds : sequence of d (low, high) pairs or None, default=None
        The support of each target (None for an unbounded one).

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import MultivariateNormalMixture
    >>> L = np.array([[[[0.5, 0.0], [0.4, 0.3]]]])
    >>> d = MultivariateNormalMixture([[1.0]], [[[0.0, 0.0]]], L,
    ...                               bounds=[(0.2, 1.0), (0.0, 90.0)])
    >>> d.mean().round(3)          # z = 0 is the middle of each target's bounds
    array([[ 0.6, 45. ]])
    >>> d.marginal(1).interval(0.68)[0].round(2)
    array([34.04])
    """

    def __init__(self, weights, loc, scale_tril, bounds=None):
        weights = np.atleast_2d(np.asarray(weights, dtype=float))
        loc = np.asarray(loc, dtype=float)
        scale_tril = np.asarray(scale_tril, dtype=float)
        n, k = weights.shape
        if loc.ndim != 3 or loc.shape[:2] != (n, k):
            raise ValueError(f"loc must have shape (n, K, d) = ({n}, {k}, d); got {loc.shape}")
        d = loc.shape[2]
        if scale_tril.shape != (n, k, d, d):
            raise ValueError(f"scale_tril must have shape {(n, k, d, d)}; got "
                             f"{scale_tril.shape}")
        diag = np.diagonal(scale_tril, axis1=2, axis2=3)
        if not (np.all(np.isfinite(loc)) and np.all(np.isfinite(scale_tril))):
            raise ValueError("loc and scale_tril must be finite")
        if np.any(diag <= 0):
            raise ValueError("scale_tril must have a positive diagonal")
        if np.any(weights < 0) or not np.allclose(weights.sum(axis=1), 1, atol=1e-6):
            raise ValueError("weights must be non-negative and sum to 1 in each row")
        bounds = [None] * d if bounds is None else list(bounds)
        if len(bounds) != d:
            raise ValueError(f"bounds must give one entry per target ({d}); got {len(bounds)}")
        self.weights = _normalised(weights)
        self.loc = loc
        self.scale_tril = np.tril(scale_tril)
        self.bounds = [_check_bounds(b, f"bounds[{j}]") for j, b in enumerate(bounds)]
        self._n = n

    @property
    def n_targets(self):
        return self.loc.shape[2]

    @property
    def n_components(self):
        return self.weights.shape[1]

    def __getitem__(self, index):
        return MultivariateNormalMixture(self.weights[index], self.loc[index],
                                         self.scale_tril[index], self.bounds)

    def with_scale(self, factor):
        """The same distributions with every component's covariance times ``factor**2``."""
        factor = float(factor)
        if not (np.isfinite(factor) and factor > 0):
            raise ValueError(f"factor must be finite and > 0; got {factor!r}")
        return MultivariateNormalMixture(self.weights, self.loc, self.scale_tril * factor,
                                         self.bounds)

    def marginal(self, j):
        """The distribution of target ``j`` alone: a :class:`NormalMixture`."""
        if not (isinstance(j, numbers.Integral) and 0 <= j < self.n_targets):
            raise ValueError(f"j must be a target index in [0, {self.n_targets}); got {j!r}")
        var = np.sum(self.scale_tril[:, :, j, :] ** 2, axis=-1)
        if self.n_components == 1 and self.bounds[j] is None:
            return Normal(self.loc[:, 0, j], np.sqrt(var[:, 0]))
        return NormalMixture(self.weights, self.loc[:, :, j], np.sqrt(var), self.bounds[j])

    def _targets(self, y):
        y = np.asarray(y, dtype=float)
        if y.ndim == 1 and self.n_targets == 1:
            y = y[:, None]
        if y.shape != (self._n, self.n_targets):
            raise ValueError(f"y must have shape {(self._n, self.n_targets)}; got {y.shape}")
        return y

    def logpdf(self, y):
        """Joint log density of the rows of ``y``, shape (n, d) -> (n,)."""
        y = self._targets(y)
        z, log_jac = np.empty_like(y), np.empty_like(y)
        for j, b in enumerate(self.bounds):
            z[:, j], log_jac[:, j] = _to_latent(y[:, j], b)
        outside = np.any(np.isnan(z), axis=1)
        z = np.where(np.isnan(z), 0.0, z)
        diff = z[:, None, :] - self.loc                                   # (n, K, d)
        white = _solve_lower(self.scale_tril, diff)
        log_det = np.sum(np.log(np.diagonal(self.scale_tril, axis1=2, axis2=3)), axis=-1)
        with np.errstate(divide="ignore"):
            comp = (np.log(self.weights) - 0.5 * np.sum(white ** 2, axis=-1) - log_det
                    - self.n_targets * _LOG_SQRT_2PI)
        out = logsumexp(comp, axis=1) + np.sum(np.where(np.isfinite(log_jac), log_jac, 0), 1)
        return np.where(outside, -np.inf, out)

    def mean(self):
        """Mean of each target, shape (n, d)."""
        return np.stack([self.marginal(j).mean() for j in range(self.n_targets)], axis=1)

    def std(self):
        """Standard deviation of each target, shape (n, d)."""
        return np.stack([self.marginal(j).std() for j in range(self.n_targets)], axis=1)

    def ppf(self, p):
        """Marginal quantiles of every target, shape (n, d)."""
        return np.stack([self.marginal(j).ppf(p) for j in range(self.n_targets)], axis=1)

    def cdf(self, y):
        """Marginal cumulative probabilities of every target, shape (n, d)."""
        y = self._targets(y)
        return np.stack([self.marginal(j).cdf(y[:, j]) for j in range(self.n_targets)], 1)

    def sample(self, size=1, random_state=None):
        """Joint draws, shape (n, size, d)."""
        rng = check_random_state(random_state)
        u = rng.uniform(size=(self._n, int(size)))
        k = np.minimum((np.cumsum(self.weights, axis=1)[:, None, :] < u[..., None]).sum(-1),
                       self.n_components - 1)
        rows = np.arange(self._n)[:, None]
        eps = rng.standard_normal(k.shape + (self.n_targets,))
        z = self.loc[rows, k] + np.einsum("nsij,nsj->nsi", self.scale_tril[rows, k], eps)
        return np.stack([_from_latent(z[..., j], b) for j, b in enumerate(self.bounds)], -1)

    def __repr__(self):
        return (f"MultivariateNormalMixture(n={self._n}, n_components={self.n_components}, "
                f"n_targets={self.n_targets}, bounds={self.bounds})")


class QuantileRecalibrated(PredictiveDistribution):
    """A 1-D distribution whose cdf is passed through a monotone map: ``G(y) = R(F(y))``.

    The recalibration of Kuleshov, Fenner & Ermon (2018). ``R`` is the piecewise-linear
    map that sends the quantiles of the validation PIT values ``F(y)`` to evenly spaced
    levels, so that on the validation set every central interval covers its nominal
    fraction. Unlike a temperature, it corrects the coverage at every level at once,
    whatever the shape. The density is ``R'(F(y)) f(y)``, so the NLL stays proper.

    Parameters
    ----------
    base : NormalMixture or Normal
        The distributions before recalibration.
    knots : (ndarray, ndarray)
        ``(u, v)``: increasing PIT values from 0 to 1 and the levels they map to.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import Normal, QuantileRecalibrated
    >>> base = Normal([0.0], [1.0])
    >>> wide = QuantileRecalibrated(base, ([0.0, 0.25, 0.75, 1.0], [0.0, 0.1, 0.9, 1.0]))
    >>> lower, upper = wide.interval(0.8)   # base's 50% interval is now an 80% one
    >>> bool(np.allclose([lower[0], upper[0]], np.ravel(base.interval(0.5))))
    True
    """

    def __init__(self, base, knots):
        if base.n_targets != 1:
            raise ValueError("QuantileRecalibrated takes a distribution of one target")
        u, v = (np.asarray(k, dtype=float).reshape(-1) for k in knots)
        if (u.shape != v.shape or u.size < 2 or u[0] != 0 or u[-1] != 1 or v[0] != 0
                or v[-1] != 1 or np.any(np.diff(u) <= 0) or np.any(np.diff(v) <= 0)):
            raise ValueError("knots must be two strictly increasing sequences from 0 to 1 "
                             "of one length")
        self.base, self.knots = base, (u, v)
        self._n = len(base)
        self.bounds = getattr(base, "bounds", None)

    def __getitem__(self, index):
        return QuantileRecalibrated(self.base[index], self.knots)

    def cdf(self, y):
        u, v = self.knots
        return np.interp(self.base.cdf(y), u, v)

    def logpdf(self, y):
        u, v = self.knots
        f = self.base.cdf(y)
        k = np.clip(np.searchsorted(u, f, side="right") - 1, 0, u.size - 2)
        slope = (v[k + 1] - v[k]) / (u[k + 1] - u[k])
        return self.base.logpdf(y) + np.log(slope)

    def ppf(self, p):
        u, v = self.knots
        p = _check_probability(p, "p")
        return self.base.ppf(np.interp(np.broadcast_to(p, (self._n,)), v, u))

    def _quantiles(self, m=512):
        return np.column_stack([self.ppf((j + 0.5) / m) for j in range(m)])

    def mean(self):
        """Mean, from 512 quantiles (midpoint rule in probability)."""
        return self._quantiles().mean(axis=1)

    def std(self):
        """Standard deviation, from 512 quantiles."""
        return self._quantiles().std(axis=1)

    def sample(self, size=1, random_state=None):
        rng = check_random_state(random_state)
        p = rng.uniform(size=(self._n, int(size)))
        return np.column_stack([self.ppf(p[:, s]) for s in range(p.shape[1])])

    def __repr__(self):
        return f"QuantileRecalibrated({self.base!r}, {self.knots[0].size} knots)"


class Tabulated(PredictiveDistribution):
    """1-D densities given on a grid, linear between its nodes and zero outside it.

    For posteriors computed on a grid (the classical inversion's) and for the prior.

    Parameters
    ----------
    grid : array-like of shape (m,)
        Strictly increasing nodes, shared by every galaxy; the support is
        ``[grid[0], grid[-1]]``.
    density : array-like of shape (n, m)
        Non-negative values at the nodes, one row per galaxy; each row is normalised
        to integrate to 1 (trapezoid rule, exact for the linear interpolant).

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import Tabulated
    >>> prior = Tabulated([0.2, 1.0], [[1.0, 1.0]])   # q uniform in [0.2, 1]
    >>> prior.pdf([0.5]).round(6), prior.mean().round(6), prior.ppf(0.5).round(6)
    (array([1.25]), array([0.6]), array([0.6]))
    """

    def __init__(self, grid, density):
        grid = np.asarray(grid, dtype=float).reshape(-1)
        density = np.atleast_2d(np.asarray(density, dtype=float))
        if grid.size < 2 or np.any(np.diff(grid) <= 0) or not np.all(np.isfinite(grid)):
            raise ValueError("grid must hold at least 2 finite, strictly increasing nodes")
        if density.ndim != 2 or density.shape[1] != grid.size:
            raise ValueError(f"density must have shape (n, {grid.size}); got {density.shape}")
        if not np.all(np.isfinite(density)) or np.any(density < 0):
            raise ValueError("density must be finite and non-negative")
        cells = 0.5 * (density[:, 1:] + density[:, :-1]) * np.diff(grid)
        total = cells.sum(axis=1, keepdims=True)
        if np.any(total <= 0):
            raise ValueError("each row of density must have a positive integral")
        if not np.all(np.abs(total - 1) < 1e-12):  # kept as given when normalised, so
            density, cells = density / total, cells / total  # a stored copy reads back the same
        self.grid, self.density = grid, density
        self._cdf = np.concatenate([np.zeros((len(density), 1)), np.cumsum(cells, axis=1)],
                                   axis=1)
        self._n = len(density)
        self.bounds = (float(grid[0]), float(grid[-1]))

    def __getitem__(self, index):
        return Tabulated(self.grid, self.density[np.atleast_1d(np.arange(self._n)[index])])

    def _rows(self, y):
        y = np.asarray(y, dtype=float).reshape(-1)
        if y.size != self._n:
            raise ValueError(f"y has {y.size} rows for {self._n} distributions")
        return y

    def logpdf(self, y):
        y = self._rows(y)
        g = self.grid
        k = np.clip(np.searchsorted(g, y, side="right") - 1, 0, g.size - 2)
        t = (y - g[k]) / (g[k + 1] - g[k])
        rows = np.arange(self._n)
        value = (1 - t) * self.density[rows, k] + t * self.density[rows, k + 1]
        inside = (y >= g[0]) & (y <= g[-1])
        with np.errstate(divide="ignore"):
            return np.where(inside, np.log(np.maximum(value, 0.0)), -np.inf)

    def cdf(self, y):
        y = self._rows(y)
        g = self.grid
        k = np.clip(np.searchsorted(g, y, side="right") - 1, 0, g.size - 2)
        h = g[k + 1] - g[k]
        t = np.clip((y - g[k]) / h, 0.0, 1.0)
        rows = np.arange(self._n)
        f0, f1 = self.density[rows, k], self.density[rows, k + 1]
        # the integral of the linear piece from g[k] to y
        value = self._cdf[rows, k] + h * (f0 * t + 0.5 * (f1 - f0) * t * t)
        return np.where(y < g[0], 0.0, np.where(y > g[-1], 1.0, np.clip(value, 0.0, 1.0)))

    def ppf(self, p):
        p = np.broadcast_to(_check_probability(p, "p"), (self._n,))
        g = self.grid
        out = np.empty(self._n)
        for r in range(self._n):
            c = self._cdf[r]
            k = int(np.clip(np.searchsorted(c, p[r], side="right") - 1, 0, g.size - 2))
            h, f0, f1 = g[k + 1] - g[k], self.density[r, k], self.density[r, k + 1]
            need = (p[r] - c[k]) / h  # solve f0 t + (f1 - f0) t^2 / 2 = need for t in [0, 1]
            a = 0.5 * (f1 - f0)
            if abs(a) < 1e-12 * max(f0, f1, 1e-300):
                t = need / f0 if f0 > 0 else 0.0
            else:
                t = (-f0 + np.sqrt(max(f0 * f0 + 4 * a * need, 0.0))) / (2 * a)
            out[r] = g[k] + h * min(max(t, 0.0), 1.0)
        return out

    def _moment(self, power):
        # exact for the piecewise-linear density: Simpson's rule on each cell
        g = self.grid
        mid = 0.5 * (g[1:] + g[:-1])
        f_mid = 0.5 * (self.density[:, 1:] + self.density[:, :-1])
        h = np.diff(g)
        return np.sum(h / 6 * (self.density[:, :-1] * g[:-1] ** power
                               + 4 * f_mid * mid ** power
                               + self.density[:, 1:] * g[1:] ** power), axis=1)

    def mean(self):
        return self._moment(1)

    def std(self):
        return np.sqrt(np.maximum(self._moment(2) - self._moment(1) ** 2, 0.0))

    def sample(self, size=1, random_state=None):
        rng = check_random_state(random_state)
        p = rng.uniform(size=(self._n, int(size)))
        return np.column_stack([self.ppf(p[:, s]) for s in range(p.shape[1])])

    def __repr__(self):
        return f"Tabulated(n={self._n}, nodes={self.grid.size}, bounds={self.bounds})"


def quantile_knots(pit, n_knots=20):
    """The knots of :class:`QuantileRecalibrated` from validation PIT values.

    The PIT values' quantiles at ``n_knots`` evenly spaced levels and, where the 95% and
    99% intervals end, at 0.005, 0.01, 0.025 and their mirror images, with 0 and 1 at
    the ends; ties are spread so that the map stays strictly increasing.
    """
    pit = np.clip(np.asarray(pit, dtype=float).reshape(-1), 0, 1)
    tails = np.array([0.005, 0.01, 0.025])
    levels = np.unique(np.concatenate([np.linspace(0, 1, int(n_knots) + 1), tails,
                                       1 - tails]))
    u = np.quantile(pit, levels)
    u[0], u[-1] = 0.0, 1.0
    u = np.maximum.accumulate(u)
    u = u + np.linspace(0, 1e-9, u.size)  # strictly increasing, ends kept in [0, 1]
    u = (u - u[0]) / (u[-1] - u[0])
    return u, levels


def mixture_of(distributions):
    """The equal-weight mixture of several predictions of the same galaxies.

    Each of ``distributions`` predicts the same ``n`` galaxies (a :class:`NormalMixture`
    or :class:`Normal` each, or a :class:`MultivariateNormalMixture` each, with the same
    bounds); the result holds all their components, each weight divided by their
    number. Averaging a network's predictions over transformed copies of its input
    (:class:`skgal.RandomDihedral`'s symmetries, say) is such a mixture.

    Examples
    --------
    >>> from skgal import Normal
    >>> from skgal._distributions import mixture_of
    >>> d = mixture_of([Normal([0.0], [1.0]), Normal([2.0], [1.0])])
    >>> d.n_components, d.mean().round(6), d.cdf([1.0]).round(6)
    (2, array([1.]), array([0.5]))
    """
    distributions = list(distributions)
    if not distributions:
        raise ValueError("distributions: need at least one")
    first = distributions[0]
    count = len(distributions)
    if all(isinstance(d, NormalMixture) for d in distributions):
        if any(d.bounds != first.bounds or len(d) != len(first) for d in distributions):
            raise ValueError("distributions must predict as many galaxies with the same "
                             "bounds")
        return NormalMixture(np.concatenate([d.weights for d in distributions], axis=1) / count,
                             np.concatenate([d.loc for d in distributions], axis=1),
                             np.concatenate([d.scale for d in distributions], axis=1),
                             first.bounds)
    if all(isinstance(d, MultivariateNormalMixture) for d in distributions):
        if any(d.bounds != first.bounds or len(d) != len(first) for d in distributions):
            raise ValueError("distributions must predict as many galaxies with the same "
                             "bounds")
        return MultivariateNormalMixture(
            np.concatenate([d.weights for d in distributions], axis=1) / count,
            np.concatenate([d.loc for d in distributions], axis=1),
            np.concatenate([d.scale_tril for d in distributions], axis=1), first.bounds)
    raise TypeError("distributions must all be NormalMixture (or Normal), or all "
                    "MultivariateNormalMixture; got "
                    f"{sorted({type(d).__name__ for d in distributions})}")


def to_arrays(dist):
    """A distribution as a dict of arrays (for ``np.savez``); :func:`from_arrays` inverts it."""
    if isinstance(dist, Normal):
        return {"kind": np.asarray("normal"), "loc": dist.loc[:, 0], "scale": dist.scale[:, 0]}
    if isinstance(dist, NormalMixture):
        bounds = np.asarray(dist.bounds if dist.bounds is not None else (np.nan, np.nan))
        return {"kind": np.asarray("normal_mixture"), "weights": dist.weights,
                "loc": dist.loc, "scale": dist.scale, "bounds": bounds}
    if isinstance(dist, MultivariateNormalMixture):
        bounds = np.array([b if b is not None else (np.nan, np.nan) for b in dist.bounds])
        return {"kind": np.asarray("multivariate_normal_mixture"), "weights": dist.weights,
                "loc": dist.loc, "scale_tril": dist.scale_tril, "bounds": bounds}
    if isinstance(dist, Tabulated):
        return {"kind": np.asarray("tabulated"), "grid": dist.grid, "density": dist.density}
    if isinstance(dist, QuantileRecalibrated):
        return {"kind": np.asarray("quantile_recalibrated"), "u": dist.knots[0],
                "v": dist.knots[1],
                **{f"base_{k}": v for k, v in to_arrays(dist.base).items()}}
    raise TypeError(f"cannot store a {type(dist).__name__}")


def from_arrays(arrays):
    """The distribution that :func:`to_arrays` stored."""
    kind = str(arrays["kind"])
    if kind == "normal":
        return Normal(arrays["loc"], arrays["scale"])
    if kind == "normal_mixture":
        bounds = None if np.isnan(arrays["bounds"]).any() else tuple(arrays["bounds"])
        return NormalMixture(arrays["weights"], arrays["loc"], arrays["scale"], bounds)
    if kind == "multivariate_normal_mixture":
        bounds = [None if np.isnan(b).any() else tuple(b) for b in arrays["bounds"]]
        return MultivariateNormalMixture(arrays["weights"], arrays["loc"],
                                         arrays["scale_tril"], bounds)
    if kind == "tabulated":
        return Tabulated(arrays["grid"], arrays["density"])
    if kind == "quantile_recalibrated":
        base = from_arrays({k[5:]: v for k, v in arrays.items() if k.startswith("base_")})
        return QuantileRecalibrated(base, (arrays["u"], arrays["v"]))
    raise ValueError(f"unknown stored distribution {kind!r}")


def _solve_lower(tril, b):
    """x with tril @ x = b, batched over leading axes (forward substitution; d is small)."""
    d = b.shape[-1]
    x = np.empty_like(b)
    for i in range(d):
        x[..., i] = (b[..., i] - np.sum(tril[..., i, :i] * x[..., :i], axis=-1)) / tril[..., i, i]
    return x
