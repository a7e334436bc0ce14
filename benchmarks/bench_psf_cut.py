"""The galaxy-and-PSF wavenumber cut: how far in it moves, bounded over directions.

For galaxies from the thesis's prior (isotropic inclinations), the cut that
``_fourier._wavenumber_cut`` finds (the dropped modes bounded by their integral over
directions) against the earlier bound (2 pi times the largest direction, times 2),
both at the simulator's budget (a tenth of 1e-8 of the face-on central brightness here).
Reported: the median of cut / kmax and the mean of (cut / kmax)^2, which is the share of
the folded lattice's modes kept. No timing: the mode count is what the cut changes.

Usage::

    python benchmarks/bench_psf_cut.py [--galaxies 40]
"""

import argparse
import math

import numpy as np

from skgal import GaussianPSF, MoffatPSF
from skgal import _fourier as F
from skgal._hankel import hankel_values


def largest_direction_cut(galaxy, grids, kmax, budget):
    """The earlier bound: 2 pi times the largest sampled direction, times 2."""
    ie, re, n, q, incl = galaxy[:5]
    h = q * re / F.HZ_DIVISOR
    ci, si = math.cos(math.radians(incl)), math.sin(math.radians(incl))
    amp = ie * F.SQRT2PI * h * re * re
    k = np.linspace(0.0, kmax, 257)
    phi = np.linspace(0.0, 0.5 * math.pi, 33)
    a = np.sqrt(np.cos(phi) ** 2 + (np.sin(phi) * ci) ** 2)
    g = hankel_values(n, re * np.outer(k, a)) * np.exp(
        -0.5 * (np.outer(k, np.sin(phi)) * si * h) ** 2)
    density = 2.0 * amp * g.max(axis=1) * np.abs(np.interp(k, grids.radial_k, grids.radial)) \
        * k / (2.0 * math.pi)
    tail = np.concatenate([np.cumsum(0.5 * (density[1:] + density[:-1])[::-1]
                                     * np.diff(k)[::-1])[::-1], [0.0]])
    above = np.nonzero(tail > budget)[0]
    return float(k[1]) if above.size == 0 else float(k[min(above[-1] + 1, k.size - 1)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(2)
    count = args.galaxies
    gal = np.column_stack([rng.uniform(0.1, 1, count), rng.uniform(5, 30, count),
                           rng.uniform(0.5, 2.0, count), rng.uniform(0.2, 1, count),
                           np.degrees(np.arccos(rng.uniform(0, 1, count))),
                           rng.uniform(0, 180, count), np.zeros(count), np.zeros(count)])
    print(f"{'PSF':32s} {'bound':20s} {'median cut/kmax':>16s} {'modes kept':>11s}")
    for psf in (MoffatPSF(3.0, 3.0), GaussianPSF(1.0)):
        grids = F._Grids(psf, 1.0)
        tol = 1e-8
        kmax = grids.kmax_for(0.1 * tol)
        for label, cut in (("largest direction", largest_direction_cut),
                           ("over directions", F._wavenumber_cut)):
            ratios = []
            for g in gal:
                b = F.sersic_b(g[2])
                central = g[0] * math.exp(b) * F.SQRT2PI * g[3] * g[1] / F.HZ_DIVISOR
                ratios.append(cut(tuple(g), grids, kmax, 0.1 * tol * central) / kmax)
            ratios = np.array(ratios)
            print(f"{psf!r:32s} {label:20s} {np.median(ratios):16.3f} "
                  f"{np.mean(ratios ** 2):11.3f}")


if __name__ == "__main__":
    main()
