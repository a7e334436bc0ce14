"""Does recalibration fix the thesis network's under-confidence? (A measurement, not a test.)

Simulates galaxies with the default SersicGalaxySimulator (64x64, pixel sampling,
magnitudes), holds out 20% for testing, and trains ProbabilisticQRegressor with
``recalibrate=True`` on single fixed inclinations and on all four. One network gives
both answers: its predicted standard deviations before (``std / std_scale_``) and
after recalibration. Reports the test NLL and the 68% and 95% interval coverage.

``--dropout 0.3 0`` repeats each training without dropout, to see whether the thesis's
dropout (active in training, off in prediction) is what makes the widths too large.

Usage::

    python benchmarks/recalibration.py [--galaxies 3000] [--epochs 30]
        [--inputs i=30 i=60 i=90 all] [--dropout 0.3 ...] [--schedule constant|cosine]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from skgal import ProbabilisticQRegressor, ProjectionSelector, SersicGalaxySimulator  # noqa: E402
from skgal.metrics import gaussian_nll, interval_coverage  # noqa: E402

INPUTS = {"i=30": ProjectionSelector("fixed", inclination=30),
          "i=60": ProjectionSelector("fixed", inclination=60),
          "i=90": ProjectionSelector("fixed", inclination=90),
          "all": ProjectionSelector("all")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--inputs", nargs="+", default=list(INPUTS), choices=list(INPUTS))
    parser.add_argument("--dropout", nargs="+", type=float, default=[0.3])
    parser.add_argument("--schedule", choices=("constant", "cosine"), default="constant",
                        help="learning-rate schedule (the regressor's default is constant; "
                             "skgal reproduce uses cosine)")
    args = parser.parse_args()

    start = time.perf_counter()
    sim = SersicGalaxySimulator(n_jobs=-1)
    params, q = sim.sample(args.galaxies, random_state=args.seed)
    images = sim.transform(params)
    order = np.random.RandomState(args.seed).permutation(args.galaxies)
    n_test = args.galaxies // 5
    test, train = order[:n_test], order[n_test:]
    print(f"simulated {args.galaxies} galaxies in {time.perf_counter() - start:.0f} s; "
          f"{len(train)} train (20% of them validation), {n_test} test, {args.epochs} epochs, "
          f"{args.schedule} learning rate")
    print(f"{'input':10s} {'dropout':>7s} {'NLL':>8s} {'NLL recal':>10s} {'cov68':>7s} "
          f"{'cov68 recal':>12s} {'cov95':>7s} {'cov95 recal':>12s} {'scale':>6s} {'time':>6s}")
    for name, dropout in ((n, d) for n in args.inputs for d in args.dropout):
        tic = time.perf_counter()
        X = INPUTS[name].fit_transform(images)
        reg = ProbabilisticQRegressor(epochs=args.epochs, recalibrate=True, dropout=dropout,
                                      learning_rate_schedule=args.schedule,
                                      random_state=args.seed).fit(X[train], q[train])
        mean, std = reg.predict(X[test], return_std=True)
        raw = std / reg.std_scale_
        y = q[test]
        print(f"{name:10s} {dropout:7.2f} {gaussian_nll(y, mean, raw):8.3f} "
              f"{gaussian_nll(y, mean, std):10.3f} "
              f"{interval_coverage(y, mean, raw, 0.68):7.3f} "
              f"{interval_coverage(y, mean, std, 0.68):12.3f} "
              f"{interval_coverage(y, mean, raw, 0.95):7.3f} "
              f"{interval_coverage(y, mean, std, 0.95):12.3f} {reg.std_scale_:6.3f} "
              f"{time.perf_counter() - tic:5.0f}s", flush=True)


if __name__ == "__main__":
    main()
