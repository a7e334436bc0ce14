"""Validate the likelihood fit by simulation-based calibration, and time it.

Galaxies are drawn from the simulator's prior under named observing conditions,
observed with the conditions' PSF and noise, and fitted by
:class:`skgal.LikelihoodFitRegressor` with that same prior. When the sampler is
right, the rank of each true parameter among its posterior draws is uniform (Talts
et al. 2018): the chi-square test's p-value is then not small. The script also
reports the density estimate's coverage and NLL of ``q``, and the time per galaxy
and likelihood evaluations per second.

    python benchmarks/likelihood_sbc.py --n-galaxies 100 --n-jobs 2

Smaller galaxies (``--radius-range``) and stamps keep a fit to seconds; the SBC holds
for any prior, as long as the fit and the simulations share it.
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
from tqdm.auto import tqdm

from skgal import LikelihoodFitRegressor, observing_conditions
from skgal.metrics import coverage, negative_log_likelihood, uniformity_test

N_RANK_DRAWS = 99


def write_rst(report, path):
    """The docs' table: SBC p-values per parameter, the scores of q and the speed."""
    settings = report["settings"]
    lines = [".. list-table:: Simulation-based calibration of the likelihood fit "
             f"({settings['n_galaxies']} galaxies, ``{settings['conditions']}`` conditions, "
             f"{settings['image_size']}-pixel stamps, {settings['n_live']} live points, "
             f"``sample=\"{settings.get('sample', 'unif')}\"``)",
             "   :header-rows: 1", "",
             "   * - parameter", "     - chi-square p-value of the ranks"]
    for name, value in report["sbc"].items():
        lines += [f"   * - ``{name}``", f"     - {value['chi2_pvalue']:.3f}"]
    q = report["q"]
    lines += ["", f"The density estimate of ``q`` scores an NLL of {q['nll']:.3f} (joint "
              f"``(q, i)``: {q['joint_nll']:.3f} nats, ``i`` in degrees), with "
              f"{q['coverage68']:.2f} and {q['coverage95']:.2f} of the truths in its 68% "
              f"and 95% intervals and an RMSE of {q['rmse']:.3f}. A fit took "
              f"{report['seconds_per_galaxy']:.1f} s on average (median "
              f"{report['median_seconds_per_galaxy']:.1f} s) and "
              f"{report['calls_per_galaxy']:.0f} likelihood evaluations, "
              f"{report['calls_per_second']:.0f} per second, on one core of the "
              "2-core development machine.", ""]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", default="ground")
    parser.add_argument("--n-galaxies", type=int, default=100)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--radius-range", type=float, nargs=2, default=(3.0, 12.0))
    parser.add_argument("--max-offset", type=float, default=1.5)
    parser.add_argument("--n-live", type=int, default=75)
    parser.add_argument("--sample", default="rwalk", help="dynesty's sampler")
    parser.add_argument("--dlogz", type=float, default=0.5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("benchmarks", "results",
                                                      "likelihood_sbc.json"))
    parser.add_argument("--rst", default=os.path.join("docs", "_static", "likelihood_sbc.rst"),
                        help="where the docs' table goes")
    parser.add_argument("--from-json", help="only write the table, from this results file")
    args = parser.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            write_rst(json.load(f), args.rst)
        return
    warnings.simplefilter("ignore", UserWarning)  # dynesty's bound-enlargement notes

    model = observing_conditions(args.conditions).forward_model(
        image_size=args.image_size, max_offset=args.max_offset, random_state=args.seed)
    model["render"].set_params(effective_radius_range=tuple(args.radius_range))
    X, _ = model["render"].sample(args.n_galaxies, random_state=args.seed)
    images = model[:-1].transform(X)[..., 0]  # flux, with noise: no photometry
    fit = LikelihoodFitRegressor(simulator=model["render"], noise=model["noise"],
                                 targets=("q", "inclination"), n_live=args.n_live,
                                 dlogz=args.dlogz, n_jobs=args.n_jobs, sample=args.sample,
                                 random_state=args.seed).fit()
    parts, start = [], time.perf_counter()
    step = max(1, 2 * args.n_jobs)
    for lo in tqdm(range(0, args.n_galaxies, step), desc="fitting", unit="batch"):
        parts.append(fit.sample_posterior(images[lo:lo + step]))
    wall = time.perf_counter() - start
    post = {key: np.concatenate([p[key] for p in parts]) for key in parts[0] if key != "names"}
    names = fit.parameter_names_
    truth = X[list(names)].to_numpy()
    # ranks against the sampler's own draws (resampled i.i.d. from its weights)
    ranks = np.sum(post["samples"][:, :N_RANK_DRAWS, :] < truth[:, None, :], axis=1)
    report = {"settings": vars(args), "parameters": list(names), "wall_seconds": wall,
              "seconds_per_galaxy": float(np.mean(post["seconds"])),
              "median_seconds_per_galaxy": float(np.median(post["seconds"])),
              "calls_per_galaxy": float(np.mean(post["n_calls"])),
              "calls_per_second": float(np.sum(post["n_calls"]) / np.sum(post["seconds"])),
              "ess_median": float(np.median(post["ess"])), "sbc": {}}
    for j, name in enumerate(names):
        test = uniformity_test(ranks[:, j], n_draws=N_RANK_DRAWS)
        report["sbc"][name] = {"chi2_pvalue": float(test["pvalue"]),
                               "n_bins": int(test["n_bins"]),
                               "counts": [int(c) for c in test["counts"]]}
    joint = fit.distribution_from_samples(post["samples"])
    y = np.c_[X["q"], X["inclination"]]
    q_dist = joint.marginal(0)
    report["q"] = {"nll": negative_log_likelihood(y[:, 0], q_dist),
                   "joint_nll": negative_log_likelihood(y, joint),
                   "coverage68": coverage(y[:, 0], q_dist, 0.68),
                   "coverage95": coverage(y[:, 0], q_dist, 0.95),
                   "rmse": float(np.sqrt(np.mean((q_dist.mean() - y[:, 0]) ** 2)))}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    write_rst(report, args.rst)
    print(f"{args.n_galaxies} galaxies, {args.conditions}, {args.image_size}px: "
          f"{report['seconds_per_galaxy']:.1f} s per galaxy (median "
          f"{report['median_seconds_per_galaxy']:.1f}), {report['calls_per_galaxy']:.0f} "
          f"likelihood calls per galaxy, {report['calls_per_second']:.0f} per second")
    print("SBC chi-square p-values: " + ", ".join(
        f"{k} {v['chi2_pvalue']:.3f}" for k, v in report["sbc"].items()))
    print("q: NLL {nll:.3f}, joint (q, i) NLL {joint_nll:.3f}, coverage 68% {coverage68:.3f}, "
          "95% {coverage95:.3f}, RMSE {rmse:.3f}".format(**report["q"]))


if __name__ == "__main__":
    main()
