"""Figures: galaxies, predictions, training curves and calibration (the thesis's Figs. 8-14)."""

import numpy as np

from .metrics import interval_coverage, pit_values


def plot_calibration(y_true, mean, std, *, axes=None, label=None, bins=20):
    """Calibration of Gaussian predictions: PIT histogram and interval coverage.

    Left: the histogram of PIT values, ``Phi((y - mean) / std)``. It is flat when the
    uncertainties are right, peaked in the middle when they are too wide, and
    U-shaped when they are too narrow. Right: the observed coverage of central
    intervals against the nominal coverage; the diagonal is perfect calibration, and
    a curve above it means under-confidence.

    Parameters
    ----------
    y_true, mean, std : array-like of shape (n_samples,)
        True values and predicted means and standard deviations.
    axes : sequence of two matplotlib Axes, default=None
        Where to draw; a new figure when None.
    label : str, default=None
        Legend label, to overlay several models on the same axes.
    bins : int, default=20
        Bins of the PIT histogram.

    Returns
    -------
    axes : ndarray of two Axes
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    axes = np.asarray(axes).ravel()
    pit = pit_values(y_true, mean, std)
    axes[0].hist(pit, bins=bins, range=(0, 1), density=True, histtype="step", lw=1.5,
                 label=label)
    axes[0].axhline(1.0, color="0.5", lw=0.8, ls="--")
    axes[0].set_xlabel("PIT = Phi((q - mean) / std)")
    axes[0].set_ylabel("density")
    axes[0].set_title("PIT histogram (flat = calibrated)")
    nominal = np.linspace(0.05, 0.95, 19)
    observed = [interval_coverage(y_true, mean, std, c) for c in nominal]
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


def _imshow(ax, image, *, vmin=None, vmax=None, cmap="magma_r"):
    im = ax.imshow(image, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def plot_galaxy(image, *, ax=None, isophotes=True, title=None, levels=8):
    """One image in magnitudes (origin lower: y up), with isophotes (thesis Fig. 8)."""
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
    """One galaxy at each inclination, on one colour scale (thesis Fig. 9)."""
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
    """A grid of galaxies (thesis Fig. 10); ``labels`` titles each panel."""
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

    ``color`` may be an array (the inclination of each galaxy, say), shown by colour.
    At most ``max_points`` galaxies are drawn, chosen evenly, to keep the plot legible.
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
    """Training (solid) and validation (dashed) NLL per epoch, per method (thesis Fig. 12)."""
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
