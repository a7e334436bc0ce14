"""The line-of-sight engine of another revision against this one: speed and difference.

Renders the same galaxies (the thesis's prior, 64x64 pixel means) with ``skgal`` as it
is here and as it was at ``--old`` (a git revision, exported to a temporary folder and
run in a subprocess), alternating the two ``--rounds`` times so that both see the same
machine, and reports per inclination and position angle the best time of each, the
ratio, and the largest relative difference over pixels brighter than 1e-6 of the peak
(the engine's accuracy promise is 1e-3 there). A faster engine must stay within the
promise of the one it replaces; one that is unchanged shows 0.

Usage::

    python benchmarks/compare_engines.py --old 5a35f8c [--galaxies 24] [--rounds 2]
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


def run(root, out, count):
    env = dict(os.environ, PYTHONPATH=root)
    # run outside the checkout: with -c the working directory comes first on sys.path
    subprocess.run([sys.executable, "-c", WORKER + f"\nassert skgal.__file__.startswith("
                    f"{root!r})", out, str(count), repr(VIEWS)], env=env, check=True,
                   cwd=os.path.dirname(out))
    return np.load(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="a git revision")
    parser.add_argument("--galaxies", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=2)
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
                data = run(root, os.path.join(tmp, f"{label}.npz"), args.galaxies)
                images = {k: data[k] for k in data.files if not k.startswith("t_")}
                for key, images_k in images.items():
                    t = float(data["t_" + key])
                    if t < best[label].get(key, (np.inf,))[0]:
                        best[label][key] = (t, images_k)
    print(f"{args.galaxies} galaxies, best of {args.rounds} alternating rounds, old = {args.old}")
    print(f"{'inclination, PA':16s} {'old ms':>8s} {'new ms':>8s} {'speed-up':>9s} "
          f"{'max rel. difference':>20s}")
    for key in best["new"]:
        t_old, old = best["old"][key]
        t_new, new = best["new"][key]
        diff = 0.0
        for o, m in zip(old, new):
            bright = o > 1e-6 * o.max()
            diff = max(diff, float(np.max(np.abs(m[bright] / o[bright] - 1))))
        incl, pa = key.split("_")
        print(f"{incl:>6s}, {pa:>6s}   {1e3 * t_old:8.2f} {1e3 * t_new:8.2f} "
              f"{t_old / t_new:9.2f} {diff:20.1e}")


if __name__ == "__main__":
    main()
