"""Noise steps: transformers that add a detector's noise to flux images.

Each galaxy's noise is drawn from its own generator, seeded by the step's
``random_state`` and a digest of that galaxy's noiseless image (all its channels).
So a galaxy's noise depends on the seed and on that galaxy alone: rendered alone or
inside any batch, for any ``n_jobs``, chunking or backend, it gets the same noise.
Two galaxies with identical noiseless images get identical noise: to draw many
noise realisations of one galaxy, pass ``seeds`` (one integer per row, a parameter
table's ``seed`` column) to ``transform`` or ``draw``.

This module imports nothing from skgal but ``_image_step``.
"""

import hashlib
import numbers

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_random_state

from ._image_step import ImageStep, check_images

__all__ = ["CCDNoise", "CorrelatedGaussianNoise", "GaussianNoise", "GaussianSNRNoise"]


def _base_seed(random_state):
    """An int from ``random_state``: fixed for an int, drawn once per call otherwise."""
    if isinstance(random_state, numbers.Integral):
        return int(random_state) % 2**32
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(check_random_state(random_state).randint(0, 2**32 - 1))


def galaxy_generators(X, random_state, seeds=None):
    """One :class:`numpy.random.Generator` per galaxy (row of ``X``).

    Seeded by ``random_state`` and either the galaxy's entry of ``seeds`` or, by
    default, a BLAKE2 digest of its image bytes (as float32, so float32 and float64
    copies of one image agree).
    """
    base = _base_seed(random_state)
    if seeds is not None:
        seeds = np.asarray(seeds)
        if seeds.shape != (X.shape[0],) or not np.issubdtype(seeds.dtype, np.integer) \
                or np.any(seeds < 0):
            raise ValueError(f"seeds must be {X.shape[0]} integers >= 0, one per galaxy; "
                             f"got shape {seeds.shape} and dtype {seeds.dtype}")
        return [np.random.default_rng(np.random.SeedSequence([base, 1, int(s)]))
                for s in seeds]
    rows = np.ascontiguousarray(X, dtype=np.float32)
    out = []
    for row in rows:
        digest = hashlib.blake2b(row.tobytes(), digest_size=16).digest()
        words = np.frombuffer(digest, dtype=np.uint32)
        out.append(np.random.default_rng(np.random.SeedSequence([base, 0, *words.tolist()])))
    return out


class _NoiseStep(ImageStep):
    """A noise step: ``draw`` returns the noisy images and the noise level."""

    def transform(self, X, seeds=None):
        """Noisy images, float32, of the shape of ``X``.

        Parameters
        ----------
        X : array-like of shape (n, height, width[, channels])
            Noiseless flux images.
        seeds : array-like of int of shape (n,), default=None
            Each galaxy's own seed (a parameter table's ``seed`` column), used with
            ``random_state`` instead of its image. Inside a Pipeline it is metadata:
            with ``sklearn.set_config(enable_metadata_routing=True)`` and
            ``step.set_transform_request(seeds=True)``, ``pipeline.transform(table,
            seeds=table["seed"])`` passes it here.

        Returns
        -------
        ndarray of float32
        """
        return self.draw(X, seeds)[0]

    def fit_transform(self, X, y=None, seeds=None):
        """``fit(X).transform(X, seeds)``: the step learns nothing."""
        return self.fit(X).transform(X, seeds)

    def empty_pixel_sigma(self):
        """The noise's standard deviation in a pixel with no light, in the images' unit.

        No pixel's noise is smaller, so an error far below it is lost in every pixel
        (a render's ``pixel_tolerance`` can be set by it). ``None`` where the level
        depends on the image.

        Returns
        -------
        float or None
        """
        self._validate_params()
        return self._empty_pixel_sigma()

    def _empty_pixel_sigma(self):
        return float(self.sigma)


