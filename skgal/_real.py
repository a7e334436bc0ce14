"""Real galaxies: five HST ACS stamps from the AEGIS field, vendored, and the cut that
brings a stamp to a network's input size.

The data are GalSim's ``tests/real_comparison_images`` (BSD licence, kept beside them
as ``data/LICENSE-GalSim``), converted once by ``tools/vendor_real_galaxies.py``
without changing a pixel. This module imports nothing from skgal but the PSFs, the
noise steps and the named conditions' dataclass.
"""

import os
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import binary_dilation, gaussian_filter
from sklearn.utils import Bunch

from ._conditions import ObservingConditions
from ._noise import GaussianNoise
from ._psf import ImagePSF

__all__ = ["RealGalaxy", "center_cutout", "load_real_galaxies", "noise_correlation"]

_DATA = os.path.join(os.path.dirname(__file__), "data")
_FILE = os.path.join(_DATA, "aegis_galaxies.npz")
BANDS = ("F814W", "F606W")


@dataclass(frozen=True, eq=False)
class RealGalaxy:
    """One observed galaxy: its stamp, its PSF and its noise.

    Attributes
    ----------
    ident : int
        The AEGIS catalogue's ``IDENT``.
    band : str
        ``"F814W"`` or ``"F606W"``.
    image : ndarray of float32 (height, width)
        The stamp, sky-subtracted, in the drizzled image's counts per pixel.
    psf_image : ndarray of float32 (20, 20)
        The Tiny Tim PSF model at the galaxy's position, as given (not normalised).
    pixel_scale : float
        Arcseconds per pixel of the stamp.
    psf_pixel_scale : float
        Arcseconds per pixel of the PSF image.
    noise_variance : float or None
        Variance of a pixel's noise, counts². ``None`` when unknown.
    magnitude : float
        The catalogue's total magnitude in this band.
    ra, dec : float
        Degrees.
    """

    ident: int
    band: str
    image: np.ndarray
    psf_image: np.ndarray
    pixel_scale: float
    psf_pixel_scale: float
    noise_variance: float
    magnitude: float
    ra: float
    dec: float

    def conditions(self, intensity_range):
        """The observing conditions of this stamp, for simulations that match it.

        Parameters
        ----------
        intensity_range : (float, float)
            The prior of ``I_e``, counts per pixel³ (the stamp's unit).

        Returns
        -------
        ObservingConditions
            Pixels of ``pixel_scale``, this galaxy's PSF (in pixels) and white noise of
            its ``noise_variance``; no photometric zero point.

        Raises
        ------
        ValueError
            No noise level, or a PSF image whose pixel scale differs from the stamp's
            (the PSF would have to be resampled first).
        """
        if self.noise_variance is None or not np.isfinite(self.noise_variance) \
                or self.noise_variance <= 0:
            raise ValueError(f"galaxy {self.ident} ({self.band}): noise_variance must be a "
                             f"positive number to simulate matching noise; got "
                             f"{self.noise_variance!r}")
        if not np.isclose(self.psf_pixel_scale, self.pixel_scale, rtol=1e-6):
            raise ValueError(
                f"galaxy {self.ident} ({self.band}): the PSF image's pixel scale "
                f"{self.psf_pixel_scale!r}\" differs from the stamp's {self.pixel_scale!r}\"; "
                "resample the PSF to the stamp's pixels first")
        return ObservingConditions(
            name=f"AEGIS {self.ident} {self.band}",
            description=f"HST ACS {self.band}, drizzled to {self.pixel_scale}\" (AEGIS "
                        f"galaxy {self.ident})",
            pixel_scale=self.pixel_scale, psf=ImagePSF(self.psf_image, pixel_scale=1.0),
            noise=GaussianNoise(sigma=float(np.sqrt(self.noise_variance))),
            intensity_range=tuple(float(v) for v in intensity_range),
            sources=("GalSim tests/real_comparison_images (BSD licence)",))

    def noise_correlation(self, **kwargs):
        """The correlation of this stamp's noise between pixels: see
        :func:`noise_correlation`."""
        return noise_correlation(self.image, self.noise_variance, **kwargs)


