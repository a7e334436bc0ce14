"""Alignment: each image moved to its light's centre and turned to its major axis.

A galaxy's position angle and centre offset say nothing about its ``q`` or its
inclination, yet a network must learn to ignore them from examples. This step removes
them before the network sees the image: it measures each image's centre and
orientation by adaptive (elliptical Gaussian-weighted) moments, as Bernstein & Jarvis
(2002) do for shear, and resamples the image so that the centre is the stamp's centre
and the major axis runs along the rows (the ``x`` axis, left to right). What is left
for the network is the shape and the profile: ``q``, the inclination, ``n``, ``R_e``
and the brightness.

This module imports nothing from skgal but ``_image_step``.
"""

import math
import numbers

import numpy as np
from numba import njit
from sklearn.utils._param_validation import Interval, Options

from ._image_step import ImageStep, check_images

__all__ = ["AlignToMajorAxis", "adaptive_moments"]


@njit(cache=True, nogil=True)
def _moments_one(image, n_iter, s0, lo, out_centre, out_cov):
    h, w = image.shape
    xc, yc = (w - 1) / 2.0, (h - 1) / 2.0
    hi = max(lo, (min(h, w) / 2.0) ** 2)
    half = (min(h, w) - 1) / 2.0
    mx, my = 0.0, 0.0
    cxx, cxy, cyy = s0 * s0, 0.0, s0 * s0
    for _ in range(n_iter):
        det = cxx * cyy - cxy * cxy
        ixx, ixy, iyy = cyy / det, -cxy / det, cxx / det
        s = sx = sy = sxx = sxy = syy = 0.0
        for r in range(h):
            dy = r - yc - my
            for c in range(w):
                dx = c - xc - mx
                wi = math.exp(-0.5 * (ixx * dx * dx + 2.0 * ixy * dx * dy + iyy * dy * dy))
                wi *= image[r, c]
                s += wi
                sx += wi * dx
                sy += wi * dy
                sxx += wi * dx * dx
                sxy += wi * dx * dy
                syy += wi * dy * dy
        if not s > 0.0:
            break  # keep the last weight
        ex, ey = sx / s, sy / s  # the centroid's move
        nxx = 2.0 * (sxx / s - ex * ex)
        nxy = 2.0 * (sxy / s - ex * ey)
        nyy = 2.0 * (syy / s - ey * ey)
        # keep the covariance positive definite and within bounds, by its eigenvalues
        tr, d = 0.5 * (nxx + nyy), math.sqrt(0.25 * (nxx - nyy) ** 2 + nxy * nxy)
        l1, l2 = tr + d, tr - d
        c1, c2 = min(max(l1, lo), hi), min(max(l2, lo), hi)
        if d > 0.0:
            theta = 0.5 * math.atan2(2.0 * nxy, nxx - nyy)
            ct, st = math.cos(theta), math.sin(theta)
            nxx = c1 * ct * ct + c2 * st * st
            nyy = c1 * st * st + c2 * ct * ct
            nxy = (c1 - c2) * ct * st
        else:
            nxx = nyy = c1
            nxy = 0.0
        nx, ny = mx + ex, my + ey
        if not (abs(nx) < half and abs(ny) < half) or not math.isfinite(nxx + nxy + nyy):
            break
        step = abs(nx - mx) + abs(ny - my) + abs(nxx - cxx) + abs(nyy - cyy) + abs(nxy - cxy)
        mx, my, cxx, cxy, cyy = nx, ny, nxx, nxy, nyy
        if step < 1e-9:
            break
    out_centre[0], out_centre[1] = mx, my
    out_cov[0, 0], out_cov[0, 1], out_cov[1, 0], out_cov[1, 1] = cxx, cxy, cxy, cyy


@njit(cache=True, nogil=True)
def _moments_batch(images, n_iter, s0, lo, centre, cov):
    for k in range(images.shape[0]):
        _moments_one(images[k], n_iter, s0, lo, centre[k], cov[k])


