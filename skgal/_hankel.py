"""The Sérsic profile's Fourier transform: its zeroth-order Hankel transform.

    g_n(kappa) = 2 pi Int_0^inf exp(-b_n (u^(1/n) - 1)) J0(kappa u) u du,

so that the face-on profile ``S(r) = exp(-b_n((r/R_e)^(1/n) - 1))`` has the 2-D transform
``R_e^2 g_n(k R_e)``; ``g_n(0) = 2 pi n e^b Gamma(2n) / b^(2n)`` is its total.

Method: a Mellin-Barnes integral, summed by the trapezoidal rule. The Mellin
transforms ``M[J0](s) = 2^(s-1) Gamma(s/2) / Gamma(1 - s/2)`` and
``M[exp(-b u^(1/n))](s) = n b^(-ns) Gamma(ns)`` give, by Parseval, with
``x = kappa / b^n``,

    G(x) = g / g(0) = 1/(2 pi i) Int_{c - i inf}^{c + i inf} F(s) x^(-s) ds,
    F(s) = 2^(s-1) Gamma(s/2) Gamma(2n - n s) / (Gamma(1 - s/2) Gamma(2n)),

valid for ``0 < c < 2 + 1/n``. ``|F(c + i tau)|`` decays like ``exp(-n pi |tau| / 2)``
and F is analytic in a strip of half-width about 1 around the line, so the trapezoidal
rule with step 0.15 is accurate to about 1e-16 of the integrand's size. Two lines avoid
cancellation: ``c = +1`` for large x, and ``c = -1`` (crossing the pole at s = 0, whose
residue is 1) for small x, switched where their round-off levels balance. Per galaxy
that is about 2N complex log-gammas (N ~ 50 at n = 6, 180 at n = 1, 540 at n = 0.3);
each kappa is then one N-term Horner sum. One formula holds for every kappa >= 0:
no oscillatory quadrature, no asymptotic series.

Checked (tests/test_psf.py) against the closed forms at n = 1/2 (a Gaussian) and n = 1
to 1e-13 of g(0) for kappa up to 2000, and against scipy's quad at n = 2 to 1e-9
(relative). When it was written it was also checked, outside the test suite, against a
contour-rotated quadrature of ``Re Int f H0^(1)(kappa u) u du`` and 30-digit mpmath, to
about 1e-15 of g(0) for 0.3 <= n <= 6 and kappa up to 3000.

For many wavenumbers a table of g, dg/dy and d2g/dy2 on a uniform grid in
``y = ln(kappa + k0)`` is interpolated by quintic Hermite polynomials (256 nodes on
[0, 3000]: < 5e-11 of g(0) for n >= 0.5). This module imports nothing from skgal.
"""

import math
import threading

import numba as nb
import numpy as np
from scipy.special import gammaincinv

DTAU = 0.15        # trapezoid step in Im(s)
JMAX = 1200        # max number of nodes per contour (enough for n >= ~0.2)
C_R = 1.0          # large-kappa contour
C_L = -1.0         # small-kappa contour (residue 1 at s=0 added)
_TRUNC = 1e-18     # coefficient truncation, relative to sum |C_j|
#: a coarser rule for renders whose aim is far looser than the promise's (a pixel
#: tolerance tied to the noise): step 0.25 (the trapezoids' error about
#: exp(-2 pi / 0.25) = 1e-11 of the integrand's size) and coefficients truncated at 1e-13,
#: about 2.3x fewer nodes; the table is then within about 1e-10 of g(0) (2-4e-11 for
#: n = 0.5-2, 1e-10 at n = 4; tests/test_psf.py)
DTAU_LOOSE = 0.25
_TRUNC_LOOSE = 1e-13

# Stirling coefficients B_2k / (2k (2k-1)), k = 1..9
_ST = np.array([1/12, -1/360, 1/1260, -1/1680, 1/1188, -691/360360, 1/156,
                -3617/122400, 43867/244188])
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@nb.njit(nogil=True, cache=True)
def _clgamma(z):
    """log Gamma(z) for complex z with Re z > 0 (branch irrelevant: only exp() is used)."""
    p = 1.0 + 0.0j
    while abs(z) < 12.0:
        p *= z
        z += 1.0
    iz = 1.0 / z
    iz2 = iz * iz
    ser = _ST[8]
    for k in range(7, -1, -1):
        ser = ser * iz2 + _ST[k]
    return (z - 0.5) * np.log(z) - z + _HALF_LOG_2PI + ser * iz - np.log(p)


