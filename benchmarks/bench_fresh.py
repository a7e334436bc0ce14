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
        [--steps-per-execution 1 8] [--pixel-tolerance promise noise]
        [--kinds threads processes]

``--pixel-tolerance`` (with ``--conditions``): the render's aim, each value timed in every
round: ``promise`` (the accuracy promise, the default) or ``noise`` (1e-3 of an empty
pixel's noise, ``forward_model(pixel_tolerance="noise")``). ``--kinds threads processes``:
the workers as threads (the default) or processes (``use_multiprocessing=True``, and
``BatchProcesses`` for the renders alone, started and warmed before their timing; the
fresh fit's time includes starting its processes, about 1.5 s).
"""

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from sklearn.pipeline import Pipeline  # noqa: E402

from skgal import (BatchProcesses, FreshSimulations,  # noqa: E402
                   ProbabilisticQRegressor, ProjectionSelector,
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
    parser.add_argument("--steps-per-execution", type=int, nargs="+", default=[8],
                        help="the regressor's steps_per_execution: each value trains on "
                             "arrays and fresh in every round (8, the default; 1 is "
                             "Keras's own default)")
    parser.add_argument("--pixel-tolerance", nargs="+", default=["promise"],
                        choices=["promise", "noise"],
                        help="with --conditions: the render's aim, each value timed in "
                             "every round")
    parser.add_argument("--kinds", nargs="+", default=["threads"],
                        choices=["threads", "processes"],
                        help="the workers: threads, processes, or both in every round")
    args = parser.parse_args()
    tolerances = args.pixel_tolerance if args.conditions is not None else ["promise"]

    sim = SersicGalaxySimulator(sampling=args.sampling)
    if args.conditions is not None:  # PSF, noise and photometry; one view per galaxy
        sources = {tol: FreshSimulations(observing_conditions(args.conditions).forward_model(
            random_state=0, pixel_tolerance=None if tol == "promise" else tol),
            steps_per_epoch=args.steps) for tol in tolerances}
        source = sources[tolerances[0]]
    elif args.projection == "random":  # one of the four views per galaxy, rendered alone
        source = FreshSimulations(sim, steps_per_epoch=args.steps,
                                  inclination_choices=(0, 30, 60, 90))
    else:
        model = Pipeline([("simulate", sim),
                          ("project", ProjectionSelector("fixed", inclination=90))])
        source = FreshSimulations(model, steps_per_epoch=args.steps)
    if args.conditions is None:
        sources = {"promise": source}
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

    def renders(workers, source, kind):
        # as many batches of the same size as the fresh fit's (other galaxies: the fit
        # keys them by a seed of its own), rendered alone, each worker a batch at a time
        processes, started = None, None
        if kind == "processes":  # started, and their lattices built, before the timing
            tic = time.perf_counter()
            processes = BatchProcesses(source, workers)
            started = time.perf_counter() - tic  # the processes' start, for the docs' figure
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(lambda i: processes.batch((997, 0, i), batch),
                              range(4 * workers)))
            source = processes
        try:
            tic = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                for _ in pool.map(lambda key: source.batch(key, batch), keys):
                    pass
            return n_train * args.epochs / (time.perf_counter() - tic), started
        finally:
            if processes is not None:
                processes.close()

    best = {}

    def keep(key, rate):
        best[key] = max(best.get(key, 0.0), rate)
        return rate

    for r in range(args.rounds):
        line = f"round {r}:"
        for spe in args.steps_per_execution:
            tag = f" [steps_per_execution={spe}]" if len(args.steps_per_execution) > 1 else ""
            common["steps_per_execution"] = spe
            tic = time.perf_counter()
            # the arrays' fit: all of X_train for training, X_val for validation
            ProbabilisticQRegressor(validation_split=0.0, **common).fit(X_train, y_train)
            arrays = keep(("arrays", spe), n_train * args.epochs / (time.perf_counter() - tic))
            line += f"{tag} arrays {arrays:6.0f} img/s"
            for tol, src in sources.items():
                at = f" [{tol}]" if len(sources) > 1 else ""
                for kind in args.kinds:
                    for w in args.workers:
                        tic = time.perf_counter()
                        ProbabilisticQRegressor(
                            training_source=src, workers=w,
                            use_multiprocessing=kind == "processes", **common).fit(X_val, y_val)
                        fresh = keep(("fresh", spe, w, tol, kind),
                                     n_train * args.epochs / (time.perf_counter() - tic))
                        line += (f"; fresh{at}, {w} {kind} {fresh:6.0f} img/s "
                                 f"({fresh / arrays:.2f})")
        for tol, src in sources.items():  # against the last arrays' rate of the round
            at = f" [{tol}]" if len(sources) > 1 else ""
            for kind in args.kinds:
                for w in args.workers:
                    rate, started = renders(w, src, kind)
                    alone = keep(("renders", w, tol, kind), rate)
                    line += (f"; renders{at}, {w} {kind} {alone:6.0f} img/s "
                             f"({alone / arrays:.2f})")
                    if started is not None:
                        line += f" [started in {started:.1f} s]"
        print(line, flush=True)
    for spe in args.steps_per_execution:
        base = best[("arrays", spe)]
        for tol in sources:
            for kind in args.kinds:
                print(f"best (steps_per_execution={spe}, pixel_tolerance={tol}, {kind}): "
                      f"arrays {base:.0f} img/s; " + "; ".join(
                          f"fresh, {w} {kind} {best[('fresh', spe, w, tol, kind)]:.0f} img/s "
                          f"({best[('fresh', spe, w, tol, kind)] / base:.2f} of arrays); "
                          f"renders, {w} {kind} {best[('renders', w, tol, kind)]:.0f} img/s "
                          f"({best[('renders', w, tol, kind)] / base:.2f} of arrays)"
                          for w in args.workers))


if __name__ == "__main__":
    main()
