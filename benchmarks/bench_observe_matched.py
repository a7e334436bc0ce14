"""Observed images at matched accuracy: skgal against GalSim set to meet the same target.

``bench_observe.py`` times GalSim at its default accuracy and at one tightened setting.
Neither meets the accuracy that issue #8 asks of skgal: every pixel brighter than 1e-4 of
the image's peak within 1e-3 relative of the exact image. A baseline at its best is the
fastest setting that meets the same target, so this script finds it:

1. Accuracy, face-on. Face-on, the disc's Gaussian height only scales the Sérsic
   profile, so GalSim's ``Sersic`` convolved with the PSF and drawn with the pixel is the
   same image as skgal's. The reference is skgal's engine at its tightest setting
   (within about 1e-7 of an independent quadrature, ``tests/test_psf.py``), and
   skgal's own images are scored against it too. For each rung of a ladder of GalSim
   accuracy settings (its ``folding_threshold``, ``maxk_threshold`` and
   ``kvalue_accuracy``, tightened together by factors of 2, 4, 6, 10, 20, 40, 100,
   1000 and 10000 from its defaults), the worst relative error per galaxy over the
   pixels above 1e-4 of the peak, and the share of galaxies within 1e-3.
2. Speed, the issue's task: PSF-convolved, noisy, pixel-mean 64x64 images at isotropic
   inclinations and uniform position angles (GalSim's ``InclinedSersic``, whose sech^2
   height differs from the model's, so only its speed compares), one thread each, in the
   same run, in steady state: each first draws as many other galaxies untimed.

Usage::

    python benchmarks/bench_observe_matched.py [--galaxies 16] [--psf moffat|gaussian]
        [--fwhm 3] [--beta 3] [--repeat 2]
"""

import argparse
import os
import platform
import time

import numpy as np

from skgal import CCDNoise, GaussianPSF, MoffatPSF, SersicGalaxySimulator, total_flux
from skgal._fourier import TOL, render_psf

#: GalSim's defaults, then tightened together by 2, 4, 6, 10, 20, 40, 100, 1000 and 10000:
#: steps of 1.5-2.5 up to 100, where every setting measured meets the target, so that
#: the fastest setting that meets it is found to within a factor 2.5 in its settings
RUNGS = [(5e-3 / f, 1e-3 / f, 1e-5 / f) for f in (1, 2, 4, 6, 10, 20, 40, 100, 1000, 10000)]


