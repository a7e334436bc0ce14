"""The likelihood fit's renders: the Fourier engine at the fit's tolerance (1e-3) against
the simulator's (1e-9), on the same galaxies, with warm caches; ratios in one run.

    python benchmarks/bench_likelihood_render.py

For each named condition's PSF, 40 galaxies of the benchmark's prior (32-pixel stamps,
R_e 3-10 pixels, isotropic inclinations, offsets up to 1.5 pixels) are rendered once to
warm the PSF lattices, then timed (best of three passes), and the largest difference
is reported as a fraction of each image's peak.
"""

import time

import numpy as np

from skgal import observing_conditions
from skgal._likelihood import _Model


def timed(model, thetas):
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        images = [model.template(t) for t in thetas]
        best = min(best, time.perf_counter() - start)
    return best / len(thetas), np.array(images)


def main():
    for name in ("ground", "space"):
        sim = observing_conditions(name).forward_model(image_size=32, max_offset=1.5)["render"]
        sim.set_params(effective_radius_range=(3.0, 10.0))
        rng = np.random.default_rng(0)
        exact, loose = _Model(sim, 1e-9), _Model(sim, 1e-3)
        thetas = [exact.prior_transform(rng.random(len(exact.names))) for _ in range(40)]
        for model in (exact, loose):  # warm the lattices and numba
            timed(model, thetas)
        t_exact, ref = timed(exact, thetas)
        t_loose, img = timed(loose, thetas)
        err = np.max(np.abs(img - ref) / ref.max(axis=(1, 2), keepdims=True))
        print(f"{name:6s}: tolerance 1e-9 {t_exact * 1e3:6.2f} ms, 1e-3 {t_loose * 1e3:6.2f} ms "
              f"per render: {t_exact / t_loose:.1f}x; largest difference {err:.1e} of the peak")


if __name__ == "__main__":
    main()