@nb.njit(nogil=True, cache=True)
def _j0_mellin_factors(c, jmax, dtau):
    """A_j = 2^(s-1) Gamma(s/2) / Gamma(1-s/2) at s = c + i j dtau (n-independent)."""
    out = np.empty(jmax, np.complex128)
    ln2 = math.log(2.0)
    for j in range(jmax):
        s = complex(c, j * dtau)
        h = 0.5 * s
        if c < 0:   # Gamma(h) = Gamma(h+1)/h keeps the lgamma argument in Re > 0
            la = _clgamma(h + 1.0) - np.log(h)
        else:
            la = _clgamma(h)
        out[j] = np.exp((s - 1.0) * ln2 + la - _clgamma(1.0 - h))
    return out


_FACTORS = {}
# threads rendering in parallel may all ask first: one computes, the others wait
_FACTORS_LOCK = threading.Lock()


def _j0_factors(dtau=DTAU):
    """The n-independent factors on both lines at step ``dtau``, computed on first use
    (numba compiles)."""
    factors = _FACTORS.get(dtau)
    if factors is None:
        with _FACTORS_LOCK:
            factors = _FACTORS.get(dtau)
            if factors is None:
                factors = [_j0_mellin_factors(C_R, JMAX, dtau),
                           _j0_mellin_factors(C_L, JMAX, dtau)]
                _FACTORS[dtau] = factors
    return factors


@nb.njit(nogil=True, cache=True)
def _coeffs(n, c, JF, C, dtau, trunc):
    """C_j = JF_j * Gamma(2n - n s_j)/Gamma(2n); returns (N, sum|C_j|)."""
    a = n * (2.0 - c)
    lg2n = math.lgamma(2.0 * n)
    tot = 0.0
    for j in range(JF.shape[0]):
        t = j * dtau
        v = JF[j] * np.exp(_clgamma(complex(a, -n * t)) - lg2n)
        if j == 0:
            v *= 0.5
        C[j] = v
        av = abs(v)
        tot += av
        if n * t > a + 2.0 and av < trunc * tot:
            N = j + 1
            return N, tot
    raise ValueError("sersic_hankel: n too small for JMAX nodes")


@nb.njit(nogil=True, cache=True)
def _horner(C, N, c, lx, pref, nd, out0, out1, out2, dtau):
    """For each ln x in lx: out0 = pref + dt/pi x^-c Re sum C_j x^(-i t_j),
    out1/out2 = first/second derivative wrt ln x (if nd >= 1 / 2)."""
    M = lx.shape[0]
    zr = np.empty(M)
    zi = np.empty(M)
    for m in range(M):
        ph = -dtau * lx[m]
        zr[m] = math.cos(ph)
        zi[m] = math.sin(ph)
    sr = np.zeros(M)
    si = np.zeros(M)
    s1r = np.zeros(M)
    s1i = np.zeros(M)
    s2r = np.zeros(M)
    s2i = np.zeros(M)
    for j in range(N - 1, -1, -1):
        cr = C[j].real
        ci = C[j].imag
        if nd == 0:
            for m in range(M):
                t = sr[m] * zr[m] - si[m] * zi[m] + cr
                si[m] = sr[m] * zi[m] + si[m] * zr[m] + ci
                sr[m] = t
        else:
            # d/dlnx x^-s = -s x^-s ;  s = c + i t
            tj = j * dtau
            d1r = -(c * cr - tj * ci)
            d1i = -(c * ci + tj * cr)
            d2r = -(c * d1r - tj * d1i)
            d2i = -(c * d1i + tj * d1r)
            for m in range(M):
                a_r = zr[m]
                a_i = zi[m]
                t = sr[m] * a_r - si[m] * a_i + cr
                si[m] = sr[m] * a_i + si[m] * a_r + ci
                sr[m] = t
                t = s1r[m] * a_r - s1i[m] * a_i + d1r
                s1i[m] = s1r[m] * a_i + s1i[m] * a_r + d1i
                s1r[m] = t
                t = s2r[m] * a_r - s2i[m] * a_i + d2r
                s2i[m] = s2r[m] * a_i + s2i[m] * a_r + d2i
                s2r[m] = t
    f = dtau / math.pi
    for m in range(M):
        sc = f * math.exp(-c * lx[m])
        out0[m] = pref + sc * sr[m]
        if nd >= 1:
            out1[m] = sc * s1r[m]
            out2[m] = sc * s2r[m]