def best_time(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def worst_error(image, exact):
    bright = exact > 1e-4 * exact.max()
    return float(np.max(np.abs(image[bright] - exact[bright]) / exact[bright]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=16)
    parser.add_argument("--psf", choices=("moffat", "gaussian"), default="moffat")
    parser.add_argument("--fwhm", type=float, default=3.0, help="pixels")
    parser.add_argument("--beta", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    import galsim

    psf = (MoffatPSF(args.fwhm, args.beta) if args.psf == "moffat"
           else GaussianPSF(args.fwhm))

    def galsim_psf(gsp):
        return (galsim.Moffat(beta=args.beta, fwhm=args.fwhm, gsparams=gsp)
                if args.psf == "moffat" else galsim.Gaussian(fwhm=args.fwhm, gsparams=gsp))

    # 1. accuracy, face-on, against skgal's engine at its tightest setting (tol=TOL);
    # the simulator's own images (1e-7 of each peak aimed at) are scored the same way
    face_on = SersicGalaxySimulator(output="flux", psf=psf, inclinations=(0.0,))
    params, _ = face_on.sample(args.galaxies, random_state=1)
    rows = np.asarray(params)[:, :4]
    zeros = np.zeros(len(rows))
    exact = render_psf(*rows.T, zeros, zeros, zeros, zeros, psf=psf, image_size=64,
                       pixel_scale=1.0, tol=TOL)
    skgal_error = max(worst_error(image, truth)
                      for image, truth in zip(face_on.transform(params)[..., 0], exact))
    accuracy = []
    for rung in RUNGS:
        gsp = galsim.GSParams(folding_threshold=rung[0], maxk_threshold=rung[1],
                              kvalue_accuracy=rung[2], maximum_fft_size=16384)
        errors = []
        for (ie, re, n, q), truth in zip(rows, exact):
            gal = galsim.Sersic(n=n, half_light_radius=re,
                                flux=float(total_flux(ie, re, n, q)), gsparams=gsp)
            image = galsim.Convolve(gal, galsim_psf(gsp), gsparams=gsp).drawImage(
                nx=64, ny=64, scale=1.0, method="auto").array
            errors.append(worst_error(image, truth))
        errors = np.array(errors)
        accuracy.append((rung, float(np.median(errors)), float(errors.max()),
                         float(np.mean(errors <= 1e-3))))

    # 2. speed on the task, one thread each, in the same run
    sim = SersicGalaxySimulator(output="flux", psf=psf, inclinations="isotropic",
                                position_angle="uniform", n_jobs=1)
    noise = CCDNoise(sky_level=10.0, gain=4.0, read_noise=5.0, random_state=0)
    X, _ = sim.sample(args.galaxies, random_state=0)
    # steady state, as in a dataset or a training run: both renderers first draw other
    # galaxies (skgal keeps each lattice's PSF factor, which galaxies share; GalSim
    # keeps what it caches), then are timed on new ones
    warm, _ = sim.sample(args.galaxies, random_state=1)
    sim.transform(warm)
    rates = {"skgal": args.galaxies / best_time(
        lambda: noise.transform(sim.transform(X)), args.repeat)}
    columns = ["I_e", "R_e", "n", "q", "inclination", "position_angle"]
    task = X[columns].to_numpy()
    warm_task = warm[columns].to_numpy()
    for rung, *_ in accuracy:
        gsp = galsim.GSParams(folding_threshold=rung[0], maxk_threshold=rung[1],
                              kvalue_accuracy=rung[2], maximum_fft_size=16384)
        g_psf = galsim_psf(gsp)
        g_noise = galsim.CCDNoise(galsim.BaseDeviate(0), sky_level=10.0, gain=4.0,
                                  read_noise=5.0)

        def draw(gsp=gsp, g_psf=g_psf, g_noise=g_noise, task=task):
            for ie, re, n, q, incl, pa in task:
                gal = galsim.InclinedSersic(
                    n=n, inclination=incl * galsim.degrees, half_light_radius=re,
                    scale_height=q * re / 1.177, flux=float(total_flux(ie, re, n, q)),
                    gsparams=gsp).rotate(pa * galsim.degrees)
                image = galsim.Convolve(gal, g_psf, gsparams=gsp).drawImage(
                    nx=64, ny=64, scale=1.0, method="auto")
                image.addNoise(g_noise)

        draw(task=warm_task)
        rates[rung] = args.galaxies / best_time(draw, args.repeat)

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, GalSim {galsim.__version__}; PSF {psf!r}; "
          f"{args.galaxies} galaxies")
    skgal_rate = rates["skgal"]
    print(f"skgal, 1 thread: {skgal_rate:.1f} images/s; its worst face-on error "
          f"{skgal_error:.1e}")
    print(f"{'GalSim (folding, maxk, kvalue)':32s} {'median err':>10s} {'worst err':>10s} "
          f"{'share <=1e-3':>12s} {'images/s':>9s} {'skgal / it':>10s}")
    for rung, median, worst, share in accuracy:
        label = "(" + ", ".join(f"{v:.3g}" for v in rung) + ")"
        print(f"{label:32s} {median:10.1e} {worst:10.1e} {share:12.2f} {rates[rung]:9.1f} "
              f"{skgal_rate / rates[rung]:10.2f}")
    matched = next((rung for rung, _, worst, _ in accuracy if worst <= 1e-3), None)
    if matched is None:
        print("no GalSim setting of the ladder meets 1e-3 on every galaxy")
    else:
        label = "(" + ", ".join(f"{v:.3g}" for v in matched) + ")"
        print(f"matched accuracy: GalSim {label}, skgal is "
              f"{skgal_rate / rates[matched]:.2f}x as fast")


if __name__ == "__main__":
    main()