class CCDNoise(_NoiseStep):
    """Photon noise from the galaxy and the sky, and read noise, as a CCD records them.

    The images are taken to be in ADU per pixel. Each pixel's electrons are
    Poisson-distributed with mean ``gain * (image + sky_level)``; read noise, Gaussian
    with ``read_noise`` electrons, is added; the result is converted back to ADU and
    the sky is subtracted. So the output is a sky-subtracted image whose variance is
    ``(image + sky_level) / gain + (read_noise / gain)**2`` ADU², as GalSim's
    ``CCDNoise`` has it.

    Parameters
    ----------
    sky_level : float, default=0.0
        Sky background, ADU per pixel, >= 0.
    gain : float, default=1.0
        Electrons per ADU, > 0.
    read_noise : float, default=0.0
        Read noise, electrons (RMS) per pixel, >= 0.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise. With an int, each galaxy's noise is a fixed function of
        the seed and of that galaxy's image.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import CCDNoise
    >>> flat = np.full((1, 100, 100), 50.0)  # 50 ADU per pixel
    >>> noisy, sigma = CCDNoise(sky_level=150.0, gain=2.0, read_noise=4.0,
    ...                         random_state=0).draw(flat)
    >>> float(sigma[0])  # the sky's noise: sqrt(150 / 2 + (4 / 2)**2)
    8.888194417315589
    >>> bool(abs(noisy.std() - np.sqrt(200 / 2 + 4)) < 0.3)
    True
    """

    _parameter_constraints = {
        "sky_level": [Interval(numbers.Real, 0, None, closed="left")],
        "gain": [Interval(numbers.Real, 0, None, closed="neither")],
        "read_noise": [Interval(numbers.Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, sky_level=0.0, gain=1.0, read_noise=0.0, random_state=None):
        self.sky_level = sky_level
        self.gain = gain
        self.read_noise = read_noise
        self.random_state = random_state

    def draw(self, X, seeds=None):
        """Noisy images and each galaxy's background noise level.

        Parameters
        ----------
        X : array-like of shape (n, height, width[, channels])
            Noiseless images, ADU per pixel, >= 0.
        seeds : array-like of int of shape (n,), default=None
            Each galaxy's own seed, used with ``random_state`` instead of its image.

        Returns
        -------
        noisy : ndarray of float32, the shape of ``X``
            Sky-subtracted noisy images, ADU per pixel.
        sigma : ndarray of shape (n,)
            The noise of an empty pixel, ``sqrt(sky_level / gain + (read_noise /
            gain)**2)`` ADU: the same for every galaxy.
        """
        self._validate_params()
        X = check_images(X)
        if np.any(X < 0):
            raise ValueError("X: CCDNoise needs noiseless images >= 0 (a Poisson mean); "
                             f"the lowest pixel is {float(X.min())!r}")
        gain = float(self.gain)
        out = np.empty(X.shape, dtype=np.float32)
        for k, rng in enumerate(galaxy_generators(X, self.random_state, seeds)):
            electrons = rng.poisson(gain * (X[k].astype(np.float64) + self.sky_level))
            if self.read_noise > 0:  # normal(0, 0) is 0: the same images without the draw
                electrons = electrons + rng.normal(0.0, self.read_noise, X[k].shape)
            out[k] = electrons / gain - self.sky_level
        return out, np.full(X.shape[0], self._empty_pixel_sigma())

    def _empty_pixel_sigma(self):
        gain = float(self.gain)
        return float(np.sqrt(self.sky_level / gain + (self.read_noise / gain) ** 2))


class GaussianSNRNoise(_NoiseStep):
    """Gaussian noise set by each galaxy's signal-to-noise ratio.

    The definition is GREAT08's (Bridle et al. 2009, eq. 14): the signal-to-noise
    ratio of an image ``I`` with white Gaussian noise ``sigma`` is that of a
    matched filter, ``nu = sqrt(sum_pixels I**2) / sigma``. Each image (each channel
    of a galaxy) gets ``sigma = sqrt(sum I**2) / nu``.

    Parameters
    ----------
    snr : float or (float, float), default=(10.0, 100.0)
        ``nu`` of every galaxy, or a range ``(min, max)`` from which each galaxy's
        ``nu`` is drawn log-uniformly. All values > 0.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws. With an int, each galaxy's noise is a fixed function of
        the seed and of that galaxy's image.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import GaussianSNRNoise
    >>> image = np.ones((1, 64, 64))
    >>> noisy, sigma = GaussianSNRNoise(snr=20.0, random_state=0).draw(image)
    >>> float(sigma[0])  # sqrt(4096) / 20
    3.2
    """

    _parameter_constraints = {
        "snr": [Interval(numbers.Real, 0, None, closed="neither"), "array-like"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, snr=(10.0, 100.0), random_state=None):
        self.snr = snr
        self.random_state = random_state

    def _snr_range(self):
        if isinstance(self.snr, numbers.Real):
            return float(self.snr), float(self.snr)
        try:
            lo, hi = (float(v) for v in self.snr)
        except (TypeError, ValueError):
            raise TypeError(f"snr must be a number or a pair (min, max); got {self.snr!r}") \
                from None
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
            raise ValueError(f"snr must be > 0, as a pair with 0 < min <= max; got {self.snr!r}")
        return lo, hi

    def _empty_pixel_sigma(self):
        return None  # each image's own: sqrt(sum I^2) / nu

    def draw(self, X, seeds=None):
        """Noisy images and each galaxy's noise levels.

        Parameters
        ----------
        X : array-like of shape (n, height, width[, channels])
            Noiseless flux images.
        seeds : array-like of int of shape (n,), default=None
            Each galaxy's own seed, used with ``random_state`` instead of its image.

        Returns
        -------
        noisy : ndarray of float32, the shape of ``X``
        sigma : ndarray of shape (n,) or (n, channels)
            The noise of each image (per channel when ``X`` has channels), in the
            images' unit.
        """
        self._validate_params()
        lo, hi = self._snr_range()
        X = check_images(X)
        channels = X.shape[3:]  # () or (c,)
        out = np.empty(X.shape, dtype=np.float32)
        sigma = np.empty((X.shape[0],) + channels)
        for k, rng in enumerate(galaxy_generators(X, self.random_state, seeds)):
            nu = lo if lo == hi else float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            image = X[k].astype(np.float64)
            power = np.sqrt(np.sum(image ** 2, axis=(0, 1)))
            if np.any(power == 0):
                raise ValueError(f"X: image {k} is empty, so no noise level follows from a "
                                 "signal-to-noise ratio")
            sigma[k] = power / nu
            out[k] = image + rng.standard_normal(image.shape) * sigma[k]
        return out, sigma


class GaussianNoise(_NoiseStep):
    """White Gaussian noise of a fixed level, as in sky-dominated, drizzled images.

    Parameters
    ----------
    sigma : float
        The noise's standard deviation per pixel, in the images' unit, > 0.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise. With an int, each galaxy's noise is a fixed function of
        the seed and of that galaxy's image.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import GaussianNoise
    >>> noisy, sigma = GaussianNoise(sigma=0.5, random_state=0).draw(np.zeros((1, 64, 64)))
    >>> float(sigma[0]), bool(abs(noisy.std() - 0.5) < 0.02)
    (0.5, True)
    """

    _parameter_constraints = {
        "sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, sigma=1.0, random_state=None):
        self.sigma = sigma
        self.random_state = random_state

    def draw(self, X, seeds=None):
        """Noisy images and each galaxy's noise level (``sigma``).

        Parameters
        ----------
        X : array-like of shape (n, height, width[, channels])
            Noiseless images.
        seeds : array-like of int of shape (n,), default=None
            Each galaxy's own seed, used with ``random_state`` instead of its image.

        Returns
        -------
        noisy : ndarray of float32, the shape of ``X``
        sigma : ndarray of shape (n,)
        """
        self._validate_params()
        X = check_images(X)
        out = np.empty(X.shape, dtype=np.float32)
        for k, rng in enumerate(galaxy_generators(X, self.random_state, seeds)):
            out[k] = X[k] + self.sigma * rng.standard_normal(X[k].shape)
        return out, np.full(X.shape[0], float(self.sigma))


def _correlation_array(correlation):
    """``correlation`` checked: a square array of odd side, 1 at the centre, the same
    turned by 180 degrees (the covariance is symmetric), every value in [-1, 1]."""
    try:
        rho = np.asarray(correlation, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"correlation must be a 2-D array of numbers; got "
                        f"{type(correlation).__name__}") from None
    if (rho.ndim != 2 or rho.shape[0] != rho.shape[1] or rho.shape[0] % 2 == 0
            or not np.all(np.isfinite(rho))):
        raise ValueError(f"correlation must be a finite square array of odd side (lags "
                         f"-r..r along each axis); got shape {rho.shape}")
    r = rho.shape[0] // 2
    if not np.isclose(rho[r, r], 1.0) or np.any(np.abs(rho) > 1.0 + 1e-12):
        raise ValueError(f"correlation must be 1 at its centre and within [-1, 1]; got "
                         f"{rho[r, r]!r} at the centre and {np.abs(rho).max()!r} at most")
    if not np.allclose(rho, rho[::-1, ::-1]):
        raise ValueError("correlation must be symmetric under a turn of 180 degrees "
                         "(rho(dy, dx) = rho(-dy, -dx)), as a covariance is")
    return rho


def correlated_covariance(correlation, shape):
    """The covariance matrix, (h w, h w), of noise of unit variance with the correlation
    ``correlation[r + dy, r + dx]`` at lag ``(dy, dx)`` (0 beyond ``r``), over an image
    of ``shape = (h, w)`` in C order."""
    rho = _correlation_array(correlation)
    r = rho.shape[0] // 2
    h, w = shape
    y, x = np.divmod(np.arange(h * w), w)
    dy = y[:, None] - y[None, :]
    dx = x[:, None] - x[None, :]
    inside = (np.abs(dy) <= r) & (np.abs(dx) <= r)
    cov = np.zeros((h * w, h * w))
    cov[inside] = rho[(dy + r)[inside], (dx + r)[inside]]
    return cov


def positive_definite_correlation(correlation, shape, floor=1e-3):
    """The nearest valid correlation to a measured one, over every lag of an image.

    A correlation measured at a few lags need not be one that any noise has: on a
    stamp its covariance matrix can have negative eigenvalues (most of the AEGIS
    measurements do). This clips its power spectrum, on a periodic grid at least four
    times the image's side, at ``floor`` times the spectrum's peak, and returns the
    correlation of that spectrum at every lag the image holds. The image's covariance
    is then a principal submatrix of a positive definite circulant, so positive
    definite; at the measured lags it moves by about the negative power clipped.

    Parameters
    ----------
    correlation : array-like of shape (2 r + 1, 2 r + 1)
        By lag ``(dy, dx)``, 1 at the centre (:func:`skgal.datasets.noise_correlation`).
    shape : (int, int)
        The images' ``(height, width)``.
    floor : float, default=1e-3
        The smallest power kept, relative to the peak (> 0): it bounds the covariance's
        condition number.

    Returns
    -------
    ndarray of shape (2 s - 1, 2 s - 1), ``s = max(shape)``

    Examples
    --------
    >>> import numpy as np
    >>> from skgal.datasets import positive_definite_correlation
    >>> rho = [[0.3, 0.55, 0.3], [0.55, 1.0, 0.55], [0.3, 0.55, 0.3]]  # not valid
    >>> valid = positive_definite_correlation(rho, (16, 16))
    >>> valid.shape, bool(abs(valid[15, 16] - 0.55) < 0.1)
    ((31, 31), True)
    """
    rho = _correlation_array(correlation)
    if not (isinstance(floor, numbers.Real) and 0 < floor < 1):
        raise ValueError(f"floor must be in (0, 1); got {floor!r}")
    r = rho.shape[0] // 2
    side = int(max(shape))
    m = int(2 ** np.ceil(np.log2(4 * max(side, r + 1))))
    grid = np.zeros((m, m))
    lags = np.arange(-r, r + 1) % m
    grid[np.ix_(lags, lags)] = rho
    power = np.fft.fft2(grid).real  # real: the correlation is symmetric
    power = np.maximum(power, floor * power.max())
    back = np.fft.ifft2(power).real
    back /= back[0, 0]
    keep = np.arange(-(side - 1), side) % m
    out = back[np.ix_(keep, keep)]
    out = 0.5 * (out + out[::-1, ::-1])
    out[side - 1, side - 1] = 1.0
    return out


_CHOLESKY = {}


def correlated_cholesky(correlation, shape):
    """The lower Cholesky factor of :func:`correlated_covariance`, cached per
    correlation and shape (a 64 x 64 image takes a second and 128 MB)."""
    rho = _correlation_array(correlation)
    key = (rho.tobytes(), rho.shape, tuple(int(s) for s in shape))
    if key not in _CHOLESKY:
        try:
            factor = np.linalg.cholesky(correlated_covariance(rho, shape))
        except np.linalg.LinAlgError:
            raise ValueError(
                "correlation is not a valid covariance on this image (not positive "
                "definite): a correlation measured at a few lags can exceed what any "
                "noise has; shrink the off-centre values") from None
        if len(_CHOLESKY) > 4:  # a few shapes at most
            _CHOLESKY.clear()
        _CHOLESKY[key] = factor
    return _CHOLESKY[key]


class CorrelatedGaussianNoise(_NoiseStep):
    """Gaussian noise correlated between neighbouring pixels, as drizzling leaves it.

    Drizzled HST images share each detector pixel's noise among the output pixels it
    overlaps, so the noise of neighbours is correlated (by 0.4-0.5 in the AEGIS stamps,
    :func:`skgal.datasets.noise_correlation`). This draws stationary Gaussian noise
    with exactly the covariance ``sigma**2 * correlation[r + dy, r + dx]`` between
    pixels ``(dy, dx)`` apart (0 beyond the array's half-width ``r``), from the
    Cholesky factor of the image's covariance matrix; each channel gets its own noise.
    :class:`skgal.LikelihoodFitRegressor` takes this step and uses the same covariance.

    Parameters
    ----------
    sigma : float
        Standard deviation per pixel, in the images' unit, > 0.
    correlation : array-like of shape (2 r + 1, 2 r + 1)
        Correlation coefficients by lag ``(dy, dx)``, 1 at the centre and symmetric
        under a turn of 180 degrees (the ``correlation`` that
        :func:`skgal.datasets.noise_correlation` measures). It must be positive
        definite on the images' grid.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise. With an int, each galaxy's noise is a fixed function of
        the seed and of that galaxy's image.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import CorrelatedGaussianNoise
    >>> rho = [[0.0, 0.2, 0.0], [0.2, 1.0, 0.2], [0.0, 0.2, 0.0]]
    >>> noise = CorrelatedGaussianNoise(sigma=0.5, correlation=rho, random_state=0)
    >>> noisy, sigma = noise.draw(np.zeros((20, 16, 16)), seeds=np.arange(20))
    >>> float(sigma[0]), bool(abs(noisy.std() - 0.5) < 0.02)
    (0.5, True)
    >>> lag1 = np.mean(noisy[:, :, 1:] * noisy[:, :, :-1]) / noisy.var()
    >>> bool(abs(lag1 - 0.2) < 0.03)
    True
    """

    _parameter_constraints = {
        "sigma": [Interval(numbers.Real, 0, None, closed="neither")],
        "correlation": ["array-like"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, sigma=1.0, correlation=((1.0,),), random_state=None):
        self.sigma = sigma
        self.correlation = correlation
        self.random_state = random_state

    def cholesky(self, shape):
        """The lower Cholesky factor of the unit-variance covariance over ``shape``."""
        return correlated_cholesky(self.correlation, shape)

    def draw(self, X, seeds=None):
        """Noisy images and each galaxy's noise level (``sigma``).

        Parameters
        ----------
        X : array-like of shape (n, height, width[, channels])
            Noiseless images.
        seeds : array-like of int of shape (n,), default=None
            Each galaxy's own seed, used with ``random_state`` instead of its image.

        Returns
        -------
        noisy : ndarray of float32, the shape of ``X``
        sigma : ndarray of shape (n,)
        """
        self._validate_params()
        X = check_images(X)
        factor = self.cholesky(X.shape[1:3])
        channels = X.shape[3] if X.ndim == 4 else 1
        out = np.empty(X.shape, dtype=np.float32)
        for k, rng in enumerate(galaxy_generators(X, self.random_state, seeds)):
            # one matrix-vector product per image: the same noise in any batch
            z = rng.standard_normal((channels, factor.shape[0]))
            noise = np.stack([factor @ z[c] for c in range(channels)], axis=-1)
            out[k] = X[k] + self.sigma * noise.reshape(X.shape[1:3] + (channels,)).reshape(
                X[k].shape)
        return out, np.full(X.shape[0], float(self.sigma))
