"""The likelihood-fit peer: each image fitted with the exact forward model by nested
sampling, giving the posterior of ``q`` (and ``i``) marginalised over the rest.

What it computes. For one image ``d`` (flux per pixel), the model is the simulator's:
an inclined Sérsic disc with parameters ``I_e, R_e, n, q, i``, position angle and
centre offset, convolved with the PSF and averaged over each pixel (the Fourier
engine, :mod:`skgal._fourier`). The likelihood is Gaussian in each pixel, with the
variance of the noise step that made the image:

* :class:`~skgal.GaussianNoise`: ``sigma**2``, exact;
* :class:`~skgal.CorrelatedGaussianNoise`: the full covariance between pixels,
  exact: data and template are whitened by its Cholesky factor ``L`` (one triangular
  solve per call, about 1e6 operations for a 32 x 32 image), and ``-log det L`` is added;
* :class:`~skgal.CCDNoise`: ``(max(d, 0) + sky) / gain + (read_noise / gain)**2``, the
  variance estimated from the data as GALFIT's sigma image is; for the sky-dominated
  images of the named conditions the Poisson law is Gaussian to high accuracy.

The model is linear in ``I_e``, so ``I_e`` is marginalised analytically over its
uniform prior (a truncated Gaussian integral), or the total flux over its uniform
prior when the simulator has a ``flux_range``; the sampler explores the other
parameters, whose priors are the simulator's: uniform ``R_e``, ``n`` and ``q``;
isotropic or uniform ``i``; uniform position angle (a periodic parameter) and
offsets. The sampler is dynesty's static nested sampler with multi-ellipsoid bounds:
nested sampling follows every mode of the ``q``-``i`` degeneracy (a face-on thin disc
and an inclined thick one) instead of the one a chain starts in, and its evidence
and weights need no tuning of proposal scales.

The posterior samples of the targets become a predictive distribution, a kernel
density estimate in the logit space of the prior's bounds (one Gaussian per
resampled draw, Scott's bandwidth), so that it has ``logpdf``, ``cdf`` and the rest
like the network's heads and scores on the same footing.

This module sits beside the scikit-learn faces: it imports the simulator, the noise
steps and the engines below them, and nothing above.
"""

import math
import numbers
import time

import numpy as np
from joblib import Parallel, delayed
from scipy.linalg import solve_triangular
from scipy.special import log_ndtr
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from ._distributions import MultivariateNormalMixture, NormalMixture
from ._fourier import _Grids, render_psf
from ._image_step import check_images
from ._noise import CCDNoise, CorrelatedGaussianNoise, GaussianNoise, galaxy_generators
from ._profile import total_flux
from ._simulator import SersicGalaxySimulator

__all__ = ["LikelihoodFitRegressor", "marginal_intensity_loglike"]

#: targets a fit can report
TARGETS = ("q", "inclination")
_LOG_2PI = math.log(2.0 * math.pi)


def _log_diff_ndtr(upper, lower):
    """log(Phi(upper) - Phi(lower)) for upper > lower, without cancellation."""
    if lower > 0.0:  # both in the upper tail: use the survival functions
        a, b = log_ndtr(-lower), log_ndtr(-upper)
    else:
        a, b = log_ndtr(upper), log_ndtr(lower)
    return a + math.log1p(-math.exp(b - a)) if b < a else -math.inf


def marginal_intensity_loglike(data, template, weight, intensity_range):
    """Log-likelihood of an image, marginalised over ``I_e`` uniform in a range.

    The model is ``I_e * template`` with independent Gaussian pixel noise of inverse
    variance ``weight``:

        L = Int_a^b prod N(d | I T, 1 / w) dI / (b - a).

    With ``A = sum w d^2``, ``B = sum w d T``, ``C = sum w T^2`` and ``I* = B / C``,
    ``log L = -(A - B^2 / C) / 2 + log sqrt(2 pi / C) + log[Phi((b - I*) sqrt C) -
    Phi((a - I*) sqrt C)] - log(b - a) + sum log sqrt(w / 2 pi)``.

    Parameters
    ----------
    data, template, weight : ndarray of the same shape
        The image, the model at ``I_e = 1`` and the pixels' inverse variances.
    intensity_range : (float, float)
        The uniform prior of ``I_e``.

    Returns
    -------
    loglike : float
    best : float
        The maximum-likelihood ``I_e`` within the range.
    """
    a, b = intensity_range
    wt = weight * template
    big_a = float(np.sum(weight * data * data))
    big_b = float(np.sum(wt * data))
    big_c = float(np.sum(wt * template))
    if not big_c > 0.0:
        return -math.inf, a
    best = big_b / big_c
    root = math.sqrt(big_c)
    value = (-0.5 * (big_a - big_b * best) + 0.5 * (_LOG_2PI - math.log(big_c))
             + _log_diff_ndtr((b - best) * root, (a - best) * root) - math.log(b - a)
             + 0.5 * float(np.sum(np.log(weight))) - 0.5 * data.size * _LOG_2PI)
    return value, min(max(best, a), b)


