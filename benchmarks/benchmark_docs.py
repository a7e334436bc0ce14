"""Copy a ``skgal benchmark`` run's table and figures into the docs.

    python benchmarks/benchmark_docs.py benchmark-ground-paper

writes ``docs/_static/benchmark/table.rst`` (a list-table of ``benchmark.csv`` with the
machine and the time of each part of the run) and copies ``figures/*.png`` and
``results.json`` beside it.
"""

import csv
import json
import os
import shutil
import sys

DOCS = os.path.join(os.path.dirname(__file__), "..", "docs", "_static", "benchmark")
HEADERS = {"contestant": "contestant", "galaxies": "galaxies", "nll": "NLL of q",
           "joint_nll": "NLL of (q, i)", "rmse": "RMSE", "coverage_68": "68%",
           "coverage_95": "95%", "seconds_per_galaxy": "s / galaxy", "n": "n"}


def main(run):
    with open(os.path.join(run, "results.json")) as f:
        results = json.load(f)
    with open(os.path.join(run, "benchmark.csv")) as f:
        rows = list(csv.DictReader(f))
    settings = results["settings"]
    machine = results["machine"]
    # the parts' own times: a resumed run's total counts only its last process
    seconds, fit = results["seconds"], results["likelihood"]
    trained = " and ".join(f"{seconds[k] / 60:.0f}" for k in sorted(seconds)
                           if k.startswith("train "))
    n_fit = settings["preset"]["n_fit"]
    lines = [f".. list-table:: ``skgal benchmark --preset {settings.get('preset_name', 'quick')} "
             f"--conditions {settings['conditions']}`` on {machine['cpu_count']} cores of "
             f"{machine['cpu']}: the networks trained in {trained} minutes, the "
             f"{n_fit} likelihood fits took {fit['seconds_per_galaxy']:.0f} s each on one "
             f"core ({fit['calls_per_galaxy']:,.0f} likelihood calls, "
             f"{fit['calls_per_second']:.0f} a second)",
             "   :header-rows: 1", "", "   * - " + "\n     - ".join(HEADERS.values())]
    for row in rows:
        cells = []
        for key in HEADERS:
            value = row[key]
            if key == "seconds_per_galaxy" and value:
                value = f"{float(value):.2g}"
            cells.append(value or "—")
        lines.append("   * - " + "\n     - ".join(cells))
    os.makedirs(DOCS, exist_ok=True)
    with open(os.path.join(DOCS, "table.rst"), "w") as f:
        f.write("\n".join(lines) + "\n")
    shutil.copy(os.path.join(run, "results.json"), os.path.join(DOCS, "results.json"))
    for name in os.listdir(os.path.join(run, "figures")):
        shutil.copy(os.path.join(run, "figures", name), os.path.join(DOCS, name))
    print(f"wrote {os.path.normpath(DOCS)}")


if __name__ == "__main__":
    main(sys.argv[1])
