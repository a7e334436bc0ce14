"""Figure of the Likelihood fit page, drawn at build time: the joint posterior of q and
the inclination for one galaxy seen nearly face-on and the same galaxy seen inclined."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from skgal import GaussianNoise, GaussianPSF, LikelihoodFitRegressor, SersicGalaxySimulator

COLUMNS = ["I_e", "R_e", "n", "q", "inclination"]


def draw():
    warnings.simplefilter("ignore", UserWarning)  # dynesty's bound-enlargement notes
    sim = SersicGalaxySimulator(image_size=20, psf=GaussianPSF(fwhm=2.5), output="flux",
                                inclinations="isotropic", effective_radius_range=(3.0, 8.0))
    X = pd.DataFrame([[0.5, 5.0, 1.0, 0.4, 20.0], [0.5, 5.0, 1.0, 0.4, 70.0]],
                     columns=COLUMNS)
    noise = GaussianNoise(sigma=0.4, random_state=2)  # peak signal-to-noise about 25
    images = noise.transform(sim.transform(X))
    fit = LikelihoodFitRegressor(simulator=sim, noise=noise, targets=("q", "inclination"),
                                 n_live=60, sample="unif", random_state=0).fit()
    post = fit.sample_posterior(images)
    dist = fit.distribution_from_samples(post.samples)
    q_grid = np.linspace(0.2, 1.0, 400)
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.1),
                             gridspec_kw={"width_ratios": [0.8, 1.2, 0.8, 1.2]})
    iq, ii = fit.parameter_names_.index("q"), fit.parameter_names_.index("inclination")
    for k in range(2):
        ax_img, ax_post = axes[2 * k], axes[2 * k + 1]
        ax_img.imshow(images[k, ..., 0], origin="lower", cmap="magma")
        ax_img.set_title(f"i = {X.inclination[k]:.0f}°, q = {X.q[k]}", fontsize=9)
        ax_img.set_xticks([])
        ax_img.set_yticks([])
        draws = post.samples[k]
        ax_post.scatter(draws[:, ii], draws[:, iq], s=3, alpha=0.4, color="C0",
                        label="posterior draws")
        ax_post.plot(X.inclination[k], X.q[k], "r*", ms=11, label="truth")
        density = dist.marginal(0)[np.full(q_grid.size, k)].pdf(q_grid)
        ax_post.plot(90 - 25 * density / density.max(), q_grid, color="C1",
                     label="p(q | image)")
        ax_post.set(xlim=(0, 90), ylim=(0.2, 1.0), xlabel="inclination (degrees)",
                    ylabel="q")
        ax_post.legend(fontsize=7, loc="upper left")
    fig.tight_layout()


if __name__ == "__main__":
    draw()
    plt.savefig("/tmp/likelihood.png")
