"""Training on fresh simulations against training on arrays in memory: throughput ratio.

The issue's target: fresh-simulation training runs at 80% or more of the throughput
(training images per second) of training on arrays already in memory, on this machine.
Both train the thesis's network (64x64, one channel, batch 32) for the same number of
steps, in the same process, alternately, so that the machine's drift hits both:

- ``arrays``: ``fit(X, y)`` on pre-rendered images (the baseline at its best: no
  rendering, Keras's own array pipeline);
- ``fresh, W workers``: ``fit`` with ``training_source=FreshSimulations(...)``, W
  rendering threads ahead of the training;
- ``renders, W threads``: as many batches of the same size as the fresh fit trains on
  (``steps x epochs``), drawn by ``FreshSimulations.batch`` on W threads and nothing
  else: the rate the renders reach alone. Issue #8 asks for
  renders faster than the network trains, so ``renders / arrays`` above 1 (on two
  cores the two share the machine, so a fresh fit is slower than either alone).

The galaxies are the thesis's (pixel means, as ``skgal reproduce`` renders them;
``--sampling center`` samples pixel centres, about twice as fast). With
``--conditions ground|space`` they are observed images instead: the named conditions'
forward model (PSF, noise, asinh magnitudes; isotropic inclinations, uniform position
angles), one view per galaxy. Reported: images per second and the ratio to the arrays'
rate in the same round; the best of ``--rounds`` rounds.

Usage::

    python benchmarks/bench_fresh.py [--steps 100] [--epochs 3] [--rounds 2]
        [--workers 1 2] [--projection random] [--sampling pixel] [--conditions ground]
"""

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sklearn.pipeline import Pipeline  # noqa: E402

from skgal import (FreshSimulations, ProbabilisticQRegressor, ProjectionSelector,  # noqa: E402
                   SersicGalaxySimulator, observing_conditions)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="batches per epoch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--projection", default="random", choices=["random", "fixed-90"])
    parser.add_argument("--sampling", default="pixel", choices=["center", "pixel"])
    parser.add_argument("--conditions", default=None, choices=["ground", "space"],
                        help="observed images under these named conditions instead")
    args = parser.parse_args()

    sim = SersicGalaxySimulator(sampling=args.sampling)
    if args.conditions is not None:  # PSF, noise and photometry; one view per galaxy
        model = observing_conditions(args.conditions).forward_model(random_state=0)
        source = FreshSimulations(model, steps_per_epoch=args.steps)
    elif args.projection == "random":  # one of the four views per galaxy, rendered alone
        source = FreshSimulations(sim, steps_per_epoch=args.steps,
                                  inclination_choices=(0, 30, 60, 90))
    else:
        model = Pipeline([("simulate", sim),
                          ("project", ProjectionSelector("fixed", inclination=90))])
        source = FreshSimulations(model, steps_per_epoch=args.steps)
    batch = 32
    n_train = args.steps * batch
    X_val, y_val = source.batch((999, 0, 0), 512)
    X_train, y_train = source.batch((998, 0, 0), n_train)  # rendered once, before timing
    common = dict(epochs=args.epochs, batch_size=batch, random_state=0)
    print(f"{args.steps} steps x {args.epochs} epochs of {batch} images "
          f"({args.conditions or args.projection}, sampling={args.sampling}); "
          f"validation {len(y_val)} images",
          flush=True)
    keys = [(0, epoch, index) for epoch in range(args.epochs) for index in range(args.steps)]

    def renders(workers):
        # as many batches of the same size as the fresh fit's (other galaxies: the fit
        # keys them by a seed of its own), rendered alone, each worker a batch at a time
        tic = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            for _ in pool.map(lambda key: source.batch(key, batch), keys):
                pass
        return n_train * args.epochs / (time.perf_counter() - tic)

    best = {}
    for r in range(args.rounds):
        tic = time.perf_counter()
        # the arrays' fit: all of X_train for training, X_val for validation
        ProbabilisticQRegressor(validation_split=0.0, **common).fit(X_train, y_train)
        arrays = n_train * args.epochs / (time.perf_counter() - tic)
        line = f"round {r}: arrays {arrays:6.0f} img/s"
        best["arrays"] = max(best.get("arrays", 0), arrays)
        for w in args.workers:
            tic = time.perf_counter()
            ProbabilisticQRegressor(training_source=source, workers=w, **common).fit(X_val,
                                                                                     y_val)
            fresh = n_train * args.epochs / (time.perf_counter() - tic)
            best[w] = max(best.get(w, 0), fresh)
            line += f"; fresh, {w} workers {fresh:6.0f} img/s ({fresh / arrays:.2f})"
            alone = renders(w)
            best[("renders", w)] = max(best.get(("renders", w), 0), alone)
            line += f"; renders, {w} threads {alone:6.0f} img/s ({alone / arrays:.2f})"
        print(line, flush=True)
    print("best: arrays {:.0f} img/s; ".format(best["arrays"]) + "; ".join(
        f"fresh, {w} workers {best[w]:.0f} img/s ({best[w] / best['arrays']:.2f} of arrays); "
        f"renders, {w} threads {best[('renders', w)]:.0f} img/s "
        f"({best[('renders', w)] / best['arrays']:.2f} of arrays)" for w in args.workers))


if __name__ == "__main__":
    main()
