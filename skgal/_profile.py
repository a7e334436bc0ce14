"""The light model: the Sérsic constant ``b_n`` and the disc-plus-Gaussian emissivity.

This is the bottom of the package: it imports nothing from skgal.

Model (Price et al. 2021, thesis section 3.1)::

    F(R, z) = I_e * exp(-b_n * ((R / R_e) ** (1 / n) - 1)) * exp(-z**2 / (2 * h_z**2))
    h_z     = q * R_e / 1.177

with ``b_n`` the exact root of ``Gamma(2n) = 2 * gamma(2n, b_n)``, so that ``R_e``
encloses half of the light of the face-on Sérsic disc.
"""

import numpy as np
from scipy.special import gammaincinv, gammaln

# h_z = q R_e / HZ_DIVISOR (thesis eq. 4); 1.177 ~ sqrt(2 ln 2), so the light falls to half
# its mid-plane value at |z| = q R_e (q R_e is the half width at half maximum).
HZ_DIVISOR = 1.177


def sersic_b(n):
    """Exact Sérsic constant ``b_n``, the root of ``Gamma(2n) = 2 gamma(2n, b_n)``.

    The equation says that the regularised lower incomplete gamma function
    ``P(2n, b_n)`` equals 1/2, so ``b_n = P^{-1}(2n, 1/2)``, which SciPy inverts to
    machine precision. No series approximation (Ciotti & Bertin 1999) is used.

    Parameters
    ----------
    n : float or array_like
        Sérsic index, dimensionless, ``n > 0``.

    Returns
    -------
    b : float or ndarray
        ``b_n``, dimensionless.

    Examples
    --------
    >>> from skgal import sersic_b
    >>> round(float(sersic_b(1.0)), 6)
    1.678347
    """
    n = np.asarray(n, dtype=float)
    if not np.all(np.isfinite(n)) or np.any(n <= 0):
        raise ValueError(f"sersic index n must be finite and > 0; got {n!r}")
    b = gammaincinv(2.0 * n, 0.5)
    return float(b) if b.ndim == 0 else b


def scale_height(effective_radius, flattening):
    """Gaussian scale height ``h_z = q R_e / 1.177``, in the length unit of ``R_e``.

    Since ``1.177 ~ sqrt(2 ln 2)``, the vertical Gaussian falls to half its mid-plane
    value at ``|z| = q R_e``: the disc's half-thickness at half maximum is ``q`` times
    its half-light radius.

    Parameters
    ----------
    effective_radius : float or array_like
        ``R_e``, the half-light radius of the face-on disc, length units (pixels).
    flattening : float or array_like
        ``q``, the intrinsic axis ratio, dimensionless.

    Returns
    -------
    float or ndarray
        ``h_z``, in the length unit of ``effective_radius``.

    Examples
    --------
    >>> from skgal import scale_height
    >>> round(float(scale_height(10.0, 0.5)), 4)  # pixels
    4.2481
    """
    return np.asarray(flattening) * np.asarray(effective_radius) / HZ_DIVISOR


def total_flux(intensity, effective_radius, sersic_index, flattening):
    """The galaxy's total light: the image's integral, whatever the inclination.

    ``L = I_e sqrt(2 pi) h_z R_e^2 2 pi n e^b Gamma(2n) / b^(2n)``, the face-on
    profile's integral times the vertical Gaussian's.

    Parameters
    ----------
    intensity, effective_radius, sersic_index, flattening : float or array_like
        ``I_e``, ``R_e`` (length units), ``n`` and ``q``.

    Returns
    -------
    float or ndarray
        In units of ``I_e`` times length cubed (an image's flux times pixel area).

    Examples
    --------
    >>> from skgal import total_flux
    >>> # n = 1: sqrt(2 pi) h_z 2 pi R_e^2 e^b / b^2, with h_z = 0.5 * 10 / 1.177
    >>> round(float(total_flux(1.0, 10.0, 1.0, 0.5)), 2)
    12723.21
    """
    n = np.asarray(sersic_index, dtype=float)
    b = np.asarray(sersic_b(n))
    h = np.asarray(flattening) * np.asarray(effective_radius) / HZ_DIVISOR
    profile = 2.0 * np.pi * n * np.exp(b + gammaln(2.0 * n)) / b ** (2.0 * n)
    value = np.asarray(intensity) * np.sqrt(2.0 * np.pi) * h \
        * np.asarray(effective_radius) ** 2 * profile
    return float(value) if value.ndim == 0 else value


def sersic_emissivity(R, z, *, intensity, effective_radius, sersic_index, flattening):
    """Three-dimensional emissivity ``F(R, z)`` of the model (thesis eq. 4).

    Parameters
    ----------
    R, z : array_like
        Cylindrical radius in the disc plane and height above it, in the length unit
        of ``effective_radius`` (pixels when ``pixel_scale=1``).
    intensity : float
        ``I_e``, the disc-plane intensity at ``R = R_e``, ``z = 0``.
    effective_radius : float
        ``R_e``, the half-light radius of the face-on disc, length units.
    sersic_index : float
        ``n``, dimensionless.
    flattening : float
        ``q``, intrinsic axis ratio; the scale height is ``q R_e / 1.177``.

    Returns
    -------
    ndarray
        Emissivity in units of ``I_e`` per unit length, so its line-of-sight
        integral is in units of ``I_e`` times length.

    Examples
    --------
    At the effective radius in the mid-plane it is ``I_e``; one scale height above,
    ``I_e e^{-1/2}``:

    >>> from skgal import scale_height, sersic_emissivity
    >>> shape = dict(intensity=0.5, effective_radius=10.0, sersic_index=1.0, flattening=0.4)
    >>> float(sersic_emissivity(10.0, 0.0, **shape))
    0.5
    >>> h = scale_height(10.0, 0.4)
    >>> round(float(sersic_emissivity(10.0, h, **shape)), 4)  # 0.5 * exp(-0.5)
    0.3033
    """
    b = sersic_b(sersic_index)
    h = flattening * effective_radius / HZ_DIVISOR
    R = np.asarray(R, dtype=float)
    z = np.asarray(z, dtype=float)
    disc = np.exp(-b * ((R / effective_radius) ** (1.0 / sersic_index) - 1.0))
    return intensity * disc * np.exp(-0.5 * (z / h) ** 2)
