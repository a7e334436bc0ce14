"""Figures: galaxies, predictions, training curves and calibration (the thesis's Figs. 8-14).

Every function draws into matplotlib axes it is given, or into a new figure, and
returns what it drew on, so figures can be composed and restyled. Images are shown
with ``origin="lower"`` (y up, as in the docs' geometry figure) and brighter pixels
darker: in magnitudes, smaller is brighter.
"""

import numpy as np

from .metrics import coverage, pit, uniformity_test
from .metrics import _distribution as _as_distribution

__all__ = [
    "plot_calibration",
    "plot_coverage_curve",
    "plot_rank_histogram",
    "plot_galaxy",
    "plot_galaxy_grid",
    "plot_inclinations",
    "plot_loss_curves",
    "plot_predictions",
]


def plot_calibration(y_true, mean, std=None, *, axes=None, label=None, bins=20):
    """Calibration of predictions: PIT histogram and interval coverage.

    Left: the histogram of PIT values, ``F(y)`` (``Phi((y - mean) / std)`` for a
    Gaussian). It is flat when the
    uncertainties are right, peaked in the middle when they are too wide, and
    U-shaped when they are too narrow. Right: the observed coverage of central
    intervals against the nominal coverage; the diagonal is perfect calibration, and
    a curve above it means under-confidence.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values.
    mean : array-like of shape (n_samples,), or a PredictiveDistribution
        Predicted means (with ``std``), or the predictions themselves.
    std : array-like of shape (n_samples,), default=None
        Predicted standard deviations, with ``mean``.
    axes : sequence of two matplotlib Axes, default=None
        Where to draw; a new figure when None.
    label : str, default=None
        Legend label, to overlay several models on the same axes.
    bins : int, default=20
        Bins of the PIT histogram.

    Returns
    -------
    axes : ndarray of two Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skgal.plotting import plot_calibration
    >>> rng = np.random.default_rng(0)
    >>> mean = rng.uniform(0.2, 1.0, 500)
    >>> q = mean + 0.05 * rng.standard_normal(500)
    >>> axes = plot_calibration(q, mean, np.full(500, 0.05), label="calibrated")
    >>> _ = plot_calibration(q, mean, np.full(500, 0.10), axes=axes, label="too wide")
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    axes = np.asarray(axes).ravel()
    y_true, dist = _as_distribution(y_true, mean, std)
    axes[0].hist(pit(y_true, dist), bins=bins, range=(0, 1), density=True, histtype="step", lw=1.5,
                 label=label)
    axes[0].axhline(1.0, color="0.5", lw=0.8, ls="--")
    axes[0].set_xlabel("PIT = F(q)")
    axes[0].set_ylabel("density")
    axes[0].set_title("PIT histogram (flat = calibrated)")
    nominal = np.linspace(0.05, 0.95, 19)
    observed = [coverage(y_true, dist, c) for c in nominal]
    axes[1].plot(nominal, observed, "o-", ms=3, label=label)
    axes[1].plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--")
    axes[1].set_xlabel("nominal coverage of central interval")
    axes[1].set_ylabel("observed coverage")
    axes[1].set_title("coverage (above diagonal = too wide)")
    axes[1].set_xlim(0, 1)
    axes[1].set_ylim(0, 1)
    if label is not None:
        axes[1].legend(fontsize=8)
    return axes


def plot_rank_histogram(ranks, n_draws, *, ax=None, label=None, n_bins=None):
    """Simulation-based calibration: the histogram of ranks, with the band of uniformity.

    The grey band holds 99% of the bin counts that uniform ranks would give
    (binomial), so bars outside it are evidence of miscalibration: a slope is a bias,
    a U too narrow predictions, a hump too wide ones. The title gives the chi-square
    p-value of :func:`skgal.metrics.uniformity_test`.

    Parameters
    ----------
    ranks : array-like of int, shape (n_samples,)
        From :func:`skgal.metrics.sbc_ranks` (one target).
    n_draws : int
        The draws behind the ranks.
    ax : matplotlib Axes, default=None
    label : str, default=None
        Legend label.
    n_bins : int, default=None
        As in :func:`skgal.metrics.uniformity_test`.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skgal.plotting import plot_rank_histogram
    >>> ranks = np.random.RandomState(0).randint(0, 100, 1000)
    >>> ax = plot_rank_histogram(ranks, 99)
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt
    from scipy.stats import binom

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.4))
    ranks = np.asarray(ranks).reshape(-1)
    test = uniformity_test(ranks, n_draws=n_draws, n_bins=n_bins)
    k = test["n_bins"]
    edges = np.linspace(0, n_draws + 1, k + 1)
    lo, hi = binom.ppf([0.005, 0.995], ranks.size, 1 / k)
    ax.axhspan(lo, hi, color="0.85", lw=0, label="99% band if uniform")
    ax.stairs(test["counts"], edges, lw=1.5, label=label)
    ax.set_xlabel(f"rank of the true value among {n_draws} draws")
    ax.set_ylabel("galaxies")
    ax.set_title(f"SBC ranks (chi-square p = {test['pvalue']:.2g})", fontsize=10)
    ax.set_xlim(0, n_draws + 1)
    ax.legend(fontsize=8)
    return ax


