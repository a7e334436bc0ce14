"""Training throughput: ProbabilisticQRegressor against a plain keras.Model.fit.

The same network (skgal._network.build_network), the same simulated 64x64 images and
the same train/validation split, timed in one run, so that the ratio shows what the
scikit-learn wrapper costs (the issue allows 10%). Then the same plain fit with
other settings: XLA (jit_compile), batch size, and bfloat16 mixed precision.

Usage::

    python benchmarks/bench_training.py [--galaxies 2048] [--epochs 3] [--repeat 2]
"""

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from skgal import ProbabilisticQRegressor, SersicGalaxySimulator  # noqa: E402
from skgal._network import build_network  # noqa: E402


def plain_fit(X, y, val, train, *, epochs, batch_size, jit_compile=False):
    keras.utils.set_random_seed(0)
    axes = (0, 1, 2)
    model = build_network(X.shape[1:], mean=X[train].mean(axis=axes),
                          variance=X[train].var(axis=axes))
    model.compile(optimizer=model.optimizer, loss=model.loss, jit_compile=jit_compile)
    model.fit(X[train], y[train], validation_data=(X[val], y[val]), epochs=epochs,
              batch_size=batch_size, verbose=0)


def timed(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--galaxies", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    sim = SersicGalaxySimulator(sampling="center", inclinations=(60,), n_jobs=-1)
    X, y = sim.sample(args.galaxies, random_state=0)
    X = sim.transform(X)
    order = np.random.RandomState(0).permutation(len(y))
    n_val = int(round(0.2 * len(y)))
    val, train = order[:n_val], order[n_val:]
    images = len(train) * args.epochs

    # warm up TensorFlow (graph tracing, thread pools) outside the timings
    plain_fit(X[:64], y[:64], np.arange(8), np.arange(8, 64), epochs=1, batch_size=32)

    rows = []

    def add(label, seconds):
        rows.append((label, images / seconds))

    add("keras.Model.fit (batch 32)", timed(
        lambda: plain_fit(X, y, val, train, epochs=args.epochs, batch_size=32), args.repeat))
    add("ProbabilisticQRegressor.fit (batch 32)", timed(
        lambda: ProbabilisticQRegressor(epochs=args.epochs, batch_size=32,
                                        random_state=0).fit(X, y), args.repeat))
    for batch in (128, 512):
        add(f"keras.Model.fit (batch {batch})", timed(
            lambda batch=batch: plain_fit(X, y, val, train, epochs=args.epochs,
                                          batch_size=batch), args.repeat))
    add("keras.Model.fit (batch 32, jit_compile)", timed(
        lambda: plain_fit(X, y, val, train, epochs=args.epochs, batch_size=32,
                          jit_compile=True), args.repeat))
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        add("keras.Model.fit (batch 32, mixed_bfloat16)", timed(
            lambda: plain_fit(X, y, val, train, epochs=args.epochs, batch_size=32),
            args.repeat))
    finally:
        keras.mixed_precision.set_global_policy("float32")

    base = rows[0][1]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; TensorFlow "
          f"{tf.__version__}, Keras {keras.__version__}; GPUs: "
          f"{len(tf.config.list_physical_devices('GPU'))}")
    print(f"{len(train)} training images of {X.shape[1:]}, {args.epochs} epochs, best of "
          f"{args.repeat}")
    print(f"{'method':45s} {'images/s':>10s} {'x plain':>8s}")
    for label, rate in rows:
        print(f"{label:45s} {rate:10.1f} {rate / base:8.2f}")


if __name__ == "__main__":
    main()
