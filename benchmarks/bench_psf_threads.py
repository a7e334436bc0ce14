"""The PSF route on two cores: threads against processes, and what the GIL costs.

``SersicGalaxySimulator`` renders PSF-convolved images in threads. The engine's loops
release the GIL, but each galaxy also runs Python that holds it (the plans, NumPy's
small calls). This script renders the same galaxies (the thesis's prior, isotropic
inclinations, uniform position angles, 64x64 pixel means, no noise) with
``_fourier.render_psf`` three ways, in steady state (each worker first draws other
galaxies): in one thread, split in two halves over two threads, and over two processes.
The processes' rate is what the threads would reach without the GIL.

Usage::

    python benchmarks/bench_psf_threads.py [--galaxies 96] [--psf moffat|gaussian]
        [--repeat 2]
"""

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skgal import GaussianPSF, MoffatPSF, SersicGalaxySimulator  # noqa: E402
from skgal._fourier import render_psf  # noqa: E402

COLUMNS = ["I_e", "R_e", "n", "q", "inclination", "position_angle"]


def _psf(name):
    return MoffatPSF(3.0, 3.0) if name == "moffat" else GaussianPSF(3.0)


def render(rows, psf_name):
    """Render the rows (a worker's share); returns how many."""
    zeros = np.zeros(len(rows))
    with threadpool_limits(limits=1, user_api="blas"):
        render_psf(*np.asarray(rows).T, zeros, zeros, psf=_psf(psf_name), image_size=64,
                   pixel_scale=1.0, tol="peak")
    return len(rows)


def best_rate(executor, parts, psf_name, repeat):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        list(executor.map(render, parts, [psf_name] * len(parts)))
        best = min(best, time.perf_counter() - start)
    return sum(len(p) for p in parts) / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=96)
    parser.add_argument("--psf", choices=("moffat", "gaussian"), default="moffat")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    sim = SersicGalaxySimulator(output="flux", psf=_psf(args.psf), inclinations="isotropic",
                                position_angle="uniform")
    table = sim.sample(args.galaxies, random_state=0)[0][COLUMNS].to_numpy()
    warm = sim.sample(args.galaxies, random_state=1)[0][COLUMNS].to_numpy()
    half = args.galaxies // 2
    halves = [table[:half], table[half:]]
    warm_halves = [warm[:half], warm[half:]]
    with ThreadPoolExecutor(1) as ex:
        list(ex.map(render, [warm], [args.psf]))
        one = best_rate(ex, [table], args.psf, args.repeat)
    with ThreadPoolExecutor(2) as ex:
        list(ex.map(render, warm_halves, [args.psf] * 2))
        threads = best_rate(ex, halves, args.psf, args.repeat)
    with ProcessPoolExecutor(2) as ex:
        list(ex.map(render, warm_halves, [args.psf] * 2))
        processes = best_rate(ex, halves, args.psf, args.repeat)
    print(f"PSF {args.psf}, {args.galaxies} galaxies, best of {args.repeat}")
    print(f"1 thread     {one:7.1f} images/s")
    print(f"2 threads    {threads:7.1f} images/s ({threads / one:.2f}x)")
    print(f"2 processes  {processes:7.1f} images/s ({processes / one:.2f}x)")


if __name__ == "__main__":
    main()
