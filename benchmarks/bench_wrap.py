"""Thin, inclined discs through narrow, heavy-winged PSFs: the folded FFT's wrap-around.

An inclined disc is also a thin line: its vertical Gaussian has structure on the split
window's scale, so the high-pass part that the folded FFT holds runs along the whole
major axis and can reach the period's copies. The plan's bounds do not see it; the
engine measures that tail at the folded image's edge and lengthens the period where it
would reach the copies (``skgal._fourier.wrap_check``, and ``band_check`` for the band
between two windows). This renders the same galaxies with the checks and without them
(both made to accept every period), in one run, one thread, and scores both against the
engine with the folded FFT's period forced to 1024 pixels and the low-pass lattices'
doubled (where the copies lie far beyond the tail): the worst relative error over the
pixels brighter than 1e-4 of the peak (the promise is 1e-3 there), how many galaxies
break the promise, and the time per image of each. Also: how many times the checks
lengthened the fold and the band ("retries", fold/band, over the galaxies), and the
fold's estimate of its wrap-around (``_fourier.wrap_estimate``: ``ring_max`` carried out
by ``tail_fall`` times ``LINE_COPIES``, or the tail taken apart where that is smaller)
against the true one (the image without checks against the same with
the fold's period alone made 1024), where that is at least a tenth of the budget: it must
not fall below 1.

Galaxies: thin (q 0.2-0.5), inclined 70-90 degrees, n 1-2, R_e 5-30 pixels, uniform
position angles, offsets within 3 pixels; 64x64 pixel means, ``tol="peak"`` (the
simulator's). ``--prior`` draws the thesis's prior instead (isotropic inclinations);
``--thick`` thick, inclined discs (n 0.5-2, q 0.5-1, i 50-88 degrees), where the check
takes the tail apart (``_fourier._slow_apart``: the slow part computed from the low-pass
lattices, the rest carried out at the window kernel's rate).

Two image PSFs are drawn too (a Gaussian of FWHM 1.2 px sampled at 1 px, whose transform
is 0.55 of its peak at the band's cut, and the space conditions' Tiny Tim PSF): the cut's
ringing, summed over the copies, is taken off the stamp whether or not the checks run
(``_fourier.band_edges``), so that the reference with periods of 1024 converges for them
too; where the cut is large the check measures the ring without it, and a request that
the measurement then withdraws is not counted as a retry.

Usage::

    python benchmarks/bench_wrap.py [--galaxies 16] [--seed 0] [--prior | --thick]
"""

import argparse
import time

import numpy as np

from skgal import GaussianPSF, ImagePSF, MoffatPSF, observing_conditions
from skgal import _fourier


def _sampled_gaussian(fwhm, size=25):
    """An image PSF: a Gaussian of ``fwhm`` pixels sampled at pixel centres."""
    x = np.arange(size) - (size - 1) / 2
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    return ImagePSF(np.exp(-0.5 * (x[:, None] ** 2 + x[None, :] ** 2) / sigma ** 2),
                    pixel_scale=1.0)


PSFS = [MoffatPSF(1.0, 2.0), MoffatPSF(2.0, 2.0), MoffatPSF(3.0, 2.0), MoffatPSF(1.0, 2.5),
        MoffatPSF(1.5, 3.0), MoffatPSF(3.0, 3.0), GaussianPSF(1.0), GaussianPSF(3.0),
        # image PSFs (band-limited: their transform ends at the Nyquist frequency): a
        # narrow Gaussian sampled, and the space conditions' Tiny Tim PSF
        _sampled_gaussian(1.2), observing_conditions("space").psf]


