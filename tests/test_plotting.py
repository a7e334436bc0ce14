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