class _Model:
    """The free parameters of one simulator, their prior transform, and the template."""

    def __init__(self, simulator, tolerance):
        inclinations, priors = simulator._check_settings()
        if simulator.psf is None:
            raise ValueError("simulator: the likelihood fit needs a PSF (simulator.psf is "
                             "None); observed images always have one")
        self.size = int(simulator.image_size)
        self.d = float(simulator.pixel_scale)
        self.sampling = simulator.sampling
        self.psf = simulator.psf
        self.tol = float(tolerance)
        # the light's prior: I_e uniform, or (flux_range) the total flux uniform; the
        # model is linear in either, so either is marginalised analytically
        self.flux_prior = priors["flux_range"] is not None
        self.intensity = priors["flux_range"] if self.flux_prior \
            else priors["intensity_range"]
        names, ranges = ["R_e", "n", "q"], [priors["effective_radius_range"],
                                             priors["sersic_index_range"],
                                             priors["flattening_range"]]
        self.fixed_inclination = None
        if isinstance(inclinations, str):
            self.inclination_law = inclinations
            names.append("inclination")
            ranges.append((0.0, 90.0))
        else:
            values = np.atleast_1d(np.asarray(inclinations, dtype=float))
            if values.size != 1:
                raise ValueError(
                    "simulator: the likelihood fit takes one image per galaxy, so "
                    "inclinations must be 'isotropic', 'uniform' or one angle; got "
                    f"{simulator.inclinations!r}")
            self.inclination_law = None
            self.fixed_inclination = float(values[0])
        self.fixed_pa = None
        if isinstance(simulator.position_angle, str):
            names.append("position_angle")
            ranges.append((0.0, 180.0))
        else:
            self.fixed_pa = float(simulator.position_angle)
        self.max_offset = float(simulator.max_offset)
        if self.max_offset > 0:
            names += ["x_offset", "y_offset"]
            ranges += [(-self.max_offset, self.max_offset)] * 2
        self.names = tuple(names)
        self.ranges = [tuple(map(float, r)) for r in ranges]
        self.index = {name: j for j, name in enumerate(self.names)}
        self.periodic = [self.index["position_angle"]] if "position_angle" in self.index \
            else None
        self.grids = None

    def prior_transform(self, u):
        x = np.empty_like(u)
        for j, (name, (lo, hi)) in enumerate(zip(self.names, self.ranges)):
            if name == "inclination" and self.inclination_law == "isotropic":
                x[j] = math.degrees(math.acos(min(1.0, 1.0 - u[j])))
            else:
                x[j] = lo + (hi - lo) * u[j]
        return x

    def unit(self, theta):
        """The brightness parameter's scale: ``I_e`` per unit of the marginalised one."""
        if not self.flux_prior:
            return 1.0
        ix = self.index
        return 1.0 / total_flux(1.0, theta[ix["R_e"]], theta[ix["n"]], theta[ix["q"]])

    def template(self, theta):
        """The image at a unit of the marginalised brightness: ``I_e = 1``, or a total
        flux of 1 with ``flux_range`` (float64, size x size)."""
        if self.grids is None:  # built lazily: a fitted estimator pickles small
            self.grids = _Grids(self.psf, self.d, floor=self.tol * 0.1)
        ix = self.index
        incl = theta[ix["inclination"]] if "inclination" in ix else self.fixed_inclination
        pa = theta[ix["position_angle"]] if "position_angle" in ix else self.fixed_pa
        ox = theta[ix["x_offset"]] if "x_offset" in ix else 0.0
        oy = theta[ix["y_offset"]] if "y_offset" in ix else 0.0
        one = np.ones(1)
        return render_psf(one * self.unit(theta), one * theta[ix["R_e"]], one * theta[ix["n"]],
                          one * theta[ix["q"]], one * incl, one * pa, one * ox, one * oy,
                          psf=self.psf, image_size=self.size, pixel_scale=self.d,
                          sampling=self.sampling, grids=self.grids, tol=self.tol)[0]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["grids"] = None
        return state


