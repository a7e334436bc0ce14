"""Figures of the Observing page, drawn at build time."""

import matplotlib.pyplot as plt
import numpy as np

from skgal import CCDNoise, MoffatPSF, SersicGalaxySimulator, ToMagnitudes

GALAXY = np.array([[3.0, 5.0, 1.5, 0.3, 70.0, 30.0, 1.3, -0.8]])  # 8 columns, by position


def draw():
    ideal = SersicGalaxySimulator(output="flux").transform(GALAXY)
    blurred = SersicGalaxySimulator(output="flux", psf=MoffatPSF(fwhm=4.0, beta=3.0))
    flux = blurred.transform(GALAXY)
    noisy = CCDNoise(sky_level=20.0, gain=4.0, read_noise=5.0, random_state=1).transform(flux)
    mags = ToMagnitudes(kind="asinh").transform(noisy)
    top = ideal.max()
    panels = [(ideal[0, ..., 0], "ideal (flux)", (0, top)),
              (flux[0, ..., 0], "Moffat PSF, FWHM 4 px, β = 3", (0, top)),
              (noisy[0, ..., 0], "CCD noise (sky 20 ADU, gain 4)", (None, None)),
              (mags[0, ..., 0], "asinh magnitudes", (None, None))]
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.3))
    for ax, (image, title, (lo, hi)) in zip(axes, panels):
        cmap = "magma_r" if "magnitudes" in title else "magma"
        ax.imshow(image[16:48, 16:48], origin="lower", cmap=cmap, vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()


def draw_cropping():
    sim = SersicGalaxySimulator(output="flux", inclinations=(0, 90))
    X, _ = sim.sample(400, random_state=0)
    fraction = sim.light_fraction(sim.transform(X), X)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, j, title in zip(axes, (0, 1), ("face-on", "edge-on")):
        points = ax.scatter(X[:, 1], fraction[:, j], c=X[:, 2], s=8, cmap="viridis")
        ax.set_xlabel("$R_e$ (pixels)")
        ax.set_title(f"{title}, 64 × 64 stamp", fontsize=9)
    axes[0].set_ylabel("fraction of the light in the stamp")
    fig.colorbar(points, ax=axes, label="Sérsic $n$")
    fig.subplots_adjust(bottom=0.16)
