"""An independent reference for PSF-convolved pixel values: a quadrature of the
convolution integral over the exact line-of-sight image.

    O(x) = Int I(u) K(x - u) d^2u,   K = PSF (*) pixel box / d^2

``I`` is skgal's line-of-sight integral at any point (itself tested against scipy's
quad in test_render.py); ``K`` is written here from the PSFs' real-space formulas:
the Gaussian's is analytic (a product of two error-function differences); the
Moffat's is its density averaged over the pixel by a 16x16 Gauss-Legendre rule.

The integral is taken in polar coordinates about the galaxy's centre, so that its
cusp sits at rho = 0, where panels shrink geometrically (hp-refinement). Gauss-
Legendre panels are fine (a quarter of K's width) wherever K is large, and coarser
elsewhere. Nothing here uses skgal's Fourier route.
"""

import math

import numpy as np
from numba import njit
from scipy.special import erf

from skgal import sersic_b
from skgal._profile import HZ_DIVISOR
from skgal._render import MAX_PANELS, SQRT2PI, _GAUSS_KERNEL, _los

GL_X, GL_W = np.polynomial.legendre.leggauss(8)
BOX_X, BOX_W = np.polynomial.legendre.leggauss(16)


@njit  # not cached: numba's cache would not see changes to skgal's _los
def _los_points(xs, ys, ie, re, n, b, q, incl, pa):
    """I at sky points (xs, ys), relative to the galaxy's centre."""
    h = q * re / HZ_DIVISOR
    cos_i, sin_i = math.cos(math.radians(incl)), math.sin(math.radians(incl))
    if incl == 0.0:
        cos_i, sin_i = 1.0, 0.0
    elif incl == 90.0:
        cos_i, sin_i = 0.0, 1.0
    cos_pa, sin_pa = math.cos(math.radians(pa)), math.sin(math.radians(pa))
    geom = (ie, re, n, b, h, cos_i, sin_i, ie * math.exp(b) * SQRT2PI * h)
    ws = (np.empty((4, MAX_PANELS)), np.empty(16), np.empty(15), np.empty(15))
    out = np.empty(xs.size)
    for k in range(xs.size):
        xp = xs[k] * cos_pa + ys[k] * sin_pa
        yp = -xs[k] * sin_pa + ys[k] * cos_pa
        out[k] = _los(xp, _GAUSS_KERNEL, yp, 0.0, 0.0, geom, ws)
    return out


def _phi(t):
    return 0.5 * (1.0 + erf(t / math.sqrt(2.0)))


def pixel_kernel(psf, d):
    """K(vx, vy), the PSF averaged over a d x d pixel (a density, integral 1); the
    standard deviation of its core; and whether it is negligible (< e^-40) beyond
    9 of those plus a pixel (a Gaussian is; a Moffat's wings are not)."""
    if psf[0] == "gaussian":
        sigma = psf[1] / (2.0 * math.sqrt(2.0 * math.log(2.0)))

        def k1(t):
            return (_phi((t + 0.5 * d) / sigma) - _phi((t - 0.5 * d) / sigma)) / d

        return lambda vx, vy: k1(vx) * k1(vy), math.sqrt(sigma ** 2 + d ** 2 / 12.0), True
    fwhm, beta = psf[1], psf[2]
    alpha = fwhm / (2.0 * math.sqrt(2.0 ** (1.0 / beta) - 1.0))
    norm = (beta - 1.0) / (math.pi * alpha ** 2)

    def kernel(vx, vy):
        total = 0.0
        for a, wa in zip(BOX_X, BOX_W):
            for c, wc in zip(BOX_X, BOX_W):
                r2 = (vx + 0.5 * d * a) ** 2 + (vy + 0.5 * d * c) ** 2
                total = total + 0.25 * wa * wc * norm * (1.0 + r2 / alpha ** 2) ** -beta
        return total

    core = fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    return kernel, math.sqrt(core ** 2 + d ** 2 / 12.0), False


def _panels(lo, hi, width):
    count = max(1, int(math.ceil((hi - lo) / width)))
    return np.linspace(lo, hi, count + 1)


def _nodes(edges):
    """Gauss-Legendre nodes and weights on consecutive panels."""
    a, b = edges[:-1, None], edges[1:, None]
    x = 0.5 * (a + b) + 0.5 * (b - a) * GL_X
    w = 0.5 * (b - a) * GL_W
    return x.ravel(), w.ravel()


