"""The five AEGIS galaxies, each with a network trained under its own conditions and the
likelihood fit of the model: the table and figures of the docs' real-galaxies page.

    python benchmarks/real_galaxies.py --band F814W --n-train 3000 --epochs 20 --n-live 75

writes ``docs/_static/real_galaxies/{table.rst,fits.png,posteriors.png,results.json}``
(``--out`` elsewhere). Each galaxy's analysis is saved as it ends
(``<cache>/galaxy-<band>-<ident>.pkl``, ``runs/real_galaxies`` by default) and reused
when the settings match, so a stopped run resumes.
"""

import argparse
import json
import os
import pickle
import sys

import matplotlib

matplotlib.use("Agg")

from skgal._runs import machine, versions, write_atomically  # noqa: E402
from skgal.datasets import load_real_galaxies  # noqa: E402
from skgal.experiments import (analyse_real_galaxy, plot_real_galaxy_fits,  # noqa: E402
                               plot_real_galaxy_posteriors)

DOCS = os.path.join(os.path.dirname(__file__), "..", "docs", "_static", "real_galaxies")


def _interval(dist, j):
    marginal = dist.marginal(j)
    lo, mid, hi = (float(marginal.ppf(p)[0]) for p in (0.16, 0.5, 0.84))
    return lo, mid, hi


def _row(res):
    fq, nq = _interval(res.fit, 0), _interval(res.network, 0)
    fi, ni = _interval(res.fit, 1), _interval(res.network, 1)
    return {"ident": res.galaxy.ident, "band": res.galaxy.band,
            "magnitude": res.galaxy.magnitude, "cut": int(res.cut.shape[0]),
            "chi2_dof": res.chi2_dof, "chi2_dof_galaxy": res.chi2_dof_galaxy,
            "fit_q": fq, "network_q": nq, "fit_inclination": fi, "network_inclination": ni,
            "best": res.best, "at_prior_edge": res.at_prior_edge,
            "fit_seconds": res.seconds["fit"], "fit_calls": res.n_calls,
            "train_seconds": res.seconds["train"],
            "network_seconds": res.seconds["predict"]}


def _fmt(interval, digits):
    lo, mid, hi = interval
    return f"{mid:.{digits}f} (+{hi - mid:.{digits}f} / −{mid - lo:.{digits}f})"


def _table(rows, args, minutes, info):
    head = ["galaxy", "mag", "cut (px)", "χ²/dof", "χ²/dof on the galaxy",
            "best fit at the prior's edge", "q: fit", "q: network", "i: fit (°)",
            "i: network (°)", "fit (s)"]
    lines = [f".. list-table:: ``python benchmarks/real_galaxies.py --band {args.band} "
             f"--n-train {args.n_train} --epochs {args.epochs} --n-live {args.n_live}``: "
             f"{minutes:.0f} minutes on {info['cpu_count']} cores of {info['cpu']} (shared with "
             "another run), the noise's correlation modelled, the network's images "
             f"{'aligned' if args.align else 'as observed'}. Medians with the 16th and 84th "
             "percentiles.",
             "   :header-rows: 1", "", "   * - " + "\n     - ".join(head)]
    for r in rows:
        cells = [str(r["ident"]), f"{r['magnitude']:.1f}", str(r["cut"]),
                 f"{r['chi2_dof']:.2f}", f"{r['chi2_dof_galaxy']:.1f}",
                 ", ".join(f"{k} = {r['best'][k]:.2f}" for k in r["at_prior_edge"]) or "—",
                 _fmt(r["fit_q"], 2), _fmt(r["network_q"], 2), _fmt(r["fit_inclination"], 0),
                 _fmt(r["network_inclination"], 0), f"{r['fit_seconds']:.0f}"]
        lines.append("   * - " + "\n     - ".join(cells))
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--band", default="F814W", choices=("F814W", "F606W"))
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--n-live", type=int, default=75)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--align", action=argparse.BooleanOptionalAction, default=True,
                        help="show the network aligned images (skgal.AlignToMajorAxis)")
    parser.add_argument("--only", type=int, nargs="*", help="IDENTs to run (default: all)")
    parser.add_argument("--out", default=DOCS)
    parser.add_argument("--cache", default=os.path.join("runs", "real_galaxies"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.cache, exist_ok=True)
    settings = {k: getattr(args, k) for k in ("band", "n_train", "epochs", "n_live", "seed",
                                              "align")}
    analyses = []
    for galaxy in load_real_galaxies(args.band):
        if args.only and galaxy.ident not in args.only:
            continue
        path = os.path.join(args.cache, f"galaxy-{args.band}-{galaxy.ident}.pkl")
        res = None
        if os.path.exists(path):
            with open(path, "rb") as f:
                saved = pickle.load(f)
            res = saved["analysis"] if saved["settings"] == settings else None
        if res is None:
            res = analyse_real_galaxy(galaxy, n_train=args.n_train, epochs=args.epochs,
                                      n_live=args.n_live, random_state=args.seed,
                                      align=args.align,
                                      n_jobs=args.n_jobs, progress=True)
            write_atomically(path, lambda f, r=res: pickle.dump(
                {"settings": settings, "analysis": r}, f), mode="wb")
        analyses.append(res)
        row = _row(res)
        print(f"{galaxy.ident}: chi2/dof {row['chi2_dof']:.2f} ({row['chi2_dof_galaxy']:.1f} "
              f"on the galaxy), q fit {_fmt(row['fit_q'], 2)}, network "
              f"{_fmt(row['network_q'], 2)}, {row['fit_seconds']:.0f} s", flush=True)
    rows = [_row(res) for res in analyses]
    # the analyses' own time (simulating and training, fitting), so that a resumed
    # run reports what the whole took
    minutes = sum(r["train_seconds"] + r["fit_seconds"] for r in rows) / 60
    info = machine()
    with open(os.path.join(args.out, "table.rst"), "w") as f:
        f.write(_table(rows, args, minutes, info))
    for name, plot in (("fits.png", plot_real_galaxy_fits),
                       ("posteriors.png", plot_real_galaxy_posteriors)):
        fig = plot(analyses)
        fig.savefig(os.path.join(args.out, name), dpi=100)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"settings": settings, "rows": rows, "machine": info,
                   "versions": versions()}, f, indent=1, default=float)
    print(f"wrote {os.path.normpath(args.out)}")


if __name__ == "__main__":
    sys.exit(main())