@nb.njit(nogil=True, cache=True)
def _sersic_hankel_core(n, b, kappa, nd, JF_R, JF_L, dtau, trunc):
    """Returns (g(0), G, dG/dlnk, d2G/dlnk2) with G = g/g(0); kappa >= 0 array. JF_R,
    JF_L: the factors at step ``dtau``; ``trunc``: the coefficients' truncation."""
    M = kappa.shape[0]
    CR = np.empty(JF_R.shape[0], np.complex128)
    CL = np.empty(JF_L.shape[0], np.complex128)
    NR, AR = _coeffs(n, C_R, JF_R, CR, dtau, trunc)
    NL, AL = _coeffs(n, C_L, JF_L, CL, dtau, trunc)
    lxs = 0.5 * math.log(AR / AL)          # switch: balances AR/x and AL*x
    nlb = n * math.log(b)
    G = np.empty(M)
    G1 = np.zeros(M)
    G2 = np.zeros(M)
    # split kappa into the two contours (and kappa == 0)
    iR = np.empty(M, np.int64)
    iL = np.empty(M, np.int64)
    nR = 0
    nL = 0
    for m in range(M):
        k = abs(kappa[m])
        if k == 0.0:
            G[m] = 1.0
            continue
        lx = math.log(k) - nlb
        if lx >= lxs:
            iR[nR] = m
            nR += 1
        else:
            iL[nL] = m
            nL += 1
    for side in range(2):
        if side == 0:
            idx, cnt, C, N, c, pref = iR, nR, CR, NR, C_R, 0.0
        else:
            idx, cnt, C, N, c, pref = iL, nL, CL, NL, C_L, 1.0
        if cnt == 0:
            continue
        lx = np.empty(cnt)
        for q in range(cnt):
            lx[q] = math.log(abs(kappa[idx[q]])) - nlb
        o0 = np.empty(cnt)
        o1 = np.empty(cnt)
        o2 = np.empty(cnt)
        _horner(C, N, c, lx, pref, nd, o0, o1, o2, dtau)
        for q in range(cnt):
            G[idx[q]] = o0[q]
            if nd >= 1:
                G1[idx[q]] = o1[q]
                G2[idx[q]] = o2[q]
    g0 = 2.0 * math.pi * n * math.exp(b + math.lgamma(2.0 * n) - 2.0 * n * math.log(b))
    return g0, G, G1, G2


@nb.njit(nogil=True, cache=True)
def sersic_hankel_nb(n, b, kappa, out, JF_R, JF_L):
    """numba entry point: out[:] = g_n(kappa)."""
    g0, G, G1, G2 = _sersic_hankel_core(n, b, kappa, 0, JF_R, JF_L, DTAU, _TRUNC)
    for m in range(kappa.shape[0]):
        out[m] = g0 * G[m]


@nb.njit(nogil=True, cache=True)
def build_table_nb(n, b, kmax, M, JF_R, JF_L, dtau, trunc):
    """Table of g and dg/dy, d2g/dy2 on a uniform grid in y = ln(kappa + k0), kappa in
    [0, kmax], M nodes.  Returns (y0, h, k0, T) with T[:,0..2] = g, g_y*h, g_yy*h^2.
    JF_R, JF_L, dtau, trunc: the rule (:func:`_sersic_hankel_core`)."""
    lb = math.log(b)
    # normalised moments <u^2>, <u^4>; G = 1 - mu2 k^2/4 + mu4 k^4/64 - ...
    mu2 = math.exp(math.lgamma(4.0 * n) - math.lgamma(2.0 * n) - 2.0 * n * lb)
    mu4 = math.exp(math.lgamma(6.0 * n) - math.lgamma(2.0 * n) - 4.0 * n * lb)
    k0 = 0.5 * math.sqrt(mu2 / mu4)     # where the k^2 expansion stops being useful
    y0 = math.log(k0)
    h = (math.log(kmax + k0) - y0) / (M - 1)
    kap = np.empty(M)
    for i in range(M):
        kap[i] = math.exp(y0 + i * h) - k0
    kap[0] = 0.0
    g0, G, G1, G2 = _sersic_hankel_core(n, b, kap, 2, JF_R, JF_L, dtau, trunc)
    T = np.empty((M, 3))
    for i in range(M):
        ey = kap[i] + k0
        if i == 0:
            gk, gkk = 0.0, -0.5 * mu2          # G even in kappa: G ~ 1 - mu2 kappa^2 / 4
        else:
            k = kap[i]
            gk = G1[i] / k                     # dG/dkappa
            gkk = (G2[i] - G1[i]) / (k * k)    # d2G/dkappa2
        T[i, 0] = g0 * G[i]
        T[i, 1] = g0 * gk * ey * h
        T[i, 2] = g0 * (gkk * ey * ey + gk * ey) * h * h
    return y0, h, k0, T


