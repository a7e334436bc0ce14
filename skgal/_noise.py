"""Noise steps: transformers that add a detector's noise to flux images.

Each galaxy's noise is drawn from its own generator, seeded by the step's
``random_state`` and a digest of that galaxy's noiseless image (all its channels).
So a galaxy's noise depends on the seed and on that galaxy alone: rendered alone or
inside any batch, for any ``n_jobs``, chunking or backend, it gets the same noise.
Two galaxies with identical noiseless images get identical noise: to draw many
noise realisations of one galaxy, pass ``seeds`` (one integer per row) to ``draw``.

This module imports nothing from skgal but ``_image_step``.
"""

import hashlib
import numbers

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_random_state

from ._image_step import ImageStep, check_images

__all__ = ["CCDNoise", "GaussianNoise", "GaussianSNRNoise"]


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

    def transform(self, X):
        """Noisy images, float32, of the shape of ``X``.

        Parameters
        ----------
        X : array-like of shape (n, height, width[, channels])
            Noiseless flux images.

        Returns
        -------
        ndarray of float32
        """
        return self.draw(X)[0]


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
            electrons = electrons + rng.normal(0.0, self.read_noise, X[k].shape)
            out[k] = electrons / gain - self.sky_level
        sigma = np.sqrt(self.sky_level / gain + (self.read_noise / gain) ** 2)
        return out, np.full(X.shape[0], sigma)


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
