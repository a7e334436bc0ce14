"""The benchmark's networks, alone and as an equal-weight ensemble, on the benchmark's
test galaxies, with standard errors.

``benchmarks/augment.py`` pickles each network it trains. This script loads any of them,
predicts the same test galaxies (rebuilt from the preset, the conditions and the seed,
exactly as the benchmark draws them), each prediction averaged over the symmetries that
keep an aligned image's axes (where the PSF has the square's symmetry), and scores each
network and the equal mixture of all of them (a deep ensemble) on all test galaxies and
on the likelihood fit's subset (the first ``n_fit``), whose fit NLL is in the benchmark's
table. Every NLL comes with its standard error over the galaxies (the spread of the
per-galaxy NLLs over the square root of their number), which says how far a difference
of means on 200 galaxies can be trusted. Each network's time per galaxy is that of
its whole (averaged) prediction of the test galaxies, after one warm-up call.

    python benchmarks/ensemble.py --preset paper --out /tmp/augment-paper \\
        /tmp/augment-paper/mixture_augment_on_*.pkl
"""

import argparse
import json
import os
import pickle
import time
from dataclasses import replace

import numpy as np

from skgal._augment import psf_has_square_symmetry
from skgal._benchmark import (BENCHMARK_PRESETS, benchmark_model, observed_sets,
                              symmetrised_distribution)
from skgal._distributions import mixture_of
from skgal.metrics import coverage


def _scores(joint, q, incl, n_fit):
    nll = -joint.marginal(0).logpdf(q)
    nll_joint = -joint.logpdf(np.column_stack([q, incl]))

    def mean_se(v):
        return float(np.mean(v)), float(np.std(v, ddof=1) / np.sqrt(len(v)))

    return {"nll_q": mean_se(nll), "nll_q_fit_subset": mean_se(nll[:n_fit]),
            "nll_q_i": mean_se(nll_joint),
            "coverage_68": coverage(q, joint.marginal(0), 0.68),
            "coverage_95": coverage(q, joint.marginal(0), 0.95)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("networks", nargs="+", help="pickled networks (augment.py's)")
    parser.add_argument("--preset", default="paper", choices=sorted(BENCHMARK_PRESETS))
    parser.add_argument("--conditions", default="ground")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-align", dest="align", action="store_false",
                        help="the networks were trained on unaligned images")
    parser.add_argument("--out", default=None, help="write ensemble.json there")
    args = parser.parse_args()

    preset = replace(BENCHMARK_PRESETS[args.preset], align=args.align)
    cond, model = benchmark_model(preset, args.conditions, seed=args.seed)
    test = observed_sets(model, preset, args.seed)["test"]
    q, incl = test["q"], test["inclination"]
    n_fit = min(preset.n_fit, len(q))
    symmetric = psf_has_square_symmetry(cond.psf)
    dists, rows = [], {}
    for path in args.networks:
        with open(path, "rb") as f:
            reg = pickle.load(f)
        reg.predict_distribution(test["images"][:8])  # warm-up: graph tracing
        t0 = time.perf_counter()
        dist = (symmetrised_distribution(reg, test["images"], aligned=args.align)
                if symmetric else reg.predict_distribution(test["images"]))
        seconds = (time.perf_counter() - t0) / len(q)
        dists.append(dist)
        rows[os.path.basename(path)] = {**_scores(dist, q, incl, n_fit),
                                        "seconds_per_galaxy": seconds}
    if len(dists) > 1:
        rows[f"ensemble of {len(dists)}"] = _scores(mixture_of(dists), q, incl, n_fit)
    print("| network | NLL q (test) | NLL q (fit subset) | NLL (q, i) | 68% | 95% | ms / galaxy |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        cells = [f"{r[k][0]:.3f} ± {r[k][1]:.3f}" for k in ("nll_q", "nll_q_fit_subset",
                                                            "nll_q_i")]
        ms = f"{1e3 * r['seconds_per_galaxy']:.2f}" if "seconds_per_galaxy" in r else ""
        print(f"| {name} | " + " | ".join(cells)
              + f" | {r['coverage_68']:.3f} | {r['coverage_95']:.3f} | {ms} |")
    if args.out:
        with open(os.path.join(args.out, "ensemble.json"), "w") as f:
            json.dump({"preset": args.preset, "conditions": args.conditions,
                       "seed": args.seed, "align": args.align, "n_fit_subset": n_fit,
                       "symmetrised": symmetric, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
