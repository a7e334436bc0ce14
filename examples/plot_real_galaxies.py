"""
Real galaxies: the network and the likelihood fit on five HST stamps
=====================================================================

Five galaxies of the AEGIS field imaged by HST's ACS in F814W ship with skgal
(GalSim's test data, BSD licence), each with its own PSF image and noise level. For
each one, :func:`skgal.experiments.analyse_real_galaxy`:

1. cuts the stamp to the network's input size around its light-weighted centre (here
   32 pixels for every galaxy, which crops the two large ones; by default the largest
   of 64, 48 and 32 that the stamp holds);
2. simulates under the stamp's conditions: 0.03″ pixels, that galaxy's PSF image,
   Gaussian noise of its variance with the correlation between pixels measured on the
   stamp's sky (drizzling correlates it), random orientations and centres, and a total
   light within a factor of a few of the stamp's;
3. trains a network with a bounded mixture head for ``(q, i)`` on those simulations
   (new noise every batch) and asks it about the stamp;
4. fits the same model to the stamp by nested sampling, which gives the posterior, the
   best-fit model, the residual and the χ² per degree of freedom.

A real galaxy is not a Sérsic disc times a Gaussian: it has a bulge, arms, clumps and
dust, and the drizzled noise is correlated between pixels. A χ²/dof well above 1 on
the galaxy and structure in the residual say where the model fails; there the
posterior of ``q`` is the model's answer, narrower than the truth allows, not the
galaxy's. The settings here are small so that the example runs in a few minutes:
500 training galaxies seen 3 times, and a fit of 25 live points stopped after 6,000
likelihood calls, before it has converged, so its posteriors are rougher and wider
than a full fit's. The :doc:`real-galaxies page <../real_galaxies>` shows a converged
run with larger settings and what it finds.
"""

import matplotlib.pyplot as plt

from skgal.datasets import load_real_galaxies
from skgal.experiments import (analyse_real_galaxy, plot_real_galaxy_fits,
                               plot_real_galaxy_posteriors)

galaxies = load_real_galaxies("F814W")
analyses = []
for galaxy in galaxies:
    res = analyse_real_galaxy(galaxy, image_size=32, n_train=500, epochs=3, n_live=25,
                              max_calls=6000, random_state=0)
    analyses.append(res)
    fit_q, net_q = res.fit.marginal(0), res.network.marginal(0)
    print(f"{galaxy.ident}: {res.cut.shape[0]} px, chi2/dof {res.chi2_dof:.2f} "
          f"({res.chi2_dof_galaxy:.1f} on the galaxy); q: fit {fit_q.mean()[0]:.2f} ± "
          f"{fit_q.std()[0]:.2f}, network {net_q.mean()[0]:.2f} ± {net_q.std()[0]:.2f}; "
          f"fit {res.seconds['fit']:.0f} s, network {res.seconds['predict'] * 1e3:.0f} ms")

# %%
# Stamps, best fits and residuals
# -------------------------------
# The residual is in units of the noise, from -5σ to 5σ: a good fit leaves noise.
plot_real_galaxy_fits(analyses)

# %%
# Posteriors of q and of the inclination
# --------------------------------------
# Each density is scaled to its peak. Where the fit's χ²/dof is near 1, its posterior
# is the model's best answer; the network, trained on few simulations here, stays
# near the prior. Where χ²/dof is large, neither is the galaxy's ``q``.
plot_real_galaxy_posteriors(analyses)
plt.show()