def _inverse_variance(image, noise):
    if isinstance(noise, GaussianNoise):
        return np.full(image.shape, 1.0 / float(noise.sigma) ** 2)
    gain = float(noise.gain)
    var = (np.maximum(image, 0.0) + noise.sky_level) / gain + (noise.read_noise / gain) ** 2
    # a pixel with no sky, no read noise and no counts still has one electron's variance
    return 1.0 / np.maximum(var, 1.0 / gain ** 2)


def _whitened(image, noise):
    """``(data, weight, factor, shift)`` of an image under its noise step.

    Independent pixels (``GaussianNoise``, ``CCDNoise``): the image, its inverse
    variances, no factor, no shift. Correlated ones (``CorrelatedGaussianNoise``, of
    covariance ``L L^T``): the image whitened, ``L^{-1} d``, unit weights, ``L``, and
    ``-log det L``, so that ``marginal_intensity_loglike(L^{-1} d, L^{-1} T, 1) + shift``
    is the exact Gaussian likelihood.
    """
    if isinstance(noise, CorrelatedGaussianNoise):
        factor = float(noise.sigma) * noise.cholesky(image.shape)
        data = solve_triangular(factor, image.ravel(), lower=True, check_finite=False)
        return data, np.ones(image.size), factor, -float(np.sum(np.log(np.diag(factor))))
    return image, _inverse_variance(image, noise), None, 0.0


def _image_loglike(model, theta, data, weight, factor, shift):
    """log L of the image (whitened by ``_whitened``) and its best ``I_e``, at ``theta``."""
    template = model.template(theta)
    if factor is not None:
        template = solve_triangular(factor, template.ravel(), lower=True, check_finite=False)
    value, best = marginal_intensity_loglike(data, template, weight, model.intensity)
    return value + shift, best


def _fit_one(model, image, noise, rng, n_live, dlogz, max_calls, sample, n_draws):
    import dynesty

    data, weight, factor, shift = _whitened(image, noise)

    def loglike(theta):
        return _image_loglike(model, theta, data, weight, factor, shift)[0]

    start = time.perf_counter()
    sampler = dynesty.NestedSampler(loglike, model.prior_transform, len(model.names),
                                    nlive=n_live, bound="multi", sample=sample,
                                    periodic=model.periodic, rstate=rng,
                                    # uniform draws need conservative (bootstrapped) bounds;
                                    # walks and slices do not, and save the calls
                                    bootstrap=None if sample == "unif" else 0)
    sampler.run_nested(dlogz=dlogz, maxcall=max_calls, print_progress=False)
    res = sampler.results
    seconds = time.perf_counter() - start
    logwt = res.logwt - res.logz[-1]
    weights = np.exp(logwt - np.max(logwt))
    weights /= weights.sum()
    draws = res.samples[rng.choice(len(weights), size=n_draws, p=weights)]
    best = res.samples[int(np.argmax(res.logl))]
    _, best_brightness = _image_loglike(model, best, data, weight, factor, shift)
    best_intensity = best_brightness * model.unit(best)
    ess = 1.0 / float(np.sum(weights ** 2))
    return dict(samples=draws, logz=float(res.logz[-1]), logz_err=float(res.logzerr[-1]),
                n_calls=int(np.sum(res.ncall)), seconds=seconds, ess=ess,
                best=np.concatenate([[best_intensity], best]), best_loglike=float(
                    np.max(res.logl)))


def _kde(samples, bounds):
    """Kernel density estimates (one Gaussian per draw, Scott's bandwidth) in the
    logit space of ``bounds``: samples (n, S, d) -> a mixture per galaxy."""
    n, s, d = samples.shape
    z = np.empty_like(samples)
    for j, (lo, hi) in enumerate(bounds):
        u = (samples[..., j] - lo) / (hi - lo)
        u = np.clip(u, 1e-9, 1.0 - 1e-9)
        z[..., j] = np.log(u) - np.log1p(-u)
    factor = s ** (-1.0 / (d + 4.0))
    weights = np.full((n, s), 1.0 / s)
    if d == 1:
        scale = factor * np.maximum(z[..., 0].std(axis=1, ddof=1), 1e-6)
        return NormalMixture(weights, z[..., 0], np.repeat(scale[:, None], s, axis=1),
                             bounds=bounds[0])
    tril = np.empty((n, s, d, d))
    for k in range(n):
        cov = np.atleast_2d(np.cov(z[k], rowvar=False)) + 1e-10 * np.eye(d)
        tril[k] = factor * np.linalg.cholesky(cov)
    return MultivariateNormalMixture(weights, z, tril, bounds=list(bounds))


