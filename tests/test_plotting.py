import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from skgal.plotting import plot_calibration  # noqa: E402


def test_calibration_plot_draws_pit_and_coverage():
    rng = np.random.RandomState(0)
    mean = rng.uniform(0.2, 1, 500)
    std = np.full(500, 0.1)
    y = rng.normal(mean, std)
    axes = plot_calibration(y, mean, std, label="calibrated")
    plot_calibration(y, mean, 3 * std, axes=axes, label="too wide")
    assert len(axes) == 2
    coverage = axes[1].get_lines()
    # calibrated curve near the diagonal; the over-wide one above it
    calibrated = coverage[0].get_ydata()
    wide = coverage[2].get_ydata()
    assert np.max(np.abs(calibrated - np.linspace(0.05, 0.95, 19))) < 0.08
    assert np.all(wide[:-1] > calibrated[:-1])
    assert len(axes[0].patches) == 2  # one step histogram per model


def test_calibration_plots_take_distributions_ranks_and_coverage_curves():
    from skgal import NormalMixture
    from skgal.metrics import hpd_coverage, sbc_ranks
    from skgal.plotting import plot_coverage_curve, plot_rank_histogram

    rng = np.random.RandomState(0)
    dist = NormalMixture(rng.dirichlet([2, 2], 400), rng.normal(0, 1, (400, 2)),
                         rng.uniform(0.2, 0.8, (400, 2)), bounds=(0.2, 1.0))
    y = dist.sample(1, random_state=1)[:, 0]
    axes = plot_calibration(y, dist)
    assert np.max(np.abs(axes[1].get_lines()[0].get_ydata() - np.linspace(0.05, 0.95, 19))) \
        < 0.1
    ax = plot_rank_histogram(sbc_ranks(y, dist, n_draws=19, random_state=0), 19)
    assert "p = " in ax.get_title()
    assert len(ax.patches) >= 1
    levels, cov = hpd_coverage(y, dist, n_draws=200, random_state=0)
    ax = plot_coverage_curve(levels, cov, label="mixture", n_samples=400)
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), cov)
