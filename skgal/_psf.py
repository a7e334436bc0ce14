"""Point-spread functions: Gaussian, Moffat and a user-supplied image.

A PSF here is a continuous, normalised surface density ``P(x, y)`` (integral 1), in
the length unit of the galaxy's ``R_e``, known by its Fourier transform
``P~(k) = Int P(x) exp(-i k.x) d^2x``, which is what the renderer multiplies the
galaxy's transform by. This module imports nothing from skgal.

* :class:`GaussianPSF`: ``P~ = exp(-k^2 sigma^2 / 2)``, ``sigma = FWHM / (2 sqrt(2 ln 2))``.
* :class:`MoffatPSF`: ``P ∝ (1 + r^2/alpha^2)^-beta`` (Moffat 1969), untruncated,
  ``alpha = FWHM / (2 sqrt(2^(1/beta) - 1))``. Its transform is
  ``P~ = (2 / Gamma(beta - 1)) (k alpha / 2)^(beta - 1) K_(beta-1)(k alpha)``
  (Gradshteyn & Ryzhik 6.565.4), finite and normalised for ``beta > 1``.
* :class:`ImagePSF`: samples ``p_j`` of a PSF on a square grid of spacing ``pixel_scale``,
  centred on the grid's geometric centre (the middle pixel for an odd size, the corner
  shared by the middle four for an even one). The continuous PSF is their band-limited
  (Whittaker–Shannon) interpolation: ``P~(k)`` is the samples' discrete-time Fourier
  transform for ``|k_x|, |k_y| < pi / pixel_scale`` and 0 beyond, normalised so that
  ``P~(0) = 1``.
"""

import functools
import math
import numbers
import warnings

import numpy as np
from scipy.special import gamma, kv, zeta

__all__ = ["GaussianPSF", "ImagePSF", "MoffatPSF"]

FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0; got {value!r}")
    return float(value)


class _PSF:
    """Shared interface: ``transform(kx, ky)``, ``max_wavenumber(tol)``,
    ``core_radius(tol)``, ``wing_radius(tol, flux_ratio)`` and equality; and
    ``wing_copies``, the sum of the wing over a periodic transform's copies against the
    nearest copy's (8 unless the wing falls more slowly than exponentially: a PSF of
    one's own with a power-law wing must set it, as :class:`MoffatPSF` does)."""

    #: True when P depends on |x| only (then rotating the galaxy commutes with it)
    round = True
    #: True when P >= 0 everywhere, so that every convolved image is too
    nonnegative = True

    def transform(self, kx, ky):
        """The Fourier transform ``P~(kx, ky)`` (complex or real ndarray).

        Parameters
        ----------
        kx, ky : array_like
            Wavenumbers, radians per length unit (broadcast together).

        Returns
        -------
        ndarray
        """
        raise NotImplementedError

    def transform_grid(self, kx, ky):
        """The transform on the outer grid of 1-D ``kx`` and ``ky``: shape
        (len(ky), len(kx)), entry [a, b] at ``(kx[b], ky[a])``."""
        return self.transform(np.asarray(kx)[None, :], np.asarray(ky)[:, None])

    def max_wavenumber(self, tol):
        """A wavenumber beyond which ``|P~| < tol`` in every direction."""
        raise NotImplementedError

    def core_radius(self, tol):
        """A radius beyond which the PSF's high-pass part (what the Fourier engine
        folds) is below ``tol`` of its peak: the core, for the folded FFT's margin."""
        raise NotImplementedError

    def wing_radius(self, tol, flux_ratio):
        """A radius beyond which a source of total flux ``flux_ratio`` (in units of
        the image's scale) scatters less than ``tol`` into a pixel."""
        raise NotImplementedError

    #: the sum of the wing over a periodic transform's copies of the image, against the
    #: nearest copy's (the Fourier engine's wrap-around bound): 8 for wings that fall
    #: exponentially or faster
    wing_copies = 8.0

    #: the power p of a power-law wing P ~ r^-p (None: the PSF falls at least
    #: exponentially), with which the Fourier engine's wrap checks carry a tail outwards
    wing_power = None

    #: where the transform ends sharply (None: it falls smoothly): a band-limited PSF's
    #: transform is cut to ``|k_x|, |k_y| <= band_limit``, and the Fourier engine then
    #: sums the copies of the cut's slow (1 / r) ringing itself, from the derivatives of
    #: :meth:`interior_transform_grid` at the cut
    band_limit = None
    #: a wavenumber this close to ``band_limit`` (relative) lies on the cut: the
    #: transform counts it half there (a lattice's rounding must not decide it)
    band_snap = 1e-9

    def interior_transform_grid(self, kx, ky):
        """The transform's smooth continuation from inside ``band_limit`` on the outer
        grid of ``kx`` and ``ky`` (only for a band-limited PSF)."""
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._key()[1:])
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def settings(self):
        """The settings that define the PSF, for a dataset's record."""
        return {"type": type(self).__name__, **dict(self._key()[1:])}