def galaxies(rng, count, prior, thick=False):
    ie = rng.uniform(0.1, 1, count)
    re = rng.uniform(5, 30, count)
    if prior:
        n, q = rng.uniform(0.5, 2, count), rng.uniform(0.2, 1, count)
        incl = np.degrees(np.arccos(rng.uniform(0, 1, count)))
    elif thick:
        n, q = rng.uniform(0.5, 2, count), rng.uniform(0.5, 1, count)
        incl = rng.uniform(50, 88, count)
    else:
        n, q = rng.uniform(1, 2, count), rng.uniform(0.2, 0.5, count)
        incl = rng.uniform(70, 90, count)
    pa = rng.uniform(0, 180, count)
    return ie, re, n, q, incl, pa, rng.uniform(-3, 3, count), rng.uniform(-3, 3, count)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prior", action="store_true")
    parser.add_argument("--thick", action="store_true",
                        help="thick, inclined discs (q 0.5-1, i 50-88 degrees), whose folded "
                             "tail wrap_check takes apart (the slow part and the kernel's "
                             "spread)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    plan, check, band = _fourier.plan, _fourier.wrap_check, _fourier.band_check
    mode = {"long": False, "check": True, "fold_only": False}

    def patched_plan(*a, **k):  # the reference: the folded FFT's period 1024, the
        m, reps, levels = plan(*a, **k)  # lattices' doubled (with "fold_only", not)
        if not (mode["long"] and a[4] > 8):
            return m, reps, levels
        if mode["fold_only"]:
            return max(m, 1024), reps, levels
        return max(m, 1024), reps, tuple((2 * length, 2 * count + 1, k_hi, k_lo)
                                         for length, count, k_hi, k_lo in levels)

    estimates, retries = [], {"fold": 0, "band": 0}

    def patched_check(periodic, stamp, budget, re, n, b, k1, wing=None, slow=None):
        if not mode["check"]:  # the estimate at the plan's period, for each galaxy
            s_b, r_b, r_c = _fourier.ring_max(periodic, stamp)
            estimates.append((_fourier.wrap_estimate(s_b, r_b, r_c, re, n, b, k1, wing,
                                                     slow), budget))
            return None
        wider = check(periodic, stamp, budget, re, n, b, k1, wing, slow)
        retries["fold"] += wider is not None
        return wider

    ring = _fourier._ring_corrected

    def patched_ring(*a, **k):
        # an image PSF's ring measured again without its cut's tail: the plain check's
        # request is superseded (the corrected check's own result is counted instead)
        retries["fold"] -= 1
        return ring(*a, **k)

    def patched_band(*a, **k):
        if not mode["check"]:
            return None
        wider = band(*a, **k)
        retries["band"] += wider is not None
        return wider

    _fourier.plan, _fourier.wrap_check = patched_plan, patched_check
    _fourier.band_check, _fourier._ring_corrected = patched_band, patched_ring
    print(f"{'PSF':32s} {'without: worst':>15s} {'> 1e-3':>7s} {'ms':>6s} "
          f"{'with: worst':>12s} {'> 1e-3':>7s} {'ms':>6s} {'retries':>8s} "
          f"{'estimate / true':>16s}")
    ratios = []
    try:
        for psf in PSFS:
            table = galaxies(rng, args.galaxies, args.prior, args.thick)
            grids = _fourier._Grids(psf, 1.0)
            kwargs = dict(psf=psf, image_size=64, pixel_scale=1.0, grids=grids, tol="peak")
            results = {}
            for name, checked in (("without", False), ("with", True), ("without", False),
                                  ("with", True)):  # twice: the second with warm caches
                mode["check"] = checked
                if checked:
                    retries["fold"] = retries["band"] = 0
                else:
                    estimates.clear()
                start = time.perf_counter()
                images = _fourier.render_psf(*table, **kwargs)
                results[name] = images, (time.perf_counter() - start) / args.galaxies
            counted = f"{retries['fold']}/{retries['band']}"  # the last run's, with
            mode["long"], mode["check"] = True, True
            reference = _fourier.render_psf(*table, **kwargs)
            mode["long"] = False
            # the fold's estimate against its true wrap-around: the image without the
            # checks against the same with the fold's period alone made 1024, where that
            # is at least a tenth of the budget (below 1-3% the difference is round-off
            # and the Hankel table's 1e-10, not wrap-around)
            mode.update(long=True, check=False, fold_only=True)
            fold_only = _fourier.render_psf(*table, **kwargs)
            mode.update(long=False, check=True, fold_only=False)
            true = np.abs(results["without"][0] - fold_only).max(axis=(1, 2))
            mine = [est / err for (est, budget), err in zip(estimates, true)
                    if err >= 0.1 * budget]
            ratios += mine
            peak = reference.max(axis=(1, 2))[:, None, None]
            bright = reference > 1e-4 * peak
            row = f"{psf!r:32s}"
            for name in ("without", "with"):
                images, seconds = results[name]
                rel = np.where(bright, np.abs(images - reference)
                               / np.where(bright, reference, 1.0), 0.0).max(axis=(1, 2))
                row += f" {rel.max():14.1e} {int((rel > 1e-3).sum()):4d}/{args.galaxies:<2d}" \
                       f" {1e3 * seconds:6.1f}"
            span = f"{min(mine):.1f}-{max(mine):.0f}" if mine else "-"
            print(row + f" {counted:>8s} {span:>16s}", flush=True)
        if ratios:
            print(f"the fold's estimate / its true wrap-around, over {len(ratios)} galaxies "
                  f"where that was >= 1/10 of the budget: {min(ratios):.2f} to {max(ratios):.0f}")
    finally:
        _fourier.plan, _fourier.wrap_check, _fourier.band_check = plan, check, band
        _fourier._ring_corrected = ring


if __name__ == "__main__":
    main()