def load_real_galaxies(band="F814W"):
    """The five AEGIS galaxies in one band, with their PSFs and noise levels.

    HST ACS/WFC stamps drizzled to 0.03″ per pixel, prepared by the GalSim project
    (its ``tests/real_comparison_images``; BSD licence, shipped with skgal as
    ``skgal/data/LICENSE-GalSim``). Two are bright (IDENT 14886 and 24216, I = 22.0 and
    22.8) and three faint (I ≈ 24.7-24.8); other objects in the stamps were replaced
    by noise. The drizzled noise is slightly correlated between pixels, which the
    white-noise variance does not describe.

    Parameters
    ----------
    band : {"F814W", "F606W"}, default="F814W"

    Returns
    -------
    list of RealGalaxy
        In catalogue order.

    Examples
    --------
    >>> from skgal.datasets import load_real_galaxies
    >>> galaxies = load_real_galaxies()
    >>> [g.ident for g in galaxies]
    [23409, 14886, 9024, 17038, 24216]
    >>> galaxies[1].image.shape, galaxies[1].pixel_scale
    ((156, 142), 0.03)
    """
    band = str(band).upper()
    if band not in BANDS:
        raise ValueError(f"band must be one of {list(BANDS)}; got {band!r}")
    with np.load(_FILE) as data:
        out = []
        for k, ident in enumerate(data["ident"]):
            scale = float(data[f"pixel_scale_{band}"][k])
            out.append(RealGalaxy(
                ident=int(ident), band=band, image=data[f"image_{band}_{ident}"],
                psf_image=data[f"psf_{band}_{ident}"], pixel_scale=scale,
                psf_pixel_scale=scale,  # the catalogue's PSFs share the stamps' pixels
                noise_variance=float(data[f"noise_variance_{band}"][k]),
                magnitude=float(data[f"mag_{band}"][k]), ra=float(data["ra"][k]),
                dec=float(data["dec"][k])))
    return out


