"""Four projections against the edge-on one: the measurement behind docs/reproduce.rst.

Trains the thesis's network on all four projections and on the edge-on one alone, on the
quick preset's dataset and split, at a constant learning rate for several epoch counts
and with a cosine decay. Prints the test NLL (as trained and recalibrated) and the last
and best validation NLL of each training. Not a speed measurement.

Usage::

    python benchmarks/four_vs_one.py [--out reproduce-quick] [--galaxies 2000]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from skgal.experiments import load_or_simulate, split, train_method  # noqa: E402
from skgal.metrics import gaussian_nll  # noqa: E402

RUNS = [("constant", 20), ("constant", 40), ("constant", 60), ("cosine", 20)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reproduce-quick",
                        help="directory of the dataset (reused, or simulated there)")
    parser.add_argument("--galaxies", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs-scale", type=float, default=1.0,
                        help="multiply every epoch count (for a smoke run)")
    args = parser.parse_args()

    data = load_or_simulate(args.out, n_galaxies=args.galaxies, seed=args.seed)
    train, test = split(len(data.target), seed=args.seed)
    q = data.target[test]
    print(f"{'schedule':9s} {'epochs':>6s} {'method':9s} {'NLL':>7s} {'recal':>7s} "
          f"{'val last':>8s} {'val best':>8s}")
    for schedule, epochs in RUNS:
        epochs = max(1, int(round(epochs * args.epochs_scale)))
        for method in ("all", "fixed-90"):
            r = train_method(data, method, train, test, epochs=epochs, seed=args.seed,
                             learning_rate_schedule=schedule)
            val = r["history"]["val_loss"]
            print(f"{schedule:9s} {epochs:6d} {method:9s} "
                  f"{gaussian_nll(q, r['mean'], r['std']):7.3f} "
                  f"{gaussian_nll(q, r['mean'], r['std_recalibrated']):7.3f} "
                  f"{val[-1]:8.3f} {min(val):8.3f}", flush=True)


if __name__ == "__main__":
    main()
