"""Figures: calibration of the predicted uncertainties (more come with the experiments)."""

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
