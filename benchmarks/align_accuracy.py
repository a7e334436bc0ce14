"""How well AlignToMajorAxis measures the centre and the position angle of the
benchmark's noisy galaxies, against the offsets and angles they were drawn with.

    python benchmarks/align_accuracy.py [--preset quick] [--conditions ground] [--galaxies 512]
                                        [--min-sigma 1.0]

Prints the RMS error of the measured centre (pixels) and the median error of the
measured position angle (degrees) in bins of the galaxy's apparent axis ratio
``sqrt(cos^2 i + q^2 sin^2 i)``: the angle of a round image is its noise's, and does
not matter to the network. Also the time the step takes per image, beside the time of
the photometry step on the same images (both after a warm-up, in one run).
"""

import argparse
import time

import numpy as np

from skgal import AlignToMajorAxis
from skgal._benchmark import BENCHMARK_PRESETS, benchmark_model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="quick", choices=sorted(BENCHMARK_PRESETS))
    parser.add_argument("--conditions", default="ground")
    parser.add_argument("--galaxies", type=int, default=512)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-sigma", type=float, default=1.0,
                        help="the adaptive weight's narrowest width, pixels")
    args = parser.parse_args()

    preset = BENCHMARK_PRESETS[args.preset]
    _, model = benchmark_model(preset, args.conditions, seed=args.seed)
    X, _ = model["render"].sample(args.galaxies, random_state=args.seed)
    flux = model["render"].transform(X)
    noisy, _ = model["noise"].set_params(random_state=args.seed + 1).draw(flux)

    step = AlignToMajorAxis(min_sigma=args.min_sigma)
    step.transform(noisy[:2])
    model["photometry"].transform(noisy[:2])
    t0 = time.perf_counter()
    step.transform(noisy)
    t_align = time.perf_counter() - t0
    t0 = time.perf_counter()
    model["photometry"].transform(noisy)
    t_phot = time.perf_counter() - t0

    centre, angle = step.measure(noisy)
    offsets = X[["x_offset", "y_offset"]].to_numpy()
    rms = np.sqrt(np.mean((centre - offsets) ** 2, axis=0))
    error = np.abs((angle - X["position_angle"].to_numpy() + 90.0) % 180.0 - 90.0)
    incl = np.radians(X["inclination"].to_numpy())
    ratio = np.sqrt(np.cos(incl) ** 2 + (X["q"].to_numpy() * np.sin(incl)) ** 2)

    print(f"{args.galaxies} galaxies, {args.preset} preset, {args.conditions}, "
          f"min_sigma {args.min_sigma} px")
    worst = np.abs(centre - offsets).max(axis=1)
    print(f"centre: RMS error x {rms[0]:.3f} px, y {rms[1]:.3f} px "
          f"(offsets drawn uniform within {preset.max_offset} px); largest {worst.max():.2f} "
          f"px; {np.sum(worst > 2.0)} galaxies off by more than 2 px")
    print("| apparent axis ratio | galaxies | median PA error (deg) |")
    print("|---|---:|---:|")
    for lo, hi in ((0.0, 0.5), (0.5, 0.8), (0.8, 1.01)):
        rows = (ratio >= lo) & (ratio < hi)
        if rows.any():
            print(f"| {lo:.1f}-{min(hi, 1.0):.1f} | {rows.sum()} | {np.median(error[rows]):.1f} |")
    n = len(noisy)
    print(f"time per image: align {1e3 * t_align / n:.3f} ms, "
          f"photometry {1e3 * t_phot / n:.3f} ms (ratio {t_align / t_phot:.1f})")


if __name__ == "__main__":
    main()
