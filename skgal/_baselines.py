"""Baselines that know little or nothing: the prior, and the classical inversion of
an apparent axis ratio (Hubble 1926), as functions and as estimators with
``predict(X, return_std=True)`` and ``predict_distribution``.

This module imports nothing from skgal but the predictive distributions and the image
check.
"""

import math
import numbers

import numpy as np
from scipy.ndimage import gaussian_filter, label
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import (_num_samples, check_array, check_consistent_length,
                                      check_is_fitted, column_or_1d, validate_data)

from ._distributions import Normal, Tabulated
from ._image_step import check_images

__all__ = ["KnownInclinationInversionRegressor", "MomentsInversionRegressor", "PriorBaseline",
           "apparent_axis_ratio", "classical_estimate", "classical_posterior",
           "prior_baseline", "projected_axis_ratio", "psf_moments",
           "second_moment_axis_ratio"]

_GRID = np.linspace(0.2, 1.0, 161)


def prior_baseline(q_train, n_test):
    """The prior: every galaxy gets the training mean and standard deviation of q.

    The baseline that knows nothing about the image; any useful model beats its NLL.
    For ``q`` uniform in [0.2, 1] its NLL is about ``log(0.231) + 1.42 = -0.05``.

    Parameters
    ----------
    q_train : array-like of shape (n_train,)
        Training values of ``q``.
    n_test : int
        Number of predictions.

    Returns
    -------
    mean, std : ndarray of shape (n_test,)

    Examples
    --------
    >>> from skgal.experiments import prior_baseline
    >>> mean, std = prior_baseline([0.2, 0.4, 0.6], 2)
    >>> mean.round(3), std.round(3)
    (array([0.4, 0.4]), array([0.163, 0.163]))
    """
    q_train = np.asarray(q_train, dtype=float)
    return np.full(n_test, q_train.mean()), np.full(n_test, q_train.std())


def apparent_axis_ratio(images, *, zero_point=25.0, magnitude_limit=35.0):
    """Axis ratio b/a of each image's second moments of light (Hubble 1926's input).

    The eigenvalues ``l1 >= l2`` of the flux-weighted second-moment matrix give
    ``b/a = sqrt(l2 / l1)``, whatever the position angle.

    Parameters
    ----------
    images : array-like of shape (n_images, H, W)
        Images in magnitudes per unit area.
    zero_point : float, default=25.0
        Magnitude of unit flux, as in :class:`skgal.SersicGalaxySimulator`.
    magnitude_limit : float, default=35.0
        Pixels at this magnitude (the simulator's floor) count as empty.

    Returns
    -------
    ndarray of shape (n_images,)
        Apparent axis ratios in [0, 1].

    Examples
    --------
    A face-on disc is round; the same galaxy seen edge-on is as thin as its light:

    >>> from skgal import SersicGalaxySimulator
    >>> from skgal.experiments import apparent_axis_ratio
    >>> sim = SersicGalaxySimulator(inclinations=(0.0, 90.0)).fit()
    >>> images = sim.transform([[1.0, 8.0, 1.0, 0.3]])  # I_e, R_e, n, q
    >>> face_on, edge_on = images[..., 0], images[..., 1]
    >>> apparent_axis_ratio(face_on).round(2), apparent_axis_ratio(edge_on).round(2)
    (array([1.]), array([0.26]))
    """
    images = np.asarray(images, dtype=float)
    flux = np.where(images < magnitude_limit - 1e-6, 10 ** (-0.4 * (images - zero_point)), 0.0)
    n, h, w = flux.shape
    y, x = np.mgrid[0:h, 0:w]
    total = flux.sum(axis=(1, 2))
    cx = (flux * x).sum(axis=(1, 2)) / total
    cy = (flux * y).sum(axis=(1, 2)) / total
    dx = x[None] - cx[:, None, None]
    dy = y[None] - cy[:, None, None]
    mxx = (flux * dx * dx).sum(axis=(1, 2)) / total
    myy = (flux * dy * dy).sum(axis=(1, 2)) / total
    mxy = (flux * dx * dy).sum(axis=(1, 2)) / total
    half_trace = 0.5 * (mxx + myy)
    root = np.sqrt((0.5 * (mxx - myy)) ** 2 + mxy ** 2)
    return np.sqrt(np.clip((half_trace - root) / (half_trace + root), 0.0, 1.0))