def center_cutout(image, size, *, smoothing=2.0, iterations=5):
    """A ``size`` x ``size`` cut of a stamp around its light-weighted centre.

    The centre starts at the brightest pixel of the stamp smoothed by a Gaussian of
    ``smoothing`` pixels (so that one noisy pixel cannot win) and moves to the
    centroid of the positive light within ``size / 2`` pixels, ``iterations`` times.
    The cut is shifted by whole pixels only, so the noise stays as it was; where the
    centre is too near an edge the window is moved inside the stamp.

    Parameters
    ----------
    image : array-like of shape (height, width)
    size : int
        The side of the cut, in pixels: the network's input size.

    Returns
    -------
    cut : ndarray of float64 (size, size)
    offset : ndarray of shape (2,)
        The light-weighted centre minus the cut's centre, ``(x, y)`` pixels: the
        galaxy's ``x_offset, y_offset`` in the cut.

    Raises
    ------
    ValueError
        A stamp smaller than ``size`` along either axis, or not 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal.datasets import center_cutout
    >>> y, x = np.mgrid[:40, :50]
    >>> stamp = np.exp(-((x - 30.3) ** 2 + (y - 12.2) ** 2) / 8.0)
    >>> cut, offset = center_cutout(stamp, 16)
    >>> cut.shape, offset.round(3).tolist()
    ((16, 16), [-0.2, -0.3])
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D; got shape {image.shape}")
    size = int(size)
    if size < 1 or image.shape[0] < size or image.shape[1] < size:
        raise ValueError(f"the stamp ({image.shape[0]} x {image.shape[1]} pixels) is smaller "
                         f"than the cut asked for, {size} x {size} (the network's input); "
                         "train at a smaller image_size or use a larger stamp")
    smooth = gaussian_filter(image, smoothing) if smoothing > 0 else image
    cy, cx = (float(v) for v in np.unravel_index(np.argmax(smooth), image.shape))
    yy, xx = np.mgrid[:image.shape[0], :image.shape[1]]
    light = np.maximum(image, 0.0)
    for _ in range(int(iterations)):
        near = (np.abs(yy - cy) <= size / 2) & (np.abs(xx - cx) <= size / 2)
        w = light * near
        total = w.sum()
        if not total > 0:
            break
        cy, cx = float((w * yy).sum() / total), float((w * xx).sum() / total)
    # the window whose centre ((size - 1) / 2) is nearest the light's, inside the stamp
    top = int(np.clip(np.round(cy - 0.5 * (size - 1)), 0, image.shape[0] - size))
    left = int(np.clip(np.round(cx - 0.5 * (size - 1)), 0, image.shape[1] - size))
    cut = image[top:top + size, left:left + size].copy()
    offset = np.array([cx - left - 0.5 * (size - 1), cy - top - 0.5 * (size - 1)])
    return cut, offset


def noise_correlation(image, noise_variance, *, max_lag=2, smoothing=3.0, clearance=3,
                      background_scale=16.0):
    """The correlation of a stamp's noise between pixels, measured on its blank sky.

    Drizzling spreads each detector pixel's noise over its neighbours, so the noise of
    a drizzled stamp is correlated and a white-noise likelihood, which treats every
    pixel as independent, counts the same information several times. This measures by
    how much. The sky is the stamp without the pixels where, smoothed by a Gaussian of
    ``smoothing`` pixels, it stands four robust standard deviations above its median,
    grown by ``clearance`` pixels. Each sky pixel less the sky's local level (its mean
    under a Gaussian of ``background_scale`` pixels, which removes gradients and faint
    wings), the correlation at each lag is the mean product of sky pixels that far
    apart over their mean square.

    Parameters
    ----------
    image : array-like of shape (height, width)
        A sky-subtracted stamp.
    noise_variance : float
        The variance per pixel the stamp is said to have, to compare with the measured.
    max_lag : int, default=2
        The largest lag, pixels, along each axis.
    smoothing : float, default=3.0
    clearance : int, default=3
    background_scale : float, default=16.0
        Pixels; 0 subtracts one mean instead. The local level takes a little of each
        pixel's own noise with it, lowering every correlation by about
        ``2 factor / (2 pi background_scale**2)`` (0.003 for the AEGIS stamps).

    Returns
    -------
    Bunch
        ``correlation`` (2 max_lag + 1, 2 max_lag + 1): the correlation coefficient at
        each lag ``(dy, dx)``, 1 at the centre; ``variance_ratio``: the sky's variance
        over ``noise_variance``; ``factor``: the sum of the correlations, by which the
        variance of a sum over a patch larger than the lags exceeds the white-noise
        value (so a white-noise likelihood is about ``factor`` times too confident about
        smooth features); ``n_pixels``: the sky pixels used.

    Raises
    ------
    ValueError
        Fewer than 100 sky pixels, or a bad ``noise_variance``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal.datasets import noise_correlation
    >>> white = np.random.default_rng(0).normal(size=(200, 200))
    >>> c = noise_correlation(white, 1.0, max_lag=1)
    >>> round(c.variance_ratio, 1), bool(abs(c.factor - 1) < 0.1)
    (1.0, True)
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D; got shape {image.shape}")
    if not (np.isfinite(noise_variance) and noise_variance > 0):
        raise ValueError(f"noise_variance must be a positive number; got {noise_variance!r}")
    # the sky: away from where the smoothed stamp stands out of its own (smoothed) noise
    # by 4 robust sigmas; a cut near the noise itself would select on the noise and bias
    # the correlations
    smooth = gaussian_filter(image, smoothing) if smoothing > 0 else image
    centre_value = np.median(smooth)
    spread = 1.4826 * np.median(np.abs(smooth - centre_value))
    source = smooth > centre_value + 4.0 * spread
    if clearance > 0:
        source = binary_dilation(source, iterations=int(clearance))
    sky = ~source
    n_pixels = int(sky.sum())
    if n_pixels < 100:
        raise ValueError(f"only {n_pixels} sky pixels found (at least 100 are needed): the "
                         "stamp is too small or filled by the galaxy")
    # less the sky's own smooth level (normalised convolution over the sky pixels): a
    # gradient or a galaxy's faint wings would otherwise correlate every lag
    weight = sky.astype(np.float64)
    values = np.where(sky, image, 0.0)
    if background_scale > 0:
        level = gaussian_filter(values, background_scale) / np.maximum(
            gaussian_filter(weight, background_scale), 1e-12)
        values = np.where(sky, image - level, 0.0)
    else:
        values = np.where(sky, image - np.mean(image[sky]), 0.0)
    h, w = image.shape
    lags = range(-int(max_lag), int(max_lag) + 1)
    cov = np.empty((len(lags), len(lags)))
    for a, dy in enumerate(lags):
        for b, dx in enumerate(lags):
            one = (slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0)))
            two = (slice(max(-dy, 0), h + min(-dy, 0)), slice(max(-dx, 0), w + min(-dx, 0)))
            pairs = np.sum(weight[one] * weight[two])
            cov[a, b] = np.sum(values[one] * values[two]) / pairs
    centre = int(max_lag)
    variance = cov[centre, centre]
    return Bunch(correlation=cov / variance, variance_ratio=float(variance / noise_variance),
                 factor=float(cov.sum() / variance), n_pixels=n_pixels)