def plot_coverage_curve(levels, observed, *, ax=None, label=None, n_samples=None):
    """Expected coverage against credibility level: the diagonal is calibration.

    For :func:`skgal.metrics.hpd_coverage` or :func:`skgal.metrics.tarp_coverage`. A
    curve above the diagonal means too wide (under-confident) predictions, below it
    too narrow ones. With ``n_samples``, a grey band shows the 95% binomial scatter of
    a calibrated model's coverage.

    Parameters
    ----------
    levels, observed : array-like
        Credibility levels and observed coverages.
    ax : matplotlib Axes, default=None
    label : str, default=None
    n_samples : int, default=None
        Galaxies behind each coverage, for the band.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skgal.plotting import plot_coverage_curve
    >>> levels = np.linspace(0.05, 0.95, 19)
    >>> ax = plot_coverage_curve(levels, levels ** 0.9, label="a bit wide", n_samples=500)
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    levels = np.asarray(levels, dtype=float)
    if n_samples:
        half = 1.96 * np.sqrt(levels * (1 - levels) / n_samples)
        ax.fill_between(levels, levels - half, levels + half, color="0.85", lw=0)
    ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--")
    ax.plot(levels, observed, "-", lw=1.5, label=label)
    ax.set_xlabel("credibility level")
    ax.set_ylabel("expected coverage")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    if label is not None:
        ax.legend(fontsize=8)
    return ax


def _imshow(ax, image, *, vmin=None, vmax=None, cmap="magma_r"):
    im = ax.imshow(image, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def plot_galaxy(image, *, ax=None, isophotes=True, title=None, levels=8):
    """One image in magnitudes (origin lower: y up), with isophotes (thesis Fig. 8).

    Parameters
    ----------
    image : array-like of shape (H, W)
        One channel, in magnitudes per unit area.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    isophotes : bool, default=True
        Draw ``levels`` contours of constant surface brightness, from the brightest
        pixel to the 90th percentile of the pixels above the floor.
    title : str, default=None
        Axes title.
    levels : int, default=8
        Number of isophotes.

    Returns
    -------
    ax : matplotlib Axes
    image : matplotlib AxesImage
        For a colour bar: ``fig.colorbar(image, ax=ax)``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skgal import SersicGalaxySimulator
    >>> from skgal.plotting import plot_galaxy
    >>> sim = SersicGalaxySimulator(image_size=32, inclinations=(60.0,)).fit()
    >>> images = sim.transform([[1.0, 8.0, 1.0, 0.3]])  # I_e, R_e, n, q
    >>> ax, im = plot_galaxy(images[0, :, :, 0], title="q = 0.3, i = 60°")
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    image = np.asarray(image)
    im = _imshow(ax, image)
    if isophotes:
        finite = image[image < image.max()]
        if finite.size:
            ax.contour(image, levels=np.linspace(image.min(), np.percentile(finite, 90), levels),
                       colors="k", linewidths=0.6, alpha=0.7)
    if title:
        ax.set_title(title, fontsize=10)
    return ax, im


def plot_inclinations(stack, inclinations, *, axes=None, title=None):
    """One galaxy at each inclination, on one colour scale (thesis Fig. 9).

    Parameters
    ----------
    stack : array-like of shape (H, W, C)
        One galaxy's images, one channel per inclination, in magnitudes.
    inclinations : sequence of float
        The inclination of each channel, degrees (for the titles).
    axes : sequence of C matplotlib Axes, default=None
        Where to draw; a new row of panels when None.
    title : str, default=None
        Figure title (only for a new figure).

    Returns
    -------
    axes : ndarray of Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skgal import SersicGalaxySimulator
    >>> from skgal.plotting import plot_inclinations
    >>> sim = SersicGalaxySimulator(image_size=32).fit()  # i = 0, 30, 60, 90
    >>> stack = sim.transform([[1.0, 8.0, 1.0, 0.3]])[0]  # I_e, R_e, n, q
    >>> axes = plot_inclinations(stack, sim.inclinations, title="q = 0.3")
    >>> len(axes)
    4
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    stack = np.asarray(stack)
    if axes is None:
        fig, axes = plt.subplots(1, stack.shape[-1], figsize=(3 * stack.shape[-1], 3.2))
        if title:
            fig.suptitle(title)
    vmin, vmax = stack.min(), stack.max()
    for k, ax in enumerate(np.ravel(axes)):
        _imshow(ax, stack[..., k], vmin=vmin, vmax=vmax)
        ax.set_title(f"i = {inclinations[k]:g}°", fontsize=10)
    return axes


def plot_galaxy_grid(images, labels=None, *, ncols=4):
    """A grid of galaxies (thesis Fig. 10), each on its own colour scale.

    Parameters
    ----------
    images : array-like of shape (n_images, H, W)
        Images in magnitudes.
    labels : sequence of str, default=None
        A title for each panel.
    ncols : int, default=4
        Panels per row; unused panels of the last row are blank.

    Returns
    -------
    fig : matplotlib Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skgal import SersicGalaxySimulator
    >>> from skgal.plotting import plot_galaxy_grid
    >>> sim = SersicGalaxySimulator(image_size=32, inclinations=(60.0,)).fit()
    >>> params, q = sim.sample(6, random_state=0)
    >>> fig = plot_galaxy_grid(sim.transform(params)[..., 0],
    ...                        [f"q = {v:.2f}" for v in q], ncols=3)
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.8 * nrows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k < len(images):
            _imshow(ax, images[k])
            if labels is not None:
                ax.set_title(labels[k], fontsize=8)
        else:
            ax.axis("off")
    return fig


