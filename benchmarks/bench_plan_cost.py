"""The Fourier route's plan costs: what a folded mode, an FFT and a low-pass lattice take.

``skgal._fourier.plan`` picks, for each galaxy, the cheapest of folding the whole image,
the split (a folded high-pass part and a low-pass lattice summed at the pixels) and the
split again, from a cost model in nanoseconds (``FOLD_NS``, ``FFT_NS``, ``LOW_MODE_NS``,
``LOW_SUM_NS``). This measures those four on this machine, one thread, with the engine's
own kernels on a typical disc (Moffat FWHM 3.6 px, beta 4.765: the ``ground``
conditions' PSF), and prints them beside the constants:

- a folded mode: ``_fold_high``'s time over the modes the model counts (those within
  the wavenumber cut and the disc's strip; periods 128-480, one and nine Nyquist zones),
  on an inclined disc and a face-on one;
- the inverse FFT: ``numpy.fft.irfft2``'s time over m^2 log2 m;
- a low-pass lattice: ``_low_spectrum``'s time over side^2 (side = 2 count + 1), and
  ``_low_image``'s over (count + 1) size (side + size), the products of its sums.

The model only ranks plans, so its constants need to be right to within tens of percent,
not exactly; they were 6x (FFT) and 35x (low-pass lattices) off in the earlier units of
"one folded mode", which made the plans fold whole images at periods of 360-480.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_plan_cost.py
"""

import math
import time

import numpy as np

from skgal import MoffatPSF
from skgal import _fourier as F
from skgal._hankel import hankel_table
from skgal._profile import HZ_DIVISOR, sersic_b


def best(fn, repeat=20):
    """The best of three rounds of ``repeat`` calls, seconds a call."""
    result = math.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        result = min(result, (time.perf_counter() - start) / repeat)
    return result


def main():
    psf, d, size = MoffatPSF(3.6, 4.765), 1.0, 64
    grids = F.shared_grids(psf, d)
    re, n, q, incl, pa = 24.0, 0.95, 0.3, 80.0, 30.0
    b = sersic_b(n)
    h = q * re / HZ_DIVISOR
    table, tparams = hankel_table(n, F._table_reach(re, grids.kmax, d), b)
    geom = (F.SQRT2PI * h * re * re, re, h, math.cos(math.radians(incl)),
            math.sin(math.radians(incl)), math.cos(math.radians(pa)),
            math.sin(math.radians(pa)))
    face_on = (geom[0], re, h, 1.0, 0.0, 1.0, 0.0)
    per_mode, per_fft = [], []
    print(f"{'disc':>8s} {'kmax':>5s} {'zones':>5s} {'m':>4s} {'visited':>8s} "
          f"{'counted':>8s} {'fold ms':>8s} {'ns/mode':>8s} {'FFT ms':>7s} "
          f"{'ns/(m^2 log2 m)':>16s}")
    for name, disc in (("inclined", geom), ("face-on", face_on)):
        zs = disc[4] * h
        strip = math.sqrt(F.GAUSS_SKIP) / zs if zs > 0 else math.inf
        for kmax in (2.5, 4.0):
            reps = F._alias_reps(kmax, d)
            folds = (2 * reps + 1) ** 2
            for m in (128, 144, 180, 240, 360, 480):
                kern_re, kern_im = grids.high(m, reps, F.K1 / d)
                spectrum = np.empty((m, m // 2 + 1), complex)
                fold = best(lambda: F._fold_high(disc, table, tparams, kern_re, kern_im, kmax,
                                                 m, reps, d, d, 0.1, 0.2, spectrum))
                visited = np.count_nonzero(spectrum)
                fft = best(lambda: np.fft.irfft2(spectrum, s=(m, m)))
                # the model's count: its fold cost less the FFT's, per FOLD_NS
                counted = (F._fold_cost(m, folds, kmax, d, strip)
                           - F.FFT_NS * m * m * math.log2(m)) / F.FOLD_NS
                per_mode.append(fold / counted)
                per_fft.append(fft / (m * m * math.log2(m)))
                print(f"{name:>8s} {kmax:5.1f} {folds:5d} {m:4d} {visited:8d} {counted:8.0f} "
                      f"{1e3 * fold:8.3f} {1e9 * per_mode[-1]:8.1f} {1e3 * fft:7.3f} "
                      f"{1e9 * per_fft[-1]:16.2f}")
    per_low, per_sum = [], []
    print(f"\n{'count':>5s} {'spectrum ms':>12s} {'ns/side^2':>10s} {'sums ms':>8s} "
          f"{'ns/product':>11s}")
    for count in (20, 40, 60, 80, 110):
        length = count * 2.0 * math.pi / (F.CHI_REACH * F.K1)
        kl, kern_re, kern_im, waves_re, waves_im = grids.low(length, count, d, F.K1 / d, 0.0,
                                                             size)
        low = np.empty((count + 1, kl.size))
        spectrum = best(lambda: F._low_spectrum(geom, table, tparams, kern_re, kern_im, kl,
                                                low))
        image = np.zeros((size, size))
        sums = best(lambda: F._low_image(low, F._EMPTY, True, kl, count, waves_re, waves_im,
                                         31.5, 31.5, 1e-4, image))
        side = 2 * count + 1
        per_low.append(spectrum / side ** 2)
        per_sum.append(sums / ((count + 1) * size * (side + size)))
        print(f"{count:5d} {1e3 * spectrum:12.3f} {1e9 * per_low[-1]:10.2f} {1e3 * sums:8.3f} "
              f"{1e9 * per_sum[-1]:11.3f}")
    print("\nmedian measured against the plan's constants (ns):")
    for name, values in (("FOLD_NS", per_mode), ("FFT_NS", per_fft),
                         ("LOW_MODE_NS", per_low), ("LOW_SUM_NS", per_sum)):
        print(f"  {name:12s} measured {1e9 * np.median(values):7.2f}   "
              f"constant {getattr(F, name):7.2f}")


if __name__ == "__main__":
    main()
