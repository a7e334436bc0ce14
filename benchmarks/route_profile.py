"""Where an observed image's time goes: the PSF route's compiled kernels, its Python, the
noise and the thin discs' retries.

Renders the issue's task (issue #8: 64x64 pixel means from the thesis's prior at
isotropic inclinations and uniform position angles, through a Moffat of FWHM 3 pixels
and beta 3) on one thread, after a first pass over the same galaxies has warmed the
caches, and reports, per image:

- the render's wall time, and the share spent in each compiled kernel of the route
  (``skgal._fourier``, ``skgal._hankel``) and in numpy's inverse FFT, each timed at its
  call; what is left is the route's Python (plans, checks, the loop over galaxies);
- the CCD noise after it (``CCDNoise(sky_level=10, gain=4, read_noise=5)``, as
  ``bench_observe.py``'s);
- the renders of a galaxy (``_render_galaxy`` calls: a galaxy whose peak was estimated
  too high is drawn twice) whose folded FFT was computed more than once: ``wrap_check``
  asked for a longer period (thin, near edge-on discs whose high-pass part runs along
  their major axis into the period's copies), or, rarely, the plan switched from one
  whole fold to the split; how many, their share of the render's time, and the periods.

Shares, not seconds, are the point: they say where a faster route must save. The timers
add about a microsecond a call.

Usage::

    python benchmarks/route_profile.py [--galaxies 512] [--seed 1] [--pixel-tolerance noise]

``--pixel-tolerance noise`` renders at 1e-3 of the noise's empty-pixel sigma (the
simulator's ``pixel_tolerance``, as ``forward_model(pixel_tolerance="noise")`` sets it)
instead of the accuracy promise.
"""

import argparse
import collections
import time

import numpy as np
from numba.core.registry import CPUDispatcher

import skgal._fourier as fourier
import skgal._hankel as hankel
from skgal import CCDNoise, MoffatPSF, SersicGalaxySimulator
from skgal._conditions import noise_tolerance


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pixel-tolerance", choices=["promise", "noise"], default="promise")
    args = parser.parse_args()

    noise = CCDNoise(sky_level=10.0, gain=4.0, read_noise=5.0, random_state=0)
    tolerance = None if args.pixel_tolerance == "promise" else noise_tolerance(noise)
    sim = SersicGalaxySimulator(output="flux", psf=MoffatPSF(3.0, 3.0),
                                inclinations="isotropic", position_angle="uniform", n_jobs=1,
                                pixel_tolerance=tolerance)
    X, _ = sim.sample(args.galaxies, random_state=args.seed)
    noise.transform(sim.transform(X))  # compile, and build the lattices' kernels

    spent, calls = collections.Counter(), collections.Counter()

    def timed(name, function):
        def wrapper(*a, **k):
            tic = time.perf_counter()
            out = function(*a, **k)
            spent[name] += time.perf_counter() - tic
            calls[name] += 1
            return out
        return wrapper

    # the kernels as the route's Python calls them (those they call in turn are compiled
    # into them, and keep their own timing out of this)
    saved = []
    for module in (fourier, hankel):
        for name, function in list(vars(module).items()):
            if isinstance(function, CPUDispatcher):
                saved.append((module, name, function))
                setattr(module, name, timed(name, function))
    saved.append((np.fft, "irfft2", np.fft.irfft2))
    np.fft.irfft2 = timed("irfft2 (numpy)", np.fft.irfft2)
    # each galaxy's time and its folds' periods
    galaxies = []
    render_galaxy, fold_high = fourier._render_galaxy, fourier._fold_high
    periods = []

    def fold(*a):
        periods.append(a[6])
        return fold_high(*a)

    def one_galaxy(*a, **k):
        periods.clear()
        tic = time.perf_counter()
        out = render_galaxy(*a, **k)
        galaxies.append((time.perf_counter() - tic, tuple(periods)))
        return out

    fourier._fold_high, fourier._render_galaxy = fold, one_galaxy
    try:
        tic = time.perf_counter()
        images = sim.transform(X)
        render = time.perf_counter() - tic
        tic = time.perf_counter()
        noise.transform(images)
        noised = time.perf_counter() - tic
    finally:  # the timed _fold_high first, then the kernels as they were
        fourier._fold_high, fourier._render_galaxy = fold_high, render_galaxy
        for module, name, function in saved:
            setattr(module, name, function)

    n = args.galaxies
    print(f"pixel_tolerance={tolerance}")
    print(f"{n} galaxies, one thread: render {render / n * 1e3:.3f} ms an image, "
          f"CCD noise {noised / n * 1e3:.3f} ms")
    print(f"{'in the render':32s} {'ms/image':>9s} {'share':>6s} {'calls/image':>12s}")
    kernels = sum(spent.values())
    for name, seconds in spent.most_common():
        print(f"{name:32s} {seconds / n * 1e3:9.4f} {seconds / render:6.1%} "
              f"{calls[name] / n:12.2f}")
    print(f"{'(the route Python, the rest)':32s} {(render - kernels) / n * 1e3:9.4f} "
          f"{(render - kernels) / render:6.1%}")
    per_galaxy = sum(seconds for seconds, _ in galaxies)
    redone = [(seconds, ms) for seconds, ms in galaxies if len(ms) > 1]
    print(f"folded more than once: {len(redone)} of {len(galaxies)} renders of a galaxy "
          f"({n} galaxies), {sum(s for s, _ in redone) / per_galaxy:.0%} of their time; "
          f"periods (first -> last) most often:")
    for (first, last), count in collections.Counter(
            (ms[0], ms[-1]) for _, ms in redone).most_common(6):
        print(f"  {first:4d} -> {last:4d}: {count}")
    times = np.array([seconds for seconds, _ in galaxies]) * 1e3
    print("a render's time, ms: median {:.2f}, 90th percentile {:.2f}, 99th {:.2f}, "
          "largest {:.2f}".format(*np.percentile(times, [50, 90, 99, 100])))


if __name__ == "__main__":
    main()