def plot_predictions(y_true, mean, std=None, *, ax=None, color=None, title=None, cmap="viridis",
                     color_label=None, max_points=400):
    """Predicted against true q, with 1-sigma error bars (thesis Figs. 11, 13 and 14).

    Parameters
    ----------
    y_true, mean : array-like of shape (n_samples,)
        True and predicted ``q``.
    std : array-like of shape (n_samples,), default=None
        Predicted standard deviations, drawn as error bars.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    color : color or array-like of shape (n_samples,), default=None
        One matplotlib colour, or a value per galaxy (its inclination, say) shown
        through ``cmap`` with a colour bar.
    title : str, default=None
        Axes title.
    cmap : str, default="viridis"
        Colour map for an array ``color``.
    color_label : str, default=None
        Label of the colour bar.
    max_points : int, default=400
        At most this many galaxies are drawn, chosen evenly, to keep the plot legible.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from skgal.plotting import plot_predictions
    >>> rng = np.random.default_rng(0)
    >>> q = rng.uniform(0.2, 1.0, 200)
    >>> inclination = rng.choice([0, 30, 60, 90], 200)
    >>> std = np.where(inclination == 0, 0.2, 0.05)
    >>> mean = q + std * rng.standard_normal(200)
    >>> ax = plot_predictions(q, mean, std, color=inclination,
    ...                       color_label="inclination (°)")
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4))
    y_true, mean = np.asarray(y_true), np.asarray(mean)
    keep = np.linspace(0, len(y_true) - 1, min(max_points, len(y_true))).astype(int)
    if std is not None:
        ax.errorbar(y_true[keep], mean[keep], yerr=np.asarray(std)[keep], fmt="none",
                    ecolor="0.75", elinewidth=0.6, zorder=1)
    if color is not None and np.ndim(color) > 0:
        sc = ax.scatter(y_true[keep], mean[keep], c=np.asarray(color)[keep], s=8, cmap=cmap,
                        zorder=2)
        plt.colorbar(sc, ax=ax, label=color_label)
    else:
        ax.scatter(y_true[keep], mean[keep], s=8, color=color, zorder=2)
    lo, hi = min(y_true.min(), mean.min()), max(y_true.max(), mean.max())
    ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--")
    ax.set_xlabel("true q")
    ax.set_ylabel("predicted q")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_loss_curves(histories, *, ax=None):
    """Training (solid) and validation (dashed) NLL per epoch, per method (thesis Fig. 12).

    Parameters
    ----------
    histories : dict
        ``{label: history}``, where ``history`` maps ``"loss"`` (and optionally
        ``"val_loss"``) to per-epoch values, as in
        :attr:`skgal.ProbabilisticQRegressor.history_`.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from skgal.plotting import plot_loss_curves
    >>> histories = {"i = 60": {"loss": [-0.5, -1.2, -1.6], "val_loss": [-0.8, -1.3, -1.5]},
    ...              "i = 90": {"loss": [-0.4, -1.1, -1.5]}}
    >>> ax = plot_loss_curves(histories)
    >>> len(ax.lines)  # two curves, then one
    3
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for k, (name, history) in enumerate(histories.items()):
        color = f"C{k}"
        epochs = np.arange(1, len(history["loss"]) + 1)
        ax.plot(epochs, history["loss"], color=color, label=name)
        if "val_loss" in history:
            ax.plot(epochs, history["val_loss"], color=color, ls="--")
    ax.set_xlabel("epoch")
    ax.set_ylabel("NLL (solid: training, dashed: validation)")
    ax.legend(fontsize=8)
    return ax
