"""Real galaxies analysed: for one observed stamp, simulations under its own conditions,
a network trained on them, the likelihood fit of the exact model, and the residuals
that say where the model fails.

The steps, for a :class:`~skgal.datasets.RealGalaxy`:

1. the stamp is cut to the training size around its light-weighted centre
   (:func:`~skgal.datasets.center_cutout`);
2. the forward model matches the stamp: its pixels, its PSF image, noise of its
   variance with the correlation between pixels measured on its sky, isotropic
   inclinations, uniform position angles, centre offsets within 2 pixels, and a prior
   on the *total light* uniform over a factor of six around the light in the cut
   (``flux_range``: a galaxy's brightness is what a stamp tells, its ``I_e`` only
   with its size and flattening);
3. a network with a bounded mixture head for ``(q, i)`` is trained on noiseless
   simulations seen through new noise every batch, each image moved to its light's
   centre and turned to its major axis (:class:`~skgal.AlignToMajorAxis`), and asked
   about the stamp, aligned the same way;
4. the same model is fitted to the stamp by nested sampling
   (:class:`~skgal.LikelihoodFitRegressor`), whose best fit gives the model image,
   the residual and the chi-square per degree of freedom.

This is the experiments layer: it imports the estimators, the datasets and plotting.
"""

import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ._align import AlignToMajorAxis
from ._benchmark import (I_BOUNDS, Q_BOUNDS, TRAINING_WORKERS, aligned_steps, fit_quietly,
                         joint_network)
from ._likelihood import LikelihoodFitRegressor
from ._noise import CorrelatedGaussianNoise, positive_definite_correlation
from ._profile import total_flux
from ._real import RealGalaxy, center_cutout
from .datasets import DatasetBatches, make_galaxy_dataset

__all__ = ["RealGalaxyAnalysis", "analyse_real_galaxy", "matching_forward_model",
           "plot_real_galaxy_fits", "plot_real_galaxy_posteriors", "stamp_size"]

#: the cut sizes tried, largest first: the largest that fits in the stamp is used
CUT_SIZES = (64, 48, 32)
#: the prior of the total light, as multiples of the light in the cut
FLUX_FACTORS = (0.5, 3.0)
#: the prior of R_e, pixels: from a PSF-sized core to half the cut
MIN_EFFECTIVE_RADIUS = 1.5
MAX_OFFSET = 2.0
#: the simulator's default prior of the Sérsic index, kept
SERSIC_RANGE = (0.5, 2.0)


def stamp_size(galaxy, sizes=CUT_SIZES):
    """The largest of ``sizes`` that the galaxy's stamp holds along both axes.

    Parameters
    ----------
    galaxy : RealGalaxy
    sizes : sequence of int, default=(64, 48, 32)

    Returns
    -------
    int

    Raises
    ------
    ValueError
        The stamp is smaller than every size.
    """
    side = min(galaxy.image.shape)
    fitting = [int(s) for s in sizes if int(s) <= side]
    if not fitting:
        raise ValueError(f"galaxy {galaxy.ident}: its stamp ({galaxy.image.shape[0]} x "
                         f"{galaxy.image.shape[1]} pixels) is smaller than every cut size "
                         f"{list(sizes)}")
    return max(fitting)


