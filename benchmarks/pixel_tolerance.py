"""A render's pixel tolerance tied to the noise: speed against the error it leaves.

``SersicGalaxySimulator(pixel_tolerance=t)`` aims at an error of ``t`` per pixel (in the
images' unit) instead of the accuracy promise (1e-7 of each image's own peak).
``forward_model(pixel_tolerance="noise")`` sets ``t`` to 1e-3 of the noise in an empty
pixel. For the named conditions' galaxies (their prior, isotropic inclinations, uniform
position angles, 64x64), this renders the same galaxies at the promise and at ``t`` =
share x sigma for a few shares, one thread, and reports per share:

- the render's CPU time per image (the best of ``--repeat``) and its speed-up;
- the largest error of a pixel against the promise's image, in units of that pixel's
  noise (sigma^2 = the empty pixel's variance plus, for CCD noise, the pixel's own
  Poisson variance);
- the shift of each image's chi-square against its exact model, sum (error / sigma)^2,
  largest and median: what the error could change in a likelihood or in anything a
  network sees. A bias of 1e-3 sigma in all 4,096 pixels would shift it by 0.004.

Usage::

    python benchmarks/pixel_tolerance.py [--conditions ground space] [--galaxies 256]
"""

import argparse
import time

import numpy as np

from skgal import observing_conditions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", nargs="+", default=["ground", "space"],
                        choices=["ground", "space"])
    parser.add_argument("--galaxies", type=int, default=256)
    parser.add_argument("--shares", type=float, nargs="+", default=[1e-4, 1e-3, 1e-2])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    for name in args.conditions:
        model = observing_conditions(name).forward_model(random_state=0)
        sim = model["render"].set_params(n_jobs=1)
        noise = model["noise"]
        X, _ = sim.sample(args.galaxies, random_state=1)
        sigma0 = noise.empty_pixel_sigma()

        def render(tolerance):
            sim.set_params(pixel_tolerance=tolerance)
            sim.transform(X)  # every lattice it uses built, its kernels compiled
            best, images = np.inf, None
            for _ in range(args.repeat):
                tic = time.process_time()
                images = sim.transform(X, return_flux=True)[1][..., 0]
                best = min(best, time.process_time() - tic)
            return images.astype(np.float64), best / len(X) * 1e3

        exact, base = render(None)
        variance = sigma0 ** 2 + (np.maximum(exact, 0.0) / noise.gain
                                  if hasattr(noise, "gain") else 0.0)
        sigma = np.sqrt(variance)
        print(f"{name}: {args.galaxies} galaxies, empty-pixel sigma {sigma0:.4g}; "
              f"promise {base:.3f} ms an image (one thread, CPU time)")
        print(f"{'share of sigma':>15s} {'ms/image':>9s} {'speed-up':>9s} "
              f"{'max |err|/sigma':>16s} {'chi2 shift max':>15s} {'median':>9s}")
        for share in args.shares:
            images, ms = render(share * sigma0)
            ratio = (images - exact) / sigma
            chi2 = np.sum(ratio ** 2, axis=(1, 2))
            print(f"{share:15.0e} {ms:9.3f} {base / ms:9.2f} {np.abs(ratio).max():16.2e} "
                  f"{chi2.max():15.2e} {np.median(chi2):9.2e}")


if __name__ == "__main__":
    main()
