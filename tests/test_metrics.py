import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from skgal.metrics import (
    crps_gaussian,
    gaussian_nll,
    interval_coverage,
    nll_scorer,
    pit_values,
    regression_report,
    scores_by_inclination,
)

RNG = np.random.RandomState(0)
Y = RNG.uniform(0.2, 1.0, 50)
MEAN = Y + RNG.normal(0, 0.1, 50)
STD = RNG.uniform(0.05, 0.3, 50)


def test_nll_is_minus_the_mean_log_density():
    expected = -np.mean(norm.logpdf(Y, MEAN, STD))
    assert gaussian_nll(Y, MEAN, STD) == pytest.approx(expected, rel=1e-12)


def test_crps_matches_its_definition():
    # CRPS = Int (F(x) - 1[x >= y])^2 dx, integrated numerically for a few points
    for y, m, s in zip(Y[:5], MEAN[:5], STD[:5]):
        below = integrate.quad(lambda x: norm.cdf(x, m, s) ** 2, -np.inf, y)[0]
        above = integrate.quad(lambda x: (1 - norm.cdf(x, m, s)) ** 2, y, np.inf)[0]
        assert crps_gaussian([y], [m], [s]) == pytest.approx(below + above, rel=1e-6)


def test_calibrated_predictions_cover_and_are_uniform():
    rng = np.random.RandomState(1)
    mean = rng.uniform(0, 1, 20000)
    std = rng.uniform(0.1, 0.5, 20000)
    y = rng.normal(mean, std)
    assert interval_coverage(y, mean, std, 0.68) == pytest.approx(0.68, abs=0.01)
    assert interval_coverage(y, mean, std, 0.95) == pytest.approx(0.95, abs=0.01)
    counts = np.histogram(pit_values(y, mean, std), bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - 2000) < 150)
    # twice too wide: over-covers
    assert interval_coverage(y, mean, 2 * std, 0.68) > 0.9


def test_report_and_breakdown_by_inclination():
    incl = np.repeat([0.0, 30.0], 25)
    report = regression_report(Y, MEAN, STD)
    assert report["n"] == 50 and report["rmse"] >= abs(report["bias"])
    assert report["mean_std"] == pytest.approx(np.mean(STD))
    parts = scores_by_inclination(Y, MEAN, STD, incl)
    assert list(parts) == [0.0, 30.0]
    assert parts[30.0]["nll"] == pytest.approx(gaussian_nll(Y[25:], MEAN[25:], STD[25:]))


def test_scorer_is_greater_for_better_models():
    class Fixed:
        def __init__(self, std):
            self.std = std

        def predict(self, X, return_std=False):
            return (X[:, 0], np.full(len(X), self.std)) if return_std else X[:, 0]

    X = MEAN[:, None]
    assert nll_scorer(Fixed(0.1), X, Y) > nll_scorer(Fixed(3.0), X, Y)
    assert nll_scorer(Fixed(0.1), X, Y) == pytest.approx(-gaussian_nll(Y, MEAN, 0.1 + 0 * Y))


@pytest.mark.parametrize("args, message", [
    (([1.0, 2.0], [1.0], [1.0]), "one length"),
    (([1.0], [1.0], [0.0]), "std must be > 0"),
    (([np.nan], [1.0], [1.0]), "finite"),
    (([], [], []), "empty"),
])
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        gaussian_nll(*args)
