"""The Fourier engine: pixel means of inclined Sérsic discs seen through a PSF.

Only :func:`render_psf` and :func:`shared_grids` (what it needs of a PSF, kept between
calls) are meant to be called from above. This module imports nothing from skgal but
``_profile`` and ``_hankel``.

What it computes. A pixel's value is the mean, over the pixel, of the continuous
image convolved with the continuous PSF:

    O(x) = Int I(u) K(x - u) d^2u,   K = PSF (*) (pixel box / d^2).

The route is Fourier space. By the projection-slice theorem the image's transform is
the 3-D transform of the separable disc, taken on the inclined plane: with
``k' = R(PA) k``,

    I~(k) = I_e sqrt(2 pi) h_z R_e^2 g_n(R_e sqrt(k'_x^2 + k'_y^2 cos^2 i))
            exp(-(k'_y sin i h_z)^2 / 2) exp(-i k.x_0),

where ``g_n`` is the Sérsic profile's Hankel transform (``_hankel``) and ``x_0`` the
galaxy's centre. It is multiplied by the PSF's transform and the pixel's
``sinc(k_x d / 2) sinc(k_y d / 2)``, and brought back to the pixel centres.

Three errors need care:

* Aliasing (too coarse a sampling of O). The pixel values of O are exact samples
  when every alias ``k + 2 pi m / d`` is summed: the spectrum is folded over as many
  Nyquist zones as the PSF's transform needs to fall below ``TOL``.
* Wrap-around (too short a period L of the discrete transform). The Sérsic tails of
  n = 2 discs reach hundreds of pixels at 1e-9 of the peak, so a period long enough
  for them would mean a huge transform. The spectrum is therefore split with the
  smooth low-pass window ``chi(k) = exp(-(|k| / k_1)^8)``. The high-pass part,
  ``(1 - chi) I~ P~ sinc``, is small in the tails (there it is ``nabla^8 O / k_1^8``)
  and goes through a folded FFT of modest period; the low-pass part, ``chi I~ P~ sinc``,
  is band-limited to ``|k| < 1.6 k_1`` and is summed directly at the stamp's pixels
  from a fine grid of period long enough for the whole tail (or split once more, into
  a band on a shorter period and a narrower low-pass part on the tail's, where that is
  cheaper). Every low-pass period is half the stamp plus the radius where the light it
  holds, summed over all its periodic copies, is below the budget (:func:`plan`). The
  folded FFT's is measured rather than bounded: the plan estimates it (the window's
  spread from the spectrum in the window's transition band), and an inclined disc's
  high-pass part also runs along its major axis (the thin vertical Gaussian is rough on
  the window's scale), so the folded image's edge is checked and the period lengthened
  where its tail would reach the copies (:func:`wrap_check`; the band between two
  windows likewise, :func:`band_check`).
* A band-limited PSF's cut (an image PSF's transform ends sharply at the samples'
  Nyquist frequency): the continuous PSF rings, with a tail falling like 1 / r, which no
  affordable period holds. Its asymptotic series is summed over the copies in closed
  form and taken off (:func:`band_edges`, :func:`edge_sum`).

No cusp is sampled in real space: the Sérsic cusp lives in ``g_n``'s slow decay,
which the PSF's transform ends. A PSF is needed: without one (or with one far
narrower than a pixel) the folding would not converge, and ``_render``'s real-space
engine is used instead.
"""

import functools
import math
import threading
from collections import OrderedDict

import numpy as np
from numba import njit

from ._allocator import keep_heap_slack
from ._hankel import hankel_table, table_at_log, table_value
from ._profile import HZ_DIVISOR, sersic_b

SQRT2PI = math.sqrt(2.0 * math.pi)
#: a (1, 1) stand-in for an array that is not read (a real array's imaginary part)
_EMPTY = np.zeros((1, 1))
#: aimed-at error of a pixel, as a fraction of the face-on central surface brightness
TOL = 1e-9
#: with ``tol="peak"``: the error aimed at, as a fraction of the image's own peak: the
#: promise's budget (1e-3 of every pixel brighter than 1e-4 of the peak). The bounds keep
#: the errors 100-10,000 times below it for most PSFs, and 10 times for the heaviest
#: wings measured (Moffat beta = 2; benchmarks/bench_psf_tolerance.py)
PEAK_TOL = 1e-7
#: with a PSF that is not round, the first pass that measures the peak (its error is below
#: ~1e-5 of the peak)
SCOUT_TOL = 1e-3
#: with ``pixel_tol``: the loosest aim, as a fraction of the face-on central brightness
#: (the likelihood fit's renders go to 1e-2; a galaxy this faint is lost in the noise)
MAX_PIXEL_TOL = 1e-3
#: with ``pixel_tol``, an aim (of the face-on central brightness) at or above which the
#: Hankel table is built by the coarser rule, in half the time. Its error, at most 1e-10
#: of g(0), moves a pixel by at most that times the flux over the central brightness
#: (2 R_e^2 for n = 1: 2,000 for R_e = 30 pixels) times the peak of the PSF convolved
#: with the pixel (at most 1 a pixel): 2e-7 of the central brightness, 50 times below
LOOSE_TABLE_TOL = 1e-5
#: pixels on a side of the patch around the galaxy's centre that that pass draws
SCOUT_PATCH = 8
#: with a round PSF the peak is first estimated by a quadrature (:func:`_peak_guess`;
#: benchmarks/bench_peak_guess.py: within 0.25% of the pixel it estimates for FWHM 1-3.6
#: pixels, -1.7% to +0.6% for a Gaussian of 10), and the tolerance aims at PEAK_TOL of this
#: share of the estimate; the image drawn then checks it (:func:`render_psf`)
PEAK_GUESS_SHARE = 0.9
#: PSF transform values below this are taken as 0 (and their aliases skipped)
PSF_FLOOR = 1e-13
#: the split's wavenumber, radians per pixel: chi(k) = exp(-(|k| d / K1)^8)
K1 = 0.7
#: the window's kernel (chi's inverse transform) is below CHI_ENV[0] k_1^2
#: exp(-CHI_ENV[1] k_1 r) at radius r (measured by quadrature: 1.8e-2 at k_1 r = 5,
#: 2.6e-7 at 40, 3.1e-12 at 80)
CHI_ENV = (0.2, 0.3)
#: chi < 1e-13 beyond this multiple of k_1
CHI_REACH = 1.6
#: a bound on the sum, over a periodic transform's copies of an image, of light that
#: falls exponentially, against the nearest copy's (four copies lie at the nearest
#: distance L - stamp / 2, four more at about sqrt(2) L, the rest far beyond)
COPIES = 8.0
#: the parts of an image's tail that can wrap into one pixel, each given tol / PARTS
#: (see :func:`plan`)
PARTS = 8.0
#: The window's kernel spreads light that is not smooth on its scale, and how much there
#: is of it is the spectrum in the window's transition band (1 - chi rises from 1e-3 to
#: 0.999 over |k| = 0.42-1.27 k_1), not the whole flux: the kernel's tail at k_1 r = 40-90
#: comes from a saddle point at |k| = (k_1 r / 8)^(1/7) k_1 = 1.2-1.4 k_1. The folded FFT's
#: period takes the spread's amplitude from the spectrum at |k| >= this multiple of k_1,
#: which leaves a margin below the saddle (see _plan_sizes)
SPREAD_BAND = 0.6
#: where the low-pass part may be split again, as fractions of k_1 (see :func:`plan`)
LOW_SPLITS = (0.2, 0.3, 0.45)
#: transform sizes allowed for the folded FFT (products of small primes)
FFT_SIZES = (32, 36, 40, 48, 54, 60, 64, 72, 80, 90, 96, 108, 120, 128, 144, 160, 180, 192,
             216, 240, 256, 288, 320, 360, 384, 432, 480, 512, 576, 640, 720, 768, 864, 960,
             1024)


@njit(cache=True, nogil=True)
def _fft_size(n):
    """The smallest allowed transform size >= n (a power of 2 beyond the list)."""
    for size in FFT_SIZES:
        if size >= n:
            return size
    return int(2 ** math.ceil(math.log2(n)))


@njit(cache=True, nogil=True)
def tail(r, re, n, b):
    """A bound on the inclined image's surface brightness at radius r, as a
    fraction of the face-on central value: the face-on profile, times the growth
    (1 + r / R_e)^(1/2) that projection along a long line of sight gives its tail,
    times 10 for safety."""
    return 10.0 * math.sqrt(1.0 + r / re) * math.exp(-b * (r / re) ** (1.0 / n))


@njit(cache=True, nogil=True)
def tail_radius(tol, re, n, b):
    """Smallest r (length units) with tail(r) < tol, by doubling then bisection."""
    lo, hi = 0.0, re
    while tail(hi, re, n, b) >= tol:
        lo, hi = hi, 2.0 * hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if tail(mid, re, n, b) >= tol:
            lo = mid
        else:
            hi = mid
    return hi


@njit(cache=True, nogil=True)
def tail_lattice_radius(tol, re, n, b):
    """Smallest r (to 2%) with the Sersic tail summed over a periodic transform's copies
    below tol: ring k of the copies (8 k of them) lies at least k r away, so the sum is
    at most sum over k of 8 k tail(k r). For n <= 2 the first ring is nearly all of it;
    for large n (a slow tail) the rings beyond add up, and r grows."""
    r = tail_radius(tol / COPIES, re, n, b)
    while True:
        total = 0.0
        for k in range(1, 10001):
            term = 8.0 * k * tail(k * r, re, n, b)
            total += term
            if term < 1e-6 * total:
                break
        if total < tol:
            return r
        r *= 1.02


@njit(cache=True, nogil=True)
def _slope(r, re, n, b):
    """lambda(r) = -d ln S / dr, the face-on profile's logarithmic slope."""
    return b / (n * re) * (r / re) ** (1.0 / n - 1.0)


@njit(cache=True, nogil=True)
def high_pass_radius(tol, re, n, b, k1):
    """Where the high-pass part's own tail falls below tol: there it is about
    (lambda / k_1)^8 times the image (for n >= 1, where lambda falls with r)."""
    r = re * 0.5
    while tail(r, re, n, b) * min(1.0, (_slope(r, re, n, b) / k1) ** 8) >= tol:
        r *= 1.1
    return r


@njit(cache=True, nogil=True)
def window_radius(tol, re, n, b, k1, flux_ratio):
    """How far the window's kernel carries the light of the galaxy's core (the part
    that is not smooth on the scale 1 / k_1) above tol.

    The profile is smooth on that scale where its logarithmic slope lambda is below
    k_1 / 3. For n > 1, lambda falls with r: the core is the disc inside the radius r*
    where lambda = k_1 / 3. For n < 1 it grows with r: the rough part is outside r*,
    so it is the whole galaxy when r* lies inside the tail, and nothing but the centre
    (whose kernel's reach the second term holds, as for n = 1) when it lies beyond.
    """
    tail = tail_radius(tol, re, n, b)
    if n == 1.0:  # lambda = b / R_e everywhere
        core = tail if b / re > k1 / 3.0 else 0.0
    else:  # r* in logs: for n near 1 the power overflows (r* tends to 0 or inf)
        power = n / (n - 1.0) * math.log(3.0 * b / (n * re * k1))
        r_star = re * math.exp(min(power, 700.0))
        if n > 1.0:
            core = min(r_star, tail)
        else:
            core = tail if r_star < tail else 0.0
    scale, rate = CHI_ENV
    rho = max(0.0, math.log(scale * k1 * k1 * flux_ratio / tol) / rate)
    return core + rho / k1


#: a mode whose disc factor exp(-z^2 / 2) is below e^-46 (1e-20 of the spectrum's
#: peak) is 0 without evaluating the rest: edge-on and inclined thick discs have most
#: of their lattice there
GAUSS_SKIP = 92.0


@njit(nogil=True, inline="always")
def _kappa(kxp, kyp, re, cos_i):
    """The Hankel table's argument, kappa = R_e |k'| with k'_y foreshortened by cos i,
    at (k'_x, k'_y): the wavenumber in the galaxy's frame (k_x cos PA + k_y sin PA,
    -k_x sin PA + k_y cos PA)."""
    return re * math.sqrt(kxp * kxp + kyp * kyp * cos_i * cos_i)


@njit(nogil=True, inline="always")
def _sersic_ft(kx, ky, geom, table, tparams):
    """I~(k) without the disc's factor exp(-z^2 / 2): amp g_n(kappa), real, chi-free and
    without the centre's phase. Inlined into its callers, which call it once a mode: a
    call that passes an array costs a reference count's atomic increment and decrement,
    which took 40% of the folded lattice's time. The callers multiply by the disc's
    factor, z = k'_y sin i h. The lattices' rows (:func:`_fold_high`,
    :func:`_low_spectrum`) take the same steps in passes (:func:`_kappa`, the
    logarithms, :func:`~skgal._hankel.table_at_log`)."""
    amp, re, h, cos_i, sin_i, cos_pa, sin_pa = geom
    kyp = -kx * sin_pa + ky * cos_pa
    y0, hy, kappa0 = tparams
    kxp = kx * cos_pa + ky * sin_pa
    return amp * table_value(table, y0, hy, kappa0, _kappa(kxp, kyp, re, cos_i))


@njit(cache=True, nogil=True)
def _sinc(x):
    if abs(x) < 1e-4:
        return 1.0 - x * x / 6.0
    return math.sin(x) / x


@njit(cache=True, nogil=True)
def _radial_psf(radial, dk, k):
    """P~(|k|) of a round PSF from its table (cubic Lagrange on a uniform grid)."""
    t = k / dk
    i = int(t)
    if i >= radial.size - 3:
        return 0.0
    if i < 1:
        i = 1
    u = t - i
    return (-u * (u - 1.0) * (u - 2.0) / 6.0 * radial[i - 1]
            + (u + 1.0) * (u - 1.0) * (u - 2.0) / 2.0 * radial[i]
            - (u + 1.0) * u * (u - 2.0) / 2.0 * radial[i + 1]
            + (u + 1.0) * u * (u - 1.0) / 6.0 * radial[i + 2])