def adaptive_moments(images, *, n_iter=30, initial_sigma=None, min_sigma=1.0):
    """Centres and second moments of images, by elliptical Gaussian-weighted moments.

    Each weight is the Gaussian of the image's own moments: starting from a round
    Gaussian at the stamp's centre, the weighted centroid and twice the weighted
    covariance become the next weight's centre and covariance (the fixed point of an
    elliptical Gaussian image is its own centre and covariance). The weight keeps noise
    far from the galaxy out of the estimate.

    Parameters
    ----------
    images : ndarray of shape (n, height, width)
        Sky-subtracted flux; noise (negative pixels) allowed.
    n_iter : int, default=30
        Iterations at most; fewer when the weight stops changing (by 1e-9 pixels).
    initial_sigma : float, default=None
        Width of the first, round weight, pixels; ``min(height, width) / 8`` when None.
    min_sigma : float, default=1.0
        The narrowest the weight may become along either axis, pixels: no image seen
        through a PSF is narrower than the PSF (``benchmarks/align_accuracy.py
        --min-sigma`` measures what it changes).

    Returns
    -------
    centre : ndarray of shape (n, 2)
        ``(x, y)``: column and row, pixels, from the stamp's centre.
    covariance : ndarray of shape (n, 2, 2)
        Of the weight at the end, pixels squared, in ``(x, y)``; its eigenvalues kept
        between ``min_sigma`` squared and the stamp's half-width squared. An
        iteration whose weighted flux is not positive, or whose centre leaves the
        stamp, ends the iterations with the weight before it.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import adaptive_moments
    >>> y, x = np.mgrid[0:33, 0:33] - 16.0
    >>> image = np.exp(-0.5 * (((x - 1) / 4) ** 2 + (y / 2) ** 2))[None]
    >>> centre, cov = adaptive_moments(image)
    >>> centre.round(3).tolist(), np.diag(cov[0]).round(3).tolist()
    ([[1.0, 0.0]], [16.0, 4.0])
    """
    images = np.ascontiguousarray(images, dtype=float)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width); got {images.shape}")
    n, h, w = images.shape
    s0 = min(h, w) / 8.0 if initial_sigma is None else float(initial_sigma)
    if not min_sigma > 0:
        raise ValueError(f"min_sigma must be > 0 pixels; got {min_sigma!r}")
    centre = np.zeros((n, 2))
    cov = np.zeros((n, 2, 2))
    _moments_batch(images, int(n_iter), max(s0, float(min_sigma)), float(min_sigma) ** 2,
                   centre, cov)
    return centre, cov


@njit(cache=True, nogil=True)
def _mirror(i, n):
    # scipy.ndimage's "mirror": reflect about the first and last pixel centres
    if n == 1:
        return 0
    period = 2 * (n - 1)
    i = abs(i) % period
    return period - i if i > n - 1 else i


@njit(cache=True, nogil=True)
def _keys(t):
    # Keys' (1981) cubic convolution kernel, a = -1/2: interpolating, third order
    t = abs(t)
    if t < 1.0:
        return (1.5 * t - 2.5) * t * t + 1.0
    if t < 2.0:
        return ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0
    return 0.0


@njit(cache=True, nogil=True)
def _resample(image, centre, angle, order, out):
    h, w, n_ch = image.shape
    xc, yc = (w - 1) / 2.0, (h - 1) / 2.0
    ct, st = math.cos(angle), math.sin(angle)
    taps = 2 if order == 3 else 1
    for r in range(h):
        v = r - yc
        for c in range(w):
            u = c - xc
            # output (u, v) along and across the major axis -> input column and row
            x = centre[0] + ct * u - st * v + xc
            y = centre[1] + st * u + ct * v + yc
            x0, y0 = math.floor(x), math.floor(y)
            fx, fy = x - x0, y - y0
            for ch in range(n_ch):
                out[r, c, ch] = 0.0
            for j in range(1 - taps, 1 + taps):
                wy = _keys(j - fy) if order == 3 else (1.0 - fy if j == 0 else fy)
                if wy == 0.0:
                    continue
                rr = _mirror(int(y0) + j, h)
                for i in range(1 - taps, 1 + taps):
                    wx = _keys(i - fx) if order == 3 else (1.0 - fx if i == 0 else fx)
                    if wx == 0.0:
                        continue
                    cc = _mirror(int(x0) + i, w)
                    for ch in range(n_ch):
                        out[r, c, ch] += wy * wx * image[rr, cc, ch]