class GaussianPSF(_PSF):
    """A round Gaussian PSF.

    Parameters
    ----------
    fwhm : float
        Full width at half maximum, in the length unit of ``R_e`` (pixels when
        ``pixel_scale=1``), > 0.

    Examples
    --------
    >>> from skgal import GaussianPSF
    >>> psf = GaussianPSF(fwhm=2.0)
    >>> round(psf.sigma, 4)
    0.8493
    >>> float(psf.transform(0.0, 0.0))
    1.0
    """

    def __init__(self, fwhm):
        self.fwhm = _positive("fwhm", fwhm)
        self.sigma = self.fwhm * FWHM_TO_SIGMA

    def _key(self):
        return ("gaussian", ("fwhm", self.fwhm))

    def transform(self, kx, ky):
        k2 = np.asarray(kx) ** 2 + np.asarray(ky) ** 2
        return np.exp(-0.5 * k2 * self.sigma ** 2)

    def max_wavenumber(self, tol):
        return math.sqrt(-2.0 * math.log(tol)) / self.sigma

    def core_radius(self, tol):
        return self.sigma * math.sqrt(-2.0 * math.log(tol))

    def wing_radius(self, tol, flux_ratio):
        # flux_ratio / (2 pi sigma^2) exp(-r^2 / 2 sigma^2) < tol
        peak = max(flux_ratio / (2.0 * math.pi * self.sigma ** 2), tol)
        return self.sigma * math.sqrt(2.0 * math.log(peak / tol))


class MoffatPSF(_PSF):
    """A round Moffat PSF, ``P ∝ (1 + r^2/alpha^2)^-beta``, untruncated.

    Parameters
    ----------
    fwhm : float
        Full width at half maximum, length units, > 0.
    beta : float
        The wings' power, > 1 (the total flux is infinite at ``beta <= 1``).
        Atmospheric seeing is close to ``beta = 4.765`` (Trujillo et al. 2001).

    Examples
    --------
    >>> from skgal import MoffatPSF
    >>> psf = MoffatPSF(fwhm=3.0, beta=2.5)
    >>> round(psf.alpha, 4)
    2.6537
    >>> round(float(psf.transform(0.0, 0.0)), 12)
    1.0
    """

    def __init__(self, fwhm, beta):
        self.fwhm = _positive("fwhm", fwhm)
        beta = _positive("beta", beta)
        if not beta > 1:
            raise ValueError(f"beta must be > 1 (the Moffat profile's flux is infinite "
                             f"otherwise); got {beta!r}")
        self.beta = beta
        self.alpha = self.fwhm / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))

    def _key(self):
        return ("moffat", ("fwhm", self.fwhm), ("beta", self.beta))

    def transform(self, kx, ky):
        z = np.sqrt(np.asarray(kx, dtype=float) ** 2 + np.asarray(ky, dtype=float) ** 2)
        z = z * self.alpha
        nu = self.beta - 1.0
        out = np.ones_like(z)
        small = z < 1e-8  # the limit at 0 is exactly 1
        big = z > 700.0  # K underflows: P~ < 1e-300
        mid = ~small & ~big
        zm = z[mid]
        out[mid] = 2.0 / gamma(nu) * (0.5 * zm) ** nu * kv(nu, zm)
        out[big] = 0.0
        return out

    def max_wavenumber(self, tol):
        # P~ decays like z^(beta - 3/2) e^-z; step out until it is below tol
        z = 1.0
        while float(self.transform(z / self.alpha, 0.0)) >= tol:
            z *= 1.25
        return z / self.alpha

    def core_radius(self, tol):
        # the high-pass part of a power-law wing r^-2beta falls like r^-(2beta + 8)
        return self.alpha * tol ** (-1.0 / (2.0 * self.beta + 8.0))

    @property
    def wing_power(self):
        return 2.0 * self.beta

    @functools.cached_property
    def wing_copies(self):
        # sum over j in Z^2, j != 0, of |j|^(-2 beta) = 4 zeta(beta) L(beta, chi_4) (the
        # Dirichlet beta function, from Hurwitz zetas): 9.0 at beta = 1.5, 6.0 at 2,
        # 4 + 4 * 2^-beta + ... as beta grows; the copies lie at |j| L - stamp / 2 >=
        # |j| (L - stamp / 2)
        beta = self.beta
        dirichlet = 4.0 ** -beta * (zeta(beta, 0.25) - zeta(beta, 0.75))
        return float(4.0 * zeta(beta) * dirichlet)

    def wing_radius(self, tol, flux_ratio):
        # flux_ratio (beta - 1) / (pi alpha^2) (r / alpha)^(-2 beta) < tol
        density = flux_ratio * (self.beta - 1.0) / (math.pi * self.alpha ** 2)
        return self.alpha * max(density / tol, 1.0) ** (1.0 / (2.0 * self.beta))


