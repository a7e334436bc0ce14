"""Does recalibration fix the thesis network's under-confidence? (A measurement, not a test.)

Simulates galaxies with the default SersicGalaxySimulator (64x64, pixel sampling,
magnitudes), holds out 20% for testing, and trains ProbabilisticQRegressor with
``recalibrate=True`` on single fixed inclinations and on all four. One network gives
both answers: its predicted standard deviations before (``std / std_scale_``) and
after recalibration. Reports the test NLL and the 68% and 95% interval coverage.

Usage::

    python benchmarks/recalibration.py [--galaxies 3000] [--epochs 30]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from skgal import ProbabilisticQRegressor, ProjectionSelector, SersicGalaxySimulator  # noqa: E402
from skgal.metrics import gaussian_nll, interval_coverage  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    start = time.perf_counter()
    sim = SersicGalaxySimulator(n_jobs=-1)
    params, q = sim.sample(args.galaxies, random_state=args.seed)
    images = sim.transform(params)
    order = np.random.RandomState(args.seed).permutation(args.galaxies)
    n_test = args.galaxies // 5
    test, train = order[:n_test], order[n_test:]
    print(f"simulated {args.galaxies} galaxies in {time.perf_counter() - start:.0f} s; "
          f"{len(train)} train (20% of them validation), {n_test} test, {args.epochs} epochs")
    print(f"{'input':10s} {'NLL':>8s} {'NLL recal':>10s} {'cov68':>7s} {'cov68 recal':>12s} "
          f"{'cov95':>7s} {'cov95 recal':>12s} {'scale':>6s} {'time':>6s}")
    for name, selector in [("i=30", ProjectionSelector("fixed", inclination=30)),
                           ("i=60", ProjectionSelector("fixed", inclination=60)),
                           ("i=90", ProjectionSelector("fixed", inclination=90)),
                           ("all 4", ProjectionSelector("all"))]:
        tic = time.perf_counter()
        X = selector.fit_transform(images)
        reg = ProbabilisticQRegressor(epochs=args.epochs, recalibrate=True,
                                      random_state=args.seed).fit(X[train], q[train])
        mean, std = reg.predict(X[test], return_std=True)
        raw = std / reg.std_scale_
        y = q[test]
        print(f"{name:10s} {gaussian_nll(y, mean, raw):8.3f} {gaussian_nll(y, mean, std):10.3f} "
              f"{interval_coverage(y, mean, raw, 0.68):7.3f} "
              f"{interval_coverage(y, mean, std, 0.68):12.3f} "
              f"{interval_coverage(y, mean, raw, 0.95):7.3f} "
              f"{interval_coverage(y, mean, std, 0.95):12.3f} {reg.std_scale_:6.3f} "
              f"{time.perf_counter() - tic:5.0f}s", flush=True)


if __name__ == "__main__":
    main()
