"""The reference run's predicted widths, by inclination, and its normalised residuals.

Drawn at build time from docs/_static/reference/predictions.npz (the reference run of
``skgal reproduce --preset paper``); the plot directive runs this in docs/figures/.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm


def draw(path="../_static/reference/predictions.npz"):
    saved = np.load(path)
    methods = saved["methods"].tolist()
    k = methods.index("random")
    q, mean, inclination = saved["q_true"], saved["mean"][k], saved["inclination"][k]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.9))

    ax = axes[0]
    for j, i in enumerate(np.unique(inclination)):
        seen = inclination == i
        ax.scatter(q[seen], saved["std_recalibrated"][k][seen], s=5, color=f"C{j}",
                   label=f"i = {i:g}°")
    ax.axhline(np.std(q), color="0.4", ls="--", lw=0.8)
    ax.text(0.21, np.std(q) * 1.04, "prior std", fontsize=8, color="0.3")
    ax.set_yscale("log")
    ax.set_xlabel("true q")
    ax.set_ylabel("predicted std (recalibrated)")
    ax.set_title("one random projection per galaxy: width by inclination", fontsize=10)
    ax.legend(fontsize=8, markerscale=2)

    ax = axes[1]
    z = np.linspace(-4, 4, 200)
    ax.plot(z, norm.pdf(z), color="k", lw=1, label="N(0, 1): calibrated")
    for name, key in (("as trained", "std"), ("recalibrated", "std_recalibrated")):
        residual = (q - mean) / saved[key][k]
        ax.hist(residual, bins=np.linspace(-4, 4, 41), density=True, histtype="step",
                lw=1.5, label=f"{name} (std of (q - mean) / std = {residual.std():.2f})")
    ax.set_xlabel("(q - mean) / std")
    ax.set_ylabel("density")
    ax.set_title("normalised residuals, all test galaxies", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