@nb.njit(nogil=True, inline="always")
def table_value(T, y0, h, k0, kappa):
    """g_n(kappa) from a table of :func:`hankel_table`: the quintic Hermite interpolant
    in y = ln(kappa + k0), as a polynomial in u per interval (Horner's rule). Inlined
    into its callers, which call it once a mode (an array argument's reference count
    would otherwise cost two atomic operations a call). Numba's cache does not notice
    a change here in its callers (``_fourier``): clear ``__pycache__`` after one."""
    return table_at_log(T, y0, h, math.log(abs(kappa) + k0))


@nb.njit(nogil=True, inline="always")
def table_at_log(T, y0, h, y):
    """:func:`table_value` at y = ln(kappa + k0), the logarithm already taken: callers
    that evaluate a row of modes take the row's logarithms in a loop of their own."""
    t = (y - y0) / h
    i = int(t)
    if i > T.shape[0] - 1:
        i = T.shape[0] - 1
    u = t - i
    return T[i, 0] + u * (T[i, 1] + u * (T[i, 2] + u * (T[i, 3] + u * (T[i, 4]
                                                                        + u * T[i, 5]))))


@nb.njit(nogil=True, cache=True)
def _monomial(T):
    """The quintic Hermite interpolant between nodes i and i + 1 (values, first and
    second derivatives in u of T[i] and T[i + 1]) as c_0 + c_1 u + ... + c_5 u^5 on
    u in [0, 1]: one row of coefficients per interval."""
    C = np.empty((T.shape[0] - 1, 6))
    for i in range(T.shape[0] - 1):
        c0, c1, c2 = T[i, 0], T[i, 1], 0.5 * T[i, 2]
        a = T[i + 1, 0] - (c0 + c1 + c2)  # what c3 + c4 + c5 must add at u = 1
        b = T[i + 1, 1] - (c1 + 2.0 * c2)  # 3 c3 + 4 c4 + 5 c5
        c = T[i + 1, 2] - 2.0 * c2  # 6 c3 + 12 c4 + 20 c5
        C[i, 0], C[i, 1], C[i, 2] = c0, c1, c2
        C[i, 3] = 10.0 * a - 4.0 * b + 0.5 * c
        C[i, 4] = -15.0 * a + 7.0 * b - c
        C[i, 5] = 6.0 * a - 3.0 * b + 0.5 * c
    return C


#: nodes of the interpolation table
TABLE_NODES = 256


def hankel_values(n, kappa):
    """``g_n(kappa)`` at any wavenumbers (dimensionless, ``kappa = k R_e`` >= 0).

    Parameters
    ----------
    n : float
        Sérsic index, in [0.2, 10] (where the method is checked).
    kappa : array_like
        Dimensionless wavenumbers.

    Returns
    -------
    ndarray of float, the shape of ``kappa``
    """
    n = _check_index(n)
    k = np.ascontiguousarray(np.abs(np.atleast_1d(np.asarray(kappa, dtype=np.float64))).ravel())
    out = np.empty_like(k)
    jf_r, jf_l = _j0_factors()
    sersic_hankel_nb(n, float(gammaincinv(2.0 * n, 0.5)), k, out, jf_r, jf_l)
    return out.reshape(np.shape(kappa))


def hankel_table(n, kappa_max, b=None, loose=False):
    """The quintic-Hermite table of ``g_n`` on [0, kappa_max] (``b``: the Sérsic
    constant ``b_n``, if already known). ``loose``: by the coarser rule
    (``DTAU_LOOSE``), for renders aimed far above the promise.

    Returns
    -------
    table : ndarray of shape (TABLE_NODES - 1, 6)
        The quintic Hermite interpolant of g, dg/dy and d2g/dy2 at the nodes (h the
        node spacing in y), as the coefficients of a polynomial in u = (y - y_i) / h on
        each interval (:func:`table_value` evaluates it).
    params : tuple of float
        (y0, h, k0): node i sits at ``y = y0 + i h``, ``kappa = e^y - k0``.
    """
    n = _check_index(n)
    kappa_max = max(float(kappa_max), 1.0)
    dtau, trunc = (DTAU_LOOSE, _TRUNC_LOOSE) if loose else (DTAU, _TRUNC)
    jf_r, jf_l = _j0_factors(dtau)
    b = float(gammaincinv(2.0 * n, 0.5)) if b is None else float(b)
    y0, h, k0, table = build_table_nb(n, b, kappa_max, TABLE_NODES, jf_r, jf_l, dtau, trunc)
    return _monomial(table), (y0, h, k0)


def _check_index(n):
    n = float(n)
    if not (0.2 <= n <= 10.0):
        raise ValueError(f"the Fourier route supports Sérsic indices n in [0.2, 10]; got {n!r}")
    return n