class ImagePSF(_PSF):
    """A PSF given as an image: samples on a square grid, band-limited between them.

    Parameters
    ----------
    image : array_like of shape (m, m) or (m1, m2)
        The samples. They are normalised to sum 1; they may be of odd or even size.
        NaN, infinite values, a sum <= 0 or a shape that is not 2-D are errors;
        negative samples (which real PSF models have) are allowed with a warning.
    pixel_scale : float
        The grid's spacing, in the length unit of ``R_e``, > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import ImagePSF
    >>> y, x = np.mgrid[-7:8, -7:8]
    >>> psf = ImagePSF(np.exp(-(x**2 + y**2) / 4.0), pixel_scale=1.0)
    >>> round(float(psf.transform(0.0, 0.0).real), 12)
    1.0
    >>> float(abs(psf.transform(3.2, 0.0)))  # beyond pi / pixel_scale
    0.0
    """

    round = False
    nonnegative = False  # band-limited interpolation rings, and samples may be negative

    def __init__(self, image, pixel_scale):
        self.pixel_scale = _positive("pixel_scale", pixel_scale)
        try:
            array = np.array(image, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("image must be a 2-D array of numbers") from None
        if array.ndim != 2 or min(array.shape) < 1:
            raise ValueError(f"image must be a 2-D array; got shape {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError("image holds NaN or infinite values")
        total = array.sum()
        if not total > 0:
            raise ValueError(f"image must sum to > 0 (it is normalised to 1); its sum is "
                             f"{total!r}")
        if np.any(array < 0):
            warnings.warn(f"image has {int(np.sum(array < 0))} negative samples; they are "
                          "kept (real PSF models can have them)", UserWarning, stacklevel=2)
        self.image = array / total
        self.image.setflags(write=False)
        ny, nx = self.image.shape
        self._y = (np.arange(ny) - 0.5 * (ny - 1)) * self.pixel_scale
        self._x = (np.arange(nx) - 0.5 * (nx - 1)) * self.pixel_scale

    def _key(self):
        return ("image", ("pixel_scale", self.pixel_scale),
                ("image", self.image.tobytes() + bytes(str(self.image.shape), "ascii")))

    def __repr__(self):
        return f"ImagePSF(<{self.image.shape[0]}x{self.image.shape[1]} image>, " \
               f"pixel_scale={self.pixel_scale!r})"

    def settings(self):
        return {"type": "ImagePSF", "pixel_scale": self.pixel_scale,
                "image": self.image.tolist()}

    @property
    def band_limit(self):
        return math.pi / self.pixel_scale

    def interior_transform_grid(self, kx, ky):
        """The samples' discrete transform on the outer grid (ky[a], kx[b]), without
        the band's cut: smooth (a trigonometric polynomial), and the transform itself
        inside the band."""
        kx = np.asarray(kx, dtype=float)
        ky = np.asarray(ky, dtype=float)
        return np.exp(-1j * np.outer(ky, self._y)) @ self.image \
            @ np.exp(-1j * np.outer(self._x, kx))

    def transform(self, kx, ky):
        kx, ky = np.broadcast_arrays(np.asarray(kx, dtype=float), np.asarray(ky, dtype=float))
        # separable sums: exp(-i kx x) and exp(-i ky y) over the grid
        ex = np.exp(-1j * kx[..., None] * self._x)
        ey = np.exp(-1j * ky[..., None] * self._y)
        value = np.einsum("...i,ij,...j->...", ey, self.image, ex)
        return value * self._band(kx) * self._band(ky)

    def _band(self, k):
        """The band's cut: 1 inside, 0 outside, and half on it (even grids' Nyquist
        bins), to within ``band_snap``."""
        edge = np.abs(np.abs(k) - self.band_limit) <= self.band_snap * self.band_limit
        return np.where(edge, 0.5, np.where(np.abs(k) < self.band_limit, 1.0, 0.0))

    def transform_grid(self, kx, ky):
        """The transform on the outer grid (ky[a], kx[b]): two matrix products, as the
        samples are separable (K^2 m operations, not the K^2 m^2 of ``transform``)."""
        kx = np.asarray(kx, dtype=float)
        ky = np.asarray(ky, dtype=float)
        return self.interior_transform_grid(kx, ky) * np.outer(self._band(ky), self._band(kx))

    def max_wavenumber(self, tol):
        return math.sqrt(2.0) * math.pi / self.pixel_scale

    def core_radius(self, tol):
        # the samples' extent, and the interpolating sincs' ringing just beyond it
        return 0.5 * math.hypot(*self.image.shape) * self.pixel_scale + 4.0 * self.pixel_scale

    def wing_radius(self, tol, flux_ratio):
        return self.core_radius(tol)