class LikelihoodFitRegressor(RegressorMixin, BaseEstimator):
    """Posterior of ``q`` (and ``i``) from each image's exact likelihood: the Bayes
    limit that a network can at best reach when the model is right.

    Each image is fitted on its own with the simulator's forward model (render, PSF,
    pixel) and the noise step's likelihood, by nested sampling (dynesty) over the
    simulator's prior. ``I_e`` (or the total flux, with the simulator's
    ``flux_range``) is marginalised analytically; ``R_e``, ``n``, ``q``,
    the inclination, the position angle and the centre offset (those the simulator
    draws) are sampled. See the user guide, "Likelihood fit".

    Parameters
    ----------
    simulator : SersicGalaxySimulator
        The forward model and its prior: a PSF, one image channel, and the priors
        and draws (``inclinations``, ``position_angle``, ``max_offset``) that made the
        images. Its ``output`` is ignored: the fit takes flux images.
    noise : GaussianNoise, CorrelatedGaussianNoise or CCDNoise
        The noise step that made the images; its levels (and correlations) set the
        likelihood.
    targets : tuple of {"q", "inclination"}, default=("q",)
        What ``predict`` and ``predict_distribution`` report: ``q``, or ``q`` and the
        inclination (degrees) jointly.
    n_live : int, default=100
        Live points of the nested sampler.
    dlogz : float, default=0.5
        The sampler stops when the evidence left is below this (nats).
    max_calls : int, default=200_000
        At most this many likelihood evaluations per galaxy.
    sample : {"rwalk", "rslice", "unif"}, default="rwalk"
        dynesty's way of drawing a new live point: a random walk (or slice) from a live
        point within the likelihood bound, or uniform draws within the bounding
        ellipsoids (bootstrapped, so that they hold the whole contour, which is safe
        but slow here).
    n_draws : int, default=1000
        Posterior draws per galaxy behind the density estimate.
    tolerance : float, default=1e-3
        The Fourier engine's error bound, as a fraction of the face-on central surface
        brightness (the simulator uses 1e-9). The errors this gives are below 1e-5 of
        the image's peak (tested), far below any noise, at a third to a tenth of the
        cost (``benchmarks/bench_likelihood_render.py``). The simulator's own
        ``pixel_tolerance`` is not used here.
    n_jobs : int, default=None
        Galaxies fitted in parallel (joblib processes; dask through
        ``joblib.parallel_config(backend="dask")``). Results do not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seed of the sampler. Each galaxy's generator is derived from it and that
        galaxy's image, so a galaxy fitted alone gets the same posterior as in a batch.

    Attributes
    ----------
    parameter_names_ : tuple of str
        The sampled parameters, in order (``I_e`` is marginalised).
    n_targets_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import GaussianNoise, GaussianPSF, SersicGalaxySimulator
    >>> from skgal import LikelihoodFitRegressor
    >>> sim = SersicGalaxySimulator(image_size=16, psf=GaussianPSF(fwhm=2.0),
    ...                             output="flux", inclinations=(80.0,))
    >>> noise = GaussianNoise(sigma=0.01, random_state=0)
    >>> X = np.array([[0.5, 6.0, 1.0, 0.3]])               # I_e, R_e, n, q
    >>> images = noise.transform(sim.transform(X))
    >>> fit = LikelihoodFitRegressor(simulator=sim, noise=noise, n_live=25, dlogz=1.0,
    ...                              sample="unif", random_state=0).fit()  # quick, here
    >>> mean, std = fit.predict(images, return_std=True)
    >>> bool(abs(mean[0] - 0.3) < 3 * std[0] + 0.02)
    True
    """

    _parameter_constraints = {
        "simulator": [HasMethods(["sample", "transform"])],
        "noise": [HasMethods(["draw"])],
        "targets": [tuple, list],
        "n_live": [Interval(numbers.Integral, 10, None, closed="left")],
        "dlogz": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_calls": [Interval(numbers.Integral, 1, None, closed="left")],
        "sample": [str],
        "n_draws": [Interval(numbers.Integral, 10, None, closed="left")],
        "tolerance": [Interval(numbers.Real, 0, 0.1, closed="neither")],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, *, simulator=None, noise=None, targets=("q",), n_live=100,
                 dlogz=0.5, max_calls=200_000, sample="rwalk", n_draws=1000,
                 tolerance=1e-3, n_jobs=None, random_state=None):
        self.simulator = simulator
        self.noise = noise
        self.targets = targets
        self.n_live = n_live
        self.dlogz = dlogz
        self.max_calls = max_calls
        self.sample = sample
        self.n_draws = n_draws
        self.tolerance = tolerance
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Check the forward model and the targets. The fit learns nothing from data:
        each image is fitted when it is predicted.

        Parameters
        ----------
        X, y : ignored

        Returns
        -------
        self
        """
        if not isinstance(self.simulator, SersicGalaxySimulator):
            raise TypeError("simulator must be a SersicGalaxySimulator; got "
                            f"{type(self.simulator).__name__}")
        if not isinstance(self.noise, (GaussianNoise, CCDNoise, CorrelatedGaussianNoise)):
            raise TypeError("noise must be a GaussianNoise, a CorrelatedGaussianNoise or a "
                            "CCDNoise (the likelihood needs the pixels' covariance); got "
                            f"{type(self.noise).__name__}")
        self.noise._validate_params()
        if self.sample not in ("unif", "rwalk", "rslice"):
            raise ValueError("sample must be 'unif', 'rwalk' or 'rslice'; got "
                             f"{self.sample!r}")
        model = _Model(self.simulator, self.tolerance)
        targets = tuple(self.targets)
        bad = [t for t in targets if t not in TARGETS]
        if not targets or bad or len(set(targets)) != len(targets) or targets[0] != "q":
            raise ValueError(f"targets must be ('q',) or ('q', 'inclination'); got "
                             f"{self.targets!r}")
        if "inclination" in targets and "inclination" not in model.names:
            raise ValueError("targets: the inclination is a target only when the "
                             "simulator draws it (inclinations='isotropic' or 'uniform')")
        self._model = model
        self.parameter_names_ = model.names
        self.targets_ = targets
        self.n_targets_ = len(targets)
        self.target_bounds_ = [model.ranges[model.index[t]] for t in targets]
        return self

    def _images(self, X):
        X = check_images(X)
        if X.ndim == 4:
            if X.shape[-1] != 1:
                raise ValueError(f"X: one image channel per galaxy; got {X.shape[-1]}")
            X = X[..., 0]
        size = self._model.size
        if X.shape[1:] != (size, size):
            raise ValueError(f"X: images must be {size} x {size} pixels, the simulator's "
                             f"image_size; got {X.shape[1]} x {X.shape[2]}")
        return X.astype(np.float64)

    def sample_posterior(self, X):
        """Fit each image: posterior draws of every sampled parameter, and diagnostics.

        Parameters
        ----------
        X : array-like of shape (n, size, size) or (n, size, size, 1)
            Flux images (noisy, sky-subtracted), as the simulator and noise step make.

        Returns
        -------
        Bunch
            ``samples`` (n, n_draws, p) in the order of ``parameter_names_``;
            ``best`` (n, p + 1): the highest-likelihood parameters with ``I_e`` first;
            ``logz``, ``logz_err``, ``n_calls`` (likelihood evaluations), ``seconds``
            and ``ess`` (effective sample size), each of shape (n,).
        """
        check_is_fitted(self, "parameter_names_")
        images = self._images(X)
        rngs = galaxy_generators(images, self.random_state)
        fits = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_one)(self._model, image, self.noise,
                              rng, self.n_live, self.dlogz, self.max_calls, self.sample,
                              self.n_draws)
            for image, rng in zip(images, rngs))
        out = Bunch(names=self.parameter_names_)
        for key in fits[0]:
            out[key] = np.array([f[key] for f in fits])
        return out

    def distribution_from_samples(self, samples):
        """The predictive distribution of the targets from :meth:`sample_posterior`'s
        ``samples`` (n, n_draws, p)."""
        check_is_fitted(self, "parameter_names_")
        cols = [self._model.index[t] for t in self.targets_]
        return _kde(np.asarray(samples)[..., cols], self.target_bounds_)

    def predict_distribution(self, X):
        """The posterior of the targets for each image.

        Parameters
        ----------
        X : array-like of shape (n, size, size) or (n, size, size, 1)
            Flux images.

        Returns
        -------
        NormalMixture or MultivariateNormalMixture
            A density estimate of the posterior draws, in the logit space of the
            prior's bounds; joint over ``q`` and the inclination when both are targets.
        """
        return self.distribution_from_samples(self.sample_posterior(X).samples)

    def predict(self, X, return_std=False):
        """Posterior means (and standard deviations) of the targets.

        Parameters
        ----------
        X : array-like of shape (n, size, size) or (n, size, size, 1)
        return_std : bool, default=False

        Returns
        -------
        mean : ndarray of shape (n,) or (n, n_targets)
        std : ndarray, the shape of ``mean``
            Only with ``return_std=True``.
        """
        dist = self.predict_distribution(X)
        mean, std = dist.mean(), dist.std()
        return (mean, std) if return_std else mean

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.required = False
        tags.target_tags.multi_output = True
        tags.non_deterministic = False
        return tags