def classical_estimate(axis_ratio, inclination, *, q_range=(0.2, 1.0)):
    """Hubble (1926): q^2 = ((b/a)^2 - cos^2 i) / sin^2 i, clipped to the prior range.

    It inverts ``(b/a)^2 = cos^2 i + q^2 sin^2 i``, the apparent axis ratio of an oblate
    spheroid of axis ratio ``q`` seen at inclination ``i``.

    Parameters
    ----------
    axis_ratio : array-like
        Apparent axis ratios ``b/a`` (:func:`apparent_axis_ratio`).
    inclination : array-like
        Known inclinations, degrees.
    q_range : (float, float), default=(0.2, 1.0)
        The estimate is clipped to this range (the prior's).

    Returns
    -------
    ndarray
        Estimates of ``q``; NaN face-on (``sin i = 0``), where ``b/a`` says nothing.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal.experiments import classical_estimate
    >>> q, i = 0.4, np.array([0.0, 30.0, 60.0, 90.0])
    >>> ratio = np.sqrt(np.cos(np.radians(i)) ** 2 + q ** 2 * np.sin(np.radians(i)) ** 2)
    >>> classical_estimate(ratio, i)
    array([nan, 0.4, 0.4, 0.4])
    """
    i = np.radians(np.asarray(inclination, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        q2 = (np.asarray(axis_ratio) ** 2 - np.cos(i) ** 2) / np.sin(i) ** 2
    q = np.sqrt(np.clip(q2, q_range[0] ** 2, q_range[1] ** 2))
    return np.where(np.sin(i) > 1e-6, q, np.nan)


def psf_moments(psf, h=1e-3):
    """Second moments (Mxx, Myy, Mxy) of a PSF, pixels², from its transform at k = 0.

    ``M_ab = -d² P~ / dk_a dk_b`` at the origin (P~ normalised to 1 there), by central
    differences; for convolution, second moments add.
    """
    p = lambda kx, ky: float(np.real(psf.transform(np.array(kx), np.array(ky))))  # noqa: E731
    p0 = p(0.0, 0.0)
    mxx = -(p(h, 0.0) - 2 * p0 + p(-h, 0.0)) / (h * h) / p0
    myy = -(p(0.0, h) - 2 * p0 + p(0.0, -h)) / (h * h) / p0
    mxy = -(p(h, h) - p(h, -h) - p(-h, h) + p(-h, -h)) / (4 * h * h) / p0
    return mxx, myy, mxy


def second_moment_axis_ratio(images, sigma, psf_mom, smoothing=1.5, threshold=2.0):
    """Apparent axis ratio ``b/a`` of each noisy flux image, corrected for the PSF.

    The galaxy's pixels are the connected region, around the brightest pixel of the
    image smoothed by ``smoothing`` pixels, above ``threshold`` times the smoothed noise;
    the second moments of its light, minus the PSF's, give ``b/a = sqrt(l2 / l1)``.
    """
    images = np.asarray(images, dtype=float)
    n, h, w = images.shape
    yy, xx = np.mgrid[:h, :w]
    kernel_norm = 1.0 / (2.0 * math.sqrt(math.pi) * smoothing)  # smoothed white noise
    out = np.empty(n)
    for k in range(n):
        smooth = gaussian_filter(images[k], smoothing)
        labels, _ = label(smooth > threshold * sigma[k] * kernel_norm)
        peak = np.unravel_index(np.argmax(smooth), smooth.shape)
        mask = labels == labels[peak] if labels[peak] > 0 else smooth >= smooth[peak]
        f = np.where(mask, np.maximum(images[k], 0.0), 0.0)
        total = f.sum()
        cx, cy = (f * xx).sum() / total, (f * yy).sum() / total
        mxx = (f * (xx - cx) ** 2).sum() / total - psf_mom[0]
        myy = (f * (yy - cy) ** 2).sum() / total - psf_mom[1]
        mxy = (f * (xx - cx) * (yy - cy)).sum() / total - psf_mom[2]
        half, root = 0.5 * (mxx + myy), math.hypot(0.5 * (mxx - myy), mxy)
        out[k] = math.sqrt(min(max((half - root) / (half + root), 0.0), 1.0)) \
            if half > root else 0.0
    return out


def projected_axis_ratio(q, cos_i):
    """The apparent axis ratio of an oblate spheroid of axis ratio ``q`` seen at
    inclination ``i``: ``sqrt(cos² i + q² sin² i)``."""
    return np.sqrt(cos_i ** 2 + q ** 2 * (1.0 - cos_i ** 2))


def classical_posterior(ratio, scatter, grid=_GRID, n_cos=400):
    """The posterior of ``q`` given a measured axis ratio, on a grid.

    ``p(q | r) ∝ ∫ N(r; sqrt(cos² i + q² sin² i), scatter) d cos i`` with ``cos i``
    uniform (isotropic) and ``q`` uniform on the grid's range: the oblate spheroid's
    apparent axis ratio (Hubble 1926) with the measurement's Gaussian scatter.
    """
    cos_i = (np.arange(n_cos) + 0.5) / n_cos
    model = projected_axis_ratio(grid[:, None], cos_i[None, :])  # (grid, cos)
    r = np.asarray(ratio, dtype=float)[:, None, None]
    like = np.exp(-0.5 * ((r - model[None]) / scatter) ** 2).mean(axis=2)
    like = np.maximum(like, 1e-300 * (like.max(axis=1, keepdims=True) == 0))
    like[like.sum(axis=1) == 0] = 1.0
    return Tabulated(grid, like)


def _single_view_images(X):
    """Validated images (n, height, width) of one view per galaxy, from (n, h, w[, 1])."""
    X = check_images(X)
    if X.ndim == 4:
        if X.shape[-1] != 1:
            raise ValueError(f"X: one image channel per galaxy; got {X.shape[-1]}")
        X = X[..., 0]
    return X


class _ImageRegressor(RegressorMixin, BaseEstimator):
    """The scikit-learn tags of a regressor that takes one image per galaxy (3-D input)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


class PriorBaseline(RegressorMixin, BaseEstimator):
    """The prior as a regressor: every galaxy gets the same prediction, whatever its image.

    The baseline every model must beat. ``kind="gaussian"`` (the thesis's baseline) is the
    training targets' mean and standard deviation; ``kind="uniform"`` is the uniform
    density on ``bounds`` (the simulator's prior of ``q``), whose NLL is
    ``log(high - low)``.

    Parameters
    ----------
    kind : {"gaussian", "uniform"}, default="gaussian"
    bounds : (float, float), default=(0.2, 1.0)
        The uniform prior's support (``kind="uniform"``).

    Attributes
    ----------
    mean_, std_ : float

    Examples
    --------
    >>> import numpy as np
    >>> from skgal.experiments import PriorBaseline
    >>> prior = PriorBaseline().fit(np.zeros((3, 1)), [0.2, 0.4, 0.6])
    >>> mean, std = prior.predict(np.zeros((2, 1)), return_std=True)
    >>> mean.round(3), std.round(3)
    (array([0.4, 0.4]), array([0.163, 0.163]))
    >>> round(float(PriorBaseline(kind="uniform").fit([[0]], [0.5]).predict_distribution(
    ...     np.zeros((1, 1))).logpdf([0.5])[0]), 4)   # log(1 / 0.8)
    0.2231
    """

    _parameter_constraints = {"kind": [str], "bounds": [tuple, list]}

    def __init__(self, *, kind="gaussian", bounds=(0.2, 1.0)):
        self.kind = kind
        self.bounds = bounds

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Store the training targets' mean and standard deviation.

        Parameters
        ----------
        X : array-like of n rows
            Only counted (images, tables: anything with a length).
        y : array-like of shape (n,)

        Returns
        -------
        self
        """
        if self.kind not in ("gaussian", "uniform"):
            raise ValueError(f"kind must be 'gaussian' or 'uniform'; got {self.kind!r}")
        low, high = (float(b) for b in self.bounds)
        if not low < high:
            raise ValueError(f"bounds must be (low, high) with low < high; got {self.bounds!r}")
        # as scikit-learn's DummyRegressor: X is only counted, whatever it holds
        validate_data(self, X, skip_check_array=True)
        y = column_or_1d(check_array(y, ensure_2d=False, input_name="y"), warn=True)
        check_consistent_length(X, y)
        if self.kind == "gaussian":
            self.mean_, self.std_ = float(y.mean()), float(max(y.std(), 1e-12))
        else:
            self.mean_ = 0.5 * (low + high)
            self.std_ = (high - low) / math.sqrt(12.0)
        return self

    def _n(self, X):
        return _num_samples(X)

    def predict_distribution(self, X):
        """The prior, once per row of ``X``: a Normal, or a Tabulated uniform."""
        check_is_fitted(self, "mean_")
        n = self._n(X)
        if self.kind == "gaussian":
            return Normal(np.full(n, self.mean_), np.full(n, self.std_))
        return Tabulated(np.asarray(self.bounds, dtype=float), np.ones((n, 2)))

    def predict(self, X, return_std=False):
        """The prior's mean (and standard deviation) for every row of ``X``."""
        check_is_fitted(self, "mean_")
        n = self._n(X)
        mean, std = np.full(n, self.mean_), np.full(n, self.std_)
        return (mean, std) if return_std else mean

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.regressor_tags.poor_score = True
        tags.no_validation = True
        return tags


class MomentsInversionRegressor(_ImageRegressor):
    """The classical inversion as a regressor: an axis ratio from second moments
    measured through the PSF, turned into a posterior of ``q`` for an oblate spheroid
    seen at an unknown, isotropic inclination.

    ``fit`` measures the axis ratios of training (or validation) images and takes the
    scatter ``s`` of the measurement about the true projected ratio
    (:func:`projected_axis_ratio` of each galaxy's ``q`` and inclination); ``predict``
    gives ``p(q | b/a) ∝ ∫ N(b/a; sqrt(cos² i + q² sin² i), s) d cos i`` on a grid
    (:func:`classical_posterior`).

    Parameters
    ----------
    psf : PSF
        The images' PSF, in pixels; its second moments are subtracted.
    noise_sigma : float
        The noise of an empty pixel, in the images' unit: it sets the threshold of the
        galaxy's pixels.
    flattening_range : (float, float), default=(0.2, 1.0)
        The uniform prior of ``q`` (the grid's range).

    Attributes
    ----------
    scatter_ : float
        The axis ratio's measurement scatter.
    psf_moments_ : tuple of float
    """

    _parameter_constraints = {
        "psf": [HasMethods(["transform"])],
        "noise_sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "flattening_range": [tuple, list],
    }

    def __init__(self, *, psf=None, noise_sigma=1.0, flattening_range=(0.2, 1.0)):
        self.psf = psf
        self.noise_sigma = noise_sigma
        self.flattening_range = flattening_range

    def _ratios(self, X):
        X = _single_view_images(X)
        return second_moment_axis_ratio(X, np.full(len(X), float(self.noise_sigma)),
                                        self.psf_moments_)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Measure the axis ratio's scatter on galaxies of known ``q`` and inclination.

        Parameters
        ----------
        X : array-like of shape (n, height, width[, 1])
            Noisy flux images.
        y : array-like of shape (n, 2)
            ``q`` and the inclination (degrees) of each galaxy.

        Returns
        -------
        self
        """
        y = np.asarray(y, dtype=float)
        if y.ndim != 2 or y.shape[1] != 2:
            raise ValueError(f"y must be (n, 2): q and the inclination; got shape {y.shape}")
        self.psf_moments_ = psf_moments(self.psf)
        ratio = self._ratios(X)
        truth = projected_axis_ratio(y[:, 0], np.cos(np.radians(y[:, 1])))
        self.scatter_ = max(float(np.std(ratio - truth)), 1e-3)
        return self

    def predict_distribution(self, X):
        """The posterior of ``q`` of each image, on a grid (a :class:`~skgal.Tabulated`)."""
        check_is_fitted(self, "scatter_")
        grid = np.linspace(*(float(v) for v in self.flattening_range), 161)
        return classical_posterior(self._ratios(X), self.scatter_, grid=grid)

    def predict(self, X, return_std=False):
        """Posterior means (and standard deviations) of ``q``."""
        dist = self.predict_distribution(X)
        return (dist.mean(), dist.std()) if return_std else dist.mean()


class KnownInclinationInversionRegressor(_ImageRegressor):
    """The classical inversion at a known inclination (Hubble 1926), as a regressor: the
    thesis-era baseline of ``skgal reproduce``, whose protocol knows each view's angle.

    Each image's apparent axis ratio (:func:`apparent_axis_ratio`, from magnitudes) is
    inverted with the galaxy's inclination (:func:`classical_estimate`). The spread is
    the standard deviation of the estimate's error on the training galaxies. Face-on,
    where the axis ratio says nothing about ``q``, the prediction is the prior: the
    training targets' mean and standard deviation.

    Parameters
    ----------
    zero_point, magnitude_limit : float, default=25.0, 35.0
        The images' photometry (:func:`apparent_axis_ratio`).
    flattening_range : (float, float), default=(0.2, 1.0)
        The estimate is clipped to this range (the prior's).

    Attributes
    ----------
    scatter_ : float
        The estimate's error spread on the training galaxies (at least 1e-3).
    prior_mean_, prior_std_ : float
        The training targets' mean and standard deviation (the face-on answer).

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import SersicGalaxySimulator
    >>> from skgal.experiments import KnownInclinationInversionRegressor
    >>> sim = SersicGalaxySimulator(image_size=32, inclinations=(60,), sampling="center")
    >>> X, q = sim.sample(40, random_state=0)
    >>> images, i = sim.fit_transform(X), np.full(40, 60.0)
    >>> reg = KnownInclinationInversionRegressor().fit(images[:30], q[:30], inclination=i[:30])
    >>> mean, std = reg.predict(images[30:], inclination=i[30:], return_std=True)
    >>> bool(np.sqrt(np.mean((mean - q[30:]) ** 2)) < 2 * reg.prior_std_)
    True
    """

    _parameter_constraints = {
        "zero_point": [Interval(numbers.Real, None, None, closed="neither")],
        "magnitude_limit": [Interval(numbers.Real, None, None, closed="neither")],
        "flattening_range": [tuple, list],
    }

    def __init__(self, *, zero_point=25.0, magnitude_limit=35.0, flattening_range=(0.2, 1.0)):
        self.zero_point = zero_point
        self.magnitude_limit = magnitude_limit
        self.flattening_range = flattening_range

    def _estimates(self, X, inclination):
        X = _single_view_images(X)
        if inclination is None:
            raise TypeError("inclination: the inversion needs each galaxy's inclination "
                            "(degrees); got None")
        inclination = np.asarray(inclination, dtype=float).reshape(-1)
        if inclination.shape != (len(X),) or not np.all((inclination >= 0)
                                                         & (inclination <= 90)):
            raise ValueError(f"inclination: one angle in [0, 90] degrees per image "
                             f"({len(X)}); got {inclination.shape[0]} values in "
                             f"[{inclination.min(initial=np.nan):g}, "
                             f"{inclination.max(initial=np.nan):g}]")
        ratio = apparent_axis_ratio(X, zero_point=self.zero_point,
                                    magnitude_limit=self.magnitude_limit)
        return classical_estimate(ratio, inclination,
                                  q_range=tuple(float(v) for v in self.flattening_range))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, inclination=None):
        """Measure the estimate's error spread on galaxies of known ``q``.

        Parameters
        ----------
        X : array-like of shape (n, height, width[, 1])
            Images in magnitudes, one view per galaxy.
        y : array-like of shape (n,)
            The galaxies' ``q``.
        inclination : array-like of shape (n,)
            Each view's inclination, degrees.

        Returns
        -------
        self
        """
        y = column_or_1d(check_array(y, ensure_2d=False, input_name="y"), warn=True)
        y = y.astype(np.float64)
        estimate = self._estimates(X, inclination)
        check_consistent_length(estimate, y)
        self.prior_mean_, self.prior_std_ = float(y.mean()), float(y.std())
        known = np.isfinite(estimate)
        spread = float(np.std(estimate[known] - y[known])) if known.any() else self.prior_std_
        self.scatter_ = max(spread, 1e-3)
        return self

    def predict_distribution(self, X, *, inclination=None):
        """A Normal for each image: the estimate and the training spread, or the prior
        face-on."""
        check_is_fitted(self, "scatter_")
        estimate = self._estimates(X, inclination)
        known = np.isfinite(estimate)
        return Normal(np.where(known, estimate, self.prior_mean_),
                      np.where(known, self.scatter_, self.prior_std_))

    def predict(self, X, *, inclination=None, return_std=False):
        """Estimates of ``q`` (and their standard deviations)."""
        dist = self.predict_distribution(X, inclination=inclination)
        return (dist.mean(), dist.std()) if return_std else dist.mean()
