"""The engine of another revision against this one: speed and difference.

Renders the same galaxies (the thesis's prior, 64x64 pixel means) with ``skgal`` as it
is here and as it was at ``--old`` (a git revision, exported to a temporary folder and
run in a subprocess), alternating the two ``--rounds`` times so that both see the same
machine, and reports the best time of each, the ratio, and the largest relative
difference over pixels brighter than 1e-6 of the peak (the engine's accuracy promise is
1e-3 there). A faster engine must stay within the promise of the one it replaces; one
that is unchanged shows 0.

- Without ``--psf``: the line-of-sight engine, per inclination and position angle.
- With ``--psf moffat:FWHM:BETA``, ``gaussian:FWHM``, ``space`` (the space conditions'
  image PSF) or ``sampled:FWHM`` (an image PSF, a Gaussian sampled at 1 pixel): the
  Fourier route (``SersicGalaxySimulator(psf=..., output="flux")``, isotropic inclinations, uniform
  position angles, offsets within a pixel), in steady state (each side first draws as
  many other galaxies), one thread. It reports CPU seconds (``time.process_time``, BLAS
  held to one thread) besides wall seconds: on a machine shared with other work the
  CPU time is the steadier measure of the work done.

Usage::

    python benchmarks/compare_engines.py --old 5a35f8c [--galaxies 24] [--rounds 2]
    python benchmarks/compare_engines.py --old 671075d --psf moffat:3:3 [--galaxies 16]
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VIEWS = [(0.0, 0.0), (30.0, 0.0), (60.0, 0.0), (90.0, 0.0), (90.0, 90.0), (3.0, 0.0),
         (87.0, 0.0)]

# run in a subprocess with one skgal or the other on the path
WORKER = r"""
import sys, time, numpy as np
import skgal
from skgal._render import render_flux
from skgal import sersic_b
out, count = sys.argv[1], int(sys.argv[2])
views = eval(sys.argv[3])
rng = np.random.default_rng(7)
ie, re = rng.uniform(0.1, 1, count), rng.uniform(5, 30, count)
n, q = rng.uniform(0.5, 2, count), rng.uniform(0.2, 1, count)
b = np.array([sersic_b(v) for v in n])
result = {}
for incl, pa in views:
    kwargs = dict(image_size=64, pixel_scale=1.0, sampling="pixel")
    render_flux(ie[:1], re[:1], n[:1], b[:1], q[:1], incl, pa, **kwargs)  # compile
    start = time.perf_counter()
    images = render_flux(ie, re, n, b, q, incl, pa, **kwargs)
    result[f"{incl}_{pa}"] = images
    result[f"t_{incl}_{pa}"] = (time.perf_counter() - start) / count
np.savez(out, **result)
"""


PSF_WORKER = r"""
import sys, time, numpy as np
import skgal
from skgal import GaussianPSF, MoffatPSF, SersicGalaxySimulator
out, count = sys.argv[1], int(sys.argv[2])
kind, *values = sys.argv[3].split(":")
if kind == "space":  # the space conditions' image PSF (HST's Tiny Tim model)
    from skgal import observing_conditions
    psf = observing_conditions("space").psf
elif kind == "sampled":  # an image PSF: a Gaussian of FWHM pixels sampled at 1 pixel
    from skgal import ImagePSF
    x = np.arange(25) - 12.0
    sigma = float(values[0]) / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    psf = ImagePSF(np.exp(-0.5 * (x[:, None] ** 2 + x[None, :] ** 2) / sigma ** 2), 1.0)
else:
    psf = MoffatPSF(*map(float, values)) if kind == "moffat" else GaussianPSF(float(values[0]))
sim = SersicGalaxySimulator(output="flux", psf=psf, inclinations="isotropic",
                            position_angle="uniform", max_offset=1.0, n_jobs=1)
X, _ = sim.sample(count, random_state=0)
warm, _ = sim.sample(count, random_state=1)
sim.transform(warm)  # compile, and the lattices a long run would already hold
wall, cpu = time.perf_counter(), time.process_time()
images = sim.transform(X)
np.savez(out, psf=images[..., 0], t_psf=(time.perf_counter() - wall) / count,
         c_psf=(time.process_time() - cpu) / count)
"""


def run(root, out, count, psf=None):
    # one BLAS thread: the CPU time then measures one thread's work
    env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    worker, extra = (WORKER, repr(VIEWS)) if psf is None else (PSF_WORKER, psf)
    # run outside the checkout: with -c the working directory comes first on sys.path
    subprocess.run([sys.executable, "-c", worker + f"\nassert skgal.__file__.startswith("
                    f"{root!r})", out, str(count), extra], env=env, check=True,
                   cwd=os.path.dirname(out))
    return np.load(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="a git revision")
    parser.add_argument("--galaxies", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--psf", default=None,
                        help="moffat:FWHM:BETA, gaussian:FWHM, space or sampled:FWHM "
                             "(pixels): the Fourier route")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old_root = os.path.join(tmp, "old")
        os.makedirs(old_root)
        archive = subprocess.run(["git", "-C", ROOT, "archive", args.old, "skgal"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", old_root], input=archive, check=True)
        best = {"old": {}, "new": {}}
        for _ in range(args.rounds):
            for label, root in (("old", old_root), ("new", ROOT)):
                data = run(root, os.path.join(tmp, f"{label}.npz"), args.galaxies,
                           args.psf)
                images = {k: data[k] for k in data.files if not k.startswith(("t_", "c_"))}
                for key, images_k in images.items():
                    t = float(data["t_" + key])
                    if t < best[label].get(key, (np.inf,))[0]:
                        best[label][key] = (t, images_k)
                    if "c_" + key in data.files:
                        cpu = best[label].setdefault("cpu", {})
                        cpu[key] = min(cpu.get(key, np.inf), float(data["c_" + key]))
    print(f"{args.galaxies} galaxies, best of {args.rounds} alternating rounds, old = {args.old}"
          + (f", PSF {args.psf}" if args.psf else ""))
    print(f"{'inclination, PA':16s} {'old ms':>8s} {'new ms':>8s} {'speed-up':>9s} "
          f"{'max rel. difference':>20s}")
    for key in best["new"]:
        if key == "cpu":
            continue
        t_old, old = best["old"][key]
        t_new, new = best["new"][key]
        diff = 0.0
        for o, m in zip(old, new):
            bright = o > 1e-6 * o.max()
            diff = max(diff, float(np.max(np.abs(m[bright] / o[bright] - 1))))
        incl, pa = key.split("_") if key != "psf" else ("isotropic", "uniform")
        print(f"{incl:>9s}, {pa:>7s} {1e3 * t_old:8.2f} {1e3 * t_new:8.2f} "
              f"{t_old / t_new:9.2f} {diff:20.1e}")
        if key in best["new"].get("cpu", {}):
            c_old, c_new = best["old"]["cpu"][key], best["new"]["cpu"][key]
            print(f"{'CPU time':>18s} {1e3 * c_old:8.2f} {1e3 * c_new:8.2f} "
                  f"{c_old / c_new:9.2f}")


if __name__ == "__main__":
    main()