@njit(cache=True, nogil=True)
def _axis_factors(m, reps, d, box, shift, count):
    """k, and sinc(k box / 2) e^{-i k shift}, for the first ``count`` base bins of each
    alias (index t * count + j): the separable part of the spectrum along one axis."""
    dk = 2.0 * math.pi / (m * d)
    period = 2.0 * math.pi / d
    ks = np.empty((2 * reps + 1) * count)
    fs = np.empty((2 * reps + 1) * count, dtype=np.complex128)
    for t in range(2 * reps + 1):
        for j in range(count):
            k = (j if j < (m + 1) // 2 else j - m) * dk + (t - reps) * period
            ks[t * count + j] = k
            fs[t * count + j] = _sinc(0.5 * k * box) * complex(math.cos(k * shift),
                                                                -math.sin(k * shift))
    return ks, fs


@njit(cache=True, nogil=True)
def _window_high(k2, inv_k1):
    """1 - chi(k) at |k|^2 = k2, without cancellation (1 when there is no split)."""
    if inv_k1 == 0.0:
        return 1.0
    k8 = k2 * inv_k1 * inv_k1
    k8 = k8 * k8
    k8 = k8 * k8
    if k8 < 1e-3:
        return k8 * (1.0 - 0.5 * k8)
    if k8 < 40.0:
        return 1.0 - math.exp(-k8)
    return 1.0


@njit(cache=True, nogil=True)
def _high_kernel(round_psf, radial, dk_radial, kmax, alias_re, alias_im, m, reps, d, k1):
    """P~ (1 - chi) on the folded lattice's half plane, entry (ty * m + my,
    tx * (m // 2 + 1) + mx): from a round PSF's radial table (0 beyond ``kmax``; the
    imaginary part then has shape (1, 1)), or from any PSF's values on the alias lattice
    (entry (ty * m + my, tx * m + mx))."""
    half = m // 2 + 1
    kxs, _ = _axis_factors(m, reps, d, 0.0, 0.0, half)
    kys, _ = _axis_factors(m, reps, d, 0.0, 0.0, m)
    inv_k1 = 1.0 / k1 if k1 > 0.0 else 0.0
    kmax2 = kmax * kmax
    out_re = np.zeros((kys.size, kxs.size))
    out_im = np.zeros((1, 1)) if round_psf else np.zeros((kys.size, kxs.size))
    for a in range(kys.size):
        for tx in range(2 * reps + 1):
            for mx in range(half):
                b = tx * half + mx
                k2 = kxs[b] * kxs[b] + kys[a] * kys[a]
                if round_psf:
                    if k2 <= kmax2:
                        out_re[a, b] = _radial_psf(radial, dk_radial, math.sqrt(k2)) * \
                            _window_high(k2, inv_k1)
                else:
                    w = _window_high(k2, inv_k1)
                    out_re[a, b] = alias_re[a, tx * m + mx] * w
                    out_im[a, b] = alias_im[a, tx * m + mx] * w
    return out_re, out_im


@njit(cache=True, nogil=True)
def _bin_below(x, count):
    """floor(x) as an index, held to [-count - 1, count + 1] before it becomes an integer:
    a strip's edge can lie far beyond the lattice (a disc a hair from face-on, at a
    position angle a hair from 0, puts it at 1e23 bins), and int() of a float beyond
    int64's range wraps round. Callers widen by a bin and clip to the lattice."""
    return int(math.floor(min(max(x, -count - 1.0), count + 1.0)))


@njit(cache=True, nogil=True)
def _fold_high(geom, table, tparams, kern_re, kern_im, kmax, m, reps, box, d, shift_x,
               shift_y, out):
    """out[my, mx] (mx <= m/2) = sum over aliases of (1 - chi) I~ P~ sinc e^{-ik.shift}.

    ``kern_re/kern_im`` hold P~ (1 - chi), which is the same for every galaxy, on the
    alias lattice: index (ty * m + my, tx * (m // 2 + 1) + mx) for alias offsets t in
    [-reps, reps] shifted to start at 0, base bins in FFT order (``kern_im`` of shape
    (1, 1) for a real kernel). Modes beyond ``kmax`` are left out. The pixel's sinc and
    the centre's phase are separable, so they come from per-axis factors.

    Each lattice row visits only the columns that can count: inside ``kmax``, and
    inside the strip where the disc's factor exp(-z^2 / 2) is not below e^-46 (the
    per-mode tests stay, so the ranges, widened by a bin, only save the visits). A
    row's aliases are summed without the row's own factor ``fy``, which multiplies
    their sum once (a complex product a mode fewer), and the disc's factor is a running
    product along the row: together 1.2x.
    """
    half = m // 2 + 1
    kxs, fxs = _axis_factors(m, reps, d, box, shift_x, half)
    kys, fys = _axis_factors(m, reps, d, box, shift_y, m)
    kmax2 = kmax * kmax
    real_kernel = kern_im.shape[0] == 1
    sin_i, h, cos_pa, sin_pa = geom[4], geom[2], geom[5], geom[6]
    zs = sin_i * h  # z = kyp zs
    zh = abs(zs)
    zlim = math.sqrt(GAUSS_SKIP) / zh if zh > 0.0 else math.inf
    dk = 2.0 * math.pi / (m * d)
    # along a row's bins z steps by dz, so exp(-z^2 / 2) is a running product (ratios
    # that step by e^{-dz^2}): two products a mode, not an exponential. Where a step is
    # wider than the Gaussian (|dz| > 1) the ratios could overflow, and it is direct
    dz = -dk * sin_pa * zs
    recur = abs(dz) <= 1.0
    step_ratio = math.exp(-dz * dz)
    period = 2.0 * math.pi / d
    top = (m + 1) // 2  # base bins j >= top are the negative wavenumbers (j - m) dk
    row_sum = np.zeros(half, dtype=np.complex128)
    amp, re, cos_i = geom[0], geom[1], geom[3]
    y0, hy, kappa0 = tparams
    weights = np.empty(half + 1)
    args = np.empty(half + 1)
    modes = np.empty(half + 1, dtype=np.int64)
    for my in range(m):
        for mx in range(half):
            out[my, mx] = 0.0
    for ty in range(2 * reps + 1):
        for my in range(m):
            row = ty * m + my
            ky = kys[row]
            if ky * ky > kmax2:
                continue
            # |kx| <= sqrt(kmax^2 - ky^2), and |kyp| = |-kx sin_pa + ky cos_pa| <= zlim
            reach = math.sqrt(kmax2 - ky * ky) if kmax2 < math.inf else math.inf
            lo, hi = -reach, reach
            if zlim < math.inf:
                if abs(sin_pa) > 1e-12:
                    a = (ky * cos_pa - zlim) / sin_pa
                    b = (ky * cos_pa + zlim) / sin_pa
                    lo, hi = max(lo, min(a, b)), min(hi, max(a, b))
                elif abs(ky * cos_pa) > zlim:
                    continue
            if lo > hi:
                continue
            touched_lo, touched_hi = half, -1  # the row's columns that modes reach
            for tx in range(2 * reps + 1):
                shift = (tx - reps) * period
                first, last = 0, top - 1  # the bins j = 0 .. top - 1, kx = j dk + shift
                if lo > -math.inf:
                    first = max(first, _bin_below((lo - shift) / dk, top) - 1)
                if hi < math.inf:
                    last = min(last, -_bin_below(-(hi - shift) / dk, top) + 1)
                # the bins first .. last, then (even m) the Nyquist bin, kx = -(m / 2) dk
                # + shift, which the range never holds
                bins = max(0, last - first + 1)
                count = bins + (1 if half > top else 0)
                gauss, ratio = 0.0, 0.0
                if recur and bins > 0:
                    z0 = (-(first * dk + shift) * sin_pa + ky * cos_pa) * zs
                    gauss = math.exp(-0.5 * z0 * z0)
                    ratio = math.exp(-dz * z0 - 0.5 * dz * dz)
                # pass 1: the modes that count, with their disc factor and the table's
                # argument kappa + kappa_0 (the rest, outside the cut, the kernel's zeros
                # or the strip, are left out of the passes below)
                counted = 0
                for step in range(count):
                    g_z = gauss
                    if step < bins:
                        mx = first + step
                        gauss *= ratio
                        ratio *= step_ratio
                    else:
                        mx = top
                    col = tx * half + mx
                    kx = kxs[col]
                    if kx * kx + ky * ky > kmax2:
                        continue
                    if kern_re[row, col] == 0.0 and (real_kernel or kern_im[row, col] == 0.0):
                        continue
                    kyp = -kx * sin_pa + ky * cos_pa
                    z = kyp * zs
                    if z * z > GAUSS_SKIP:
                        continue
                    if not recur or step >= bins:
                        g_z = math.exp(-0.5 * z * z)
                    kxp = kx * cos_pa + ky * sin_pa
                    modes[counted] = mx
                    weights[counted] = g_z
                    args[counted] = _kappa(kxp, kyp, re, cos_i) + kappa0
                    counted += 1
                # pass 2: the logarithms, alone in their loop (the modes' evaluation had
                # waited on each in turn: the passes made the fold 1.1-1.3x faster)
                for j in range(counted):
                    args[j] = math.log(args[j])
                if counted > 0:  # the modes run up the row: the first and last bound them
                    touched_lo = min(touched_lo, modes[0])
                    touched_hi = max(touched_hi, modes[counted - 1])
                # pass 3: the table's values, times the kernel and the axis factor
                for j in range(counted):
                    mx = modes[j]
                    col = tx * half + mx
                    g = amp * table_at_log(table, y0, hy, args[j]) * weights[j]
                    if real_kernel:
                        row_sum[mx] += (g * kern_re[row, col]) * fxs[col]
                    else:
                        row_sum[mx] += g * complex(kern_re[row, col], kern_im[row, col]) \
                            * fxs[col]
            # the row's sum into the output, and row_sum back to zeros, over the columns
            # its modes reached alone (most rows reach a small part of them)
            fy = fys[row]
            for mx in range(touched_lo, touched_hi + 1):
                out[my, mx] += fy * row_sum[mx]
                row_sum[mx] = 0.0


@njit(cache=True, nogil=True)
def _low_spectrum(geom, table, tparams, kern_re, kern_im, k, out):
    """out[a - c, b] = I~(k[b], k[a]) for the rows a >= c of the symmetric lattice
    ``k = (-c..c) dk``, between each row's first and last modes where the low-pass kernel
    ``kern`` (chi P~ sinc) is not 0 and inside the strip where the disc's factor is not
    below e^-46, as in :func:`_fold_high` (0 elsewhere; the kernel multiplies it). The
    image is real, so its spectrum is Hermitian and the rows below c are not needed."""
    c = k.size // 2
    amp, re, h, cos_i, sin_i, cos_pa, sin_pa = geom
    y0, hy, kappa0 = tparams
    weights = np.empty(k.size)
    args = np.empty(k.size)
    zs = sin_i * h
    zlim = math.sqrt(GAUSS_SKIP) / abs(zs) if zs != 0.0 else math.inf
    dk = k[1] - k[0] if k.size > 1 else 1.0
    dz = dk * -sin_pa * zs  # z's step along a row, as in _fold_high
    recur = abs(dz) <= 1.0
    step_ratio = math.exp(-dz * dz)
    for a in range(c, k.size):
        ky = k[a]
        row = out[a - c]
        row[:] = 0.0
        lo, hi = 0, k.size - 1
        while lo <= hi and kern_re[a, lo] == 0.0 and kern_im[a, lo] == 0.0:
            lo += 1
        while hi >= lo and kern_re[a, hi] == 0.0 and kern_im[a, hi] == 0.0:
            hi -= 1
        if zlim < math.inf:  # the strip |z| <= zlim, widened by a mode
            if abs(sin_pa) > 1e-12:
                za = (ky * cos_pa - zlim) / sin_pa
                zb = (ky * cos_pa + zlim) / sin_pa
                lo = max(lo, _bin_below((min(za, zb) - k[0]) / dk, k.size) - 1)
                hi = min(hi, -_bin_below(-(max(za, zb) - k[0]) / dk, k.size) + 1)
            elif abs(ky * cos_pa) > zlim:
                continue
        if lo > hi:
            continue
        z0 = (-k[lo] * sin_pa + ky * cos_pa) * zs
        gauss = math.exp(-0.5 * z0 * z0) if recur else 0.0
        ratio = math.exp(-dz * z0 - 0.5 * dz * dz) if recur else 0.0
        # in passes, as in _fold_high: the disc's factor and the table's argument, the
        # logarithms, the table's values
        for b in range(lo, hi + 1):
            g_z = gauss
            gauss *= ratio
            ratio *= step_ratio
            weights[b] = 0.0
            args[b] = kappa0
            kyp = -k[b] * sin_pa + ky * cos_pa
            z = kyp * zs
            if z * z > GAUSS_SKIP:
                continue
            if not recur:
                g_z = math.exp(-0.5 * z * z)
            weights[b] = g_z
            kxp = k[b] * cos_pa + ky * sin_pa
            args[b] = _kappa(kxp, kyp, re, cos_i) + kappa0
        for b in range(lo, hi + 1):
            args[b] = math.log(args[b])
        for b in range(lo, hi + 1):
            if weights[b] != 0.0:
                row[b] = amp * table_at_log(table, y0, hy, args[b]) * weights[b]


#: columns of a low-pass lattice that :func:`_low_image` sums at a time: their waves
#: (cos and sin, 2 x 32 x 64 doubles) fit the level-1 cache
LOW_IMAGE_BLOCK = 32


@njit(cache=True, nogil=True)
def _low_image(low_re, low_im, real, k, count, waves_re, waves_im, shift_x, shift_y,
               scale, image, mirror=False):
    """image[y, x] += scale Re sum over the rows a >= 0 (ky = k[count + a]; the row
    ky = 0 at half weight) and all columns b of L[a, b] e^{i k[b] (x d - shift_x)}
    e^{i ky (y d - shift_y)}: a low-pass lattice's direct sum at the pixels.

    ``mirror``: the sum is symmetric about the stamp's centre, as a round PSF's image of
    a galaxy centred on the stamp is (its spectrum real, and both shifts (size - 1) d /
    2; ignored unless ``real``): it is summed at the columns x < size / 2 (and the middle
    one of an odd size) alone, and the sum at [y, x] is added to image[y, x] and to
    image[size - 1 - y, size - 1 - x]: half the sums.

    ``L = low_re + i low_im`` (``real``: ``low_im`` is not read, a round PSF's spectrum
    is real); ``waves_re + i waves_im`` holds e^{i k[b] j d} (shape (k.size, size)). The sum
    runs first over the columns, for each row, then over the rows, each innermost loop
    along the image's x; the lattice's zeros (outside the window's disc and the disc's
    strip) are skipped. Written out rather than as BLAS products: BLAS's own threads,
    which products of this size start, contended with the rendering threads, and holding
    them to one thread per call cost more than the products."""
    size = image.shape[0]
    rows = low_re.shape[0]
    # the columns summed: all, or the half the mirror gives the rest of (a complex
    # spectrum's sum has no such symmetry)
    mirror = mirror and real
    cols = (size + 1) // 2 if mirror else size
    # e^{i k (x d - shift)} = e^{i k x d} e^{-i k shift}, as cos and sin, [b, x]
    cx = np.empty((k.size, cols))
    sx = np.empty((k.size, cols))
    for b in range(k.size):
        c, s = math.cos(k[b] * shift_x), -math.sin(k[b] * shift_x)
        for x in range(cols):
            cx[b, x] = waves_re[b, x] * c - waves_im[b, x] * s
            sx[b, x] = waves_re[b, x] * s + waves_im[b, x] * c
    # Q[a, x] = sum over b of L[a, b] (cx + i sx)[b, x], four columns (two, complex) a
    # pass over Q's row: a quarter of its loads and stores, which bounded the loop (with
    # the blocks below, 1.4x on a lattice of 85 x 169 alone; 8-12% in the route).
    # The sums keep the column-by-column order, and the zeros (outside the window's
    # disc and the disc's strip, each row's ends) are skipped
    q_re = np.zeros((rows, cols))
    q_im = np.zeros((rows, cols))
    first = np.empty(rows, dtype=np.int64)
    last = np.empty(rows, dtype=np.int64)
    for a in range(rows):
        lo, hi = 0, k.size - 1
        while lo <= hi and low_re[a, lo] == 0.0 and (real or low_im[a, lo] == 0.0):
            lo += 1
        while hi >= lo and low_re[a, hi] == 0.0 and (real or low_im[a, hi] == 0.0):
            hi -= 1
        first[a], last[a] = lo, hi
    # the columns in blocks whose waves stay in the level-1 cache while every row reads
    # them (without the blocks, each row read all of them from level 2)
    for start in range(0, k.size, LOW_IMAGE_BLOCK):
        stop = min(k.size, start + LOW_IMAGE_BLOCK) - 1
        for a in range(rows):
            b, hi = max(first[a], start), min(last[a], stop)
            qr, qi = q_re[a], q_im[a]
            if real:  # half the products
                while b + 3 <= hi:
                    l0, l1, l2, l3 = low_re[a, b], low_re[a, b + 1], low_re[a, b + 2], \
                        low_re[a, b + 3]
                    c0, c1, c2, c3 = cx[b], cx[b + 1], cx[b + 2], cx[b + 3]
                    s0, s1, s2, s3 = sx[b], sx[b + 1], sx[b + 2], sx[b + 3]
                    for x in range(cols):
                        qr[x] = qr[x] + l0 * c0[x] + l1 * c1[x] + l2 * c2[x] + l3 * c3[x]
                        qi[x] = qi[x] + l0 * s0[x] + l1 * s1[x] + l2 * s2[x] + l3 * s3[x]
                    b += 4
                while b <= hi:
                    l0, c0, s0 = low_re[a, b], cx[b], sx[b]
                    for x in range(cols):
                        qr[x] += l0 * c0[x]
                        qi[x] += l0 * s0[x]
                    b += 1
            else:
                while b + 1 <= hi:
                    r0, i0, r1, i1 = low_re[a, b], low_im[a, b], low_re[a, b + 1], \
                        low_im[a, b + 1]
                    c0, c1, s0, s1 = cx[b], cx[b + 1], sx[b], sx[b + 1]
                    for x in range(cols):
                        qr[x] = qr[x] + (r0 * c0[x] - i0 * s0[x]) + (r1 * c1[x] - i1 * s1[x])
                        qi[x] = qi[x] + (r0 * s0[x] + i0 * c0[x]) + (r1 * s1[x] + i1 * c1[x])
                    b += 2
                while b <= hi:
                    r0, i0, c0, s0 = low_re[a, b], low_im[a, b], cx[b], sx[b]
                    for x in range(cols):
                        qr[x] += r0 * c0[x] - i0 * s0[x]
                        qi[x] += r0 * s0[x] + i0 * c0[x]
                    b += 1
    # image[y, x] += Re(e^{i ky (y d - shift_y)} Q[a, x]), four rows a pass over the
    # image's row, in the rows' order; rows of zeros (outside the disc's strip) skipped
    live = np.empty(rows, dtype=np.int64)
    count_live = 0
    for a in range(rows):
        if first[a] <= last[a]:
            live[count_live] = a
            count_live += 1
    cy = np.empty((count_live, size))
    sy = np.empty((count_live, size))
    for j in range(count_live):
        a = live[j]
        ky = k[count + a]
        c, s = math.cos(ky * shift_y), -math.sin(ky * shift_y)
        weight = scale * (0.5 if a == 0 else 1.0)
        for y in range(size):
            wr, wi = waves_re[count + a, y], waves_im[count + a, y]
            cy[j, y] = weight * (wr * c - wi * s)
            sy[j, y] = weight * (wr * s + wi * c)
    # with the mirror, the sums go to a buffer first, each value then to its two pixels
    part = np.zeros((size, cols)) if mirror else image
    for y in range(size):
        out = part[y]
        j = 0
        while j + 3 < count_live:
            c0, c1, c2, c3 = cy[j, y], cy[j + 1, y], cy[j + 2, y], cy[j + 3, y]
            s0, s1, s2, s3 = sy[j, y], sy[j + 1, y], sy[j + 2, y], sy[j + 3, y]
            r0, r1, r2, r3 = q_re[live[j]], q_re[live[j + 1]], q_re[live[j + 2]], \
                q_re[live[j + 3]]
            i0, i1, i2, i3 = q_im[live[j]], q_im[live[j + 1]], q_im[live[j + 2]], \
                q_im[live[j + 3]]
            for x in range(cols):
                out[x] = out[x] + (c0 * r0[x] - s0 * i0[x]) + (c1 * r1[x] - s1 * i1[x]) \
                    + (c2 * r2[x] - s2 * i2[x]) + (c3 * r3[x] - s3 * i3[x])
            j += 4
        while j < count_live:
            c0, s0, r0, i0 = cy[j, y], sy[j, y], q_re[live[j]], q_im[live[j]]
            for x in range(cols):
                out[x] += c0 * r0[x] - s0 * i0[x]
            j += 1
    if mirror:
        for y in range(size):
            for x in range(cols):
                image[y, x] += part[y, x]
                if size - 1 - x != x:  # an odd size's middle column is summed whole
                    image[size - 1 - y, size - 1 - x] += part[y, x]


@njit(cache=True, nogil=True)
def _slow_sum(low_re, low_im, real, k, count, k1, xs, ys, scale, out):
    """out[p] += scale Re sum over the rows a >= 0 (ky = k[count + a], the row ky = 0 at
    half weight) and all columns b of L[a, b] ((k[b]^2 + ky^2) / k1^2)^4
    e^{i (k[b] xs[p] + ky ys[p])}: the leading term of a low-pass lattice's high-pass part,
    Laplacian^4 (chi O) / k1^8, at points (xs, ys) from the galaxy's centre (length units;
    ``L``, ``real`` and ``scale`` as in :func:`_low_image`)."""
    rows = low_re.shape[0]
    inv = 1.0 / (k1 * k1)
    w_re = np.zeros((rows, k.size))
    w_im = np.zeros((rows, k.size))
    for a in range(rows):
        ky = k[count + a]
        for b in range(k.size):
            w = (k[b] * k[b] + ky * ky) * inv
            w = w * w
            w = w * w
            w_re[a, b] = w * low_re[a, b]
            w_im[a, b] = 0.0 if real else w * low_im[a, b]
    cx = np.empty(k.size)
    sx = np.empty(k.size)
    for p in range(xs.size):
        for b in range(k.size):
            cx[b] = math.cos(k[b] * xs[p])
            sx[b] = math.sin(k[b] * xs[p])
        total = 0.0
        for a in range(rows):
            q_re, q_im = 0.0, 0.0
            for b in range(k.size):
                lr, li = w_re[a, b], w_im[a, b]
                if lr == 0.0 and li == 0.0:
                    continue
                q_re += lr * cx[b] - li * sx[b]
                q_im += lr * sx[b] + li * cx[b]
            phase = k[count + a] * ys[p]
            weight = 0.5 if a == 0 else 1.0
            total += weight * (q_re * math.cos(phase) - q_im * math.sin(phase))
        out[p] += scale * total


def _gauss_legendre(points):
    """Gauss-Legendre nodes and weights on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(points)
    return 0.5 * (x + 1.0), 0.5 * w


#: the peak estimate's rules: per radial panel, and per quarter turn
_GUESS_RADIAL = _gauss_legendre(4)
_GUESS_ANGULAR = _gauss_legendre(8)


@njit(cache=True, nogil=True)
def _peak_guess(geom, table, tparams, radial, dk_radial, kmax, box, dx, dy, rule_r, rule_a):
    """An estimate of one pixel of the image, the one nearest the galaxy's centre: its
    Fourier integral (1 / 4 pi^2) Int I~ P~ sinc cos(k.(dx, dy)) d^2k by a coarse
    product rule, Gauss-Legendre in |k| on panels that double from 0.5 / R_e up to
    ``kmax``, and in the angle on each quarter turn of the galaxy's frame (so that nodes
    gather where the disc's factor is narrow, along its major axis). A round PSF's
    radial table; ``box`` the pixel's side (0: centre sampling) and ``(dx, dy)`` its
    centre less the galaxy's, in length units.

    Not a bound: an estimate that render_psf checks against the image it draws. Against
    the engine's pixel (benchmarks/bench_peak_guess.py: 2,250 galaxies, R_e 0.5-30
    pixels, q 0.2-1, offsets to 3 pixels, pixel scales 0.5-2, centre sampling too) it was
    within 0.25% for Moffat and Gaussian PSFs of FWHM 1-3.6 pixels and -1.7% to +0.6% for
    a Gaussian of FWHM 10, none drawn twice; q down to 0.01 on that prior did no worse.
    Larger, thinner discs (R_e 20-150 pixels edge-on) a review found 2-4% high at
    q = 0.05 and 10-33% low at q = 0.01-0.02, where the narrow disc factor outruns 8
    points a quarter turn. It costs 0.05-0.12 ms, the first pass it replaces (an 8 x 8
    patch at SCOUT_TOL) 0.2-1.9 ms. The rule is coarse (4 points a radial panel, 8 a
    quarter turn) but the integrand is smooth once the PSF's transform has ended the
    Sersic cusp's slow decay."""
    amp, re, h, cos_i, sin_i, cos_pa, sin_pa = geom
    xr, wr = rule_r
    xa, wa = rule_a
    y0, hy, kappa0 = tparams
    total = 0.0
    k_lo, k_hi = 0.0, 0.5 / re
    while k_lo < kmax:
        k_hi = min(k_hi, kmax)
        for i in range(xr.size):
            k = k_lo + (k_hi - k_lo) * xr[i]
            wk = (k_hi - k_lo) * wr[i] * k * _radial_psf(radial, dk_radial, k)
            if wk == 0.0:
                continue
            ring = 0.0
            for quarter in range(2):  # k and -k give the same: a half turn
                for j in range(xa.size):
                    t = 0.5 * math.pi * (quarter + xa[j])
                    kxp, kyp = k * math.cos(t), k * math.sin(t)
                    z = kyp * sin_i * h
                    if z * z > GAUSS_SKIP:
                        continue
                    kx = kxp * cos_pa - kyp * sin_pa
                    ky = kxp * sin_pa + kyp * cos_pa
                    kappa = re * math.sqrt(kxp * kxp + kyp * kyp * cos_i * cos_i)
                    ring += wa[j] * table_value(table, y0, hy, kappa0, kappa) \
                        * math.exp(-0.5 * z * z) * _sinc(0.5 * kx * box) \
                        * _sinc(0.5 * ky * box) * math.cos(kx * dx + ky * dy)
            total += wk * ring * 0.5 * math.pi
        k_lo, k_hi = k_hi, 2.0 * k_hi
    return amp * total * 2.0 / (4.0 * math.pi * math.pi)


