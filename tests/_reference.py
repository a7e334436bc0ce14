"""Independent references for the renderer: direct adaptive quadrature along the line
of sight, written from the issue's formulas with scipy.integrate.quad. Nothing here uses
skgal's engine; only b_n comes from skgal (and is itself tested against root finding)."""

import math

from scipy import integrate

from skgal import sersic_b


def surface_brightness(x, y, intensity, effective_radius, n, q, inclination, position_angle):
    """Int F ds at sky (x, y): the galaxy rotated and tilted as the conventions say."""
    b = sersic_b(n)
    h = q * effective_radius / 1.177
    pa = math.radians(position_angle)
    xp = x * math.cos(pa) + y * math.sin(pa)
    yp = -x * math.sin(pa) + y * math.cos(pa)
    if inclination == 0:  # analytic: the Gaussian integrates to sqrt(2 pi) h
        r = math.hypot(xp, yp)
        return intensity * math.exp(-b * ((r / effective_radius) ** (1 / n) - 1)) * \
            math.sqrt(2 * math.pi) * h
    ci, si = ((0.0, 1.0) if inclination == 90 else
              (math.cos(math.radians(inclination)), math.sin(math.radians(inclination))))

    def emissivity(s):
        X = xp
        Y = yp * ci + s * si
        Z = s * ci - yp * si
        R = math.hypot(X, Y)
        return intensity * math.exp(-b * ((R / effective_radius) ** (1 / n) - 1)
                                    - 0.5 * (Z / h) ** 2)

    # integrate where the light is: |Y| < R_max (profile down by e^-50) and |Z| < 14 h
    rmax = effective_radius * (50 / b + 1) ** n
    lo, hi = (-rmax - yp * ci) / si, (rmax - yp * ci) / si
    if ci > 0:
        lo = max(lo, (-14 * h + yp * si) / ci)
        hi = min(hi, (14 * h + yp * si) / ci)
    if hi <= lo:
        return 0.0
    # break at the profile's cusp (Y = 0) and the Gaussian's peak (Z = 0)
    breaks = [p for p in (-yp * ci / si, yp * si / ci if ci > 0 else 0.0) if lo < p < hi]
    edges = [lo] + sorted(breaks) + [hi]
    return sum(integrate.quad(emissivity, a, c, limit=1000, epsabs=0, epsrel=1e-11)[0]
               for a, c in zip(edges[:-1], edges[1:]))


def surface_brightness_by_quadrature(x, y, intensity, effective_radius, n, q, inclination,
                                     position_angle):
    """As surface_brightness, but never analytic: quad along the line of sight at every i.

    Face-on the line of sight is the disc's axis, so the integrand is the profile at
    R = |(x, y)| times the Gaussian in height; this integrates it rather than using
    its closed form sqrt(2 pi) h, so that a face-on test checks the engine's
    line-of-sight integral and not only its formula.
    """
    if inclination != 0:
        return surface_brightness(x, y, intensity, effective_radius, n, q, inclination,
                                  position_angle)
    b = sersic_b(n)
    h = q * effective_radius / 1.177
    r = math.hypot(x, y)  # a face-on disc is round: the position angle does nothing

    def emissivity(s):
        return intensity * math.exp(-b * ((r / effective_radius) ** (1 / n) - 1)
                                    - 0.5 * (s / h) ** 2)

    return 2 * integrate.quad(emissivity, 0, 40 * h, limit=1000, epsabs=0, epsrel=1e-12)[0]


def pixel_mean(x, y, d, *galaxy):
    """Mean of surface_brightness over the d x d pixel centred on (x, y), nested quad."""
    def row(yy):
        return integrate.quad(lambda xx: surface_brightness(xx, yy, *galaxy), x - d / 2,
                              x + d / 2, epsabs=0, epsrel=1e-8, limit=200)[0]
    return integrate.quad(row, y - d / 2, y + d / 2, epsabs=0, epsrel=1e-8,
                          limit=200)[0] / d ** 2