def convolved_pixel(x, y, galaxy, psf, d, rho_max=None):
    """O at the pixel centred on sky (x, y), relative to the galaxy's centre.

    ``galaxy`` = (I_e, R_e, n, q, inclination, position_angle); ``psf`` =
    ("gaussian", fwhm) or ("moffat", fwhm, beta); ``d`` the pixel side.
    """
    ie, re, n, q, incl, pa = galaxy
    b = sersic_b(n)
    h = q * re / HZ_DIVISOR
    kernel, width, compact = pixel_kernel(psf, d)
    fine = width  # panel size where K is large: 8 Gauss-Legendre nodes a sigma
    reach = 9.0 * width + d  # K is negligible (Gaussian) or smooth beyond this
    if rho_max is None:
        rho_max = re * (40.0 / b + 1.0) ** n  # the light is down by e^-40 there
    dist = math.hypot(x, y)
    # radial panels: geometric towards the cusp, fine around the pixel, coarse beyond
    edges = [0.0] + list(fine * 0.5 ** np.arange(14, -1, -1))
    near_lo, near_hi = max(dist - reach, fine), min(dist + reach, rho_max)
    if near_lo > fine:
        edges += list(_panels(fine, near_lo, max(fine, 0.1 * near_lo))[1:])
    edges += list(_panels(max(near_lo, fine), near_hi, fine)[1:])
    if rho_max > near_hi:
        edges += list(np.geomspace(near_hi, rho_max, 40)[1:])
    edges = np.unique(np.asarray(edges))
    if compact:  # K vanishes outside the annulus around the pixel
        edges = edges[(edges >= near_lo - fine) & (edges <= near_hi + fine)]
        if dist - reach <= fine:
            edges = np.unique(np.concatenate([[0.0], fine * 0.5 ** np.arange(14, -1, -1),
                                              edges]))
    rhos, wr = _nodes(edges)
    theta_x = math.atan2(y, x)
    total = 0.0
    for rho, w_rho in zip(rhos, wr):
        # angular panels: fine on the arc near the pixel, coarse on the rest
        if rho < reach or dist < 1e-12:
            # at least 16 panels, with edges on the galaxy's axes, where the image of
            # an inclined disc is not smooth (across the minor axis)
            th_edges = np.unique(np.concatenate([
                _panels(0.0, 2.0 * math.pi, min(fine / max(rho, 1e-12), math.pi / 8)),
                np.mod(math.radians(pa) + np.arange(4) * math.pi / 2, 2.0 * math.pi),
                [2.0 * math.pi]]))
        else:
            half = min(math.pi, reach / rho * 1.2)
            near = _panels(theta_x - half, theta_x + half, fine / rho)
            # the rest of the ring: smooth K, so resolve the disc's thickness there
            far = (_panels(theta_x + half, theta_x + 2.0 * math.pi - half,
                           max(fine, min(0.5 * h, 0.05 * rho)) / rho)[1:]
                   if half < math.pi and not compact else np.array([]))
            th_edges = np.concatenate([near, far])
        th, w_th = _nodes(np.asarray(th_edges))
        ux, uy = rho * np.cos(th), rho * np.sin(th)
        light = _los_points(ux, uy, ie, re, n, b, q, incl, pa)
        total += w_rho * rho * np.sum(w_th * light * kernel(x - ux, y - uy))
    return total


def band_limited_image(galaxy, samples, psf_scale, size, d, offset=(0.0, 0.0), pixel=True,
                       panels=64, nodes=16):
    """The pixel means of a galaxy seen through an image PSF (``ImagePSF``'s
    definition: the samples' Whittaker-Shannon interpolation, whose transform is the
    samples' discrete transform inside the band ``|k_x|, |k_y| < pi / psf_scale`` and
    zero outside), by a product Gauss-Legendre rule over that band.

        O(x) = (2 pi)^-2 Int_band I~(k) P~(k) sinc(k_x d / 2) sinc(k_y d / 2) e^{ik.x} d^2k

    The integrand is smooth inside the band and the band's edges are the rule's ends,
    so the rule converges like a smooth integral (exponentially in ``nodes``), with no
    periodic copies and no window: the sharp edge, which an FFT's lattice sums only to
    1 / L^2, costs it nothing. ``I~`` is the disc's transform on the inclined plane
    (projection-slice; see skgal._fourier's docstring for the conventions), with
    ``g_n`` from skgal._hankel (checked against closed forms and quadrature in
    test_psf.py). ``galaxy`` = (I_e, R_e, n, q, inclination, position_angle); the image's
    pixel (r, c) is centred at ((c - c0) d, (r - c0) d) with c0 = (size - 1) / 2, and
    the galaxy's centre at ``offset`` pixels from c0. ``pixel=False``: the convolved
    image at the pixels' centres (no pixel response). 64 panels of 16 nodes agree with
    96 to 4e-13 on a 64-pixel stamp.
    """
    from skgal._hankel import hankel_values

    ie, re, n, q, incl, pa = galaxy
    h = q * re / HZ_DIVISOR
    band = math.pi / psf_scale
    edges = np.linspace(-band, band, panels + 1)
    a, c = edges[:-1, None], edges[1:, None]
    x_gl, w_gl = np.polynomial.legendre.leggauss(nodes)
    k = (0.5 * (a + c) + 0.5 * (c - a) * x_gl).ravel()
    w = (0.5 * (c - a) * w_gl).ravel()
    ky, kx = k[:, None], k[None, :]
    ci, si = math.cos(math.radians(incl)), math.sin(math.radians(incl))
    cp, sp = math.cos(math.radians(pa)), math.sin(math.radians(pa))
    kxp, kyp = kx * cp + ky * sp, -kx * sp + ky * cp
    kappa = re * np.sqrt(kxp ** 2 + (kyp * ci) ** 2)
    spectrum = ie * SQRT2PI * h * re ** 2 * hankel_values(n, kappa) \
        * np.exp(-0.5 * (kyp * si * h) ** 2)
    ny, nx = samples.shape
    ys = (np.arange(ny) - 0.5 * (ny - 1)) * psf_scale
    xs = (np.arange(nx) - 0.5 * (nx - 1)) * psf_scale
    samples = np.asarray(samples, dtype=float) / np.sum(samples)
    psf = np.exp(-1j * np.outer(k, ys)) @ samples @ np.exp(-1j * np.outer(xs, k))
    # numpy's sinc is sin(pi t) / (pi t)
    response = np.sinc(k * d / (2.0 * math.pi)) if pixel else np.ones_like(k)
    values = spectrum * psf * np.outer(w * response, w * response)
    u = (np.arange(size) - 0.5 * (size - 1)) * d
    waves_x = np.exp(1j * np.outer(k, u - offset[0] * d))
    waves_y = np.exp(1j * np.outer(u - offset[1] * d, k))
    return (waves_y @ values @ waves_x).real / (4.0 * math.pi ** 2)