@njit(cache=True, nogil=True)
def _low_kernel(psf_re, psf_im, k, box, k1, k0):
    """(chi(k / k1) - chi(k / k0)) P~ sinc on the lattice k x k: the low-pass window, or
    with ``k0 > 0`` the band between two (``k0 = 0``: chi(k / k0) = 0). 0 where
    chi(k / k1) < e^-40."""
    out_re = np.zeros((k.size, k.size))
    out_im = np.zeros((k.size, k.size))
    for a in range(k.size):
        sy = _sinc(0.5 * k[a] * box)
        for b in range(k.size):
            k2 = k[b] * k[b] + k[a] * k[a]
            x1 = k2 / (k1 * k1)
            x1 = x1 * x1
            x1 = x1 * x1
            if x1 > 40.0:
                continue
            w = math.exp(-x1)
            if k0 > 0.0:  # e^-x1 - e^-x0 without cancellation
                x0 = k2 / (k0 * k0)
                x0 = x0 * x0
                x0 = x0 * x0
                w *= -math.expm1(x1 - x0)
            w *= _sinc(0.5 * k[b] * box) * sy
            out_re[a, b] = w * psf_re[a, b]
            out_im[a, b] = w * psf_im[a, b]
    return out_re, out_im


@njit(cache=True, nogil=True)
def _radial_lattice(radial, dk, k):
    """A round PSF's P~ on the square lattice k x k, from its radial table."""
    out = np.empty((k.size, k.size))
    for a in range(k.size):
        for b in range(k.size):
            out[a, b] = _radial_psf(radial, dk, math.sqrt(k[a] * k[a] + k[b] * k[b]))
    return out


class _Grids:
    """What the engine needs of the PSF, computed once and shared by every galaxy (and
    every thread): a round PSF's radial table, any PSF's transform on each alias lattice,
    and the galaxy-independent factor of each lattice's spectrum (the PSF's transform
    times the window, and on the low-pass lattice times the pixel's sinc). The
    lattices' sizes are quantised so that galaxies share them; the kernels held are
    capped at ``CACHE_BYTES``, least recently used dropped first."""

    #: points of a round PSF's radial table
    RADIAL_POINTS = 16384
    #: memory for the lattices' kernels (a 288^2 lattice folded 3x3 takes 3 MB)
    CACHE_BYTES = 192 * 2**20

    def __init__(self, psf, d, floor=PSF_FLOOR):
        self.psf = psf
        self.d = d
        self.floor = float(floor)
        self.round = bool(getattr(psf, "round", False))
        self.kmax = float(psf.max_wavenumber(self.floor))
        self._alias = {}
        self._kernels = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        if self.round:
            self.dk_radial = self.kmax * 1.001 / (self.RADIAL_POINTS - 4)
            k = np.arange(self.RADIAL_POINTS) * self.dk_radial
            self.radial_k = k  # the table's wavenumbers
            self.radial = np.ascontiguousarray(np.real(psf.transform(k, 0.0)), dtype=float)
        else:
            self.dk_radial = 1.0
            self.radial = np.zeros(4)
            self.radial_k = np.arange(4.0)
        self._empty = np.zeros((1, 1))
        self._kmax = {}

    def cut_share(self):
        """A band-limited PSF's largest |transform| on its cut, against its peak (on 257
        points along each edge; 0 for a PSF without a cut)."""
        if not hasattr(self, "_cut_share"):
            cut = getattr(self.psf, "band_limit", None)
            share = 0.0
            if cut is not None:
                k = np.linspace(-cut, cut, 257)
                edge = np.abs(self.psf.interior_transform_grid(np.array([-cut, cut]), k))
                share = max(edge.max(), np.abs(self.psf.interior_transform_grid(
                    k, np.array([-cut, cut]))).max()) / abs(self.psf.transform(0.0, 0.0))
            self._cut_share = float(share)
        return self._cut_share

    def kmax_for(self, floor):
        """Where the PSF's transform falls below ``floor`` (at most ``self.kmax``),
        cached by decade so that galaxies share it."""
        decade = math.floor(math.log10(max(floor, self.floor)))
        if decade not in self._kmax:
            self._kmax[decade] = min(self.kmax, float(self.psf.max_wavenumber(10.0 ** decade)))
        return self._kmax[decade]

    def alias(self, m, reps):
        """A non-round PSF's transform on the alias lattice (zero below the floor)."""
        key = (m, reps)
        if key not in self._alias:
            d = self.d
            base = np.fft.fftfreq(m, d=d) * 2.0 * math.pi
            offsets = (np.arange(2 * reps + 1) - reps) * 2.0 * math.pi / d
            k = (offsets[:, None] + base[None, :]).ravel()
            value = np.asarray(self.psf.transform_grid(k, k), dtype=complex)
            value[np.abs(value) < self.floor] = 0.0  # zero entries are skipped
            self._alias[key] = (np.ascontiguousarray(value.real),
                                np.ascontiguousarray(value.imag))
        return self._alias[key]

    def _cached(self, key, build):
        with self._lock:
            if key in self._kernels:
                self._kernels.move_to_end(key)
                return self._kernels[key]
        value = build()
        size = sum(a.nbytes for a in value if isinstance(a, np.ndarray))
        # a rare huge lattice is used once, not kept. Half the cap, not less: a thin disc's
        # wrap check can ask for a 720 lattice over 5 x 5 zones (52 MB), which every such
        # disc then needs again (0.1 s to build)
        if size > self.CACHE_BYTES // 2:
            return value
        with self._lock:
            if key not in self._kernels:
                self._kernels[key] = value
                self._bytes += size
                while self._bytes > self.CACHE_BYTES:
                    _, old = self._kernels.popitem(last=False)
                    self._bytes -= sum(a.nbytes for a in old if isinstance(a, np.ndarray))
            return self._kernels[key]

    def high(self, m, reps, k1):
        """P~ (1 - chi) on the folded lattice (see :func:`_high_kernel`)."""
        def build():
            alias_re, alias_im = (self._empty, self._empty) if self.round \
                else self.alias(m, reps)
            return _high_kernel(self.round, self.radial, self.dk_radial, self.kmax,
                                alias_re, alias_im, m, reps, self.d, k1)
        return self._cached(("high", m, reps, k1), build)

    def patch(self, m, iy, ix, size):
        """The inverse real FFT of an m x m lattice's half plane at the rows and columns
        of a ``size``-pixel patch whose corner is (-iy, -ix): ``Re(waves_y @ half @
        waves_x)`` is ``np.fft.irfft2(half, s=(m, m))`` there (the modes 0 and m / 2 of
        the last axis count once, and their imaginary parts not at all, as irfft has
        it)."""
        def build():
            j = np.arange(m)
            rows = (np.arange(size) - iy) % m
            waves_y = np.exp(2j * math.pi / m * (np.outer(rows, j) % m)) / m
            half = np.arange(m // 2 + 1)
            weight = np.where((half == 0) | (2 * half == m), 1.0, 2.0) / m
            cols = (np.arange(size) - ix) % m
            waves_x = weight[:, None] * np.exp(2j * math.pi / m * (np.outer(half, cols) % m))
            return waves_y, waves_x
        return self._cached(("patch", m, iy % m, ix % m, size), build)

    def low(self, length, count, box, k1, k0, size):
        """A low-pass lattice's wavenumbers ``k``, (chi(k / k1) - chi(k / k0)) P~ sinc
        on ``k x k`` (``k0 = 0``: chi P~ sinc), and ``e^{i k j d}`` at the pixels
        ``j < size``, real and imaginary parts (each of shape (k.size, size))."""
        def build():
            k = np.arange(-count, count + 1) * 2.0 * math.pi / length
            if self.round:  # from the radial table (exact Bessel functions are slow)
                value = _radial_lattice(self.radial, self.dk_radial, k).astype(complex)
            else:
                value = np.asarray(self.psf.transform_grid(k, k), dtype=complex)
            kern_re, kern_im = _low_kernel(np.ascontiguousarray(value.real),
                                           np.ascontiguousarray(value.imag), k, box, k1,
                                           k0)
            waves = np.exp(1j * np.outer(k, np.arange(size) * self.d))
            return (k, kern_re, kern_im, np.ascontiguousarray(waves.real),
                    np.ascontiguousarray(waves.imag))
        return self._cached(("low", length, count, box, k1, k0, size), build)


_SHARED = OrderedDict()
_SHARED_LOCK = threading.Lock()


def shared_grids(psf, d, floor=PSF_FLOOR):
    """The :class:`_Grids` of ``psf`` at pixel size ``d``, kept between calls (the three
    most recently used), so that batch after batch of galaxies reuses its lattices."""
    key = (psf, float(d), float(floor))
    with _SHARED_LOCK:
        if key in _SHARED:
            _SHARED.move_to_end(key)
            return _SHARED[key]
    grids = _Grids(psf, float(d), floor)
    with _SHARED_LOCK:
        grids = _SHARED.setdefault(key, grids)
        while len(_SHARED) > 3:
            _SHARED.popitem(last=False)
    return grids


#: The plans' costs, in nanoseconds on this project's 2-core machine (one thread;
#: benchmarks/bench_plan_cost.py measures them): a mode of the folded spectrum (its
#: Hankel value, disc factor, kernel and phase), an inverse FFT per m^2 log2 m, a mode
#: of a low-pass lattice's spectrum, and a product of its sums at the pixels. Costs in
#: units of one folded mode, as before, were 6x too high for the FFT and 35x for the
#: low-pass lattices (set when their sums were NumPy products), so the plans folded whole
#: images at periods of 360-480 where the split costs a third of that
FOLD_NS = 38.0
FFT_NS = 0.75
LOW_MODE_NS = 9.7
LOW_SUM_NS = 0.19


@njit(cache=True, nogil=True)
def _fold_cost(m, folds, kmax, d, strip):
    """The folded FFT's cost (ns): its modes, those of ``folds`` Nyquist zones within
    ``kmax`` and within the disc's strip ``|k'_y| <= strip`` (the fold skips the rest), and
    the inverse transform. Without the transform's cost a plan with a single Nyquist zone
    (a galaxy-and-PSF cut) could pick an 8192^2 transform over the split. ``kmax`` and
    ``strip`` in radians per length unit, ``d`` the pixel's side."""
    modes = min(folds * m * m / 2.0, kmax * kmax * m * m * d * d / (8.0 * math.pi))
    theta = math.asin(min(1.0, strip / kmax))  # the strip's share of the disc |k| < kmax
    modes *= (2.0 / math.pi) * (theta + math.sin(theta) * math.cos(theta))
    return FOLD_NS * modes + FFT_NS * m * m * math.log2(m)


@njit(cache=True, nogil=True)
def _alias_reps(kmax, d):
    """Nyquist zones folded on each side so that the lattice reaches ``kmax``."""
    return max(0, int(math.ceil((kmax * d / math.pi - 1.0) / 2.0)))


@njit(cache=True, nogil=True)
def _low_level(length_wanted, k_hi, d):
    """A low-pass lattice's period (quantised in steps of 2^(1/8), so that galaxies share
    the PSF's values on it) and its half-width in modes, for a window chi(k / k_hi)."""
    length = 16.0 * d * 2.0 ** (math.ceil(8.0 * math.log2(length_wanted / (16.0 * d))) / 8.0)
    count = int(math.ceil(CHI_REACH * k_hi * length / (2.0 * math.pi)))
    return length, count


@njit(cache=True, nogil=True)
def _level_cost(count, size):
    """A low-pass lattice's cost (ns): its spectrum's modes and its sums at the pixels
    (over the columns for each row and pixel column, then over the rows)."""
    side = 2 * count + 1
    return LOW_MODE_NS * side * side + LOW_SUM_NS * (count + 1) * size * (side + size)


def plan_cost(m, reps, levels, size, kmax, d, strip=math.inf):
    """A plan's cost (ns), as :func:`plan` compares them."""
    cost = _fold_cost(m, (2 * reps + 1) ** 2, kmax, d, strip)
    return cost + sum(_level_cost(count, size) for _, count, _, _ in levels)


def plan(re, n, b, psf, size, d, offset, kmax=None, tol=TOL, band=1.0, whole=True,
         strip=math.inf):
    """The transform sizes for one galaxy: (m, reps, levels), where ``levels`` lists
    the low-pass lattices as (period, count, k_hi, k_lo), empty when there is no split.
    ``band``: a bound on the spectrum's magnitude at ``|k| >= SPREAD_BAND k_1``, as a
    fraction of its value at 0 (:func:`spread_band`; 1, the default, bounds it for any
    image, and then the folded FFT's period is the bound's), which sets how far the
    window's kernel spreads the folded part.
    ``whole=False`` leaves out the plan without a split. ``strip``: the half-width of the
    disc's strip in the spectrum, ``sqrt(GAUSS_SKIP) / (h_z sin i)`` (radians per length
    unit), where the fold skips the modes beyond (for the costs).

    The plans: one folded FFT of period long enough for the whole tail (no low-pass
    part); or the split, a folded FFT of the high-pass part (1 - chi(k / k_1)) and a
    direct sum of the low-pass part chi(k / k_1) on a lattice whose period holds the
    whole tail; or the split with the low-pass part split again at k_2 < k_1: the band
    chi(k / k_1) - chi(k / k_2) on a lattice of a shorter period, and chi(k / k_2) on
    the tail's, with k_2 / k_1 times as many modes a side. The band is the difference
    of the two high-pass parts, so it reaches as far as the one at k_2; the PSF's
    light in it is bounded by all the PSF scatters (its wing radius), not by its core.
    The cheapest plan, by operation count, is used.
    """
    k1 = K1 / d
    # aliases: fold every Nyquist zone where the PSF's transform is above PSF_FLOOR
    kmax = psf.max_wavenumber(PSF_FLOOR) if kmax is None else kmax
    reps = _alias_reps(kmax, d)
    folds = (2 * reps + 1) ** 2
    # Wrap-around. A transform of period L adds the image at x + j L (j != 0) to pixel
    # x, which lies within half = stamp / 2 of the centre, so the copies lie at least
    # |j| L - half >= |j| (L - half) away. Light that falls exponentially (the window's
    # kernel, the high-pass part) sums over the copies to less than COPIES times the
    # nearest's, so L = half + (its radius at tol / COPIES) keeps it below tol. The
    # Sersic tail, which falls more slowly for large n, is summed ring by ring
    # (tail_lattice_radius), and a PSF's power-law wing sums to its lattice sum
    # (``wing_copies``: for a Moffat, sum over j of |j|^(-2 beta)). The parts that can
    # wrap into one pixel: the high-pass tail and the window's spread (the folded FFT),
    # the Sersic tail, the PSF's wing and the spread (a low-pass lattice), and with the
    # low-pass part split, the band's three; at most PARTS, so each gets tol / PARTS.
    stamp = (size + 2.0 * max(abs(offset[0]), abs(offset[1]))) * d
    half = 0.5 * stamp
    part = tol / PARTS
    flux_ratio = 2.0 * math.pi * n * re * re * math.exp(math.lgamma(2.0 * n)) / b ** (2.0 * n)
    copies = float(getattr(psf, "wing_copies", COPIES))
    wing = psf.wing_radius(part / copies, flux_ratio)
    tail_r = max(tail_lattice_radius(part, re, n, b), wing)
    core = psf.core_radius(part / COPIES)
    m, levels = _plan_sizes(re, n, b, size, d, half, part, flux_ratio, wing, core,
                            tail_r, folds, k1, band, whole, kmax, strip)
    return int(m), reps, tuple((float(length), int(count), float(k_hi), float(k_lo))
                               for length, count, k_hi, k_lo in levels)


@njit(cache=True, nogil=True)
def _plan_sizes(re, n, b, size, d, half, part, flux_ratio, wing, core, tail_r, folds, k1,
                band, whole, kmax, strip):
    """:func:`plan`'s comparison of the plans, compiled (as Python calls it was 7% of the
    route's time): the folded FFT's size and the low-pass lattices (an array of rows
    (period, count, k_hi, k_lo), as many as there are lattices)."""
    # one folded FFT over the whole tail
    m_whole = _fft_size(int(math.ceil((half + tail_r + core) / d)) + 1)
    best_cost = _fold_cost(m_whole, folds, kmax, d, strip) if whole else math.inf
    best_m, best = m_whole, np.zeros((0, 4))
    # the split
    spread = window_radius(part / COPIES, re, n, b, k1, flux_ratio)
    reach_hi = max(high_pass_radius(part / COPIES, re, n, b, k1), spread) + core
    # The folded FFT's period: the window's kernel spreads the light in proportion to the
    # spectrum in its transition band, not to the whole flux (SPREAD_BAND), and that
    # spread is already the PSF-convolved image's. An estimate, not a bound: wrap_check
    # measures the folded image and lengthens the period where it falls short. The
    # low-pass lattices, which are not checked, keep the bound
    spread_fold = window_radius(part / COPIES, re, n, b, k1, flux_ratio * band)
    reach_fold = max(high_pass_radius(part / COPIES, re, n, b, k1), spread_fold)
    if band >= 1.0:  # the bound (the first pass, which is not checked): the PSF's core too
        reach_fold += core
    m = _fft_size(int(math.ceil((half + reach_fold) / d)) + 1)
    cost_high = _fold_cost(m, folds, kmax, d, strip)
    length, count = _low_level(half + max(tail_r, spread) + core, k1, d)
    if cost_high + _level_cost(count, size) < best_cost:
        best_cost, best_m = cost_high + _level_cost(count, size), m
        best = np.array([[length, count, k1, 0.0]])
    # the split with the low-pass part split again at k2
    for ratio in LOW_SPLITS:
        k2 = ratio * k1
        spread2 = window_radius(part / COPIES, re, n, b, k2, flux_ratio)
        reach2 = max(high_pass_radius(part / COPIES, re, n, b, k2), spread2) + max(core, wing)
        band_length, band_count = _low_level(half + max(reach_hi, reach2), k1, d)
        tail_length, tail_count = _low_level(half + max(tail_r, spread2) + core, k2, d)
        cost = cost_high + _level_cost(band_count, size) + _level_cost(tail_count, size)
        if cost < best_cost:
            best_cost, best_m = cost, m
            best = np.array([[band_length, band_count, k1, k2],
                             [tail_length, tail_count, k2, 0.0]])
    return best_m, best


#: how many times a galaxy's folded FFT (or band) may be redone with a longer period
WRAP_RETRIES = 3
#: the longest period wrap_check asks for: the folded kernel of a 1024 lattice over 7 x 7
#: Nyquist zones already takes 200 MB (longer tails than that were not seen)
WRAP_MAX = 1024
#: the periodic copies whose thin-disc tails reach a pixel, against the nearest's (the
#: two along the disc's line, one on each side)
LINE_COPIES = 2.0


def wrap_check(periodic, stamp, budget, re, n, b, k1, wing=None, slow=None):
    """None if the folded high-pass part's wrap-around is within ``budget`` at the stamp's
    pixels; otherwise a longer period (an FFT size) that would bring it there.

    Why it is needed. The plan bounds the high-pass part's extent by the face-on
    profile's smoothness, but an inclined disc is also a thin line: its vertical
    Gaussian (width ``h_z sin i``) has structure on the window's scale, so its high-pass
    part runs along the whole major axis, falling with the Sersic tail times about
    105 / (h_z sin i k_1)^8. For thin, near edge-on discs that reaches a period's copies,
    and where the PSF lights faint pixels away from the disc enough for the promise to
    count them (Moffats with beta = 2-3 and Gaussians, FWHM 1-3 pixels), those were up
    to 2.6e-2 wrong. A bound on the whole of that tail would need periods 2-10 times longer
    for most inclined discs, so the tail is measured instead.

    How. ``periodic`` is the m x m periodic image, its index 0 at the galaxy's centre
    (to a pixel). Its largest value on the square ring at Chebyshev radius r_b (the
    period's edge, or the stamp's far edge as seen from a copy if that is nearer) is
    the tail there (with the nearest copies' share, so if anything too large). The
    copies lie at least r_c = m - ``stamp`` from any pixel, and between r_b and r_c the
    tail is taken to fall at least as fast as the slower of the projected Sersic tail
    (:func:`_line_fall`, the shape the line follows) and the window's kernel
    (``CHI_ENV``: the spread of the light that is not smooth), and a power-law PSF
    wing's (:func:`tail_fall`). That is measured, not proven: against a period of 1024
    the estimate was 1.8-2000 times the true wrap-around wherever that was at least a
    tenth of the budget (``benchmarks/bench_wrap.py`` reports it). ``stamp`` and ``re``
    in pixels;
    ``k1`` (the split, 0 without one) in radians per pixel; ``budget`` in the image's
    units; ``wing``: the PSF's ``wing_power``, if it has a power-law wing (see
    :func:`tail_fall`).

    ``slow``: (a function of radii in pixels giving the slow part's largest magnitude at
    each on the major axis, in the periodic image's units; the line's width h_z sin i in
    pixels; cos i; a function giving the radius in pixels out to which the first may be
    read), with which the tail is taken apart where that is valid (:func:`_slow_apart`):
    carried out whole, the ring's value, which at the period's edge is mostly the window
    kernel's spread, was taken to fall like the Sérsic profile, and asked for periods
    1.5-4 times longer than the wrap-around needed (a scratch comparison of 11 discs with
    periods of 1024). Round PSFs only (see
    :func:`_render_galaxy`).
    """
    m = periodic.shape[0]
    if m >= WRAP_MAX:
        return None
    s_b, r_b, r_c = ring_max(periodic, stamp)
    whole = LINE_COPIES * s_b * tail_fall(r_b, r_c, re, n, b, k1, wing)
    if whole <= budget:
        return None
    apart = _slow_apart(s_b, r_b, r_c, re, n, b, k1, slow) if slow is not None and \
        k1 > 0.0 else None
    if apart is not None and apart[0] + apart[1] <= budget:
        return None
    reach = _wrap_reach(s_b, r_b, r_c, budget, re, n, b, k1, wing)
    wider = min(max(_fft_size(int(math.ceil(reach + stamp)) + 1), _fft_size(m + 1)),
                WRAP_MAX)
    if apart is not None and apart[0] <= 0.25 * budget:
        # apart, the slow part read from r_c outwards (it falls beyond) and the fast part
        # carried out: the period where the wrap-around would be within half the budget,
        # so that the retry's own check passes, if that is shorter
        fast = max(apart[1], 1e-300)
        reach = r_c + math.log(fast / (0.25 * budget)) / (CHI_ENV[1] * k1)
        wider = min(wider, max(_fft_size(int(math.ceil(reach + stamp)) + 1),
                               _fft_size(m + 1)))
    return wider


def wrap_estimate(s_b, r_b, r_c, re, n, b, k1, wing=None, slow=None):
    """The wrap-around at the stamp's pixels from copies at ``r_c`` and beyond, of a folded
    image whose largest value on the ring at ``r_b`` is ``s_b`` (:func:`ring_max`): that
    value carried out whole by the slowest fall its parts may have (:func:`tail_fall`,
    both copies on the disc's line), or, with ``slow`` (see :func:`wrap_check`), the
    smaller of that and the tail taken apart (:func:`_slow_apart`). Lengths in pixels,
    ``k1`` in radians per pixel."""
    whole = LINE_COPIES * s_b * tail_fall(r_b, r_c, re, n, b, k1, wing)
    if slow is None or k1 <= 0.0:
        return whole
    apart = _slow_apart(s_b, r_b, r_c, re, n, b, k1, slow)
    return whole if apart is None else min(whole, apart[0] + apart[1])


#: the radii, from the nearest copy's distance outwards (pixels), at which the slow part is
#: read (its largest is taken; a few, so that a zero of Laplacian^4 O at one is not taken
#: for the tail)
SLOW_RADII = (0.0, 3.0, 6.0, 10.0, 15.0)
#: the slow part is read where it is smooth on the window's scale: its roughness (see
#: _slow_apart) at most this fraction of k_1, so that the next term of 1 - chi = y chi +
#: (1 - (1 + y) e^{-y}) is at most about 190 (0.3)^8 / 2 = 6e-3 of it
SLOW_ROUGH = 0.3
#: the slow part is read out to this share of the shortest low-pass lattice's period:
#: beyond about 0.4 of it the band's copy, a period away, was read instead (1-10 times
#: the budget by itself at r_c >= 216 pixels, a review found)
SLOW_PERIOD_SHARE = 0.35
#: the slow part read on the major axis stands for every point at that distance, and
#: the axis's sampled radii for every radius beyond: held by this factor
SLOW_SAFETY = 4.0
#: the rest carried out at the kernel envelope's rate, held by this factor: on thick,
#: inclined discs (benchmarks/bench_wrap.py --thick, read galaxy by galaxy with a scratch
#: script) it came within 1.22 of the true wrap-around where that spread was all of it (an
#: n = 2 disc through a Gaussian PSF)
FAST_SAFETY = 2.0


def _slow_apart(s_b, r_b, r_c, re, n, b, k1, slow):
    """The wrap-around at the stamp from copies at ``r_c`` and beyond, with the tail taken
    apart: (its slow part, its fast part), or None where that is not valid.

    The high-pass part is H = (1 - chi) O-hat, and 1 - chi = y chi + (1 - (1 + y) e^{-y})
    with y = (k / k_1)^8. The first term, S = Laplacian^4 (chi O) / k_1^8, holds the slow
    part (the smooth tail's eighth derivatives) and a spread of the core by its own kernel;
    it is computed (``slow``, from the low-pass lattices, whose periods hold the whole tail,
    out to a share of the shortest of them) at radii from r_c outwards on the major axis,
    where the profile is brightest at a given distance, and counted for every copy
    (``COPIES``, times ``SLOW_SAFETY``). The rest, R = H - S, is the window's spread of the
    light that is not smooth, which falls at least like the kernel's envelope, and the
    smooth tail's next order, negligible where the image's roughness rho is below
    SLOW_ROUGH k_1: rho^2 = lambda^2 + 3.2 / sigma^2, from the profile's logarithmic slope
    lambda and its width across the major axis, sigma^2 = (h_z sin i)^2 + cos^2 i r /
    lambda (the line's Gaussian and the projected profile's curvature; a Gaussian's eighth
    derivative at its crest is 105 / sigma^8, and its sixteenth 15!! / sigma^16, so the
    next order is at most about 190 (rho / k_1)^8 / 2 = 6e-3 of S there). R is at most
    s_b plus S at r_b on the ring, carried out at the kernel's rate to r_c for the
    ``LINE_COPIES`` nearest copies (times ``FAST_SAFETY``). Where S and R cancel (near the
    core) this only overstates the tail. Thin, near edge-on discs (their line rough on the
    window's scale), profiles rough at those radii, and radii where a lattice's own copy
    would be read are not taken apart. Lengths in pixels; ``k1`` in radians per pixel."""
    slow_at, width, cos_i, reach = slow
    radii = r_c + np.array(SLOW_RADII)
    if radii[-1] > reach():
        return None
    for r in (r_b, radii[-1]):
        lam = _slope(r, re, n, b)
        sigma2 = width * width + cos_i * cos_i * r / lam
        if sigma2 <= 0.0 or lam * lam + 3.2 / sigma2 > (SLOW_ROUGH * k1) ** 2:
            return None
    values = slow_at(np.concatenate(([float(r_b)], radii)))
    fast = (s_b + values[0]) * math.exp(-CHI_ENV[1] * k1 * (r_c - r_b))
    return COPIES * SLOW_SAFETY * values[1:].max(), FAST_SAFETY * LINE_COPIES * fast


def _ring_radius(m, stamp):
    """(r_b, r_c) of :func:`ring_max` for a period of m pixels."""
    r_c = m - stamp
    return min(m // 2 - 1, int(math.floor(r_c))), r_c


def ring_max(periodic, stamp):
    """(s_b, r_b, r_c): the largest |value| of the m x m periodic image (index 0 at the
    galaxy's centre) on the square ring at Chebyshev radius r_b, the period's edge or the
    stamp's far edge as seen from a copy if nearer, and r_c = m - ``stamp``, the least
    distance from a copy to a pixel (pixels)."""
    m = periodic.shape[0]
    r_b, r_c = _ring_radius(m, stamp)
    # the ring's rows and columns (index i is at distance min(i, m - i) from index 0),
    # and the span of the other axis within it
    return _ring_abs_max(periodic, r_b), r_b, r_c


@njit(cache=True, nogil=True)
def _ring_abs_max(periodic, r_b):
    """ring_max's largest |value|: over the rows and columns r_b - 1 .. r_b + 1 and
    m - r_b - 1 .. m - r_b + 1 (index i is at distance min(i, m - i) from index 0), each
    within the span of the other axis that the ring covers (all of it when the ring
    reaches the period's edge)."""
    m = periodic.shape[0]
    inside = r_b + 1 < m // 2
    best = 0.0
    for t in (r_b - 1, r_b, r_b + 1, m - r_b - 1, m - r_b, m - r_b + 1):
        i = t % m
        for j in range(m):
            if inside and r_b + 1 < j < m - r_b - 1:
                continue
            best = max(best, abs(periodic[i, j]), abs(periodic[j, i]))
    return best


@njit(cache=True, nogil=True)
def _stamp_window(periodic, iy, ix, size, area):
    """The stamp's pixels of an m x m periodic image whose index 0 is at pixel (iy, ix),
    divided by ``area``."""
    m = periodic.shape[0]
    out = np.empty((size, size))
    for r in range(size):
        row = (r - iy) % m
        for c in range(size):
            out[r, c] = periodic[row, (c - ix) % m] / area
    return out


def tail_fall(r_b, r_c, re, n, b, k1, wing=None):
    """The least a wrap-around tail is taken to fall from radius r_b to r_c (pixels):
    the slowest of the projected Sersic tail (:func:`_line_fall`), the window kernel's
    envelope (rate ``CHI_ENV[1] k1``, ``k1`` in radians per pixel; 0: no window) and, for
    a PSF with a power-law wing r^-``wing``, the light it scatters: that wing itself
    without a window (a compact galaxy's whole tail is its light through the wing), its
    high-pass part, r^-(``wing`` + 8), with one."""
    fall = _line_fall(r_b, r_c, re, n, b)
    if k1 > 0.0:
        fall = max(fall, math.exp(-CHI_ENV[1] * k1 * (r_c - r_b)))
    if wing is not None:
        fall = max(fall, (r_c / r_b) ** -(wing if k1 == 0.0 else wing + 8.0))
    return fall


def _line_fall(r0, r1, re, n, b):
    """How much a disc's projected tail falls from radius r0 to r1: at most
    exp(-b ((r1/R_e)^(1/n) - (r0/R_e)^(1/n))) times r1 / r0. Seen edge-on, the line of
    sight through the disc at distance r adds a factor ~ r^(1 - 1/(2n)) to the face-on
    profile, so r / r0 bounds it for every n (``tail``'s square root does not for
    n > 1)."""
    power = b * ((r1 / re) ** (1.0 / n) - (r0 / re) ** (1.0 / n))
    return math.exp(-min(power, 700.0)) * r1 / r0


def _wrap_reach(s_b, r_b, r_c, budget, re, n, b, k1, wing=None):
    """None if a tail that is ``s_b`` at radius ``r_b`` (with its nearest copies' share)
    is within ``budget`` once summed over the ``LINE_COPIES`` copies at ``r_c``;
    otherwise the radius where it would be, with a factor 2 to spare, so that one retry
    is usually enough. It is taken to fall at least as fast as the slower of the
    projected Sersic tail (:func:`_line_fall`) and the window kernel's envelope (rate
    ``CHI_ENV[1] k1``; ``k1 = 0``: no window), and the PSF's wing (:func:`tail_fall`).
    Lengths in pixels."""
    excess = LINE_COPIES * s_b / budget
    if excess <= 1.0 or excess * tail_fall(r_b, r_c, re, n, b, k1, wing) <= 1.0:
        return None
    rate = CHI_ENV[1] * k1
    # where both have fallen by 1 / (2 excess) from r_b (the line's by doubling, then
    # bisection), but no more than 8 times as far out in one step
    target = 0.5 / excess
    hi = r_c
    while _line_fall(r_b, hi, re, n, b) > target and hi < 8.0 * r_c:
        hi *= 1.25
    lo = hi / 1.25
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _line_fall(r_b, mid, re, n, b) > target else (lo, mid)
    reach = hi
    if k1 > 0.0:
        reach = max(reach, r_b - math.log(target) / rate)
    if wing is not None:
        reach = max(reach, r_b * target ** (-1.0 / (wing if k1 == 0.0 else wing + 8.0)))
    return min(reach, 8.0 * r_c)


def band_check(spectrum, kl, length, d, stamp, pa, budget, re, n, b, k_lo, wing=None):
    """None if the band's wrap-around is within ``budget`` at the stamp's pixels;
    otherwise a longer period (a length) that would bring it there.

    The band (chi(k / k_1) - chi(k / k_2)) is the difference of two high-pass parts, so
    it holds the thin disc's tail along the major axis, at the wider window k_2 (see
    :func:`wrap_check`). It is summed directly at the pixels, not by an FFT, so instead
    of the whole ring its value is measured where the major axis meets the square ring at
    Chebyshev radius r_b (the period's edge, or the stamp's far edge as seen from a copy
    if nearer), the tail's ridge, and a pixel inwards along the axis (at both ends for a
    non-round PSF). ``spectrum`` holds the band's rows ky >= 0 (its kernel applied),
    ``kl`` the lattice's wavenumbers; ``stamp`` and ``re`` in pixels, ``length`` and
    ``d`` in length units, ``k_lo`` per length unit; ``wing`` as :func:`wrap_check`'s.
    """
    period = length / d  # pixels
    r_c = period - stamp
    r_b = min(int(0.5 * period) - 1, int(math.floor(r_c)))
    cp, sp = math.cos(math.radians(pa)), math.sin(math.radians(pa))
    t = r_b / max(abs(cp), abs(sp))
    # two points on the axis a pixel apart (and the grid's others), so that the ridge is
    # not read at one point alone; both ends of the axis for a non-round PSF, whose
    # image need not be symmetric about the centre
    ts = np.array([t, t - 1.0] if np.isrealobj(spectrum) else [t, t - 1.0, 1.0 - t, -t])
    xs, ys = ts * cp * d, ts * sp * d
    count = kl.size // 2
    phase_x, phase_y = np.outer(xs, kl), np.outer(ys, kl[count:])
    cy, sy = np.cos(phase_y), np.sin(phase_y)
    cy[:, 0] *= 0.5
    sy[:, 0] *= 0.5
    # Re(ey L ex^T) from real products (cos and sin: numpy's complex exp is slower)
    waves = np.ascontiguousarray(np.concatenate([np.cos(phase_x), np.sin(phase_x)]).T)
    p = np.empty((spectrum.shape[0], waves.shape[1]), dtype=spectrum.dtype)
    _dot(np.ascontiguousarray(spectrum), waves, p)
    k = ts.size
    if np.isrealobj(spectrum):  # a round PSF's
        patch = cy @ p[:, :k] - sy @ p[:, k:]
    else:
        patch = cy @ (p[:, :k].real - p[:, k:].imag) - sy @ (p[:, :k].imag + p[:, k:].real)
    patch = 2.0 * patch / (length * length)
    reach = _wrap_reach(float(np.abs(patch).max()), r_b, r_c, budget, re, n, b, k_lo * d,
                        wing)
    if reach is None:
        return None
    return (stamp + reach) * d


def _table_reach(re, kmax, d):
    """The largest ``kappa = k R_e`` a galaxy's folded lattice reaches when the PSF is
    folded out to ``kmax``: its Hankel table must cover it."""
    return re * math.sqrt(2.0) * (2 * _alias_reps(kmax, d) + 1) * math.pi / d


def spread_band(re, h, cos_i, sin_i, d, table, tparams, grids):
    """A bound on ``|I~ P~|`` at ``|k| >= SPREAD_BAND K1 / d``, as a fraction of its value
    at 0 (:func:`plan`'s ``band``). In the direction phi of k' (from the major axis),
    ``|I~| = amp g_n(R_e |k| a(phi)) G(phi)`` with ``a = sqrt(cos^2 phi + sin^2 phi cos^2
    i)`` and the disc's factor ``G = exp(-(|k| sin phi sin i h)^2 / 2)``: both fall with
    |k|, so the bound is at the smallest |k|; on [0, pi / 2] g_n rises with phi (it falls
    with its argument for n >= 1/2, a scale mixture of Gaussians) and G falls, so on each
    of ``_BAND_ANGLES`` intervals between sampled directions their product is at most g_n
    at its end times G at its start (as in :func:`_wavenumber_cut`). A round PSF's
    transform is taken at that |k| (a Gaussian's and a Moffat's fall with it; an image
    PSF's need not, so its factor is 1); the pixel's sinc is at most 1. ``re``, ``h`` and
    ``d`` in length units; ``table`` the galaxy's Hankel table."""
    k = SPREAD_BAND * K1 / d
    y0, hy, kappa0 = tparams
    ratio = _band_max(table, y0, hy, kappa0, re * k, cos_i, k * sin_i * h) / table_value(
        table, y0, hy, kappa0, 0.0)
    if grids.round:
        ratio *= abs(_radial_psf(grids.radial, grids.dk_radial, k))
    return min(1.0, ratio)


#: the directions spread_band's bound is taken over (intervals of a quarter turn)
_BAND_ANGLES = 16


@njit(cache=True, nogil=True)
def _band_max(table, y0, hy, kappa0, kappa, cos_i, z):
    """max over the intervals [phi_{j-1}, phi_j] of a quarter turn of |g_n(kappa a(phi_j))|
    exp(-(z sin phi_{j-1})^2 / 2) (see :func:`spread_band`)."""
    best = 0.0
    for j in range(1, _BAND_ANGLES + 1):
        end = 0.5 * math.pi * j / _BAND_ANGLES
        start = 0.5 * math.pi * (j - 1) / _BAND_ANGLES
        a = math.sqrt(math.cos(end) ** 2 + (math.sin(end) * cos_i) ** 2)
        zs = z * math.sin(start)
        best = max(best, abs(table_value(table, y0, hy, kappa0, kappa * a))
                   * math.exp(-0.5 * zs * zs))
    return best


# A band-limited PSF (an image PSF) ends its transform sharply at |k_x| or |k_y| =
# K = band_limit. Integration by parts along k_x,
#
#     Int_-K^K f(k) e^{ikx} dk = sum_r (-1)^r [f^(r)(k) e^{ikx}]_-K^K / (ix)^(r+1),
#
# gives the image a slow tail beyond the galaxy (1 / x along the axes: the cut's
# ringing), and a periodic transform of period L sums it over the copies x + mL: the
# folded image's error falls only like 1 / L^2 (an FFT's trapezoid rule over a cut
# spectrum) where the smooth part's falls exponentially. An under-sampled PSF (its
# transform 0.55 of its peak at the cut) missed the promise by 5.7e-2 that way. The
# series is summed over the copies in closed form and taken off: for the edges
# k_x = +-K, per lattice row k_y (so that the copies in y are summed too, by Poisson's
# formula); likewise for k_y = +-K; less the corners' terms, which both hold.
#: orders r of the series (the copies lie at L - |x| from a pixel, mostly over half the
#: period, and the spectrum turns on a length of the PSF's and the galaxy's size, so each
#: order is smaller: against the band's quadrature, the tests' compact disc through an
#: under-sampled PSF was 3.7e-7, 9.7e-10, 2.4e-11 and 7.1e-13 of its peak off with one
#: to four orders, a galaxy of 0.05 px 4.3e-5, 4.8e-7, 8.1e-9 and 3.2e-10). The copies'
#: sums (_copy_sums, _copy_terms) are written out for these four
EDGE_ORDERS = 4
#: the cut's copies are computed only below this tolerance (of the face-on central
#: brightness): the simulator's (1e-7 of each image's peak) is far below it, the
#: likelihood fit's (1e-3) above. Left in, they were at most 6.7e-5 of the central
#: brightness over the tests' ten image-PSF cases (a galaxy of 0.3 px through an
#: under-sampled PSF; 2.4e-3 of its peak), and they cost the fit's renders through the
#: space conditions' PSF 40% (0.65 -> 0.92 ms, bench_likelihood_render.py)
CUT_TOL = 1e-4
#: a folded image's ring is measured without the cut's tail (when the check would
#: otherwise lengthen the period) where the PSF's transform on the cut reaches this
#: share of its peak (its value only: a PSF whose slope alone is large there, an
#: even-sized symmetric one, keeps the plain check, which then only lengthens periods)
CUT_RING_SHARE = 0.05
#: the one-sided stencil inside the band for the derivatives at its edge: its points,
#: and their spacing as a share of K (the stencil's error ~ (D delta)^(points - r) for a
#: spectrum that turns on a length D: for tens of pixels, 1e-2 of the third order's
#: term; 7 points gave the same images to 4e-12 of their peaks over the tests' cases)
EDGE_POINTS = 5
EDGE_STEP = 2e-3
#: below this |a| = |x| / L the copies' sums are Taylor series (their closed form
#: subtracts the pole at a = 0, and would lose digits there)
_COPY_SMALL = 0.1
_COPY_TAYLOR = 14


def _bernoulli(count):
    """The Bernoulli numbers B_0 .. B_count (B_1 = -1/2), exactly, as floats."""
    from fractions import Fraction
    numbers = [Fraction(1)]
    for s in range(1, count + 1):
        numbers.append(-sum(math.comb(s + 1, k) * numbers[k] for k in range(s)) / (s + 1))
    return [float(x) for x in numbers]


_BERNOULLI = _bernoulli(EDGE_ORDERS + _COPY_TAYLOR)


@functools.lru_cache(maxsize=64)
def _copy_zetas(turn):
    """Z_s = sum over m != 0 of e^{2 pi i m turn} / m^s, s = 1 .. EDGE_ORDERS +
    _COPY_TAYLOR: -(2 pi i)^s B_s(turn) / s! for turn in [0, 1) (a Bernoulli polynomial;
    Z_1 = 0 at turn = 0, the symmetric sum)."""
    out = np.zeros(EDGE_ORDERS + _COPY_TAYLOR, dtype=np.complex128)
    for s in range(1, out.size + 1):
        if s == 1 and turn == 0.0:
            continue
        bern = sum(math.comb(s, k) * _BERNOULLI[k] * turn ** (s - k) for k in range(s + 1))
        out[s - 1] = -(2j * math.pi) ** s * bern / math.factorial(s)
    return out


@njit(cache=True, nogil=True)
def _copy_sums(a, turn, zetas, own, out):
    """out[r, i] = S_r(a[i]) = sum over m != 0 of e^{2 pi i m turn} / (a[i] + m)^(r + 1),
    r < 4, |a| < 1, the sum taken symmetrically (as a lattice's Fourier series is);
    ``turn`` in [0, 1), 0 where a lattice point lies on the cut; ``zetas`` from
    :func:`_copy_zetas`. ``own[i]``: with the term m = 0 too (a != 0) at a[i].

    Closed form: the sum over all m of e^{i m theta} / (a + m) is pi e^{i (pi - theta) a}
    / sin(pi a) for 0 < theta < 2 pi (pi cot(pi a) at theta = 0), whose r-th derivative
    is (-1)^r r! times the (r + 1)-th powers' sum; less the term m = 0. Near a = 0, the
    Taylor series sum_q C(r + q, q) (-a)^q Z_{r+1+q}."""
    pi = math.pi
    beta = pi * (1.0 - 2.0 * turn)  # pi - theta (pi at theta = 0: the one-sided limit)
    ib = 1j * beta
    for i in range(a.size):
        x = a[i]
        if abs(x) < _COPY_SMALL:
            for r in range(4):
                total = 0j
                coef = 1.0  # C(r + q, q) (-x)^q
                for q in range(_COPY_TAYLOR):
                    total += coef * zetas[r + q]
                    coef *= -x * (r + q + 1) / (q + 1)
                out[r, i] = total + (x ** -(r + 1.0) if own[i] else 0.0)
            continue
        csc = 1.0 / math.sin(pi * x)
        cot = math.cos(pi * x) * csc
        # pi csc(pi a) and its derivatives, then the product rule with e^{i beta a}
        g0 = pi * csc
        g1 = -pi ** 2 * csc * cot
        g2 = pi ** 3 * (csc * cot * cot + csc ** 3)
        g3 = -pi ** 4 * (csc * cot ** 3 + 5.0 * csc ** 3 * cot)
        phase = complex(math.cos(beta * x), math.sin(beta * x))
        d0 = g0 - (1j * pi if turn == 0.0 else 0.0) / phase  # the symmetric sum at 0
        d1 = ib * g0 + g1
        d2 = ib * ib * g0 + 2.0 * ib * g1 + g2
        d3 = ib * ib * ib * g0 + 3.0 * ib * ib * g1 + 3.0 * ib * g2 + g3
        pole = 0.0 if own[i] else 1.0
        out[0, i] = phase * d0 - pole / x
        out[1, i] = -phase * d1 - pole / x ** 2
        out[2, i] = phase * d2 / 2.0 - pole / x ** 3
        out[3, i] = -phase * d3 / 6.0 - pole / x ** 4


@njit(cache=True, nogil=True)
def _copy_terms(pos, length, cut, turn, back, zetas, own, out):
    """out[e R + r, j] = (-1)^r s e^{i s K x} sum over m != 0 of (i (x + m L))^-(r + 1),
    at the positions x = pos[j] (|x| < L, from the galaxy's centre), for the edges s =
    +1 (e = 0) and -1 (e = 1): the copies of the parts' series, with its signs (``own[j]``:
    and the term m = 0 at x[j]). ``turn``, ``back``: the edges' places between the lattice's
    points (:func:`_copy_sums`), ``zetas`` theirs."""
    size = pos.size
    a = pos / length
    sums = np.empty((4, size), dtype=np.complex128)
    for e in range(2):
        sign = 1.0 if e == 0 else -1.0
        _copy_sums(a, turn if e == 0 else back, zetas[e], own, sums)
        for j in range(size):
            x = a[j] * length
            wave = sign * complex(math.cos(cut * x), sign * math.sin(cut * x))
            scale = wave / (1j * length)  # (i L)^-(r+1) (-1)^r, order by order
            for r in range(4):
                out[e * 4 + r, j] = sums[r, j] * scale
                scale = -scale / (1j * length)


@njit(cache=True, nogil=True)
def _dot(a, b, out):
    """out = a @ b, written out for a real ``b`` of few columns: in BLAS such products
    reach sizes where OpenBLAS starts its own threads, which threads that each render a
    batch then fight over (see :func:`_patch_image`)."""
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            out[i, j] = 0.0
        for k in range(a.shape[1]):
            v = a[i, k]
            if v == 0.0:
                continue
            for j in range(b.shape[1]):
                out[i, j] += v * b[k, j]


@njit(cache=True, nogil=True)
def _patch_image(waves_y, spectrum, waves_x, scale, out):
    """out = Re(waves_y @ spectrum @ waves_x) scale: the first pass's patch from the folded
    lattice's half plane (see ``_Grids.patch``). Written out: in BLAS the first product
    reaches sizes where OpenBLAS starts its own threads, and two threads each rendering a
    batch through an image PSF ran at 490 images/s, 700 with BLAS held to one thread (the
    ``space`` conditions)."""
    rows, m = waves_y.shape
    half = spectrum.shape[1]
    cols = waves_x.shape[1]
    # a row of waves_y @ spectrum, its real and imaginary parts apart (which LLVM
    # vectorises: 2x faster than complex products here)
    row_re, row_im = np.empty(half), np.empty(half)
    for r in range(rows):
        row_re[:] = 0.0
        row_im[:] = 0.0
        for k in range(m):
            a, b = waves_y[r, k].real, waves_y[r, k].imag
            for j in range(half):
                v = spectrum[k, j]
                row_re[j] += a * v.real - b * v.imag
                row_im[j] += a * v.imag + b * v.real
        for c in range(cols):
            total = 0.0
            for j in range(half):
                total += row_re[j] * waves_x[j, c].real - row_im[j] * waves_x[j, c].imag
            out[r, c] = total * scale


@njit(cache=True, nogil=True)
def _fold_rows(values, bins, out):
    """out[:, bins[j]] += values[j]: a lattice's rows summed into their residues (the
    columns of ``out``, for an FFT along its contiguous axis)."""
    for j in range(values.shape[0]):
        for c in range(values.shape[1]):
            out[c, bins[j]] += values[j, c]


@njit(cache=True, nogil=True)
def _edge_combine(left, tx, ty, right, out):
    """out[r, s] = Re(sum_c left[r, c] tx[c, s] + ty[c, r] right[c, s]): the last of
    :func:`edge_sum`'s products, written out (see :func:`_edge_products`)."""
    terms = tx.shape[0]
    for r in range(out.shape[0]):
        for s in range(out.shape[1]):
            total = 0.0
            for c in range(terms):
                a, b = left[r, c], tx[c, s]
                e, f = ty[c, r], right[c, s]
                total += a.real * b.real - a.imag * b.imag + e.real * f.real - e.imag * f.imag
            out[r, s] = total


@njit(cache=True, nogil=True)
def _lattice_sums(waves, values, out):
    """out = waves @ values (complex), written out: in BLAS such products over a lattice
    reach sizes where OpenBLAS starts its own threads, and two threads each rendering a
    batch then ran at 250 images/s where one ran at 300 (the ``space`` conditions)."""
    for r in range(waves.shape[0]):
        for c in range(values.shape[1]):
            out[r, c] = 0.0
        for k in range(waves.shape[1]):
            w = waves[r, k]
            for c in range(values.shape[1]):
                out[r, c] += w * values[k, c]


#: no pixel's own tail (edge_sum's default), as a read-only array
_NOWHERE = np.zeros(1024, dtype=np.bool_)
_NOWHERE.setflags(write=False)


def _edge_weights(step, points, orders):
    """Weights w[r, j]: the r-th derivative at t = 0 from samples at t = j step."""
    t = np.arange(points) * step
    inverse = np.linalg.inv(np.vander(t, points, increasing=True))
    return inverse[:orders] * np.array([math.factorial(r) for r in range(orders)])[:, None]


@njit(nogil=True, inline="always")
def _edge_value(kx, ky, geom, table, tparams, inv_hi, inv_lo, high):
    """I~ times the lattice's window at (kx, ky), without the centre's phase (see
    :func:`_edge_spectrum`)."""
    z = (-kx * geom[6] + ky * geom[5]) * geom[4] * geom[2]
    if z * z > GAUSS_SKIP:
        return 0.0
    k2 = kx * kx + ky * ky
    if high:
        w = _window_high(k2, inv_hi)
    else:
        w = (1.0 - _window_high(k2, inv_hi)) - \
            ((1.0 - _window_high(k2, inv_lo)) if inv_lo > 0.0 else 0.0)
    return _sersic_ft(kx, ky, geom, table, tparams) * math.exp(-0.5 * z * z) * w


@njit(cache=True, nogil=True)
def _edge_spectrum(kxs, kys, geom, table, tparams, k_hi, k_lo, high, factor, out):
    """out[a, b] = I~ P~ sinc times the lattice's window at (kxs[b], kys[a]), without the
    centre's phase; ``factor`` holds P~ sinc. The window: 1 - chi(k / k_hi) for the
    folded part (``high``; none where k_hi = 0), else chi(k / k_hi) - chi(k / k_lo)."""
    inv_hi = 1.0 / k_hi if k_hi > 0.0 else 0.0
    inv_lo = 1.0 / k_lo if k_lo > 0.0 else 0.0
    for a in range(kys.size):
        for b in range(kxs.size):
            out[a, b] = _edge_value(kxs[b], kys[a], geom, table, tparams, inv_hi, inv_lo,
                                    high) * factor[a, b]


@njit(cache=True, nogil=True)
def _edge_derivatives(stencil, lattice, geom, table, tparams, k_hi, k_lo, high, fac_x,
                      fac_y, fd, weight, sx, sy, out_x, out_y):
    """The spectrum's derivatives across the four edges, per lattice point: out_x[a, c]
    = weight e^{-i k_a s_y} sum_j fd[j, c] F(stencil[j], lattice[a]) (the edges k_x =
    +-K, at k_y = lattice[a]; columns c: the +K edge's orders, then -K's), and out_y
    likewise for k_y = +-K (the phase then e^{-i k_a s_x}). ``fac_x``, ``fac_y``: P~ sinc
    on those points, (lattice, stencil); ``sx``, ``sy``: the galaxy's centre (length
    units). One pass, no grid of values kept."""
    inv_hi = 1.0 / k_hi if k_hi > 0.0 else 0.0
    inv_lo = 1.0 / k_lo if k_lo > 0.0 else 0.0
    points, cols = fd.shape
    for a in range(lattice.size):
        k = lattice[a]
        row_x = np.zeros(cols, dtype=np.complex128)
        row_y = np.zeros(cols, dtype=np.complex128)
        for j in range(points):
            vx = _edge_value(stencil[j], k, geom, table, tparams, inv_hi, inv_lo, high) * \
                fac_x[a, j]
            vy = _edge_value(k, stencil[j], geom, table, tparams, inv_hi, inv_lo, high) * \
                fac_y[a, j]
            for c in range(cols):
                w = fd[j, c]
                if w != 0.0:
                    row_x[c] += w * vx
                    row_y[c] += w * vy
        phase_x = weight[a] * complex(math.cos(k * sy), -math.sin(k * sy))
        phase_y = weight[a] * complex(math.cos(k * sx), -math.sin(k * sx))
        for c in range(cols):
            out_x[a, c] = row_x[c] * phase_x
            out_y[a, c] = row_y[c] * phase_y


def _edge_lattice(psf, length, size, d, box):
    """What the cut's copies need of a lattice of period ``length`` that is the same for
    every galaxy: its wavenumbers k_j up to the cut and their trapezoid weights (half on
    the cut), the cut's place between lattice points (``turn``), the stencils at the
    four edges and their derivative weights, the PSF's continuation times the pixel's
    sinc on the edges' grids (k_x stencil x k_y lattice, its transpose, and the corners),
    the copies' zeta values, and (for a period that is not whole pixels) e^{i k_j j' d}
    at the stamp's pixels j'."""
    cut = psf.band_limit
    dk = 2.0 * math.pi / length
    snap = psf.band_snap  # a lattice point this close lies on the cut, and counts half
    top = math.floor(cut / dk * (1.0 + snap))
    lattice = np.arange(-top, top + 1) * dk
    on_cut = abs(top * dk - cut) <= snap * cut
    weight = np.ones(lattice.size)
    if on_cut:
        weight[[0, -1]] = 0.5
    turn = 0.0 if on_cut else (cut / dk) % 1.0
    step = EDGE_STEP * cut
    at_low = _edge_weights(step, EDGE_POINTS, EDGE_ORDERS)  # at -K, inside: t = +j step
    at_high = at_low * (-1.0) ** np.arange(EDGE_ORDERS)[:, None]  # at +K: t = -j step
    # the stencils' values (+K's, then -K's) to the derivatives (+K's orders, then -K's)
    fd = np.zeros((2 * EDGE_POINTS, 2 * EDGE_ORDERS))
    fd[:EDGE_POINTS, :EDGE_ORDERS] = at_high.T
    fd[EDGE_POINTS:, EDGE_ORDERS:] = at_low.T
    stencil = np.concatenate([cut - np.arange(EDGE_POINTS) * step,
                              -cut + np.arange(EDGE_POINTS) * step])

    def factor(kxs, kys):
        return psf.interior_transform_grid(kxs, kys) * np.outer(
            np.sinc(0.5 * box * kys / math.pi), np.sinc(0.5 * box * kxs / math.pi))

    # e^{i k_j j' d} at the stamp's pixels, for a lattice whose period is not whole
    # pixels (a folded one's sums are an FFT's; see edge_sum)
    period = length / d
    waves = None if abs(period - round(period)) < 1e-9 else \
        np.exp(1j * np.outer(np.arange(size) * d, lattice))
    back = 0.0 if turn == 0.0 else 1.0 - turn  # the edge -K's place on the lattice
    zetas = np.stack([_copy_zetas(turn), _copy_zetas(back)])
    return (lattice, weight, (turn, back, zetas), stencil, fd, factor(stencil, lattice),
            np.ascontiguousarray(factor(lattice, stencil).T), factor(stencil, stencil), waves)


def band_edges(geom, table, tparams, grids, window, length, size, d, box, sx, sy):
    """A band-limited PSF's cut on the lattice of period ``length``: the spectrum's
    derivatives across its four edges, from which :func:`edge_sum` gives the cut's
    tail summed over the copies at any pixels. ``window``: the lattice's window,
    (k_hi, k_lo, high) as :func:`_edge_spectrum` takes it; ``box``: the pixel response's
    width (length units; 0: centre sampling); ``sx, sy``: the galaxy's centre in pixels
    (of a ``size``-pixel stamp).

    Computed for every galaxy drawn through a PSF with a cut (the first pass aside, whose
    tolerance is far above it): a bound from the spectrum on the edges alone would miss
    what the derivatives carry (an even-sized symmetric PSF's transform is 0
    on the cut, and its slope is not: a thin disc's copies were 1.6e-7 of its peak
    there, 10^13 times such a bound), and the derivatives are most of the cost."""
    psf = grids.psf
    lattice, weight, places, stencil, fd, psf_x, psf_y, psf_c, waves = grids._cached(
        ("edge", length, size, box), lambda: _edge_lattice(psf, length, size, d, box))
    k_hi, k_lo, high = window
    # the edges' derivatives, each lattice point's times e^{-i k_j s d} (the waves at
    # the pixels, e^{i k_j (j' - s) d}, are e^{i k_j j' d} times that)
    dx = np.empty((lattice.size, 2 * EDGE_ORDERS), dtype=np.complex128)
    dy = np.empty_like(dx)
    _edge_derivatives(stencil, lattice, geom, table, tparams, k_hi, k_lo, high, psf_x, psf_y,
                      fd, weight, sx * d, sy * d, dx, dy)
    grid = np.empty((stencil.size, stencil.size), dtype=np.complex128)
    _edge_spectrum(stencil, stencil, geom, table, tparams, k_hi, k_lo, high, psf_c, grid)
    corner = fd.T @ grid @ fd  # rows: the k_y edge and order; columns: the k_x's
    turn, back, zetas = places
    return (psf.band_limit, length, d, size, sx, sy, lattice, turn, back, zetas, waves, dx,
            dy, corner)


def edge_sum(edges, rows=None, cols=None, own_rows=None, own_cols=None):
    """The cut's tail summed over the copies at the pixels (rows[a], cols[b]) (stamp
    indices, any integers; None: the stamp's), in the image's units: taken off the
    stamp, or off a folded image's ring before it is checked. ``own_rows[a]``: with the
    image's own tail (m = 0) from the edges k_y = +-K at row a, where |y| is far beyond
    the galaxy, as the series needs; ``own_cols`` likewise in x (None: nowhere).

    Integration by parts along k_x at the edges k_x = +-K gives the tail of x's
    Fourier integral; per lattice row k_y its copies in x are summed in closed form
    (:func:`_copy_terms`), and the rows' sum is the copies' in y (Poisson's formula);
    likewise the edges k_y = +-K; less the corners', which both hold."""
    cut, length, d, size, sx, sy, lattice, turn, back, zetas, waves, dx, dy, corner = edges

    def terms(index, centre, own):
        out = np.empty((2 * EDGE_ORDERS, index.size), dtype=np.complex128)
        own = _NOWHERE[:index.size] if own is None and index.size <= _NOWHERE.size \
            else np.zeros(index.size, dtype=np.bool_) if own is None else np.asarray(own)
        _copy_terms(index * d - centre, length, cut, turn, back, zetas, own, out)
        return out

    def waves_at(index):
        return waves if index is None else np.exp(1j * np.outer(index * d, lattice))

    rows_at = np.arange(size) if rows is None else np.asarray(rows)
    cols_at = np.arange(size) if cols is None else np.asarray(cols)
    tx, ty = terms(cols_at, sx * d, own_cols), terms(rows_at, sy * d, own_rows)
    out = np.empty((rows_at.size, cols_at.size))
    edge, corners = 1.0 / (2.0 * math.pi * length), 1.0 / (4.0 * math.pi ** 2)
    if waves is None:
        # A folded lattice (its period m pixels): the sums over the lattice at integer
        # pixels are inverse DFTs of length m (e^{i k_j t d} = e^{2 pi i j t / m}, the
        # lattice's points j taken modulo m), so one FFT gives them at every pixel of the
        # period
        m = int(round(length / d))
        bins = np.round(lattice / (2.0 * math.pi / length)).astype(np.int64) % m

        def sums(values, index, _):  # sum_j e^{i k_j t d} values[j] at the pixels t
            folded = np.zeros((values.shape[1], m), dtype=np.complex128)
            _fold_rows(values, bins, folded)
            return (np.fft.ifft(folded).T * m)[index % m]
    else:
        # a low-pass lattice (its period need not be whole pixels): the products

        def sums(values, index, given):
            out = np.empty((index.size, values.shape[1]), dtype=np.complex128)
            _lattice_sums(np.ascontiguousarray(waves_at(given)), values, out)
            return out

    left = sums(dx, rows_at, rows) * edge - (ty.T @ corner) * corners
    right = np.ascontiguousarray(sums(dy, cols_at, cols).T) * edge
    _edge_combine(np.ascontiguousarray(left), tx, ty, right, out)
    return out


def _ring_corrected(periodic, edges, stamp, iy, ix):
    """``periodic`` (the folded m x m image, times d^2, index 0 at pixel (iy, ix)) with
    the cut's tail taken off the rows and columns that :func:`ring_max` reads: the
    copies' everywhere, and the image's own from the edges across which the pixel lies
    far out (on the ring's rows, the edges k_y = +-K; on its columns, k_x = +-K; both at
    the ring's corners): its series holds only there, and near an axis it would be
    meaningless, or infinite on it. What the wrap check should measure there is the
    smooth part's wrap-around: the cut's copies are taken off the stamp apart."""
    m = periodic.shape[0]
    r_b, _ = _ring_radius(m, stamp)
    lines = np.unique(np.array([r_b - 1, r_b, r_b + 1, m - r_b - 1, m - r_b, m - r_b + 1]) % m)
    # index t is at the pixel t (or t - m, the same on the lattice) from (iy, ix)
    every = np.arange(m)
    wrapped = np.where(every < m // 2, every, every - m)
    on_ring = np.isin(every, lines)
    out = periodic.copy()
    area = edges[2] ** 2
    out[lines, :] -= area * edge_sum(edges, wrapped[lines] + iy, wrapped + ix,
                                     own_rows=np.ones(lines.size, dtype=bool),
                                     own_cols=on_ring)
    rest = every[~on_ring]
    out[np.ix_(rest, lines)] -= area * edge_sum(edges, wrapped[rest] + iy, wrapped[lines] + ix,
                                                own_cols=np.ones(lines.size, dtype=bool))
    return out


def _render_galaxy(galaxy, psf, size, d, box, grids, tol, kmax, table=None, b=None,
                   check_wrap=True):
    """One image (size, size) at error ``tol`` (of the face-on central brightness),
    folding the spectrum out to ``kmax``; ``galaxy`` = (I_e, R_e, n, q, i, PA, x, y).
    ``table``: the galaxy's Hankel table and its parameters, if already built (it must
    reach ``_table_reach(R_e, kmax, d)``); ``b``: its Sérsic constant, if known.
    ``check_wrap=False`` skips :func:`wrap_check` and :func:`band_check` (the first
    pass's loose tolerance is far above the tails they look for)."""
    ie, re, n, q, incl, pa, ox, oy = galaxy
    b = sersic_b(n) if b is None else b
    h = q * re / HZ_DIVISOR
    table, tparams = hankel_table(n, _table_reach(re, kmax, d), b) if table is None else table
    ci, si = (1.0, 0.0) if incl == 0.0 else (0.0, 1.0) if incl == 90.0 else \
        (math.cos(math.radians(incl)), math.sin(math.radians(incl)))
    # the folded FFT's period from the spread's estimate where wrap_check will measure
    # the result, from its bound where it will not (the first pass), and with a PSF that
    # is not round (the estimate reads a round PSF's radial transform; an image PSF's
    # cut, whose ringing no period holds, is summed over the copies and taken off below)
    band = spread_band(re, h, ci, si, d, table, tparams, grids) \
        if check_wrap and grids.round else 1.0
    strip = math.sqrt(GAUSS_SKIP) / (si * h) if si * h > 0.0 else math.inf
    m, reps, levels = plan(re, n, b, psf, size, d, (ox, oy), kmax, tol, band, strip=strip)
    cp, sp = math.cos(math.radians(pa)), math.sin(math.radians(pa))
    # g_n is normalised to the face-on profile exp(-b((r/R_e)^(1/n) - 1))
    amp = ie * SQRT2PI * h * re * re
    geom = (amp, re, h, ci, si, cp, sp)
    # high-pass part on the folded lattice, brought back by an inverse real FFT
    c0 = 0.5 * (size - 1)
    sx, sy = c0 + ox, c0 + oy
    ix, iy = math.floor(sx), math.floor(sy)
    k_split = levels[0][2] if levels else 0.0
    stamp = 0.5 * size + max(abs(ox), abs(oy))  # pixels, Chebyshev, from the centre
    # the wrap checks' budget: a part's share of tol, which is a fraction of the face-on
    # central surface brightness
    budget = tol / PARTS * ie * math.exp(b) * SQRT2PI * h
    wing = getattr(psf, "wing_power", None)

    def low_parts(levels):
        # the low-pass lattices' spectra (their rows ky >= 0: the spectra are Hermitian),
        # each band checked and lengthened as it needs: (low, k, count, period, waves)
        parts = []
        for length, count, k_hi, k_lo in levels:
            for attempt in range(WRAP_RETRIES + 1):
                kl, kern_re, kern_im, waves_re, waves_im = grids.low(length, count, d * box,
                                                                     k_hi, k_lo, size)
                low = np.empty((count + 1, kl.size))
                _low_spectrum(geom, table, tparams, kern_re, kern_im, kl, low)
                if grids.round:
                    low *= kern_re[count:]
                else:
                    low = low * (kern_re[count:] + 1j * kern_im[count:])
                if k_lo == 0.0 or not check_wrap:  # the period holds the tail
                    break
                wanted = band_check(low, kl, length, d, stamp, pa, budget, re / d, n, b,
                                    k_lo, wing)
                if wanted is None or attempt == WRAP_RETRIES:
                    break
                # at least the next quantum of the lattices' periods
                length, count = _low_level(max(wanted, 1.05 * length), k_hi, d)
            parts.append((low, kl, count, length, waves_re, waves_im))
        return parts

    def slow_at(radii):
        # the fold's slow part, Laplacian^4 (chi O) / k_1^8, at radii (pixels) on the
        # major axis (both ends: a PSF that is not round need not be symmetric), in the
        # periodic image's units (see _slow_apart)
        t = np.asarray(radii, dtype=float) * d
        if grids.round:  # the image is symmetric about its centre
            xs, ys = t * cp, t * sp
        else:
            xs, ys = np.concatenate([t * cp, -t * cp]), np.concatenate([t * sp, -t * sp])
        out = np.zeros(xs.size)
        for low, kl, count, length, _, _ in lows:
            real = not np.iscomplexobj(low)
            _slow_sum(np.ascontiguousarray(low.real), _EMPTY if real else
                      np.ascontiguousarray(low.imag), real, kl, count, k_split, xs, ys,
                      2.0 / (length * length), out)
        out = np.abs(out) * d * d
        return out if grids.round else np.maximum(out[:t.size], out[t.size:])

    lows = low_parts(levels)

    def slow_reach():
        # the slow part is read from the lattices out to this radius (pixels): beyond it
        # their own copies (at a period's distance) would be read instead
        return SLOW_PERIOD_SHARE * min(length for _, _, _, length, _, _ in lows) / d

    # An image PSF's transform ends sharply at the Nyquist frequency: its ringing, in
    # the folded part, falls like 1 / r, neither like the slow part nor at the kernel's
    # rate, so its tail is not taken apart (a review measured 10^2-10^3 times the
    # budget accepted that way; the whole check lengthens those periods)
    slow = (slow_at, h * si / d, ci, slow_reach) if grids.round else None
    # a non-round PSF is folded out to where it is below the grids' floor (its zeros)
    fold_kmax = kmax if grids.round else math.inf
    # a band-limited PSF (an image PSF) ends its transform sharply: its cut's copies are
    # taken off where the tolerance is tight enough for them to count
    cut = check_wrap and tol < CUT_TOL and getattr(psf, "band_limit", None) is not None
    high_edges = None
    for attempt in range(WRAP_RETRIES + 1):
        kern_re, kern_im = grids.high(m, reps, k_split)
        spectrum = np.empty((m, m // 2 + 1), dtype=np.complex128)
        _fold_high(geom, table, tparams, kern_re, kern_im, fold_kmax, m, reps, d * box, d,
                   (sx - ix) * d, (sy - iy) * d, spectrum)
        if not check_wrap and 8 * size <= m:
            # a small patch (the first pass's): the inverse transform at its pixels alone,
            # as two matrix products (the check needs the whole periodic image)
            waves_y, waves_x = grids.patch(m, iy, ix, size)
            image = np.empty((size, size))
            _patch_image(waves_y, spectrum, waves_x, 1.0 / (d * d), image)
            break
        periodic = np.fft.irfft2(spectrum, s=(m, m))  # times d^2 (scaled where read)
        image = _stamp_window(periodic, iy, ix, size, d * d)
        if not check_wrap:
            break
        wider = wrap_check(periodic, stamp, budget * d * d, re / d, n, b, k_split * d, wing,
                           slow if levels and slow is not None else None)
        if wider is not None and cut and grids.cut_share() >= CUT_RING_SHARE:
            # The ring holds the cut's tail, which falls like 1 / r (so the check carries
            # it out far too slowly) and whose copies are taken off the stamp apart: the
            # ring is measured without it. Through a Gaussian of FWHM 1.2 px sampled at 1 px
            # (its transform 0.55 of its peak on the cut), 34 of 60 checks over 24 galaxies
            # from the prior (drawn twice) asked for longer periods, and 22 of those passed
            # without the tail; through HST's Tiny Tim PSF (4e-3 on the cut) 22 of 166
            # checks over three samples asked, and none passed without it (a scratch count):
            # PSFs whose cut is small are not measured twice
            high_edges = (m, k_split, band_edges(geom, table, tparams, grids,
                                                 (k_split, 0.0, True), m * d, size, d,
                                                 d * box, sx, sy))
            ring = _ring_corrected(periodic, high_edges[2], stamp, iy, ix)
            wider = wrap_check(ring, stamp, budget * d * d, re / d, n, b, k_split * d, wing,
                               None)
        if wider is None or attempt == WRAP_RETRIES:
            break
        if not levels:
            # The plan folded the whole image, and the check asks for a longer period (its
            # tail taken to fall like the PSF's wing, the slowest part it may hold). That
            # can cost several times the split, which the plan then takes instead, its
            # folded part checked in turn: discs with n ~ 1/2 and R_e ~ 25 through a
            # Moffat were folded whole at 216-256 and asked for 288-576; over n 0.5-0.7
            # and R_e 18-30 this was 1.8x faster (3.17 -> 1.80 ms an image, a scratch A/B
            # under the earlier cost model)
            split = plan(re, n, b, psf, size, d, (ox, oy), kmax, tol, band, whole=False,
                         strip=strip)
            if plan_cost(*split, size, kmax, d, strip) < plan_cost(wider, reps, (), size,
                                                                   kmax, d, strip):
                m, reps, levels = split
                k_split = levels[0][2]
                lows = low_parts(levels)
                continue
        m = wider
    # the low-pass parts summed at the pixel centres
    image = np.ascontiguousarray(image)
    if cut:
        # a band-limited PSF's cut rings slowly: its copies, summed, are taken off (the
        # first pass's tolerance is far above them)
        if high_edges is None or high_edges[:2] != (m, k_split):
            high_edges = (m, k_split, band_edges(geom, table, tparams, grids,
                                                 (k_split, 0.0, True), m * d, size, d,
                                                 d * box, sx, sy))
        image -= edge_sum(high_edges[2])
        # a low-pass lattice reaches the cut only where the PSF's pixel is a few of the
        # image's (its band then ends inside the image's): its copies likewise
        for (_, kl, _, length, _, _), (_, _, k_hi, k_lo) in zip(lows, levels):
            if kl[-1] >= psf.band_limit * (1.0 - psf.band_snap):
                image -= edge_sum(band_edges(geom, table, tparams, grids, (k_hi, k_lo, False),
                                             length, size, d, d * box, sx, sy))
    for low, kl, count, length, waves_re, waves_im in lows:
        if grids.round:
            # a round PSF's image of a centred galaxy is symmetric about the stamp's
            # centre: the sums at half the pixels
            _low_image(low, _EMPTY, True, kl, count, waves_re, waves_im, sx * d, sy * d,
                       2.0 / (length * length), image, ox == 0.0 and oy == 0.0)
        else:
            _low_image(np.ascontiguousarray(low.real), np.ascontiguousarray(low.imag), False,
                       kl, count, waves_re, waves_im, sx * d, sy * d,
                       2.0 / (length * length), image)
    return image


@njit(cache=True, nogil=True)
def _cut_index(k, a, sin_phi, table, tparams, re, zh, scale, psf, budget):
    """The largest i with Int_{k[i]}^{k[-1]} density > budget (-1 if none), where the
    density at |k| is ``scale * psf * |k|`` times the sum over the intervals between
    sampled directions of g_n at the interval's end times the disc's Gaussian at its
    start (see _wavenumber_cut). The integral (trapezoids) is taken from the top, and
    stops where it passes the budget: the directions' sum is needed only out there."""
    y0, hy, kappa0 = tparams
    tail = 0.0
    previous = 0.0
    for i in range(k.size - 1, -1, -1):
        total = 0.0
        for j in range(1, a.size):
            z = k[i] * sin_phi[j - 1] * zh
            if z * z > GAUSS_SKIP:
                continue
            # |g_n|: the table can dip a hair below 0 where g_n is ~0 (n = 1/2)
            total += abs(table_value(table, y0, hy, kappa0, re * k[i] * a[j])) \
                * math.exp(-0.5 * z * z)
        density = scale * psf[i] * k[i] * total
        if i < k.size - 1:
            tail += 0.5 * (density + previous) * (k[i + 1] - k[i])
            if tail > budget:
                return i
        previous = density
    return -1


def _wavenumber_cut(galaxy, grids, kmax, budget, table=None, pixel=0.0):
    """A wavenumber beyond which every mode of the image's spectrum together changes no
    pixel by more than ``budget`` (flux per unit area): GalSim's ``maxk``, for the
    product of the galaxy's transform and a round PSF's, not the PSF's alone.

    Dropping the modes beyond kc changes a pixel by at most (1 / 2 pi)^2
    Int_kc^inf k dk Int_0^2pi dphi |I~ P~ S|, where S is the pixel's sinc for pixel means
    of side ``pixel`` (0: centre values, S = 1): |sinc(k_x p / 2) sinc(k_y p / 2)| <=
    min(1, 2 / (|k_x| p)) min(1, 2 / (|k_y| p)) <= min(1, 2 sqrt(2) / (|k| p)), as the
    larger of |k_x| and |k_y| is at least |k| / sqrt(2) (over 200 galaxies of the thesis's
    prior, a scratch count: 6.5% fewer modes through a Moffat of FWHM 3 pixels, 2% a
    Gaussian of 3, 22% a Moffat of 1, where the cut lies at 1-4 Nyquist frequencies). In the
    direction phi of k', |I~| = amp g_n(R_e |k| a(phi)) G(phi), with
    a = sqrt(cos^2 phi + sin^2 phi cos^2 i) and G = exp(-(|k| sin phi sin i h)^2 / 2);
    it is even in k'_x and in k'_y, so the angle runs over a quarter, times 4. On
    [0, pi/2] a and G fall with phi, and g_n falls with its argument for n >= 1/2 (a
    scale mixture of Gaussians), so on each interval between sampled directions
    g_n <= its value at the interval's end and G <= its value at its start: the sum of
    those products bounds the angular integral. (A bound by the largest direction alone,
    as before, is up to 2 pi / (the spectrum's angular width) looser for inclined discs.)
    """
    ie, re, n, q, incl, _, _, _ = galaxy
    h = q * re / HZ_DIVISOR
    # g_n from the galaxy's Hankel table (within 1e-10 of its peak), which the render
    # then uses too; a table of its own when none is given
    table, tparams = hankel_table(n, re * kmax) if table is None else table
    return _cut(ie, re, h, math.radians(incl), kmax, table, tparams, grids.radial_k,
                grids.radial, budget, pixel)


@njit(cache=True, nogil=True)
def _cut(ie, re, h, incl, kmax, table, tparams, radial_k, radial, budget, pixel):
    """_wavenumber_cut's work, compiled: it runs once a galaxy, and as NumPy calls it
    held the GIL that the other rendering threads wait for."""
    ci, si = math.cos(incl), math.sin(incl)
    amp = ie * SQRT2PI * h * re * re
    k = np.linspace(0.0, kmax, 257)
    phi = np.linspace(0.0, 0.5 * math.pi, 33)
    a = np.sqrt(np.cos(phi) ** 2 + (np.sin(phi) * ci) ** 2)
    psf = np.abs(np.interp(k, radial_k, radial))
    if pixel > 0.0:  # the pixel's sinc, bounded (see _wavenumber_cut)
        psf *= np.minimum(1.0, 2.0 * math.sqrt(2.0) / (np.maximum(k, 1e-300) * pixel))
    scale = 4.0 * amp * (phi[1] - phi[0]) / (2.0 * math.pi) ** 2
    last = _cut_index(k, a, np.sin(phi), table, tparams, re, si * h, scale, psf, budget)
    if last < 0:  # the whole image is below the budget
        return k[1]
    return k[min(last + 1, k.size - 1)]


def peak_estimate(galaxy, table, grids, size, d, box):
    """:func:`_peak_guess` for one galaxy of :func:`render_psf`'s (``galaxy`` = (I_e, R_e,
    n, q, i, PA, x, y), offsets in pixels; ``table`` its Hankel table; ``grids`` a round
    PSF's; ``box`` 1 for pixel means, 0 for centre values): the estimate, and the pixel
    it estimates, (row, column) of the ``size`` x ``size`` stamp, the one nearest the
    galaxy's centre."""
    ie, re, n, q, incl, pa, ox, oy = galaxy
    c0 = 0.5 * (size - 1)
    col, row = round(c0 + ox), round(c0 + oy)
    h = q * re / HZ_DIVISOR
    geom = (ie * SQRT2PI * h * re * re, re, h, math.cos(math.radians(incl)),
            math.sin(math.radians(incl)), math.cos(math.radians(pa)),
            math.sin(math.radians(pa)))
    guess = _peak_guess(geom, table[0], table[1], grids.radial, grids.dk_radial,
                        grids.kmax_for(1e-6), d * box, (col - (c0 + ox)) * d,
                        (row - (c0 + oy)) * d, _GUESS_RADIAL, _GUESS_ANGULAR)
    return guess, (row, col)


def render_psf(intensity, effective_radius, sersic_index, flattening, inclination,
               position_angle, x_offset, y_offset, *, psf, image_size, pixel_scale,
               sampling="pixel", grids=None, tol=TOL, sersic_constant=None,
               pixel_tol=None):
    """Pixel means (or centre values) of the PSF-convolved image, one per row.

    Arguments as :func:`skgal._render.render_flux` (offsets in pixels), and
    ``psf`` (an object of :mod:`skgal._psf`). Returns float64 images (m, size, size),
    flux in units of ``I_e`` times length. ``sersic_constant``: each row's ``b_n``, if
    the caller has it (with ``tol="peak"``; computed otherwise).

    ``tol`` is the error aimed at, as a fraction of the face-on central surface
    brightness (the bounds are mostly loose: the errors measured are orders of
    magnitude below it, but not for heavy-winged PSFs). A likelihood fit, whose error
    need only be far below the noise, may pass a larger one with ``grids`` built with a
    matching PSF floor (``_Grids(psf, d, floor)``). ``tol="peak"`` (the simulator's)
    aims at ``PEAK_TOL`` of each image's own peak, the scale of the accuracy promise:
    the peak is estimated first (a round PSF's by a quadrature, :func:`_peak_guess`,
    which the image drawn then checks, drawing again at the tolerance its own peak allows
    if the estimate was above it; another PSF's by a first pass at ``SCOUT_TOL``, which
    bounds it from below), the PSF's floor follows the tolerance, and the spectrum is cut
    where the galaxy's transform times the PSF's is negligible (_wavenumber_cut). It is
    1-6x faster than ``TOL``
    (benchmarks/bench_psf_tolerance.py); tests/test_psf.py holds it to the promise
    where the bounds are tightest.

    ``pixel_tol`` (with ``tol="peak"``): the error aimed at in a pixel, in the images'
    unit, instead of ``PEAK_TOL`` of the peak, for images whose noise dwarfs it (the
    simulator's ``pixel_tolerance``). No peak estimate is needed. The aim, as a fraction
    of the face-on central brightness, is kept between ``TOL`` and ``MAX_PIXEL_TOL``.
    """
    # the route's arrays, freed each galaxy, kept off the kernel (see skgal._allocator)
    keep_heap_slack()
    d = float(pixel_scale)
    box = 1.0 if sampling == "pixel" else 0.0  # the pixel's sinc, or none
    size = int(image_size)
    grids = shared_grids(psf, d) if grids is None else grids
    rows = len(intensity)
    out = np.empty((rows, size, size))
    for k in range(rows):
        galaxy = (float(intensity[k]), float(effective_radius[k]), float(sersic_index[k]),
                  float(flattening[k]), float(inclination[k]), float(position_angle[k]),
                  float(x_offset[k]), float(y_offset[k]))
        if tol == "peak":
            ie, re, n, q = galaxy[:4]
            b = sersic_b(n) if sersic_constant is None else float(sersic_constant[k])
            central = ie * math.exp(b) * SQRT2PI * q * re / HZ_DIVISOR  # face-on, centre
            # an absolute aim needs no peak to be estimated
            galaxy_tol = None if pixel_tol is None \
                else min(max(pixel_tol / central, TOL), MAX_PIXEL_TOL)
            # one Hankel table for every pass, reaching the PSF's whole transform (by the
            # coarser rule where the aim is far above its error)
            table = hankel_table(n, _table_reach(re, grids.kmax, d), b,
                                 galaxy_tol is not None and galaxy_tol >= LOOSE_TABLE_TOL)
            if galaxy_tol is None and grids.round:
                # the peak estimated by a quadrature at the pixel nearest the centre,
                # and checked below against the image drawn
                guess, _ = peak_estimate(galaxy, table, grids, size, d, box)
                galaxy_tol = max(PEAK_TOL * PEAK_GUESS_SHARE * guess / central, TOL)
            elif galaxy_tol is None:
                # the peak from the pixels around the galaxy's centre, where it is (the
                # image is symmetric about it), by a first pass at SCOUT_TOL: a patch's
                # maximum is never above the image's, and its pixels err by at most
                # SCOUT_TOL of the central brightness, so the peak is at least its
                # maximum less that. The patch's pixels are the stamp's.
                patch = min(size, SCOUT_PATCH + (size - SCOUT_PATCH) % 2)
                near = galaxy[:6] + (galaxy[6] - round(galaxy[6]),
                                     galaxy[7] - round(galaxy[7]))
                scout = _render_galaxy(near, psf, patch, d, box, grids, SCOUT_TOL,
                                       grids.kmax_for(0.1 * SCOUT_TOL), table, b, False)
                galaxy_tol = max(PEAK_TOL * (float(scout.max()) / central - SCOUT_TOL), TOL)
            # never aim tighter than TOL: that is what the engine was built for
            for attempt in range(2):
                kmax = grids.kmax_for(0.1 * galaxy_tol)
                if grids.round:  # where the galaxy's transform times the PSF's is negligible
                    kmax = min(kmax, _wavenumber_cut(galaxy, grids, kmax,
                                                     0.1 * galaxy_tol * central, table,
                                                     d * box))
                image = _render_galaxy(galaxy, psf, size, d, box, grids, galaxy_tol, kmax,
                                       table, b)
                if not grids.round or pixel_tol is not None:  # nothing to check
                    break
                # the image's pixels err by at most galaxy_tol of the central brightness,
                # so its peak is at least its maximum less that: an estimate above it
                # aimed too loose, and the image is drawn again at the aim it allows
                allowed = max(PEAK_TOL * (float(image.max()) / central - galaxy_tol), TOL)
                if galaxy_tol <= allowed:
                    break
                galaxy_tol = allowed
            out[k] = image
        else:
            out[k] = _render_galaxy(galaxy, psf, size, d, box, grids, tol, grids.kmax)
    if getattr(psf, "nonnegative", False):
        # the exact image is >= 0; round-off and the error budget can leave the
        # faintest pixels a hair below, which a Poisson mean cannot be
        np.maximum(out, 0.0, out=out)
    return out