def matching_forward_model(galaxy, cut, *, random_state=0, n_jobs=None,
                           correlated_noise=True):
    """The forward model of a stamp's conditions, with a prior that matches its light.

    Parameters
    ----------
    galaxy : RealGalaxy
    cut : ndarray of shape (size, size)
        The stamp cut to the network's input size (:func:`center_cutout`).
    random_state : int, default=0
        The noise's seed.
    n_jobs : int, default=None
        Rendering threads.
    correlated_noise : bool, default=True
        Give the noise the correlation between pixels measured on the stamp's sky
        (:meth:`RealGalaxy.noise_correlation`, made valid by
        :func:`skgal.datasets.positive_definite_correlation`), or (False) make it white.

    Returns
    -------
    Pipeline
        ``render`` (flux, the galaxy's PSF, isotropic inclinations, uniform position
        angle, offsets within 2 pixels, ``R_e`` from 1.5 pixels to half the cut, the
        total light uniform in 0.5 to 3 times the cut's), ``noise`` (of the stamp's
        variance: a :class:`~skgal.CorrelatedGaussianNoise`, or white) and
        ``photometry`` (asinh magnitudes softened at the noise).

    Raises
    ------
    TypeError
        ``galaxy`` is not a :class:`~skgal.datasets.RealGalaxy`.
    ValueError
        A stamp with no positive light, no noise level, or a PSF on other pixels.
    """
    if not isinstance(galaxy, RealGalaxy):
        raise TypeError(f"galaxy must be a RealGalaxy (skgal.datasets.load_real_galaxies); "
                        f"got {type(galaxy).__name__}")
    cut = np.asarray(cut, dtype=np.float64)
    size = cut.shape[0]
    light = float(cut.sum())
    if not light > 0:
        raise ValueError(f"galaxy {galaxy.ident}: the cut holds no positive light "
                         f"({light!r}); is it the right stamp?")
    flux_range = (FLUX_FACTORS[0] * light, FLUX_FACTORS[1] * light)
    radii = (MIN_EFFECTIVE_RADIUS, size / 2.0)
    # I_e of those fluxes over the prior's shapes: what conditions() needs as a range
    extremes = [total_flux(1.0, r, n, q) for r in radii for n in SERSIC_RANGE for q in Q_BOUNDS]
    intensity = (flux_range[0] / max(extremes), flux_range[1] / min(extremes))
    conditions = galaxy.conditions(intensity_range=intensity)
    model = conditions.forward_model(image_size=size, max_offset=MAX_OFFSET,
                                     random_state=random_state)
    model["render"].set_params(flux_range=flux_range, effective_radius_range=radii,
                               sersic_index_range=SERSIC_RANGE, flattening_range=Q_BOUNDS,
                               n_jobs=n_jobs)
    if correlated_noise:
        white = model["noise"]
        rho = positive_definite_correlation(galaxy.noise_correlation().correlation,
                                            (size, size))
        model.set_params(noise=CorrelatedGaussianNoise(sigma=white.sigma, correlation=rho,
                                                       random_state=white.random_state))
    return model


@dataclass
class RealGalaxyAnalysis:
    """What :func:`analyse_real_galaxy` found for one stamp.

    Attributes
    ----------
    galaxy : RealGalaxy
    cut : ndarray (size, size)
        The stamp around its light-weighted centre, counts per pixel.
    offset : ndarray (2,)
        The light-weighted centre in the cut, ``(x, y)`` pixels from its centre.
    sigma : float
        The noise per pixel, counts.
    network, fit : MultivariateNormalMixture
        The posteriors of ``(q, inclination)``: the network's and the likelihood fit's.
    samples : ndarray (n_draws, p)
        The fit's posterior draws of ``parameter_names``.
    parameter_names : tuple of str
    best : dict
        The highest-likelihood parameters, ``I_e`` included.
    model : ndarray (size, size)
        The best fit's image.
    chi2_dof : float
        Chi-square of the best fit per degree of freedom, over the whole cut.
    chi2_dof_galaxy : float
        The same over the pixels where the model is brighter than the noise.
    seconds : dict
        ``simulate``, ``train``, ``predict`` and ``fit``.
    n_calls : int
        Likelihood evaluations of the fit.
    """

    galaxy: RealGalaxy
    cut: np.ndarray
    offset: np.ndarray
    sigma: float
    network: object
    fit: object
    samples: np.ndarray
    parameter_names: tuple
    best: dict
    model: np.ndarray
    chi2_dof: float
    chi2_dof_galaxy: float
    seconds: dict = field(default_factory=dict)
    n_calls: int = 0

    @property
    def residual(self):
        """The cut minus the best-fit model, counts per pixel."""
        return self.cut - self.model

    @property
    def at_prior_edge(self):
        """The best fit's parameters within 1% of their prior's range from its edge:
        where the model would go further if the prior let it, a sign that it does
        not describe the galaxy.

        Returns
        -------
        list of str
        """
        size = self.cut.shape[0]
        ranges = {"R_e": (MIN_EFFECTIVE_RADIUS, size / 2.0), "n": SERSIC_RANGE,
                  "q": Q_BOUNDS, "x_offset": (-MAX_OFFSET, MAX_OFFSET),
                  "y_offset": (-MAX_OFFSET, MAX_OFFSET)}
        edge = []
        for name, (lo, hi) in ranges.items():
            value = self.best.get(name)
            if value is not None and min(value - lo, hi - value) < 0.01 * (hi - lo):
                edge.append(name)
        return edge


