"""Why is one random projection per galaxy worse than a fixed one? (A measurement, not a test.)

At the thesis's scale (docs/reference_results.rst) the random-projection network scores
worse at every inclination than the network trained on that inclination alone, although
it sees the same kind of image. Two suspects: it has a quarter of the images per
inclination, and the dropout (benchmarks/recalibration.py). This trains, on the same
galaxies and the same test images (one random projection per test galaxy):

- ``thesis``: one random projection per training galaxy, dropout 0.3;
- ``no dropout``: the same with dropout 0;
- ``all four``: every training galaxy at all four inclinations, as four samples
  (augmentation: four times the images), dropout 0.3;
- ``all four, no dropout``.

Usage::

    python benchmarks/random_projection.py [--galaxies 2000] [--epochs 20]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from skgal import ProbabilisticQRegressor, ProjectionSelector, SersicGalaxySimulator  # noqa: E402
from skgal.experiments import split  # noqa: E402
from skgal.metrics import gaussian_nll, scores_by_inclination  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    sim = SersicGalaxySimulator(n_jobs=-1)
    params, q = sim.sample(args.galaxies, random_state=args.seed)
    stacks = sim.transform(params)
    train, test = split(args.galaxies, seed=args.seed)  # the reproduction's split
    n_test = len(test)
    random_images, inclination = ProjectionSelector(
        "random", random_state=args.seed).fit(stacks[:1]).select(stacks)
    n_channels = stacks.shape[-1]
    # every training galaxy at every inclination, one sample each
    augmented = np.moveaxis(stacks[train], -1, 1).reshape(-1, *stacks.shape[1:3], 1)
    q_augmented = np.repeat(q[train], n_channels)
    print(f"simulated {args.galaxies} galaxies in {time.perf_counter() - start:.0f} s; "
          f"{len(train)} training galaxies, {n_test} test images (one random projection "
          f"each), {args.epochs} epochs, cosine learning rate")
    print(f"{'training set':24s} {'images':>7s} {'NLL':>7s} "
          + " ".join(f"{'i=' + format(i, 'g'):>7s}" for i in sorted(set(inclination[:, 0])))
          + f" {'scale':>6s} {'time':>6s}")
    cases = [("thesis", random_images[train], q[train], 0.3),
             ("no dropout", random_images[train], q[train], 0.0),
             ("all four", augmented, q_augmented, 0.3),
             ("all four, no dropout", augmented, q_augmented, 0.0)]
    for name, X, y, dropout in cases:
        tic = time.perf_counter()
        reg = ProbabilisticQRegressor(epochs=args.epochs, dropout=dropout, recalibrate=True,
                                      learning_rate_schedule="cosine",
                                      random_state=args.seed).fit(X, y)
        mean, std = reg.predict(random_images[test], return_std=True)
        raw = std / reg.std_scale_
        by_i = scores_by_inclination(q[test], mean, raw, inclination[test, 0])
        print(f"{name:24s} {len(X):7d} {gaussian_nll(q[test], mean, raw):7.3f} "
              + " ".join(f"{r['nll']:7.3f}" for r in by_i.values())
              + f" {reg.std_scale_:6.3f} {time.perf_counter() - tic:5.0f}s", flush=True)


if __name__ == "__main__":
    main()
