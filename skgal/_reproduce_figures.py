"""The reproduction's figures: the thesis's Figs. 8-14, the isotropic method's
predictions and a calibration plot.

This module sits with the experiments: it imports the plotting functions.
"""

import os

import numpy as np

__all__ = ["write_figures"]


def write_figures(data, results, test, out_dir, *, seed):
    """The thesis's Figs. 8-14 and a calibration plot, as PNG files in ``out_dir``.

    Writes ``fig08_isophotes.png`` (a galaxy like the thesis's, q near 0.55, at 60
    degrees with isophotes), ``fig09_inclinations.png`` (it at the four inclinations),
    ``fig10_random_galaxies.png``, ``fig11_predictions_all.png``,
    ``fig12_loss_curves.png``, ``fig13_predictions_fixed.png``,
    ``fig14_predictions_random.png`` (coloured by inclination),
    ``isotropic_predictions.png`` (the isotropic method: the mean and standard deviation
    of its posterior of q, coloured by the true inclination) and ``calibration.png``
    (PIT and coverage, as trained and recalibrated). A figure whose method is not in
    ``results`` is skipped.

    Parameters
    ----------
    data : GalaxyDataset
        As returned by :func:`load_or_simulate`.
    results : dict
        ``{method: train_method(...)}``.
    test : array-like of int
        The test galaxies the results predict.
    out_dir : str or path-like
        Directory, created if needed; files of the same names are replaced.
    seed : int
        Seed of the galaxies drawn for Fig. 10.

    Returns
    -------
    list of str
        Paths of the files written.

    Examples
    --------
    >>> import os, tempfile
    >>> from skgal.experiments import load_or_simulate, split, train_method, write_figures
    >>> out = tempfile.mkdtemp()
    >>> data = load_or_simulate(out, n_galaxies=30, seed=0)
    >>> train, test = split(30, seed=0)
    >>> results = {"fixed-90": train_method(data, "fixed-90", train, test, epochs=1, seed=0)}
    >>> [os.path.basename(p) for p in write_figures(data, results, test, out, seed=0)]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['fig08_isophotes.png', 'fig09_inclinations.png', 'fig10_random_galaxies.png',
     'fig12_loss_curves.png', 'fig13_predictions_fixed.png', 'calibration.png']
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import (
        plot_calibration,
        plot_galaxy,
        plot_galaxy_grid,
        plot_inclinations,
        plot_loss_curves,
        plot_predictions,
    )

    os.makedirs(out_dir, exist_ok=True)
    incl = list(data.inclinations)
    q = data.target
    written = []

    def save(fig, name):
        fig.tight_layout()
        path = os.path.join(out_dir, name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    g = int(test[np.argmin(np.abs(q[test] - 0.55))])  # a galaxy like the thesis's q = 0.55
    fig, ax = plt.subplots(figsize=(4.4, 4.2))
    _, im = plot_galaxy(data.images[g, :, :, incl.index(60.0)], ax=ax,
                        title=f"galaxy {g}: q = {q[g]:.2f}, i = 60°")
    fig.colorbar(im, ax=ax, label="mag / unit area")
    save(fig, "fig08_isophotes.png")

    axes = plot_inclinations(data.images[g], incl,
                             title=f"galaxy {g} (q = {q[g]:.2f}) at the four inclinations")
    save(axes[0].figure, "fig09_inclinations.png")

    rng = np.random.RandomState(seed)
    picks = rng.choice(len(q), 8, replace=False)
    channels = rng.randint(len(incl), size=8)
    fig = plot_galaxy_grid(data.images[picks, :, :, channels],
                           [f"q = {q[p]:.2f}, i = {incl[c]:g}°" for p, c in zip(picks, channels)])
    save(fig, "fig10_random_galaxies.png")

    q_test = q[test]
    if "all" in results:
        fig, ax = plt.subplots(figsize=(4.6, 4.2))
        plot_predictions(q_test, results["all"]["mean"], results["all"]["std"], ax=ax,
                         title="all four projections")
        save(fig, "fig11_predictions_all.png")

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    # the thesis's methods: the NLL of q (isotropic's loss is of q and i together)
    plot_loss_curves({m: r["history"] for m, r in results.items() if m != "isotropic"},
                     ax=ax)
    save(fig, "fig12_loss_curves.png")

    fixed = [m for m in results if m.startswith("fixed-")]
    if fixed:
        fig, axes = plt.subplots(1, len(fixed), figsize=(3.6 * len(fixed), 3.6), squeeze=False)
        for ax, m in zip(axes[0], fixed):
            plot_predictions(q_test, results[m]["mean"], results[m]["std"], ax=ax,
                             title=f"i = {m[6:]}°")
        save(fig, "fig13_predictions_fixed.png")

    if "random" in results:
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
        plot_predictions(q_test, results["random"]["mean"], results["random"]["std"], ax=ax,
                         color=results["random"]["inclination"], color_label="inclination (°)",
                         title="one random projection per galaxy")
        save(fig, "fig14_predictions_random.png")

    if "isotropic" in results:
        fig, ax = plt.subplots(figsize=(5.2, 4.2))
        plot_predictions(q_test, results["isotropic"]["mean"],
                         results["isotropic"]["std_recalibrated"], ax=ax,
                         color=results["isotropic"]["inclination"],
                         color_label="true inclination (°)",
                         title="isotropic inclinations, not given (q and i inferred)")
        save(fig, "isotropic_predictions.png")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for m in [m for m in ("all", "random") if m in results]:
        for calibration, key in (("as trained", "std"), ("recalibrated", "std_recalibrated")):
            plot_calibration(q_test, results[m]["mean"], results[m][key], axes=axes,
                             label=f"{m}, {calibration}")
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=7)
    save(fig, "calibration.png")
    return written
