"""The likelihood fit's render tolerance: how far its images are from exact ones, in
units of the noise, and how fast they are; for the benchmark's fitted galaxies.

    python benchmarks/likelihood_tolerance.py [--preset paper] [--galaxies 200]

For the first ``--galaxies`` test galaxies of ``skgal benchmark --preset P --conditions
ground --seed 0`` (the ones the likelihood fit is run on), each is rendered at its true
parameters by the fit's model at the tolerance of the engine's own reference (1e-9 of
the face-on central brightness) and at the looser tolerances below. The error that
matters to a fit is S = sum over pixels of (error / noise sigma)^2: the log-likelihood
of an image errs by -S/2 on average with a spread of sqrt(S), so S far below 1 leaves
the posterior unchanged. Time per render (CPU time, best of two passes, one thread,
caches warm) is compared in the same run.
"""

import argparse
import math
import time

import numpy as np

from skgal._benchmark import BENCHMARK_PRESETS, benchmark_model
from skgal._likelihood import _Model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--galaxies", type=int, default=200)
    parser.add_argument("--tolerances", type=float, nargs="+", default=[1e-3, 1e-2, 3e-2])
    args = parser.parse_args()
    preset = BENCHMARK_PRESETS[args.preset]
    _, model = benchmark_model(preset, "ground", seed=0)
    sim, noise = model["render"], model["noise"]
    X, _ = sim.sample(preset.n_test, random_state=np.random.RandomState([0, 2]))
    X = X.iloc[:args.galaxies]
    exact = _Model(sim, 1e-9)
    models = {tol: _Model(sim, tol) for tol in args.tolerances}
    thetas = [X.iloc[k][list(exact.names)].to_numpy(dtype=float) for k in range(len(X))]
    scales = [X["I_e"].iloc[k] / exact.unit(t) for k, t in enumerate(thetas)]
    refs = [exact.template(t) * s for t, s in zip(thetas, scales)]
    variances = [(np.maximum(r, 0.0) + noise.sky_level) / noise.gain
                 + (noise.read_noise / noise.gain) ** 2 for r in refs]
    peak_snr = [r.max() / math.sqrt(v.max()) for r, v in zip(refs, variances)]
    print(f"{len(X)} galaxies of the {args.preset} preset; peak signal-to-noise per pixel: "
          f"median {np.median(peak_snr):.1f}, largest {max(peak_snr):.1f}")
    timing = {}
    for _ in range(2):  # the first pass warms the lattices and numba
        for tol, m in models.items():
            t0 = time.process_time()
            images = [m.template(t) for t in thetas]
            timing[tol] = (time.process_time() - t0) / len(thetas), images
    base = timing[args.tolerances[0]][0]
    print("| tolerance | ms / render | speed-up | largest error / peak | S largest | S median |")
    print("|---:|---:|---:|---:|---:|---:|")
    for tol, (seconds, images) in timing.items():
        errors = [img * s - r for img, s, r in zip(images, scales, refs)]
        rel = max(np.abs(e).max() / r.max() for e, r in zip(errors, refs))
        big_s = [float(np.sum(e * e / v)) for e, v in zip(errors, variances)]
        print(f"| {tol:g} | {seconds * 1e3:.2f} | {base / seconds:.2f} | {rel:.1e} | "
              f"{max(big_s):.1e} | {np.median(big_s):.1e} |")


if __name__ == "__main__":
    main()