@njit(cache=True, nogil=True)
def _resample_batch(images, centre, angle, order, out):
    for k in range(images.shape[0]):
        _resample(images[k], centre[k], angle[k], order, out[k])


class AlignToMajorAxis(ImageStep):
    """Each image moved to its light's centre and turned so its major axis is along ``x``.

    A network input step: put it after the noise and before the photometry, in
    training and in prediction alike. It measures each image's centre and orientation
    by adaptive moments (:func:`adaptive_moments`, on the sum of the channels) and
    resamples every channel, by interpolation, onto the grid whose centre is the
    measured centre and whose rows run along the measured major axis. The position
    angle and the centre offset, which tell nothing about the shape, are then no longer
    something a network must learn to ignore. Round images keep the angle their noise
    gives them; a network sees a round image either way.

    The resampling is an interpolation of pixel values: it blurs the noise a little,
    and where the grid reaches past the stamp it mirrors the stamp's edge about its
    outermost pixel centres (so that the noise there looks like noise, for the
    photometry's noise estimate). It is deterministic: an image is aligned alike alone
    or in any batch.

    Parameters
    ----------
    order : {1, 3}, default=3
        The interpolation: 1, bilinear; 3, Keys' cubic convolution (``a = -1/2``,
        which passes through the pixel values and is exact for quadratics).
    n_iter : int, default=30
        Iterations of the adaptive moments.
    min_sigma : float, default=1.0
        The narrowest the adaptive weight may become, pixels (see
        :func:`adaptive_moments`); about the PSF's standard deviation or less.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import AlignToMajorAxis
    >>> y, x = np.mgrid[0:33, 0:33] - 16.0
    >>> u, v = (x + y) / np.sqrt(2), (y - x) / np.sqrt(2)  # major axis at 45 degrees
    >>> image = np.exp(-0.5 * ((u / 6) ** 2 + (v / 2) ** 2))[None]
    >>> out = AlignToMajorAxis().fit_transform(image)[0]
    >>> bool(out[16, 24] > 0.35 and out[24, 16] < 0.01)  # now along the rows
    True
    """

    _parameter_constraints = {
        "order": [Options(numbers.Integral, {1, 3})],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "min_sigma": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, order=3, *, n_iter=30, min_sigma=1.0):
        self.order = order
        self.n_iter = n_iter
        self.min_sigma = min_sigma

    def measure(self, X):
        """Centres ``(x, y)`` (pixels from the stamp's centre) and major-axis angles
        (degrees from ``x`` towards ``y``, in (-90, 90]) of images ``X``."""
        self._validate_params()
        return self._measure(np.asarray(check_images(X), dtype=float))

    def _measure(self, X):
        # X: validated float images, 3-D or 4-D
        light = X if X.ndim == 3 else X.sum(axis=-1)
        centre, cov = adaptive_moments(light, n_iter=self.n_iter, min_sigma=self.min_sigma)
        angle = 0.5 * np.degrees(np.arctan2(2 * cov[:, 0, 1], cov[:, 0, 0] - cov[:, 1, 1]))
        return centre, np.where(angle <= -90.0, angle + 180.0, angle)

    def transform(self, X):
        """The aligned images, float32.

        Parameters
        ----------
        X : array-like of shape (n, height, width[, channels])
            Flux images (sky-subtracted, noise allowed).

        Returns
        -------
        ndarray of float32, the shape of ``X``
        """
        self._validate_params()
        X = np.asarray(check_images(X), dtype=float)
        centre, angle = self._measure(X)
        squeeze = X.ndim == 3
        X = np.ascontiguousarray(X[..., None] if squeeze else X)
        out = np.empty(X.shape)
        _resample_batch(X, centre, np.radians(angle), int(self.order), out)
        out = out.astype(np.float32)
        return out[..., 0] if squeeze else out
