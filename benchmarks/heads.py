"""Which distribution head scores best where the inclination is unknown? (A measurement.)

On the thesis's images and test protocol (its 80/20 split of the galaxies), this trains
the thesis's network with each head on the methods where a Gaussian is the wrong
shape, and scores every one on the same test images:

- ``fixed-0``: face-on images, where the image fixes only ``I_e q`` and the exact
  posterior of ``q`` is proportional to 1/q between the prior's bounds (NLL about -0.63);
- ``random``: one of the four inclinations per galaxy, not given to the network.

The heads: ``gaussian`` (the thesis's), ``mixture`` (5 Gaussians) and
``bounded_mixture`` (5 Gaussians in the logit space of the prior's [0.2, 1]). The NLL is
of ``q``, on its own scale (with the Jacobian), as trained and with the head's
recalibration (``recalibrate=True``: a temperature fitted on the validation split);
the last columns give the quantile recalibration (``recalibrate="quantile"``) of the
same network, fitted on the same validation galaxies.

With ``--fresh-epochs E``, each method is also trained on fresh simulations
(:class:`skgal.FreshSimulations`: new galaxies every batch, seen at the method's
inclination, or at one of the four for ``random``; ``--fresh-steps`` batches of 32 per
epoch) with the thesis's training galaxies as the fixed validation set, and scored on the
same test images.

Usage::

    python benchmarks/heads.py [--galaxies 10000] [--epochs 100] [--methods fixed-0 random]
        [--heads gaussian bounded_mixture] [--schedule cosine] [--dropout 0.3]
        [--fresh-epochs 0] [--fresh-steps 250] [--fresh-workers 1] [--fresh-only]
        [--out heads.json]
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from skgal import (FreshSimulations, ProbabilisticQRegressor, ProjectionSelector,  # noqa: E402
                   SersicGalaxySimulator)
from skgal import QuantileRecalibrated  # noqa: E402
from skgal._distributions import quantile_knots  # noqa: E402
from skgal.experiments import split  # noqa: E402

HEADS = {
    "gaussian": dict(head="gaussian"),
    "mixture": dict(head="mixture", n_components=5),
    "bounded_mixture": dict(head="bounded_mixture", n_components=5, target_bounds=(0.2, 1.0)),
}


#: the inclination's support for a network that learns which of the four views it sees:
#: each view is the middle of a cell 30 degrees wide
VIEW_BOUNDS = (-15.0, 105.0)
VIEW_EDGES = np.array([-15.0, 15.0, 45.0, 75.0, 105.0])


def view_scores(dist, true_view):
    """How well a density over the inclination names the view (0, 30, 60 or 90 degrees):
    the probability in each view's cell, the share of galaxies whose most probable cell
    is the right one, and the mean log-probability of the right cell (a proper score of
    the four-way forecast; log 4 = 1.386 is knowing nothing)."""
    cdf = np.column_stack([dist.cdf(np.full(len(dist), e)) for e in VIEW_EDGES])
    mass = np.clip(np.diff(cdf, axis=1), 1e-12, 1)
    right = np.searchsorted(VIEW_EDGES, true_view) - 1
    right = np.clip(right, 0, 3)
    hit = mass.argmax(axis=1) == right
    return {"accuracy": float(np.mean(hit)),
            "log_prob": float(np.mean(np.log(mass[np.arange(len(right)), right]))),
            "rmse": float(np.sqrt(np.mean((dist.mean() - true_view) ** 2))),
            "accuracy_by_view": {int(v): float(np.mean(hit[true_view == v]))
                                 for v in np.unique(true_view)}}


def score(dist, q):
    lower68, upper68 = dist.interval(0.68)
    lower95, upper95 = dist.interval(0.95)
    return {"nll": float(np.mean(-dist.logpdf(q))),
            "rmse": float(np.sqrt(np.mean((dist.mean() - q) ** 2))),
            "coverage_68": float(np.mean((lower68 <= q) & (q <= upper68))),
            "coverage_95": float(np.mean((lower95 <= q) & (q <= upper95)))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=["fixed-0", "random"])
    parser.add_argument("--heads", nargs="+", default=list(HEADS))
    parser.add_argument("--schedule", default="cosine", choices=["constant", "cosine"])
    parser.add_argument("--dropout", type=float, default=0.3, help="0.3 is the thesis's")
    parser.add_argument("--fresh-epochs", type=int, default=0)
    parser.add_argument("--fresh-steps", type=int, default=250)
    parser.add_argument("--fresh-only", action="store_true",
                        help="train only on fresh simulations (with --fresh-epochs)")
    parser.add_argument("--fresh-workers", type=int, default=1)
    parser.add_argument("--joint", action="store_true",
                        help="fresh random method: learn q and the inclination together")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()

    start = time.perf_counter()
    sim = SersicGalaxySimulator(n_jobs=-1)
    params, q = sim.sample(args.galaxies, random_state=args.seed)
    stacks = sim.transform(params)
    train, test = split(args.galaxies, seed=args.seed)  # the reproduction's split
    print(f"simulated {args.galaxies} galaxies in {time.perf_counter() - start:.0f} s; "
          f"{len(train)} training, {len(test)} test galaxies, {args.epochs} epochs", flush=True)
    print(f"{'method':15s} {'head':16s} {'NLL':>7s} {'recal.':>7s} {'RMSE':>6s} {'cov68':>6s} "
          f"{'cov95':>6s} {'scale':>6s} {'time':>6s}", flush=True)
    results = []
    for method in args.methods:
        if method == "random":
            selector = ProjectionSelector("random", random_state=args.seed)
        else:
            selector = ProjectionSelector("fixed", inclination=float(method.split("-")[1]))
        images, view = selector.fit(stacks[:1]).select(stacks)
        view = view[:, 0]
        runs = [] if args.fresh_only else [(name, False) for name in args.heads]
        if args.fresh_epochs:
            runs += [(name, True) for name in args.heads]
        for name, fresh in runs:
            tic = time.perf_counter()
            if fresh:  # new galaxies every batch; the training galaxies validate
                views = (sim.inclinations if method == "random"
                         else (float(method.split("-")[1]),))
                joint = args.joint and method == "random"
                source = FreshSimulations(sim, steps_per_epoch=args.fresh_steps,
                                          inclination_choices=views,
                                          targets=("q", "inclination") if joint else ("q",))
                head = dict(HEADS[name])
                if joint:  # the views 0 and 90 lie inside, each in a cell 30 degrees wide
                    head["target_bounds"] = [(0.2, 1.0), VIEW_BOUNDS]
                reg = ProbabilisticQRegressor(epochs=args.fresh_epochs, random_state=args.seed,
                                              recalibrate=True, training_source=source,
                                              workers=args.fresh_workers,
                                              dropout=args.dropout,
                                              learning_rate_schedule=args.schedule,
                                              **head)
            else:
                reg = ProbabilisticQRegressor(epochs=args.epochs, random_state=args.seed,
                                              recalibrate=True, dropout=args.dropout,
                                              learning_rate_schedule=args.schedule,
                                              **HEADS[name])
            joint = fresh and args.joint and method == "random"
            y = np.column_stack([q, view]) if joint else q
            reg.fit(images[train], y[train])
            full = reg.predict_distribution(images[test])
            views = view_scores(full.marginal(1), view[test]) if joint else None
            dist = full.marginal(0)
            recal = score(dist, q[test])
            raw_dist = full.with_scale(1 / reg.std_scale_).marginal(0)
            raw = score(raw_dist, q[test])
            # the quantile recalibration, on the same validation galaxies
            if fresh:
                val = np.arange(len(train))
            else:
                n_val = int(round(reg.validation_split * len(train)))
                val = np.random.RandomState(reg.random_state_).permutation(len(train))[:n_val]
            val_dist = reg.head_.distribution(reg._predict_params(images[train][val]),
                                              reg.target_spaces_).marginal(0)
            knots = quantile_knots(val_dist.cdf(q[train][val]))
            quantile = score(QuantileRecalibrated(raw_dist, knots), q[test])
            seconds = time.perf_counter() - tic
            label = f"{method} (fresh{', q and i' if joint else ''})" if fresh else method
            results.append({"method": label, "head": name, "as_trained": raw,
                            "recalibrated": recal, "quantile_recalibrated": quantile,
                            "inclination": views, "std_scale": reg.std_scale_,
                            "seconds": seconds})
            print(f"{label:15s} {name:16s} {raw['nll']:7.3f} {recal['nll']:7.3f} "
                  f"{recal['rmse']:6.3f} {recal['coverage_68']:6.3f} "
                  f"{recal['coverage_95']:6.3f} {reg.std_scale_:6.3f} {seconds:5.0f}s | "
                  f"quantile: {quantile['nll']:7.3f} {quantile['coverage_68']:6.3f} "
                  f"{quantile['coverage_95']:6.3f}", flush=True)
            if views:
                print(f"{'':15s} inclination: right view {views['accuracy']:.3f}, log-prob "
                      f"of the right view {views['log_prob']:.3f}, RMSE of the mean "
                      f"{views['rmse']:.1f} deg; by view {views['accuracy_by_view']}",
                      flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"settings": vars(args), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
