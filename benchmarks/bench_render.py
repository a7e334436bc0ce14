"""Rendering speed: skgal against the thesis's 3-D grid (and GalSim, where installed).

All methods render the same galaxies, drawn from the thesis's prior, as 64x64 images
at the four inclinations (0, 30, 60, 90 degrees), position angle 0. One image is one
inclination of one galaxy. Ratios are taken within this one run, because these
machines are noisy.

- ``grid3d``: the thesis's method, the emissivity summed over a NumPy 64^3 grid
  (64 samples along each line of sight, across the image's extent), one process, at its
  best: float32 throughout, the power ``(R / R_e)^(1/n)`` as ``exp(log(R / R_e) / n)``,
  in place (``grid3d_f32``, the baseline). ``grid3d_f64`` is the straightforward float64
  version, shown for reference.
- ``skgal center`` / ``skgal pixel``: SersicGalaxySimulator(sampling=...) with
  n_jobs=1 (one thread) and n_jobs=-1 (every core).
- ``galsim``: GalSim's InclinedSersic drawn with method="no_pixel" (centre) and
  "auto" (pixel), if GalSim is importable. GalSim renders by FFT, approximately.

Usage::

    python benchmarks/bench_render.py [--galaxies 24] [--grid-galaxies 6] [--repeat 3]
"""

import argparse
import os
import platform
import time

import numpy as np

from skgal import SersicGalaxySimulator, sersic_b

INCLINATIONS = (0.0, 30.0, 60.0, 90.0)


def grid3d(intensity, effective_radius, n, q, inclination, size=64, samples=64):
    """The thesis's renderer: a 3-D grid summed along the line of sight."""
    b = sersic_b(n)
    h = q * effective_radius / 1.177
    centres = np.arange(size) - (size - 1) / 2
    s = np.linspace(-size / 2, size / 2, samples)
    y, x, depth = np.meshgrid(centres, centres, s, indexing="ij")
    ci, si = np.cos(np.radians(inclination)), np.sin(np.radians(inclination))
    Y = y * ci + depth * si
    Z = depth * ci - y * si
    R = np.sqrt(x ** 2 + Y ** 2)
    F = intensity * np.exp(-b * ((R / effective_radius) ** (1 / n) - 1) - 0.5 * (Z / h) ** 2)
    return F.sum(axis=-1) * (s[1] - s[0])


def grid3d_f32(intensity, effective_radius, n, q, inclination, size=64, samples=64):
    """The same grid as a careful user writes it: float32, no float power, in place."""
    f32 = np.float32
    b = f32(sersic_b(n))
    inv_h2 = f32(0.5 / (q * effective_radius / 1.177) ** 2)
    centres = (np.arange(size, dtype=f32) - f32((size - 1) / 2))
    s = np.linspace(-size / 2, size / 2, samples, dtype=f32)
    ci, si = f32(np.cos(np.radians(inclination))), f32(np.sin(np.radians(inclination)))
    y = centres[:, None, None]
    x2 = (centres ** 2)[None, :, None]
    Y = y * ci + s[None, None, :] * si  # (size, 1, samples)
    Z = s[None, None, :] * ci - y * si
    R = np.sqrt(x2 + Y * Y) / f32(effective_radius)  # (size, size, samples)
    np.maximum(R, f32(1e-30), out=R)
    np.log(R, out=R)
    R *= f32(1.0 / n)
    np.exp(R, out=R)
    R *= -b
    R -= inv_h2 * (Z * Z)
    R += b
    np.exp(R, out=R)
    return f32(intensity) * R.sum(axis=-1) * f32(s[1] - s[0])


def best_rate(fn, images, repeat):
    """Images per second of the fastest of `repeat` runs."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return images / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=24)
    parser.add_argument("--grid-galaxies", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    sim = SersicGalaxySimulator(output="flux", inclinations=INCLINATIONS)
    X, _ = sim.sample(args.galaxies, random_state=0)
    n_images = 4 * args.galaxies
    rates = {}

    Xg = X[:args.grid_galaxies]
    rates["grid3d float32 (NumPy 64^3, 1 process)"] = best_rate(
        lambda: [grid3d_f32(*row, incl) for row in Xg for incl in INCLINATIONS],
        4 * len(Xg), args.repeat)
    rates["grid3d float64 (for reference)"] = best_rate(
        lambda: [grid3d(*row, incl) for row in Xg for incl in INCLINATIONS],
        4 * len(Xg), args.repeat)

    for sampling in ("center", "pixel"):
        for n_jobs in (1, -1):
            est = sim.set_params(sampling=sampling, n_jobs=n_jobs)
            est.transform(X[:1])  # compile / load the numba cache outside the timing
            label = f"skgal {sampling} (n_jobs={n_jobs})"
            rates[label] = best_rate(lambda est=est: est.transform(X), n_images, args.repeat)

    try:
        import galsim
    except ImportError:
        galsim = None
    if galsim is not None:
        for sampling, method in (("center", "no_pixel"), ("pixel", "auto")):
            def draw(method=method):
                for _, re, n, q in X[:args.grid_galaxies]:
                    for incl in INCLINATIONS:
                        gal = galsim.InclinedSersic(
                            n=n, inclination=incl * galsim.degrees, half_light_radius=re,
                            scale_height=q * re / 1.177, flux=1.0)
                        gal.drawImage(nx=64, ny=64, scale=1.0, method=method)
            rates[f"galsim InclinedSersic {sampling}"] = best_rate(
                draw, 4 * args.grid_galaxies, args.repeat)

    # How far the thesis's grid is from the exact images (centre sampling), over the
    # pixels brighter than 1e-6 of each image's peak.
    exact = sim.set_params(sampling="center", n_jobs=-1).transform(Xg)
    errors = []
    for g, row in enumerate(Xg):
        for c, incl in enumerate(INCLINATIONS):
            approx = grid3d_f32(*row, incl).astype(float)
            ref = exact[g, :, :, c].astype(float)
            bright = ref > 1e-6 * ref.max()
            errors.append(np.abs(approx[bright] / ref[bright] - 1).max())
    accuracy = (f"grid3d vs exact (centre): worst pixel error per image: median "
                f"{np.median(errors):.1%}, max {np.max(errors):.1%}")

    base = rates["grid3d float32 (NumPy 64^3, 1 process)"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{'method':40s} {'images/s':>10s} {'x grid3d':>9s}")
    for label, rate in rates.items():
        print(f"{label:40s} {rate:10.1f} {rate / base:9.1f}")
    print(accuracy)


if __name__ == "__main__":
    main()
