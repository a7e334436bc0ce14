"""The peak estimate (round PSFs): how close, and how often the image is drawn again.

With ``tol="peak"`` the Fourier route aims at ``PEAK_TOL`` of each image's peak. For a
round PSF the peak is estimated by a coarse quadrature (``_fourier._peak_guess``) at the
pixel nearest the galaxy's centre, the tolerance aims at ``PEAK_GUESS_SHARE`` (90%) of
it, and the image drawn checks it: if its maximum less its error bound is below the
estimate, the image is drawn again. This script draws galaxies through several PSFs,
pixel scales and samplings and reports, for each PSF:

- the estimate over the engine's pixel it estimates (quantiles; above 1 / 0.9 means a
  second drawing);
- how many galaxies were drawn twice;
- the estimate's time against the first pass it replaced (an 8 x 8 patch drawn at
  ``SCOUT_TOL``, as image PSFs still do), on the same galaxies, one thread.

Galaxies: ``I_e`` in [0.1, 1], ``R_e`` log-uniform in [0.5, 30] pixels, ``n`` in
[0.5, 2], ``q`` in [``--q-min``, 1], isotropic inclinations (30% of them 0, 60, 89.5 or
90 degrees), uniform position angles, offsets within 3 pixels.

Usage::

    python benchmarks/bench_peak_guess.py [--galaxies 150] [--q-min 0.2] [--seed 0]
"""

import argparse
import math
import time

import numpy as np

from skgal import GaussianPSF, MoffatPSF, sersic_b
from skgal import _fourier
from skgal._hankel import hankel_table

PSFS = {"Moffat 3.6 px, beta 4.765 (ground)": MoffatPSF(3.611, 4.765),
        "Moffat 3 px, beta 3": MoffatPSF(3.0, 3.0), "Moffat 1 px, beta 2": MoffatPSF(1.0, 2.0),
        "Gaussian 1 px": GaussianPSF(1.0), "Gaussian 10 px": GaussianPSF(10.0)}
SETTINGS = [(1.0, "pixel"), (0.5, "pixel"), (2.0, "center")]
SIZE = 64


def galaxies(rng, count, q_min):
    incl = np.degrees(np.arccos(rng.uniform(0, 1, count)))
    fixed = rng.random(count) < 0.3
    incl[fixed] = rng.choice([0.0, 60.0, 89.5, 90.0], fixed.sum())
    return np.column_stack([rng.uniform(0.1, 1, count),
                            np.exp(rng.uniform(math.log(0.5), math.log(30), count)),
                            rng.uniform(0.5, 2, count), rng.uniform(q_min, 1, count), incl,
                            rng.uniform(0, 180, count), rng.uniform(-3, 3, (count, 2))])


def hankel(galaxy, grids, scale):
    """The galaxy's Hankel table, as render_psf builds it (shared by every pass)."""
    re, n = galaxy[1], galaxy[2]
    return hankel_table(n, _fourier._table_reach(re, grids.kmax, scale), sersic_b(n))


def estimate(galaxy, grids, scale, box, table):
    """The estimate as render_psf makes it, and the pixel it estimates (row, col)."""
    return _fourier.peak_estimate(tuple(galaxy), table, grids, SIZE, scale, box)


def first_pass(galaxy, psf, grids, scale, box, table):
    """The first pass the estimate replaced: an 8 x 8 patch about the centre."""
    b = sersic_b(galaxy[2])
    near = tuple(galaxy[:6]) + (galaxy[6] - round(galaxy[6]), galaxy[7] - round(galaxy[7]))
    return _fourier._render_galaxy(near, psf, _fourier.SCOUT_PATCH, scale, box, grids,
                                   _fourier.SCOUT_TOL, grids.kmax_for(0.1 * _fourier.SCOUT_TOL),
                                   table, b, False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=150, help="per PSF and setting")
    parser.add_argument("--q-min", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    drawn = []
    render_galaxy = _fourier._render_galaxy

    def spy(*a, **k):
        drawn.append(a[2])  # the stamp's size: 64 for a whole image
        return render_galaxy(*a, **k)

    _fourier._render_galaxy = spy
    print(f"{args.galaxies} galaxies per PSF and setting (scales and samplings {SETTINGS}), "
          f"q in [{args.q_min}, 1]")
    print(f"{'PSF':36s} {'estimate / pixel: min':>22s} {'1%':>7s} {'median':>7s} "
          f"{'99%':>7s} {'max':>7s} {'drawn twice':>12s} {'ms: estimate':>13s} "
          f"{'first pass':>10s}")
    try:
        for name, psf in PSFS.items():
            ratios, twice, total = [], 0, 0
            for scale, sampling in SETTINGS:
                grids = _fourier._Grids(psf, scale)
                box = 1.0 if sampling == "pixel" else 0.0
                table = galaxies(rng, args.galaxies, args.q_min)
                table[:, 1] *= scale  # R_e in pixels, as lengths
                for galaxy in table:
                    drawn.clear()
                    image = _fourier.render_psf(*galaxy[:, None], psf=psf, image_size=SIZE,
                                                pixel_scale=scale, sampling=sampling,
                                                grids=grids, tol="peak")[0]
                    twice += sum(size == SIZE for size in drawn) > 1
                    total += 1
                    guess, (row, col) = estimate(galaxy, grids, scale, box,
                                                 hankel(galaxy, grids, scale))
                    if image[row, col] > 0:
                        ratios.append(guess / image[row, col])
            q = np.quantile(ratios, [0, 0.01, 0.5, 0.99, 1])
            # the two costs on the last setting's galaxies, the lattices already kept and
            # the Hankel tables (which the main pass shares) built beforehand
            tables = [hankel(galaxy, grids, scale) for galaxy in table]
            seconds = {}
            for label, work in (("estimate", estimate), ("first pass", first_pass)):
                args_of = ((g, grids, scale, box, t) if label == "estimate"
                           else (g, psf, grids, scale, box, t) for g, t in zip(table, tables))
                start = time.perf_counter()
                for work_args in args_of:
                    work(*work_args)
                seconds[label] = (time.perf_counter() - start) / len(table)
            print(f"{name:36s} {q[0]:22.5f} {q[1]:7.5f} {q[2]:7.5f} {q[3]:7.5f} {q[4]:7.5f} "
                  f"{twice:5d} of {total} {1e3 * seconds['estimate']:13.3f} "
                  f"{1e3 * seconds['first pass']:10.3f}")
    finally:
        _fourier._render_galaxy = render_galaxy


if __name__ == "__main__":
    main()