def _network_model(model, align):
    """The forward model as the network sees it: aligned before the photometry."""
    return Pipeline(aligned_steps(model.steps)) if align else model


def _train_network(model, n_train, n_validation, epochs, seed, workdir, n_jobs, progress):
    path = os.path.join(workdir, "train.h5")
    make_galaxy_dataset(path, n_train, simulator=model["render"], n_jobs=n_jobs,
                        random_state=seed, progress=progress)
    observe = model[1:]  # noise (alignment) and photometry, reseeded for every batch
    source = DatasetBatches(path, transform=observe, targets=("q", "inclination"))
    X_val, _ = model["render"].sample(n_validation, random_state=np.random.RandomState(
        [seed, 1]))
    val_images = clone(model).set_params(noise__random_state=seed + 1).transform(X_val)
    y_val = X_val[["q", "inclination"]].to_numpy()
    net = joint_network(source, epochs=epochs, batch_size=64, random_state=seed,
                        label="network" if progress else None, workers=TRAINING_WORKERS)
    return fit_quietly(net, val_images, y_val)


def analyse_real_galaxy(galaxy, *, image_size=None, n_train=2000, n_validation=300,
                        epochs=15, n_live=75, max_calls=None, random_state=0, n_jobs=None,
                        workdir=None, progress=False, correlated_noise=True, align=True):
    """Train a network under a real stamp's conditions, fit the model to the stamp,
    and compare.

    Parameters
    ----------
    galaxy : RealGalaxy
        From :func:`skgal.datasets.load_real_galaxies`.
    image_size : int, default=None
        The cut and the network's input, pixels; ``None``: the largest of 64, 48 and 32
        that the stamp holds.
    n_train : int, default=2000
        Noiseless simulations the network is trained on (new noise every batch).
    n_validation : int, default=300
        Observed simulations that stop the training and set the recalibration.
    epochs : int, default=15
    n_live : int, default=75
        The nested sampler's live points.
    max_calls : int, default=None
        A budget of likelihood calls for the fit (``None``: the fit's own default).
    random_state : int, default=0
    n_jobs : int, default=None
        Rendering threads, and the fit's workers.
    workdir : str, default=None
        The folder in which a temporary folder holds the training set while the network
        trains (removed afterwards); the system's temporary folder when ``None``.
    progress : bool, default=False
    correlated_noise : bool, default=True
        Model the drizzled noise's correlation (:func:`matching_forward_model`) in the
        training and in the likelihood; False treats the noise as white (as the docs'
        first run did: its fits came out about twice too narrow).
    align : bool, default=True
        Show the network each image, simulated or real, moved to its light's centre
        and turned to its major axis (:class:`~skgal.AlignToMajorAxis`, after the noise),
        as the benchmark's networks are; the fit sees the stamp as it is.

    Returns
    -------
    RealGalaxyAnalysis

    Raises
    ------
    ValueError
        A stamp smaller than ``image_size``, no noise level, or a PSF image on
        other pixels than the stamp's.
    """
    size = stamp_size(galaxy) if image_size is None else int(image_size)
    cut, offset = center_cutout(galaxy.image, size)
    seed = int(random_state)
    model = matching_forward_model(galaxy, cut, random_state=seed, n_jobs=n_jobs,
                                   correlated_noise=correlated_noise)
    sigma = float(model["noise"].sigma)
    seconds = {}

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=workdir) as folder:
        net = _train_network(_network_model(model, align), n_train, n_validation, epochs,
                             seed, folder, n_jobs, progress)
    seconds["train"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    seen = cut[None, :, :, None]
    if align:
        seen = AlignToMajorAxis().fit_transform(seen)
    network = net.predict_distribution(model["photometry"].transform(seen))
    seconds["predict"] = time.perf_counter() - t0

    budget = {} if max_calls is None else {"max_calls": int(max_calls)}
    fit = LikelihoodFitRegressor(simulator=model["render"], noise=model["noise"],
                                 targets=("q", "inclination"), n_live=n_live,
                                 random_state=seed, **budget).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # dynesty's notes on its bounds
        post = fit.sample_posterior(cut[None])
    seconds["fit"] = float(post.seconds[0])
    names = tuple(fit.parameter_names_)
    best = dict(zip(("I_e",) + names, (float(v) for v in post.best[0])))
    image = model["render"].transform(pd.DataFrame([best]))[0, ..., 0].astype(np.float64)
    chi = (cut - image) / sigma
    dof = cut.size - len(best)
    bright = image > sigma
    chi2_galaxy = float(np.sum(chi[bright] ** 2) / max(int(bright.sum()) - len(best), 1))
    return RealGalaxyAnalysis(
        galaxy=galaxy, cut=cut, offset=offset, sigma=sigma, network=network,
        fit=fit.distribution_from_samples(post.samples), samples=post.samples[0],
        parameter_names=names, best=best, model=image,
        chi2_dof=float(np.sum(chi ** 2) / dof), chi2_dof_galaxy=chi2_galaxy,
        seconds=seconds, n_calls=int(post.n_calls[0]))


def plot_real_galaxy_fits(analyses):
    """Each stamp, its best-fit model and the residual in units of the noise.

    Parameters
    ----------
    analyses : sequence of RealGalaxyAnalysis

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(analyses), 3, figsize=(7.2, 2.35 * len(analyses)),
                             squeeze=False)
    for row, res in zip(axes, analyses):
        g = res.galaxy
        top = float(np.percentile(res.cut, 99.7))
        stretch = dict(origin="lower", cmap="magma", vmin=-2 * res.sigma, vmax=top)
        row[0].imshow(res.cut, **stretch)
        row[0].set_title(f"AEGIS {g.ident}, {g.band} = {g.magnitude:.1f}", fontsize=8)
        row[1].imshow(res.model, **stretch)
        row[1].set_title(f"best fit: q = {res.best['q']:.2f}, i = "
                         f"{res.best.get('inclination', float('nan')):.0f}°, "
                         f"n = {res.best['n']:.1f}", fontsize=8)
        row[2].imshow(res.residual / res.sigma, origin="lower", cmap="RdBu_r", vmin=-5,
                      vmax=5)
        row[2].set_title(f"residual / σ; χ²/dof {res.chi2_dof:.2f}, "
                         f"{res.chi2_dof_galaxy:.1f} on it", fontsize=8)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_real_galaxy_posteriors(analyses):
    """The network's and the fit's marginal posteriors of ``q`` and ``i`` per stamp,
    each density scaled to its peak (their widths differ by up to a hundredfold).

    Parameters
    ----------
    analyses : sequence of RealGalaxyAnalysis

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from scipy.special import expit

    # grids even in logit space, fine at the bounds where a posterior can pile up
    t = expit(np.linspace(-11.0, 11.0, 801))
    q_grid = Q_BOUNDS[0] + (Q_BOUNDS[1] - Q_BOUNDS[0]) * t
    i_grid = I_BOUNDS[0] + (I_BOUNDS[1] - I_BOUNDS[0]) * t
    fig, axes = plt.subplots(len(analyses), 2, figsize=(7.2, 1.9 * len(analyses)),
                             squeeze=False)
    for row, res in zip(axes, analyses):
        for label, dist, style in (("network", res.network, dict(color="C0")),
                                   ("likelihood fit", res.fit, dict(color="k", lw=2))):
            for ax, j, grid in ((row[0], 0, q_grid), (row[1], 1, i_grid)):
                marginal = dist.marginal(j)[np.zeros(grid.size, dtype=int)]
                density = np.nan_to_num(marginal.pdf(grid))
                peak = density.max()
                ax.plot(grid, density / peak if peak > 0 else density, label=label, **style)
        row[0].set_ylabel(f"{res.galaxy.ident}", fontsize=8)
        for ax in row:
            ax.set_yticks([])
    axes[-1][0].set_xlabel("flattening q")
    axes[-1][1].set_xlabel("inclination i (degrees)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig
