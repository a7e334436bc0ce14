"""The line-of-sight engine: images of inclined Sérsic discs, in numba.

Only :func:`render_flux` is meant to be called from above; everything else is the
machinery behind it. This module imports nothing from skgal but ``_profile``.

Geometry (see the user guide, "Model and conventions"). A pixel centre at sky
``(x, y)`` is rotated into the position-angle frame, ``x' = x cos PA + y sin PA``,
``y' = -x sin PA + y cos PA``. A point at depth ``s`` along the line of sight sits at
galaxy coordinates ``X = x'``, ``Y = y' cos i + s sin i``, ``Z = s cos i - y' sin i``.
Changing the integration variable from ``s`` to ``Y`` (for ``sin i > 0``) gives

    I(x', y') = (1 / sin i) * Int S(sqrt(X^2 + Y^2)) * exp(-(Y cos i - y')^2 / (2 h^2 sin^2 i)) dY

a one-dimensional integral of the disc profile ``S`` against a Gaussian kernel of
width ``h tan i`` centred on ``Y = y' / cos i``. Averaging over ``y'`` across a pixel
is analytic in the kernel (a difference of two error functions, a "smoothed box"),
so a pixel mean needs only one more numerical dimension, along ``x'``.

The 1-D integrals are done in the variable ``t = asinh(Y / a)`` with ``a ~ |X|``,
which turns the cusp of the ``n > 1`` profiles at ``R = 0`` into a smooth function
and compresses the long tails, by globally adaptive Gauss-Kronrod quadrature with
breakpoints at the cusp and at the kernel's features. Pixel means use a
fourth-order finite-difference cubature on the grid of pixel-centre values where
the image is smooth (it checks its own convergence), and Gauss-Legendre rules or
adaptive integration in ``x'`` elsewhere. Near the minor axis, where the image is not
smooth, an aligned galaxy's columns are integrated a whole column of pixels at a time
(the profile integrated across the column, the kernel over each pixel's rows), and
other pixels there exactly. Edge-on, each column's ``x'``-mean is one integral over
radius (the strip's polar form, _edge_on_strip); face-on, so is each pixel the
finite differences cannot take (_face_on_pixel).
"""

import math

import numpy as np
from numba import njit

from ._profile import HZ_DIVISOR

SQRT2PI = math.sqrt(2.0 * math.pi)
INV_SQRT2 = 1.0 / math.sqrt(2.0)

# Tolerances of the engine. The public accuracy statement (1e-3 relative for every
# pixel brighter than 1e-6 of the peak) is tested against independent quadrature.
LOS_RTOL = 1e-4  # relative, on |Kronrod - Gauss| of one line-of-sight integral
PIXEL_RTOL = 2e-5  # relative, on the x' integral of an exactly integrated pixel
FD_RTOL = 1e-4  # relative size of the fourth-order terms the cubature may accept
GL_RTOL = 1e-4  # relative |Q4x4 - Q3x3| the Gauss-Legendre pixel rule may accept
FLOOR = 1e-13  # absolute tolerance, as a fraction of the galaxy's peak brightness
FAINT = 1e-10  # pixels fainter than this fraction of the peak skip the exact fallbacks
TAIL_EFOLDS = 45.0  # the profile is cut where it is exp(-45) ~ 3e-20 of its centre
MAX_PANELS = 200
MAX_COLUMN_PANELS = 400
COLUMN_RTOL = 1e-4  # per row of a column integral, as LOS_RTOL
RAW = 8  # raw breakpoints sit at points[RAW:], mapped ones are written from points[0]
LOS_RULE = 15
# A column (or strip column) integrates Y over its rows' kernel centres, and Y = 0 (the
# profile's peak: a compact profile can outshine a kernel's tail there), widened by this
# many kernel widths each way. What a row leaves out is the kernel's weight beyond 6
# widths, Phi(-6) = 1e-9, times a profile that falls away from Y = 0 (on the far side
# of Y = 0, each point's mirror image is inside the range and nearer the row), so about
# 1e-9 of the row, far inside COLUMN_RTOL. It was 9 (1e-19); 6 is 1.2x faster at 30 and
# 60 degrees (benchmarks/compare_engines.py), and moved pixel means by at most 4e-7.
COLUMN_REACH = 6.0
# initial panels no wider than this many kernel widths (no kernel hides between nodes;
# wider panels cost more in splits than they save)
PANEL_SIGMAS = 4.0

# Gauss-Kronrod 7-15 (QUADPACK qk15): Kronrod nodes on [0, 1), then the centre.
_XK15 = (
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0)
_WK15 = (
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714)
_WG7 = (
    0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
    0.381830050505118944950369775488975, 0.417959183673469387755102040816327)
# Gauss-Kronrod 3-7: cheaper rule for the outer (x') integral of a pixel.
_XK7 = (
    0.960491268708020283423507092629080, 0.774596669241483377035853079956480,
    0.434243749346802558002071502844628, 0.0)
_WK7 = (
    0.104656226026467265193823857192073, 0.268488089868333440728569280666710,
    0.401397414775962222905051818618432, 0.450916538658474142345110087045571)
_WG3 = (5.0 / 9.0, 8.0 / 9.0)
# The 15-point weights in _kronrod_nodes' order (-x0, +x0, -x1, +x1, ..., centre).
_NODE_WK15 = tuple(_WK15[j // 2] for j in range(14)) + (_WK15[7],)
_NODE_WG7 = tuple(_WG7[(j // 2) // 2] if (j // 2) % 2 == 1 else 0.0
                  for j in range(14)) + (_WG7[3],)
# The same for the 7-point rule and its embedded 3-point Gauss rule.
_NODE_WK7 = tuple(_WK7[j // 2] for j in range(6)) + (_WK7[3],)
_NODE_WG3 = tuple(_WG3[0] if j // 2 == 1 else 0.0 for j in range(6)) + (_WG3[1],)
# Gauss-Legendre nodes and weights on [-1, 1] for the pixel rules (2 and 3 points
# along x' at aligned position angles; 3x3 and 4x4 otherwise).
_GL2X, _GL2W = (tuple(v) for v in np.polynomial.legendre.leggauss(2))
_GL3X, _GL3W = (tuple(v) for v in np.polynomial.legendre.leggauss(3))
_GL4X, _GL4W = (tuple(v) for v in np.polynomial.legendre.leggauss(4))

CENTER = 0
PIXEL = 1
_GAUSS_KERNEL = 0
_BOX_KERNEL = 1
_FLAT_KERNEL = 2


@njit(cache=True, nogil=True, inline="always")
def _phi_diff(u, v):
    """Phi(u) - Phi(v) for u >= v, accurate in both tails (Phi: normal CDF)."""
    if v > 0.0:
        return 0.5 * (math.erfc(v * INV_SQRT2) - math.erfc(u * INV_SQRT2))
    if u < 0.0:
        return 0.5 * (math.erfc(-u * INV_SQRT2) - math.erfc(-v * INV_SQRT2))
    return 0.5 * (math.erf(u * INV_SQRT2) - math.erf(v * INV_SQRT2))


# Cephes' erfc (ndtr.c, S. L. Moshier, BSD-licensed as in SciPy): for 1 <= x < 8,
# erfc(x) = exp(-x^2) P(x) / Q(x) (Q monic); for |x| < 1, erf(x) = x T(x^2) / U(x^2)
# (U monic). Relative error below 1e-13 (tests/test_render.py checks it against math.erfc).
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)


@njit(cache=True, nogil=True, inline="always")
def _gauss_tail(u, gauss):
    """1 - Phi(u) for u >= 0, given gauss = exp(-u^2 / 2); 0 beyond u = 9."""
    if u > 9.0:
        return 0.0
    x = u * INV_SQRT2
    if x < 1.0:
        z = x * x
        t = (((_ERF_T[0] * z + _ERF_T[1]) * z + _ERF_T[2]) * z + _ERF_T[3]) * z + _ERF_T[4]
        v = ((((z + _ERF_U[0]) * z + _ERF_U[1]) * z + _ERF_U[2]) * z + _ERF_U[3]) * z \
            + _ERF_U[4]
        return 0.5 - 0.5 * x * t / v
    p = _ERFC_P[0]
    for c in _ERFC_P[1:]:
        p = p * x + c
    q = x + _ERFC_Q[0]
    for c in _ERFC_Q[1:]:
        q = q * x + c
    return 0.5 * gauss * p / q


@njit(cache=True, nogil=True, inline="always")
def _kronrod_nodes(lo, hi, rule, xs):
    """Nodes of the Gauss-Kronrod rule (15 or 7 points) on [lo, hi] into xs.

    Order: -x_0, +x_0, -x_1, +x_1, ..., centre (x_j the Kronrod abscissae).
    """
    centre = 0.5 * (lo + hi)
    half = 0.5 * (hi - lo)
    npairs = 7 if rule == 15 else 3
    for j in range(npairs):
        dx = half * (_XK15[j] if rule == 15 else _XK7[j])
        xs[2 * j] = centre - dx
        xs[2 * j + 1] = centre + dx
    xs[2 * npairs] = centre


@njit(cache=True, nogil=True, inline="always")
def _kronrod_sum(fx, lo, hi, rule):
    """(integral, error estimate) from values fx at _kronrod_nodes.

    The error is QUADPACK's: resasc * min(1, (200 |K - G| / resasc)^1.5), which
    for smooth integrands is far closer to the true error than |K - G|.
    """
    half = 0.5 * (hi - lo)
    npairs = 7 if rule == 15 else 3
    centre_w = _WK15[7] if rule == 15 else _WK7[3]
    resk = fx[2 * npairs] * centre_w
    resg = fx[2 * npairs] * (_WG7[3] if rule == 15 else _WG3[1])
    for j in range(npairs):
        pair = fx[2 * j] + fx[2 * j + 1]
        resk += (_WK15[j] if rule == 15 else _WK7[j]) * pair
        if rule == 15 and j % 2 == 1:
            resg += _WG7[j // 2] * pair
        elif rule == 7 and j == 1:
            resg += _WG3[0] * pair
    mean = 0.5 * resk
    resasc = centre_w * abs(fx[2 * npairs] - mean)
    for j in range(npairs):
        w = _WK15[j] if rule == 15 else _WK7[j]
        resasc += w * (abs(fx[2 * j] - mean) + abs(fx[2 * j + 1] - mean))
    resasc *= abs(half)
    err = abs((resk - resg) * half)
    if resasc != 0.0 and err != 0.0:
        scaled = 200.0 * err / resasc
        err = resasc * min(1.0, scaled * math.sqrt(scaled))
    return resk * half, err


# Globally adaptive Gauss-Kronrod quadrature, the QUADPACK QAG strategy: the panel
# with the largest error estimate is bisected until the summed estimate is below
# max(atol, rtol |total|). Panels live in a (4, MAX_PANELS) work array (lower,
# upper, value, error) so that the hot loops allocate nothing. The bookkeeping is
# shared; each integrand has its own short driver (_integrate_*), because numba
# cannot cache a function that receives another jitted function as an argument.

@njit(cache=True, nogil=True, inline="always")
def _qag_set(work, k, lo, hi, value_error):
    work[0, k] = lo
    work[1, k] = hi
    work[2, k] = value_error[0]
    work[3, k] = value_error[1]


@njit(cache=True, nogil=True, inline="always")
def _qag_worst(work, m, rtol, atol):
    """Index of the panel to bisect next, or -1 when converged or out of room."""
    total = 0.0
    error = 0.0
    j = 0
    for k in range(m):
        total += work[2, k]
        error += work[3, k]
        if work[3, k] > work[3, j]:
            j = k
    if error <= max(atol, rtol * abs(total)) or m >= MAX_PANELS:
        return -1
    mid = 0.5 * (work[0, j] + work[1, j])
    if not work[0, j] < mid < work[1, j]:
        return -1
    return j


@njit(cache=True, nogil=True, inline="always")
def _qag_total(work, m):
    total = 0.0
    for k in range(m):
        total += work[2, k]
    return total


@njit(cache=True, nogil=True, inline="always")
def _profile(r2, inv_re2, half_inv_n, b):
    """Sérsic profile / I_e at squared radius r2: exp(-b ((r/R_e)^(1/n) - 1))."""
    return math.exp(-b * ((r2 * inv_re2) ** half_inv_n - 1.0))


@njit(cache=True, nogil=True, inline="always")
def _los_integrand(t, args):
    """Integrand of the line-of-sight integral in t = asinh(Y / a)."""
    x2, a, kernel, y0, ya, yb, cos_i, hs, inv_re2, half_inv_n, b = args
    e = math.exp(t)
    y = 0.5 * a * (e - 1.0 / e)  # a sinh t
    jac = 0.5 * a * (e + 1.0 / e)  # dY/dt = a cosh t
    exponent = -b * (((x2 + y * y) * inv_re2) ** half_inv_n - 1.0)
    if kernel == _GAUSS_KERNEL:
        u = (y * cos_i - y0) / hs
        return math.exp(exponent - 0.5 * u * u) * jac
    value = math.exp(exponent) * jac
    if kernel == _BOX_KERNEL:
        value *= _phi_diff((yb - y * cos_i) / hs, (ya - y * cos_i) / hs)
    return value


@njit(cache=True, nogil=True, inline="always")
def _panel_los(args, lo, hi, xs, fx):
    _kronrod_nodes(lo, hi, LOS_RULE, xs)
    for k in range(LOS_RULE):
        fx[k] = _los_integrand(xs[k], args)
    return _kronrod_sum(fx, lo, hi, LOS_RULE)


@njit(cache=True, nogil=True)
def _integrate_los(args, npoints, rtol, atol, ws):
    """Adaptive integral of _los_integrand over the breakpoints ws[1][:npoints]."""
    work, points, xs, fx = ws
    m = 0
    for k in range(npoints - 1):
        if points[k + 1] > points[k]:
            _qag_set(work, m, points[k], points[k + 1],
                     _panel_los(args, points[k], points[k + 1], xs, fx))
            m += 1
    j = _qag_worst(work, m, rtol, atol)
    while j >= 0:
        lo, hi = work[0, j], work[1, j]
        mid = 0.5 * (lo + hi)
        _qag_set(work, j, lo, mid, _panel_los(args, lo, mid, xs, fx))
        _qag_set(work, m, mid, hi, _panel_los(args, mid, hi, xs, fx))
        m += 1
        j = _qag_worst(work, m, rtol, atol)
    return _qag_total(work, m)


@njit(cache=True, nogil=True)
def _los(x, kernel, y0, ya, yb, geom, ws):
    """Line-of-sight integral through the galaxy at x' = x.

    kernel == _GAUSS_KERNEL: the surface brightness I(x, y0) at one point.
    kernel == _BOX_KERNEL: Int_{ya}^{yb} I(x, y') dy', the strip integral.
    ``geom`` = (I_e, R_e, n, b_n, h_z, cos i, sin i, peak); lengths in R_e's unit.
    """
    ie, re, n, b, h, cos_i, sin_i, peak = geom
    points = ws[1]
    inv_re2 = 1.0 / (re * re)
    half_inv_n = 0.5 / n
    x2 = x * x
    rmax = re * (TAIL_EFOLDS / b + 1.0) ** n
    if x2 >= rmax * rmax:
        return 0.0
    ymax = math.sqrt(rmax * rmax - x2)
    a = max(abs(x), 1e-3 * re)
    hs = h * sin_i
    npts = 0
    if sin_i == 0.0:  # face-on: the Gaussian in z integrates out exactly
        if kernel == _GAUSS_KERNEL:
            return ie * SQRT2PI * h * _profile(x2 + y0 * y0, inv_re2, half_inv_n, b)
        pref = ie * SQRT2PI * h
        lo = max(ya, -ymax)
        hi = min(yb, ymax)
        flat = True
    elif cos_i == 0.0:  # edge-on: separable, the kernel does not depend on Y
        if kernel == _GAUSS_KERNEL:
            pref = ie * math.exp(-0.5 * (y0 / h) ** 2)
        else:
            pref = ie * SQRT2PI * h * _phi_diff(yb / h, ya / h)
        lo = -ymax
        hi = ymax
        flat = True
    else:
        sigma = hs / cos_i  # kernel width in Y
        flat = False
        if kernel == _GAUSS_KERNEL:
            yc = y0 / cos_i
            if sigma < 1e-7 * max(a, abs(yc)):  # kernel narrower than anything: a delta
                return ie * SQRT2PI * h / cos_i * _profile(x2 + yc * yc, inv_re2, half_inv_n, b)
            pref = ie / sin_i
            # from the kernel's reach or the profile's peak at Y = 0, whichever is
            # further: a compact profile can outshine the kernel's tail there
            lo = max(-ymax, min(yc, 0.0) - 9.0 * sigma)
            hi = min(ymax, max(yc, 0.0) + 9.0 * sigma)
            # the kernel's reach as breakpoints too, so that no panel wider than it
            # holds the kernel (its nodes could miss it)
            points[RAW] = yc
            points[RAW + 1] = yc - 9.0 * sigma
            points[RAW + 2] = yc + 9.0 * sigma
            npts = 3
        else:
            ya_ = ya / cos_i
            yb_ = yb / cos_i
            pref = ie * SQRT2PI * h
            if sigma < 1e-7 * max(a, abs(ya_), abs(yb_)):  # a sharp box
                lo = max(-ymax, ya_)
                hi = min(ymax, yb_)
                flat = True
            else:
                lo = max(-ymax, min(ya_, 0.0) - 9.0 * sigma)
                hi = min(ymax, max(yb_, 0.0) + 9.0 * sigma)
                points[RAW] = ya_
                points[RAW + 1] = yb_
                points[RAW + 2] = ya_ - 9.0 * sigma  # the kernel's reach, as above
                points[RAW + 3] = yb_ + 9.0 * sigma
                npts = 4
                if 6.0 * sigma < yb_ - ya_:  # resolve edges much narrower than the box
                    points[RAW + 4] = ya_ + 3.0 * sigma
                    points[RAW + 5] = yb_ - 3.0 * sigma
                    npts = 6
    if not hi > lo:
        return 0.0
    if abs(x) < a:  # the cusp at Y = 0 is smooth in t unless the line nearly meets it
        points[RAW + npts] = 0.0
        npts += 1
    # keep the interior breakpoints, map everything to t = asinh(Y / a), sort
    m = 1
    for k in range(npts):
        p = points[RAW + k]
        if lo < p < hi:
            points[m] = math.asinh(p / a)
            m += 1
    points[0] = math.asinh(lo / a)
    points[m] = math.asinh(hi / a)
    m += 1
    points[:m].sort()
    if pref == 0.0:  # so far from the disc plane that the light underflows
        return 0.0
    args = (x2, a, _FLAT_KERNEL if flat else kernel, y0, ya, yb, cos_i,
            hs, inv_re2, half_inv_n, b)
    atol = FLOOR * peak / pref
    return pref * _integrate_los(args, m, LOS_RTOL, atol, ws)


@njit(cache=True, nogil=True, inline="always")
def _square_chord(xp, cx, cy):
    """y'-extent [ya, yb] of a rotated pixel at x' = xp (corners in cx, cy)."""
    ya = np.inf
    yb = -np.inf
    for k in range(4):
        k2 = (k + 1) % 4
        x1 = cx[k]
        x2 = cx[k2]
        if x1 != x2 and min(x1, x2) <= xp <= max(x1, x2):
            y = cy[k] + (xp - x1) * (cy[k2] - cy[k]) / (x2 - x1)
            ya = min(ya, y)
            yb = max(yb, y)
    return ya, yb


@njit(cache=True, nogil=True, inline="always")
def _strip_integrand(xp, args):
    cx, cy, geom, ws = args
    ya, yb = _square_chord(xp, cx, cy)
    if not yb > ya:
        return 0.0
    return _los(xp, _BOX_KERNEL, 0.0, ya, yb, geom, ws)


@njit(cache=True, nogil=True, inline="always")
def _panel_strip(args, lo, hi, xs, fx):
    _kronrod_nodes(lo, hi, 7, xs)
    for k in range(7):
        fx[k] = _strip_integrand(xs[k], args)
    return _kronrod_sum(fx, lo, hi, 7)


@njit(cache=True, nogil=True)
def _integrate_strip(args, npoints, rtol, atol, ws):
    """Adaptive integral of _strip_integrand over the breakpoints ws[1][:npoints]."""
    work, points, xs, fx = ws
    m = 0
    for k in range(npoints - 1):
        if points[k + 1] > points[k]:
            _qag_set(work, m, points[k], points[k + 1],
                     _panel_strip(args, points[k], points[k + 1], xs, fx))
            m += 1
    j = _qag_worst(work, m, rtol, atol)
    while j >= 0:
        lo, hi = work[0, j], work[1, j]
        mid = 0.5 * (lo + hi)
        _qag_set(work, j, lo, mid, _panel_strip(args, lo, mid, xs, fx))
        _qag_set(work, m, mid, hi, _panel_strip(args, mid, hi, xs, fx))
        m += 1
        j = _qag_worst(work, m, rtol, atol)
    return _qag_total(work, m)


@njit(cache=True, nogil=True)
def _pixel_exact(x, y, d, cos_pa, sin_pa, geom, ws_out, ws_in):
    """Mean surface brightness over the pixel of side d centred on sky (x, y).

    The y' direction is integrated analytically by the box kernel; x' adaptively,
    with breakpoints at the corners of the rotated pixel and at the minor axis.
    """
    cx = np.empty(4)
    cy = np.empty(4)
    hx = (-0.5, 0.5, 0.5, -0.5)
    hy = (-0.5, -0.5, 0.5, 0.5)
    for k in range(4):
        xs = x + hx[k] * d
        ys = y + hy[k] * d
        cx[k] = xs * cos_pa + ys * sin_pa
        cy[k] = -xs * sin_pa + ys * cos_pa
    xpoints = ws_out[1]
    lo = cx.min()
    hi = cx.max()
    m = 0
    xpoints[m] = lo
    m += 1
    for k in range(4):
        if lo < cx[k] < hi:
            xpoints[m] = cx[k]
            m += 1
    if lo < 0.0 < hi:
        xpoints[m] = 0.0
        m += 1
    xpoints[m] = hi
    m += 1
    xpoints[:m].sort()
    atol = FLOOR * geom[7] * d
    total = _integrate_strip((cx, cy, geom, ws_in), m, PIXEL_RTOL, atol, ws_out)
    return total / (d * d)


# Edge-on strips in polar form. Edge-on, a pixel's mean needs the projected profile
# A(x) = Int S(sqrt(x^2 + Y^2)) dY integrated across the pixel's column: a double
# integral of S over the strip x0 <= x <= x1 (all Y). About the centre it is one integral,
#
#     Int_0^inf S(r) r theta(r) dr,  theta(r) = 2 [asin(min(1, x1/r)) - asin(min(1, x0/r))],
#
# theta the angle of the circle of radius r inside the strip (0 <= x0 < x1), instead of
# an adaptive integral over x of adaptive ones over Y (_pixel_exact). theta rises like
# sqrt(r - x0) from x0 and bends like that at x1, so each piece [x_k, ...] is taken in
# s with r = x_k + s^2, which makes the integrand smooth there.

@njit(cache=True, nogil=True, inline="always")
def _panel_polar(args, lo, hi, xs, fx):
    base, x0, x1, inv_re2, half_inv_n, b = args
    _kronrod_nodes(lo, hi, 15, xs)
    for k in range(15):
        s = xs[k]
        r = base + s * s
        theta = 2.0 * (math.asin(min(1.0, x1 / r)) - math.asin(min(1.0, x0 / r)))
        fx[k] = _profile(r * r, inv_re2, half_inv_n, b) * r * theta * 2.0 * s
    return _kronrod_sum(fx, lo, hi, 15)


@njit(cache=True, nogil=True)
def _polar_piece(base, top, x0, x1, re, n, b, atol, ws):
    """Int_base^top S(r) r theta(r) dr (S / I_e; theta for the strip [x0, x1]), in s."""
    work, points, xs, fx = ws
    args = (base, x0, x1, 1.0 / (re * re), 0.5 / n, b)
    s_top = math.sqrt(top - base)
    # breakpoints where the profile may change scale: a quarter, one and four R_e past
    # the piece's start
    m = 0
    lo = 0.0
    for reach in (0.25, 1.0, 4.0):
        s = math.sqrt(reach * re)
        if lo < s < s_top:
            _qag_set(work, m, lo, s, _panel_polar(args, lo, s, xs, fx))
            m += 1
            lo = s
    _qag_set(work, m, lo, s_top, _panel_polar(args, lo, s_top, xs, fx))
    m += 1
    j = _qag_worst(work, m, PIXEL_RTOL, atol)
    while j >= 0:
        lo, hi = work[0, j], work[1, j]
        mid = 0.5 * (lo + hi)
        _qag_set(work, j, lo, mid, _panel_polar(args, lo, mid, xs, fx))
        _qag_set(work, m, mid, hi, _panel_polar(args, mid, hi, xs, fx))
        m += 1
        j = _qag_worst(work, m, PIXEL_RTOL, atol)
    return _qag_total(work, m)


@njit(cache=True, nogil=True)
def _polar_strip(x0, x1, geom, d, ws):
    """Int_{x0}^{x1} A(x) dx / I_e for 0 <= x0 < x1, A the edge-on projected profile."""
    re, n, b = geom[1], geom[2], geom[3]
    rmax = re * (TAIL_EFOLDS / b + 1.0) ** n
    if x0 >= rmax:
        return 0.0
    # the pixel's share of FLOOR times the peak (the face-on centre, exp(b) here)
    atol = FLOOR * math.exp(b) * d * d
    total = _polar_piece(x0, min(x1, rmax), x0, x1, re, n, b, atol, ws)
    if x1 < rmax:
        total += _polar_piece(x1, rmax, x0, x1, re, n, b, atol, ws)
    return total


@njit(cache=True, nogil=True)
def _edge_on_strip(xa, xb, geom, d, ws):
    """Int_{xa}^{xb} A(x) dx / I_e for any xa < xb (A is even in x)."""
    if xa >= 0.0:
        return _polar_strip(xa, xb, geom, d, ws)
    if xb <= 0.0:
        return _polar_strip(-xb, -xa, geom, d, ws)
    return _polar_strip(0.0, -xa, geom, d, ws) + _polar_strip(0.0, xb, geom, d, ws)


# Face-on pixels in polar form. Face-on, the image is radial, I_e sqrt(2 pi) h S(r), and
# a pixel's integral is Int S(r) r theta(r) dr over the radii that meet it, theta the
# angle of the circle of radius r inside the pixel. Split into quadrants about the
# centre and reflected into the first, a box [a0, a1] x [b0, b1] holds the arc
#
#     theta(r) = max(0, min(acos(a0/r), asin(b1/r)) - max(acos(a1/r), asin(b0/r)))
#
# (ratios clipped at 1). theta is smooth between the radii of the box's edges and
# corners, and rises like sqrt(r - p) just past each such radius p, so each piece
# [p, p'] is taken in s with r = p + s^2.

@njit(cache=True, nogil=True, inline="always")
def _panel_box(args, lo, hi, xs, fx):
    base, a0, a1, b0, b1, inv_re2, half_inv_n, b = args
    _kronrod_nodes(lo, hi, 15, xs)
    for k in range(15):
        s = xs[k]
        r = base + s * s
        upper = min(math.acos(min(1.0, a0 / r)), math.asin(min(1.0, b1 / r)))
        lower = max(math.acos(min(1.0, a1 / r)), math.asin(min(1.0, b0 / r)))
        theta = max(0.0, upper - lower)
        fx[k] = _profile(r * r, inv_re2, half_inv_n, b) * r * theta * 2.0 * s
    return _kronrod_sum(fx, lo, hi, 15)


@njit(cache=True, nogil=True)
def _quadrant_box(a0, a1, b0, b1, re, n, b, atol, ws):
    """Int S / I_e over [a0, a1] x [b0, b1] (0 <= a0 < a1, 0 <= b0 < b1)."""
    work, points, xs, fx = ws
    rmax = re * (TAIL_EFOLDS / b + 1.0) ** n
    near = math.sqrt(a0 * a0 + b0 * b0)
    far = min(math.sqrt(a1 * a1 + b1 * b1), rmax)
    if not far > near:
        return 0.0
    m = 0
    for p in (near, far, a0, a1, b0, b1, math.sqrt(a0 * a0 + b1 * b1),
              math.sqrt(a1 * a1 + b0 * b0)):
        if near <= p <= far:
            points[m] = p
            m += 1
    points[:m].sort()
    inv_re2 = 1.0 / (re * re)
    half_inv_n = 0.5 / n
    total = 0.0
    for k in range(m - 1):
        base = points[k]
        if not points[k + 1] > base:
            continue
        args = (base, a0, a1, b0, b1, inv_re2, half_inv_n, b)
        s_top = math.sqrt(points[k + 1] - base)
        _qag_set(work, 0, 0.0, s_top, _panel_box(args, 0.0, s_top, xs, fx))
        j = _qag_worst(work, 1, PIXEL_RTOL, atol)
        count = 1
        while j >= 0:
            lo, hi = work[0, j], work[1, j]
            mid = 0.5 * (lo + hi)
            _qag_set(work, j, lo, mid, _panel_box(args, lo, mid, xs, fx))
            _qag_set(work, count, mid, hi, _panel_box(args, mid, hi, xs, fx))
            count += 1
            j = _qag_worst(work, count, PIXEL_RTOL, atol)
        total += _qag_total(work, count)
    return total


@njit(cache=True, nogil=True)
def _face_on_pixel(x, y, d, geom, ws):
    """Mean surface brightness over the pixel of side d centred on (x, y) from a
    face-on galaxy's centre, exactly (in polar form, one quadrant at a time)."""
    ie, re, n, b, h = geom[0], geom[1], geom[2], geom[3], geom[4]
    # the pixel's share of FLOOR times the peak (the face-on centre, exp(b) here)
    atol = FLOOR * math.exp(b) * d * d
    total = 0.0
    for sx in (1.0, -1.0):  # the pixel's part on each side of the axes, reflected
        a0 = max(sx * x - 0.5 * d, 0.0)
        a1 = sx * x + 0.5 * d
        if not a1 > a0:
            continue
        for sy in (1.0, -1.0):
            b0 = max(sy * y - 0.5 * d, 0.0)
            b1 = sy * y + 0.5 * d
            if not b1 > b0:
                continue
            total += _quadrant_box(a0, a1, b0, b1, re, n, b, atol, ws)
    return ie * SQRT2PI * h * total / (d * d)


# Columns at once. When the position angle is a multiple of 90 degrees, every pixel
# of an image column (in x', y') sees the same profile S(sqrt(X^2 + Y^2)) along its
# line of sight; only the Gaussian kernel moves, by d / cos i per row. So a whole
# column is one vector-valued adaptive integral: the profile is evaluated once per
# node, and the rows' kernels follow from a two-multiplication recurrence.

@njit(cache=True, nogil=True, inline="always")
def _row_kernels(y, centre0, step, sigma, n_rows, out):
    """exp(-(y - c_k)^2 / (2 sigma^2)) for the row centres c_k = centre0 - k step.

    Starts at the nearest row and walks outwards by ratios that are at most 1, so
    nothing overflows and an underflow to 0 is exact in the limit.
    """
    inv2s2 = 0.5 / (sigma * sigma)
    k0 = int(round((centre0 - y) / step))
    k0 = min(max(k0, 0), n_rows - 1)
    dist = y - centre0 + k0 * step
    out[k0] = math.exp(-dist * dist * inv2s2)
    decay = math.exp(-2.0 * step * step * inv2s2)
    # Each way, two interleaved chains (rows k0 +- 1, 3, ... and k0 +- 2, 4, ...) whose
    # steps skip a row: out[k +- 2] = out[k] r_k r_k+-1 = out[k] r_k^2 decay, and
    # r_k+-2 = r_k decay^2. Two independent products per step instead of one chain
    # halve the loop's latency.
    decay4 = decay * decay * decay * decay
    ratio = math.exp(-(2.0 * dist * step + step * step) * inv2s2)
    if k0 + 1 < n_rows:
        out[k0 + 1] = out[k0] * ratio
        odd = out[k0 + 1]
        even = out[k0]
        r_odd = ratio * decay * ratio * decay * decay  # r_{k0+1}^2 decay
        r_even = ratio * ratio * decay  # r_{k0}^2 decay
        k = k0 + 2
        while k + 1 < n_rows:
            even = even * r_even
            odd = odd * r_odd
            out[k] = even
            out[k + 1] = odd
            r_even *= decay4
            r_odd *= decay4
            k += 2
        if k < n_rows:
            out[k] = even * r_even
    ratio = math.exp((2.0 * dist * step - step * step) * inv2s2)
    if k0 - 1 >= 0:
        out[k0 - 1] = out[k0] * ratio
        odd = out[k0 - 1]
        even = out[k0]
        r_odd = ratio * decay * ratio * decay * decay
        r_even = ratio * ratio * decay
        k = k0 - 2
        while k - 1 >= 0:
            even = even * r_even
            odd = odd * r_odd
            out[k] = even
            out[k - 1] = odd
            r_even *= decay4
            r_odd *= decay4
            k -= 2
        if k >= 0:
            out[k] = even * r_even


@njit(cache=True, nogil=True, inline="always")
def _rows_kronrod(fx, kern, lo, hi, n_rows, resk, resg, resasc, err):
    """Kronrod-15 on the panel [lo, hi] of fx[j] kern[j, k] for every row k: the
    integral into ``resk`` and QUADPACK's error estimate into ``err`` (as
    _kronrod_sum, with rows innermost so that they vectorise); ``resg`` and ``resasc``
    are scratch."""
    for k in range(n_rows):
        resk[k] = 0.0
        resg[k] = 0.0
        resasc[k] = 0.0
    for j in range(15):
        wk = _NODE_WK15[j] * fx[j]
        wg = _NODE_WG7[j] * fx[j]
        row = kern[j]
        for k in range(n_rows):
            resk[k] += wk * row[k]
            resg[k] += wg * row[k]
    for j in range(15):
        wk = _NODE_WK15[j]
        f = fx[j]
        row = kern[j]
        for k in range(n_rows):
            resasc[k] += wk * abs(f * row[k] - 0.5 * resk[k])
    half = 0.5 * (hi - lo)
    for k in range(n_rows):
        e = abs((resk[k] - resg[k]) * half)
        asc = resasc[k] * half
        if asc != 0.0 and e != 0.0:
            scaled = 200.0 * e / asc
            e = asc * min(1.0, scaled * math.sqrt(scaled))
        err[k] = e
        resk[k] *= half


@njit(cache=True, nogil=True, inline="always")
def _column_panel(lo, hi, args, n_rows, cw, p):
    """Kronrod-15 on panel p = [lo, hi] (in t) for every row of the column.

    The same sums as _kronrod_sum, with rows innermost so that they vectorise.
    """
    x2, a, centre0, step, sigma, inv_re2, half_inv_n, b = args
    xs, kern, values, errors, fx, resg, resasc = cw[0], cw[1], cw[2], cw[3], cw[4], cw[5], cw[6]
    _kronrod_nodes(lo, hi, 15, xs)
    for j in range(15):
        e = math.exp(xs[j])
        y = 0.5 * a * (e - 1.0 / e)
        fx[j] = math.exp(-b * (((x2 + y * y) * inv_re2) ** half_inv_n - 1.0)) \
            * 0.5 * a * (e + 1.0 / e)
        _row_kernels(y, centre0, step, sigma, n_rows, kern[j])
    _rows_kronrod(fx, kern, lo, hi, n_rows, values[p], resg, resasc, errors[p])


@njit(cache=True, nogil=True)
def _columns_resolve(geom, n_rows, top, d):
    """Whether the column engine can integrate this image: inclined, and every row's
    kernel resolvable by initial panels no wider than 4 sigma within its budget. At
    tiny inclinations the kernels are too narrow and the per-pixel engine is used."""
    ie, re, n, b, h, cos_i, sin_i, peak = geom
    if not (cos_i > 0.0 and sin_i > 0.0):
        return False
    sigma = h * sin_i / cos_i
    rmax = re * (TAIL_EFOLDS / b + 1.0) ** n
    lo = max(-rmax, min((top - (n_rows - 1) * d) / cos_i, 0.0) - COLUMN_REACH * sigma)
    hi = min(rmax, top / cos_i + COLUMN_REACH * sigma)
    return hi - lo <= PANEL_SIGMAS * sigma * (MAX_COLUMN_PANELS // 4)


@njit(cache=True, nogil=True, inline="always")
def _initial_panels(lo, hi, a, n_split, lows, highs):
    """Split [lo, hi] (in Y) into n_split equal panels, and at the cusp Y = 0, mapped to
    t = asinh(Y / a) into lows and highs; returns their number. Shared by the column
    integrals (numba cannot cache a driver that takes the panel rule as an argument,
    so each integral keeps its own short loop around these helpers)."""
    m = 0
    prev = math.asinh(lo / a)
    for i in range(1, n_split + 1):
        y_next = lo + (hi - lo) * i / n_split
        if lo < 0.0 < y_next and prev < 0.0:
            lows[m] = prev
            highs[m] = 0.0
            m += 1
            prev = 0.0
        t_next = math.asinh(y_next / a)
        lows[m] = prev
        highs[m] = t_next
        m += 1
        prev = t_next
    return m


@njit(cache=True, nogil=True, inline="always")
def _rows_total(values, errors, m, n_rows, totals, errs):
    """Every row's integral and error, summed over the m panels."""
    for k in range(n_rows):
        totals[k] = 0.0
        errs[k] = 0.0
        for p in range(m):
            totals[k] += values[p, k]
            errs[k] += errors[p, k]


@njit(cache=True, nogil=True, inline="always")
def _rows_next_split(values, errors, lows, highs, m, n_rows, totals, errs, atol):
    """The panel to bisect next, and its midpoint: the worst panel of the row furthest
    above its tolerance, max(atol, COLUMN_RTOL |total|). Its share leaves the totals.
    Returns (-1, 0) when every row meets its tolerance or the panel cannot be split."""
    worst_row = -1
    worst = 1.0
    for k in range(n_rows):
        ratio = errs[k] / max(atol, COLUMN_RTOL * abs(totals[k]))
        if ratio > worst:
            worst = ratio
            worst_row = k
    if worst_row < 0:
        return -1, 0.0
    p = 0
    for q in range(1, m):
        if errors[q, worst_row] > errors[p, worst_row]:
            p = q
    mid = 0.5 * (lows[p] + highs[p])
    if not lows[p] < mid < highs[p]:
        return -1, 0.0
    for k in range(n_rows):
        totals[k] -= values[p, k]
        errs[k] -= errors[p, k]
    return p, mid


@njit(cache=True, nogil=True, inline="always")
def _rows_split_done(values, errors, lows, highs, p, m, mid, hi, n_rows, totals, errs):
    """Record panel p = [low, mid] and the new panel m = [mid, hi] and add their share."""
    highs[p] = mid
    lows[m] = mid
    highs[m] = hi
    for q in (p, m):
        for k in range(n_rows):
            totals[k] += values[q, k]
            errs[k] += errors[q, k]


@njit(cache=True, nogil=True)
def _column(x, geom, n_rows, top, d, cw, out):
    """out[k] = I(x' = x, y' = top - k d) for k < n_rows (inclined, 0 < i < 90)."""
    ie, re, n, b, h, cos_i, sin_i, peak = geom
    xs, kern, values, errors, fx, resg, resasc, lows, highs, totals, errs = cw
    sigma = h * sin_i / cos_i
    step = d / cos_i
    centre0 = top / cos_i
    lowest = (top - (n_rows - 1) * d) / cos_i
    rmax = re * (TAIL_EFOLDS / b + 1.0) ** n
    for k in range(n_rows):
        out[k] = 0.0
    if x * x >= rmax * rmax:
        return
    ymax = math.sqrt(rmax * rmax - x * x)
    lo = max(-ymax, min(lowest, 0.0) - COLUMN_REACH * sigma)
    hi = min(ymax, centre0 + COLUMN_REACH * sigma)
    if not hi > lo:
        return
    a = max(abs(x), 1e-3 * re)
    args = (x * x, a, centre0, step, sigma, 1.0 / (re * re), 0.5 / n, b)
    # initial panels: no wider than 4 sigma in Y (no kernel can hide between nodes),
    # split at the cusp Y = 0
    n_split = min(int((hi - lo) / (PANEL_SIGMAS * sigma)) + 1, MAX_COLUMN_PANELS // 4)
    m = _initial_panels(lo, hi, a, n_split, lows, highs)
    for p in range(m):
        _column_panel(lows[p], highs[p], args, n_rows, cw, p)
    atol = FLOOR * peak * sin_i / ie
    _rows_total(values, errors, m, n_rows, totals, errs)
    while m < MAX_COLUMN_PANELS:
        p, mid = _rows_next_split(values, errors, lows, highs, m, n_rows, totals, errs, atol)
        if p < 0:
            break
        hi_p = highs[p]
        _column_panel(lows[p], mid, args, n_rows, cw, p)
        _column_panel(mid, hi_p, args, n_rows, cw, m)
        _rows_split_done(values, errors, lows, highs, p, m, mid, hi_p, n_rows, totals, errs)
        m += 1
    for k in range(n_rows):
        out[k] = ie / sin_i * max(totals[k], 0.0)


@njit(cache=True, nogil=True)
def _column_workspace(n_rows):
    """Scratch arrays for _column (allocated once per batch)."""
    return (np.empty(15), np.empty((15, n_rows)), np.empty((MAX_COLUMN_PANELS, n_rows)),
            np.empty((MAX_COLUMN_PANELS, n_rows)), np.empty(15), np.empty(n_rows),
            np.empty(n_rows), np.empty(MAX_COLUMN_PANELS), np.empty(MAX_COLUMN_PANELS),
            np.empty(n_rows), np.empty(n_rows))


# Pixel means of the columns next to the minor axis, a whole column at a time. The
# image is not smooth across the axis, so the finite-difference cubature cannot take
# these pixels. Their mean over [x_near, x_far] x [y_k - d/2, y_k + d/2] is
#
#     I_e sqrt(2 pi) h / (w d) * Int A(Y) B_k(Y) dY,   w = x_far - x_near,
#
# with A(Y) = Int_{x_near}^{x_far} S(sqrt(x^2 + Y^2)) dx, the profile integrated across
# the strip, and B_k(Y) the Gaussian kernel integrated over row k's pixel (a difference
# of two normal CDFs: the y'-mean is analytic, as in _pixel_exact). Every row shares
# A(Y), so the column is one vector-valued adaptive integral over Y, with a
# Gauss-Kronrod rule across the strip at each node; its embedded Gauss rule gives a
# second estimate of each pixel, to check the strip's rule row by row.

@njit(cache=True, nogil=True, inline="always")
def _strip_profile(y2, near, width, at_axis, inv_re2, half_inv_n, b, us):
    """(Kronrod, Gauss) estimates of Int_near^{near + width} S(sqrt(x^2 + Y^2)) dx.

    At the axis (near = 0) the rule is Kronrod-15 in u, x = width u^2, which tames the
    |x|^(1/n) cusp of the profile there. Elsewhere x = near + width u: Kronrod-15
    within a width of the axis, and Kronrod-7 from a width on, where the integrand's
    nearest singularity (x = 0) is at least three half-widths from the strip's centre,
    so that the 7-point rule is good to about 1e-8 and its Gauss-3 check to 1e-4.
    """
    if not at_axis and near >= width:
        _kronrod_nodes(0.0, 1.0, 7, us)
        resk = 0.0
        resg = 0.0
        for j in range(7):
            x = near + width * us[j]
            f = math.exp(-b * (((x * x + y2) * inv_re2) ** half_inv_n - 1.0)) * width
            resk += _NODE_WK7[j] * f
            resg += _NODE_WG3[j] * f
        return 0.5 * resk, 0.5 * resg
    _kronrod_nodes(0.0, 1.0, 15, us)
    resk = 0.0
    resg = 0.0
    for j in range(15):
        u = us[j]
        if at_axis:
            x = width * u * u
            jac = 2.0 * width * u
        else:
            x = near + width * u
            jac = width
        f = math.exp(-b * (((x * x + y2) * inv_re2) ** half_inv_n - 1.0)) * jac
        resk += _NODE_WK15[j] * f
        resg += _NODE_WG7[j] * f
    return 0.5 * resk, 0.5 * resg


@njit(cache=True, nogil=True, inline="always")
def _box_kernels(yc, hs, top_edge, d, n_rows, tails, out):
    """out[k] = Phi(u_k) - Phi(u_{k+1}), u_j = (top_edge - j d - yc) / hs, for k < n_rows.

    Each edge's CDF is kept as the tail on its own side of yc (``tails``), so that a
    row far out in either tail keeps its relative accuracy; edges more than 9 kernel
    widths away are saturated (their tail is below 1e-19).

    The edges are evenly spaced, so exp(-u_j^2 / 2) comes from _row_kernels'
    recurrence, and each tail is that times a rational function (Cephes' erfc,
    _gauss_tail) instead of a call to erfc: 1.08x at 30 and 60 degrees.
    """
    _row_kernels(yc, top_edge, d, hs, n_rows + 1, tails)  # exp(-u_j^2 / 2)
    inv = 1.0 / hs
    for j in range(n_rows + 1):
        u = (top_edge - j * d - yc) * inv
        tails[j] = _gauss_tail(abs(u), tails[j])
    upper = top_edge - yc > 0.0
    for k in range(n_rows):
        lower = top_edge - (k + 1) * d - yc > 0.0
        if lower:  # both edges above yc: Phi(u_k) - Phi(u_k+1) = tail_k+1 - tail_k
            out[k] = tails[k + 1] - tails[k]
        elif upper:  # the row straddles yc
            out[k] = 1.0 - tails[k] - tails[k + 1]
        else:  # both below
            out[k] = tails[k] - tails[k + 1]
        upper = lower


@njit(cache=True, nogil=True, inline="always")
def _strip_panel(lo, hi, args, n_rows, sw, p):
    """Kronrod-15 on panel p = [lo, hi] (in t) for every row of a strip column: the
    integral, its error, and the same integral with the strip's Gauss-7 rule."""
    near, width, at_axis, a, cos_i, hs, top_edge, d, inv_re2, half_inv_n, b = args
    (ts, us, kern, values, errors, checks, fk, fg, resg, resasc, tails) = sw[:11]
    _kronrod_nodes(lo, hi, 15, ts)
    for j in range(15):
        e = math.exp(ts[j])
        y = 0.5 * a * (e - 1.0 / e)
        jac = 0.5 * a * (e + 1.0 / e)
        ak, ag = _strip_profile(y * y, near, width, at_axis, inv_re2, half_inv_n, b, us)
        fk[j] = ak * jac
        fg[j] = ag * jac
        _box_kernels(y * cos_i, hs, top_edge, d, n_rows, tails, kern[j])
    _rows_kronrod(fk, kern, lo, hi, n_rows, values[p], resg, resasc, errors[p])
    # the same integral with the strip's Gauss rule across it, for the check
    chk = checks[p]
    half = 0.5 * (hi - lo)
    for k in range(n_rows):
        chk[k] = 0.0
    for j in range(15):
        wc = _NODE_WK15[j] * fg[j] * half
        row = kern[j]
        for k in range(n_rows):
            chk[k] += wc * row[k]


@njit(cache=True, nogil=True)
def _strip_workspace(n_rows):
    """Scratch arrays for _strip_column (allocated once per batch)."""
    return (np.empty(15), np.empty(15), np.empty((15, n_rows)),
            np.empty((MAX_COLUMN_PANELS, n_rows)), np.empty((MAX_COLUMN_PANELS, n_rows)),
            np.empty((MAX_COLUMN_PANELS, n_rows)), np.empty(15), np.empty(15),
            np.empty(n_rows), np.empty(n_rows), np.empty(n_rows + 1),
            np.empty(MAX_COLUMN_PANELS), np.empty(MAX_COLUMN_PANELS), np.empty(n_rows),
            np.empty(n_rows))


@njit(cache=True, nogil=True)
def _strip_column(x_near, x_far, at_axis, geom, n_rows, top, d, sw, out, check):
    """Pixel means over [x_near, x_far] x [y_k - d/2, y_k + d/2], y_k = top - k d, for
    k < n_rows (inclined, 0 < i < 90): ``out`` with the strip's Kronrod rule, ``check``
    with its Gauss rule."""
    ie, re, n, b, h, cos_i, sin_i, peak = geom
    values, errors, checks = sw[3], sw[4], sw[5]
    lows, highs, totals, errs = sw[11], sw[12], sw[13], sw[14]
    hs = h * sin_i
    sigma = hs / cos_i  # the kernel's width in Y
    top_edge = top + 0.5 * d
    width = x_far - x_near
    rmax = re * (TAIL_EFOLDS / b + 1.0) ** n
    for k in range(n_rows):
        out[k] = 0.0
        check[k] = 0.0
    if x_near * x_near >= rmax * rmax:
        return
    ymax = math.sqrt(rmax * rmax - x_near * x_near)
    lo = max(-ymax, min((top_edge - n_rows * d) / cos_i, 0.0) - COLUMN_REACH * sigma)
    hi = min(ymax, top_edge / cos_i + COLUMN_REACH * sigma)
    if not hi > lo:
        return
    # the profile across the strip changes on the scale of its distance from the axis
    a = max(x_near, 0.25 * width, 1e-3 * re)
    args = (x_near, width, at_axis, a, cos_i, hs, top_edge, d, 1.0 / (re * re), 0.5 / n, b)
    # initial panels: no wider than 4 sigma in Y, split at Y = 0
    n_split = min(int((hi - lo) / (PANEL_SIGMAS * sigma)) + 1, MAX_COLUMN_PANELS // 4)
    m = _initial_panels(lo, hi, a, n_split, lows, highs)
    for p in range(m):
        _strip_panel(lows[p], highs[p], args, n_rows, sw, p)
    # the same absolute floor as a column of centre values, for an integral over a
    # pixel's width and height
    atol = FLOOR * peak * width * d / (ie * SQRT2PI * h)
    _rows_total(values, errors, m, n_rows, totals, errs)
    while m < MAX_COLUMN_PANELS:
        p, mid = _rows_next_split(values, errors, lows, highs, m, n_rows, totals, errs, atol)
        if p < 0:
            break
        hi_p = highs[p]
        _strip_panel(lows[p], mid, args, n_rows, sw, p)
        _strip_panel(mid, hi_p, args, n_rows, sw, m)
        _rows_split_done(values, errors, lows, highs, p, m, mid, hi_p, n_rows, totals, errs)
        m += 1
    scale = ie * SQRT2PI * h / (width * d)
    for k in range(n_rows):
        total_check = 0.0
        for p in range(m):
            total_check += checks[p, k]
        out[k] = scale * max(totals[k], 0.0)
        check[k] = scale * max(total_check, 0.0)


# Symmetry: I(x', y') is even in x' and in y' separately (X enters as X^2; s -> -s
# maps y' -> -y'), so the image of a centred galaxy is point-symmetric about the
# stamp's centre, and mirror-symmetric about both axes when the position angle is a
# multiple of 90 degrees. An off-centre galaxy has no symmetry on the pixel grid.
NO_SYMMETRY = 0
POINT = 1
MIRROR = 2  # point and both axes


@njit(cache=True, nogil=True)
def _n_unique(m, sym):
    if sym == MIRROR:
        return ((m + 1) // 2) ** 2
    if sym == POINT:
        return (m * m + 1) // 2
    return m * m


@njit(cache=True, nogil=True, inline="always")
def _unique_pixel(k, m, sym):
    width = (m + 1) // 2 if sym == MIRROR else m
    return k // width, k % width


@njit(cache=True, nogil=True, inline="always")
def _store(grid, r, c, value, sym):
    m = grid.shape[0]
    grid[r, c] = value
    if sym >= POINT:
        grid[m - 1 - r, m - 1 - c] = value
    if sym == MIRROR:
        grid[r, m - 1 - c] = value
        grid[m - 1 - r, c] = value


@njit(cache=True, nogil=True)
def _centre_grid(geom, cos_pa, sin_pa, sym, size, pad, d, grid, ws, cw, ox, oy):
    """Surface brightness at the centres of a (size + 2 pad)^2 grid of pixels; the
    galaxy's centre is at (ox, oy) length units from the stamp's centre."""
    m = size + 2 * pad
    half = 0.5 * (size - 1)
    n_half = (m + 1) // 2
    top = (pad + half) * d  # |coordinate| of index 0; index k is at top - k d
    if sym == MIRROR and _columns_resolve(geom, n_half, top, d):  # whole columns at once
        column = np.empty(n_half)
        for j in range(n_half):
            _column(top - j * d, geom, n_half, top, d, cw, column)
            for k in range(n_half):
                if sin_pa == 0.0:  # x' = +-x: column j of the image, row k
                    _store(grid, k, j, column[k], MIRROR)
                else:  # x' = +-y: row j of the image, column k
                    _store(grid, j, k, column[k], MIRROR)
        return
    face_on = geom[6] == 0.0
    if face_on:  # the profile itself, as _los gives it, without _los' setup per pixel
        ie, re, n, b, h = geom[0], geom[1], geom[2], geom[3], geom[4]
        rmax2 = (re * (TAIL_EFOLDS / b + 1.0) ** n) ** 2
        pref = ie * SQRT2PI * h
        inv_re2 = 1.0 / (re * re)
        half_inv_n = 0.5 / n
    for k in range(_n_unique(m, sym)):
        r, c = _unique_pixel(k, m, sym)
        x = (c - pad - half) * d - ox
        y = (r - pad - half) * d - oy
        xp = x * cos_pa + y * sin_pa
        yp = -x * sin_pa + y * cos_pa
        if face_on:
            v = 0.0 if xp * xp >= rmax2 else pref * _profile(xp * xp + yp * yp, inv_re2,
                                                             half_inv_n, b)
        else:
            v = _los(xp, _GAUSS_KERNEL, yp, 0.0, 0.0, geom, ws)
        _store(grid, r, c, v, sym)


@njit(cache=True, nogil=True)
def _edge_on_aligned(geom, sin_pa, size, d, sampling, out, ws):
    """Edge-on image at a position angle that is a multiple of 90 degrees.

    Edge-on, I(x', y') = I_e A(x') exp(-y'^2 / 2 h^2) with A(x') = Int S dY, so the
    image is an outer product: one integral per image column (or row), and for
    pixel means one x'-mean per column times the analytic y'-mean of the Gaussian.
    The x'-means are exact, one integral each in polar form (_edge_on_strip).
    """
    h = geom[4]
    half = 0.5 * (size - 1)
    centre_row = 0.5 * d  # y'-half-width of a pixel: the reference strip [-d/2, d/2]
    reference = _phi_diff(centre_row / h, -centre_row / h)
    line = np.empty(size)
    if sampling == CENTER:
        for j in range((size + 1) // 2):
            v = _los((j - half) * d, _GAUSS_KERNEL, 0.0, 0.0, 0.0, geom, ws)
            line[j] = v
            line[size - 1 - j] = v
    else:
        # each column's x'-mean exactly, in polar form (_edge_on_strip), times the
        # strip's y'-mean of exp(-y'^2 / 2 h^2)
        strip = SQRT2PI * h * reference / d
        for j in range((size + 1) // 2):
            u = (j - half) * d
            v = geom[0] * _edge_on_strip(u - 0.5 * d, u + 0.5 * d, geom, d, ws) / d * strip
            line[j] = v
            line[size - 1 - j] = v
    for j in range(size):
        w = (j - half) * d  # the across-the-disc coordinate of row (or column) j
        if sampling == CENTER:
            profile = math.exp(-0.5 * (w / h) ** 2)
        else:
            profile = _phi_diff((w + 0.5 * d) / h, (w - 0.5 * d) / h) / reference
        for i in range(size):
            if sin_pa == 0.0:
                out[j, i] = line[i] * profile
            else:
                out[i, j] = line[i] * profile


@njit(cache=True, nogil=True)
def _gauss_legendre_pixel(x, y, d, cos_pa, sin_pa, geom, nodes, weights, ws):
    """Mean over the pixel of side d centred on sky (x, y), by a Gauss-Legendre rule.

    At a position angle that is a multiple of 90 degrees the pixel's sides run along
    x' and y', so the rule is one-dimensional, in x', over strip integrals in y' that
    the box kernel gives exactly (the image can change fast across the disc, as near
    edge-on, but slowly along it away from the minor axis). Otherwise a tensor rule
    over the rotated square of points.
    """
    if cos_pa == 0.0 or sin_pa == 0.0:
        xp = x * cos_pa + y * sin_pa
        yp = -x * sin_pa + y * cos_pa
        total = 0.0
        for i in range(len(nodes)):
            total += weights[i] * _los(xp + 0.5 * d * nodes[i], _BOX_KERNEL, 0.0,
                                       yp - 0.5 * d, yp + 0.5 * d, geom, ws)
        return 0.5 * total / d
    total = 0.0
    for i in range(len(nodes)):
        for j in range(len(nodes)):
            xs = x + 0.5 * d * nodes[j]
            ys = y + 0.5 * d * nodes[i]
            xp = xs * cos_pa + ys * sin_pa
            yp = -xs * sin_pa + ys * cos_pa
            total += weights[i] * weights[j] * _los(xp, _GAUSS_KERNEL, yp, 0.0, 0.0,
                                                    geom, ws)
    return 0.25 * total


@njit(cache=True, nogil=True)
def _render_one(geom, cos_pa, sin_pa, size, d, sampling, out, scratch, ws, ws_out, cw, sw,
                routes, ox, oy):
    """Render one image (flux, float64) into out[size, size], the galaxy's centre at
    (ox, oy) length units from the stamp's centre.

    ``routes`` counts how the unique pixels of pixel-sampled images were integrated:
    [finite differences, Gauss-Legendre agreeing with the finite differences,
    Gauss-Legendre agreeing with a second Gauss-Legendre rule, exact, strip column].
    """
    centred = ox == 0.0 and oy == 0.0
    aligned = centred and (cos_pa == 0.0 or sin_pa == 0.0)
    # the fast paths (symmetries, whole columns, the edge-on outer product) hold only
    # for a galaxy centred on the stamp
    sym = MIRROR if aligned else (POINT if centred else NO_SYMMETRY)
    if aligned and geom[5] == 0.0:
        _edge_on_aligned(geom, sin_pa, size, d, sampling, out, ws)
        return
    if sampling == CENTER:
        _centre_grid(geom, cos_pa, sin_pa, sym, size, 0, d, out, ws, cw, ox, oy)
        return
    pad = 2
    m = size + 2 * pad
    grid = scratch[:m, :m]
    _centre_grid(geom, cos_pa, sin_pa, sym, size, pad, d, grid, ws, cw, ox, oy)
    peak = grid.max()
    half = 0.5 * (size - 1)
    sin_i = geom[6]
    # The image is not smooth across the minor axis (x' = 0; only at the centre
    # when face-on). Pixels whose square meets it are integrated exactly; pixels
    # whose 5x5 finite-difference stencil meets it skip the finite differences.
    own = 0.5 * d * (abs(cos_pa) + abs(sin_pa))
    stencil = own + 2.0 * d * max(abs(cos_pa), abs(sin_pa))
    done = np.zeros((size, size), dtype=np.bool_)
    n_half = (size + 1) // 2
    top = half * d
    columns = aligned and _columns_resolve(geom, n_half, top, d)
    # with columns, the pixels the finite differences cannot take are gathered by column
    # (x' = top - j d, rows k_first[j]..k_last[j]) and taken as strip columns at the end
    k_first = np.full(n_half, n_half)
    k_last = np.full(n_half, -1)
    pending = np.zeros((size, size), dtype=np.bool_)
    if columns:
        # inclined, aligned: the columns next to the minor axis, a whole column at
        # a time, each pixel checked against the strip's second rule
        fine = np.empty(n_half)
        coarse = np.empty(n_half)
        for j in range(n_half):
            xc = top - j * d
            if xc >= stencil:
                continue
            near = max(xc - 0.5 * d, 0.0)
            at_axis = xc - 0.5 * d <= 1e-9 * d
            _strip_column(near, xc + 0.5 * d, at_axis, geom, n_half, top, d, sw, fine,
                          coarse)
            for k in range(n_half):
                r, c = (k, j) if sin_pa == 0.0 else (j, k)
                if abs(fine[k] - coarse[k]) <= GL_RTOL * abs(fine[k]):
                    value = fine[k]
                    routes[4] += 1
                else:
                    value = _pixel_exact((c - half) * d, (r - half) * d, d, cos_pa, sin_pa,
                                         geom, ws_out, ws)
                    routes[3] += 1
                _store(out, r, c, value, MIRROR)
                _store(done, r, c, True, MIRROR)
    for k in range(_n_unique(size, sym)):
        r, c = _unique_pixel(k, size, sym)
        if done[r, c]:
            continue
        gr = r + pad
        gc = c + pad
        x = (c - half) * d - ox
        y = (r - half) * d - oy
        xp = x * cos_pa + y * sin_pa
        yp = -x * sin_pa + y * cos_pa
        axis_distance = math.sqrt(xp * xp + yp * yp) if sin_i == 0.0 else abs(xp)
        if axis_distance <= own * (1.0 + 1e-9):  # pixels with an edge on the axis too
            if sin_i == 0.0:
                value = _face_on_pixel(x, y, d, geom, ws)
            else:
                value = _pixel_exact(x, y, d, cos_pa, sin_pa, geom, ws_out, ws)
            routes[3] += 1
            _store(out, r, c, value, sym)
            continue
        f0 = grid[gr, gc]
        dxx = grid[gr, gc - 1] - 2.0 * f0 + grid[gr, gc + 1]
        dyy = grid[gr - 1, gc] - 2.0 * f0 + grid[gr + 1, gc]
        dx4 = (grid[gr, gc - 2] - 4.0 * grid[gr, gc - 1] + 6.0 * f0
               - 4.0 * grid[gr, gc + 1] + grid[gr, gc + 2])
        dy4 = (grid[gr - 2, gc] - 4.0 * grid[gr - 1, gc] + 6.0 * f0
               - 4.0 * grid[gr + 1, gc] + grid[gr + 2, gc])
        dxy = (grid[gr - 1, gc - 1] - 2.0 * grid[gr - 1, gc] + grid[gr - 1, gc + 1]
               - 2.0 * (grid[gr, gc - 1] - 2.0 * f0 + grid[gr, gc + 1])
               + grid[gr + 1, gc - 1] - 2.0 * grid[gr + 1, gc] + grid[gr + 1, gc + 1])
        fourth = -17.0 / 5760.0 * (dx4 + dy4) + dxy / 576.0
        value = f0 + (dxx + dyy) / 24.0 + fourth
        smooth = axis_distance >= stencil
        converged = value > 0.0 and abs(fourth) <= FD_RTOL * value
        if smooth and converged:
            routes[0] += 1
            _store(out, r, c, value, sym)
            continue
        # Too faint to matter: every value in the stencil is below FAINT * peak, which
        # bounds the absolute error of the estimate (its series may still diverge).
        faint = grid[gr - 2:gr + 3, gc - 2:gc + 3].max() < FAINT * peak
        if faint and smooth and value > 0.0:
            routes[0] += 1
        elif columns:  # (every pixel left here is off the strips, hence smooth)
            j, row = (c, r) if sin_pa == 0.0 else (r, c)  # x' = top - j d, y' = top - row d
            k_first[j] = min(k_first[j], row)
            k_last[j] = max(k_last[j], row)
            pending[r, c] = True
            continue
        elif sin_i == 0.0:
            value = _face_on_pixel(x, y, d, geom, ws)  # exact, and cheaper than the rules
            routes[3] += 1
        else:
            # Two independent estimates that agree are accepted: 3x3 Gauss-Legendre
            # against the finite differences (when usable), else against 4x4.
            q3 = _gauss_legendre_pixel(x, y, d, cos_pa, sin_pa, geom, _GL3X, _GL3W, ws)
            if smooth and abs(q3 - value) <= GL_RTOL * abs(q3):
                value = q3
                routes[1] += 1
            else:
                # a second rule: along x' alone (aligned), the 2-point rule checks the
                # 3-point one; otherwise the 4x4 rule is checked by the 3x3 one
                if cos_pa == 0.0 or sin_pa == 0.0:
                    check = _gauss_legendre_pixel(x, y, d, cos_pa, sin_pa, geom, _GL2X,
                                                  _GL2W, ws)
                    q4 = q3
                else:
                    q4 = _gauss_legendre_pixel(x, y, d, cos_pa, sin_pa, geom, _GL4X, _GL4W,
                                               ws)
                    check = q3
                if abs(q4 - check) <= GL_RTOL * abs(q4):
                    value = q4
                    routes[2] += 1
                else:
                    value = _pixel_exact(x, y, d, cos_pa, sin_pa, geom, ws_out, ws)
                    routes[3] += 1
        _store(out, r, c, value, sym)
    # the gathered pixels: the rows of each column that hold them, as one strip column
    # (exact across the rows, a checked Gauss-Kronrod rule along x'); a pixel whose
    # check fails is integrated exactly
    if columns:
        fine = np.empty(n_half)
        coarse = np.empty(n_half)
        for j in range(n_half):
            if k_last[j] < 0:
                continue
            xc = top - j * d
            rows = k_last[j] - k_first[j] + 1
            _strip_column(xc - 0.5 * d, xc + 0.5 * d, False, geom, rows,
                          top - k_first[j] * d, d, sw, fine, coarse)
            for i in range(rows):
                row = k_first[j] + i
                r, c = (row, j) if sin_pa == 0.0 else (j, row)
                if not pending[r, c]:
                    continue
                if abs(fine[i] - coarse[i]) <= GL_RTOL * abs(fine[i]):
                    value = fine[i]
                    routes[4] += 1
                else:
                    value = _pixel_exact((c - half) * d, (r - half) * d, d, cos_pa, sin_pa,
                                         geom, ws_out, ws)
                    routes[3] += 1
                _store(out, r, c, value, sym)


@njit(cache=True, nogil=True)
def _render_batch(table, size, d, sampling, out, routes):
    scratch = np.empty((size + 4, size + 4))
    ws = (np.empty((4, MAX_PANELS)), np.empty(16), np.empty(15), np.empty(15))
    ws_out = (np.empty((4, MAX_PANELS)), np.empty(8), np.empty(15), np.empty(15))
    cw = _column_workspace((size + 5) // 2)
    sw = _strip_workspace((size + 1) // 2)
    for k in range(table.shape[0]):
        ie = table[k, 0]
        re = table[k, 1]
        n = table[k, 2]
        b = table[k, 3]
        q = table[k, 4]
        incl = table[k, 5]
        pa = table[k, 6]
        h = q * re / HZ_DIVISOR
        if incl == 0.0:
            cos_i, sin_i = 1.0, 0.0
        elif incl == 90.0:
            cos_i, sin_i = 0.0, 1.0
        else:
            cos_i = math.cos(math.radians(incl))
            sin_i = math.sin(math.radians(incl))
        quarter = pa / 90.0
        if quarter == math.floor(quarter):  # exact axes, so that symmetries apply
            turns = int(quarter) % 4
            cos_pa = (1.0, 0.0, -1.0, 0.0)[turns]
            sin_pa = (0.0, 1.0, 0.0, -1.0)[turns]
        else:
            cos_pa = math.cos(math.radians(pa))
            sin_pa = math.sin(math.radians(pa))
        # peak brightness scale, for absolute tolerances: the face-on central value
        peak = ie * math.exp(b) * SQRT2PI * h
        geom = (ie, re, n, b, h, cos_i, sin_i, peak)
        # offsets come in pixels; 0.0 * d stays an exact zero, so centred galaxies
        # keep every fast path
        _render_one(geom, cos_pa, sin_pa, size, d, sampling, out[k], scratch, ws, ws_out, cw,
                    sw, routes, table[k, 7] * d, table[k, 8] * d)


def render_flux(intensity, effective_radius, sersic_index, sersic_b, flattening,
                inclination, position_angle, x_offset=0.0, y_offset=0.0, *, image_size,
                pixel_scale, sampling, routes=None):
    """Render one image per row of the (broadcast) parameter arrays.

    All parameters are 1-D arrays of one length (validated by the caller):
    ``I_e``, ``R_e`` (length units), ``n``, ``b_n``, ``q``, inclination and position
    angle (degrees), and the centre's offset from the stamp's centre (pixels, +x
    towards higher column index, +y towards higher row index). Returns float64 flux
    images of shape (m, size, size), in units of ``I_e`` times length. ``sampling`` is
    ``"center"`` or ``"pixel"``. ``routes``, an int64 array of 5 if given, accumulates
    how pixels were integrated (diagnostics).
    """
    table = np.ascontiguousarray(np.column_stack(
        np.broadcast_arrays(intensity, effective_radius, sersic_index, sersic_b, flattening,
                            inclination, position_angle, x_offset, y_offset)
    ).astype(np.float64))
    out = np.empty((table.shape[0], image_size, image_size))
    code = CENTER if sampling == "center" else PIXEL
    if routes is None:
        routes = np.zeros(5, dtype=np.int64)
    _render_batch(table, int(image_size), float(pixel_scale), code, out, routes)
    return out
