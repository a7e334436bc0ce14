"""The figure of the model's geometry, drawn at docs build time (matplotlib plot directive)."""

import matplotlib.pyplot as plt
import numpy as np

from skgal import SersicGalaxySimulator


def draw():
    fig = plt.figure(figsize=(11, 6.4))
    grid = fig.add_gridspec(2, 4, height_ratios=[1.15, 1.0], hspace=0.35, wspace=0.6)

    # 1. side view: the disc tilted by i about its major axis (X, out of the page)
    ax = fig.add_subplot(grid[0, :2])
    i = np.radians(60)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_xlim(-2.3, 3.3)
    ax.set_ylim(-1.6, 1.6)
    # sky axes: y' up, line of sight s to the right (the observer is at +s, far away)
    ax.annotate("", xy=(0, 1.5), xytext=(0, -1.5), arrowprops=dict(arrowstyle="->", lw=1))
    ax.text(0.06, 1.45, "y' (sky)", va="top")
    ax.annotate("", xy=(3.0, 0), xytext=(-2.2, 0), arrowprops=dict(arrowstyle="->", lw=1))
    ax.text(3.0, -0.18, "s, towards the observer", ha="right")
    # the disc: its plane contains X (out of the page) and Y; Z is its axis
    Y = np.array([np.sin(i), np.cos(i)])  # where Z = 0, in (s, y') coordinates
    Z = np.array([np.cos(i), -np.sin(i)])
    t = np.linspace(-1.3, 1.3, 2)
    for off in np.linspace(-0.12, 0.12, 5):
        ax.plot(t * Y[0] + off * Z[0], t * Y[1] + off * Z[1], color="tab:orange", lw=3,
                alpha=0.35)
    ax.annotate("", xy=1.5 * Y, xytext=(0, 0),
                arrowprops=dict(arrowstyle="->", color="tab:orange", lw=1.5))
    ax.text(*(1.58 * Y), "Y (disc plane)", color="tab:orange")
    ax.annotate("", xy=0.9 * Z, xytext=(0, 0),
                arrowprops=dict(arrowstyle="->", color="tab:red", lw=1.5))
    ax.text(*(0.95 * Z + np.array([0.05, -0.12])), "Z (disc axis)", color="tab:red")
    arc = np.linspace(np.pi / 2 - i, np.pi / 2, 30)
    ax.plot(0.55 * np.cos(arc), 0.55 * np.sin(arc), color="k", lw=0.8)
    ax.text(0.22, 0.62, "i", fontsize=12)
    ax.text(-2.25, -1.55, "X = x' points out of the page (the major axis)\n"
            "Y = y' cos i + s sin i,   Z = s cos i - y' sin i", fontsize=9)
    ax.set_title("the tilt: i = 0 face-on, i = 90° edge-on", fontsize=11)

    # 2. the sky: pixel grid, centre, and the position angle
    ax = fig.add_subplot(grid[0, 2])
    n = 8
    for k in range(n + 1):
        ax.plot([k - n / 2, k - n / 2], [-n / 2, n / 2], color="0.85", lw=0.6)
        ax.plot([-n / 2, n / 2], [k - n / 2, k - n / 2], color="0.85", lw=0.6)
    pa = np.radians(30)
    ax.annotate("", xy=(3.6 * np.cos(pa), 3.6 * np.sin(pa)), xytext=(0, 0),
                arrowprops=dict(arrowstyle="->", color="tab:orange", lw=1.5))
    ax.text(1.2, 2.6, "major axis\n(x' direction)", color="tab:orange", fontsize=8)
    arc = np.linspace(0, pa, 20)
    ax.plot(1.6 * np.cos(arc), 1.6 * np.sin(arc), color="k", lw=0.8)
    ax.text(1.75, 0.35, "PA", fontsize=10)
    ax.annotate("", xy=(4.3, 0), xytext=(0, 0), arrowprops=dict(arrowstyle="->", lw=1))
    ax.annotate("", xy=(0, 4.3), xytext=(0, 0), arrowprops=dict(arrowstyle="->", lw=1))
    ax.text(4.3, -0.6, "x", ha="right")
    ax.text(-0.6, 4.0, "y")
    ax.plot(0, 0, "k+", ms=10)
    ax.set_xlim(-4.5, 4.6)
    ax.set_ylim(-4.5, 4.6)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("the sky: centre at the image centre\nx right (columns), y up (rows)",
                 fontsize=10)

    # 3. what pixel sampling changes: pixel mean / centre value along the middle row
    ax = fig.add_subplot(grid[0, 3])
    sim = SersicGalaxySimulator(image_size=32, output="flux", inclinations=(0,))
    r = np.arange(16) + 0.5
    for n in (0.5, 1.0, 2.0):
        X = np.array([[1.0, 5.0, n, 0.3]])
        centre = sim.set_params(sampling="center").transform(X)[0, 15, 16:, 0]
        pixel = sim.set_params(sampling="pixel").transform(X)[0, 15, 16:, 0]
        ax.plot(r, pixel / centre, "o-", ms=3, label=f"n = {n:g}")
    ax.axhline(1, color="0.6", lw=0.8)
    ax.set_xlabel("x (pixels), middle row")
    ax.set_ylabel("pixel mean / centre value")
    ax.set_title("face-on, R_e = 5", fontsize=10)
    ax.legend(fontsize=8)

    # 4. one galaxy at the four inclinations, in magnitudes
    sim = SersicGalaxySimulator(image_size=64)
    images = sim.transform([[0.6, 12.0, 1.0, 0.3]])[0]
    for c, incl in enumerate(sim.inclinations):
        ax = fig.add_subplot(grid[1, c])
        im = ax.imshow(images[:, :, c], origin="lower", cmap="magma_r", vmin=17, vmax=35)
        ax.set_title(f"i = {incl:g}°", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=fig.axes[-4:], shrink=0.8, label="mag / unit area")
    fig.text(0.5, 0.02, "I_e = 0.6, R_e = 12, n = 1, q = 0.3, PA = 0: SersicGalaxySimulator() "
             "defaults (64x64, pixel sampling, magnitudes clipped at 35)", ha="center",
             fontsize=9)

