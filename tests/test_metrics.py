import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from skgal import MultivariateNormalMixture, Normal, NormalMixture
from skgal.metrics import (
    coverage,
    crps,
    crps_gaussian,
    gaussian_nll,
    hpd_coverage,
    interval_coverage,
    multi_target_report,
    negative_log_likelihood,
    nll_scorer,
    pit,
    pit_values,
    predictive_distribution,
    regression_report,
    sbc_ranks,
    scores_by_inclination,
    tarp_coverage,
    uniformity_test,
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
    assert report["n"] == 50
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


def test_known_values_of_rmse_bias_and_crps():
    # errors +0.1, -0.1, +0.3: bias 0.1, rmse sqrt(0.11 / 3)
    report = regression_report([0.3, 0.5, 0.2], [0.4, 0.4, 0.5], [0.1, 0.1, 0.1])
    assert report["bias"] == pytest.approx(0.1, rel=1e-12)
    assert report["rmse"] == pytest.approx(np.sqrt(0.11 / 3), rel=1e-12)
    # CRPS of N(m, s) at y = m is s (sqrt(2) - 1) / sqrt(pi); as s -> 0, |y - m|
    assert crps_gaussian([0.5], [0.5], [0.2]) == pytest.approx(
        0.2 * (np.sqrt(2) - 1) / np.sqrt(np.pi), rel=1e-12)
    assert crps_gaussian([0.5], [0.2], [1e-12]) == pytest.approx(0.3, rel=1e-9)
    # a point mass at m, as an equal mixture of two: CRPS = |y - m|
    assert crps([0.9], NormalMixture([[0.5, 0.5]], [[0.4, 0.4]], [[1e-12, 1e-12]])) == \
        pytest.approx(0.5, rel=1e-9)


def test_distribution_scores_equal_the_gaussian_closed_forms():
    dist = Normal(MEAN, STD)
    assert negative_log_likelihood(Y, dist) == pytest.approx(gaussian_nll(Y, MEAN, STD),
                                                             rel=1e-12)
    assert crps(Y, dist) == pytest.approx(crps_gaussian(Y, MEAN, STD), rel=1e-12)
    assert coverage(Y, dist, 0.68) == interval_coverage(Y, MEAN, STD, 0.68)
    np.testing.assert_allclose(pit(Y, dist), pit_values(Y, MEAN, STD), rtol=1e-12)
    assert regression_report(Y, dist) == pytest.approx(regression_report(Y, MEAN, STD))
    one = NormalMixture(np.ones((50, 1)), MEAN[:, None], STD[:, None])  # no fast path
    assert crps(Y, one) == pytest.approx(crps_gaussian(Y, MEAN, STD), rel=1e-10)


@pytest.mark.parametrize("bounds", [None, (0.2, 1.0)])
def test_mixture_crps_is_the_integral_of_its_definition(bounds):
    rng = np.random.RandomState(2)
    dist = NormalMixture(rng.dirichlet([1, 1, 1], 4), rng.normal(0.5 if bounds is None else 0,
                                                                 1, (4, 3)),
                         rng.uniform(0.05, 1.0, (4, 3)), bounds=bounds)
    y = np.array([0.3, 0.55, 0.8, 0.95])
    low, high = bounds if bounds else (-np.inf, np.inf)

    def quad(f, a, b):  # split near finite ends, where a logit-normal cdf can be sharp
        if not np.isfinite(a) or not np.isfinite(b):
            return integrate.quad(f, a, b, limit=400, epsabs=1e-13)[0]
        cuts = sorted({a + (b - a) * t for t in (0, 1e-6, 1e-4, 1e-2, 0.5, 0.99, 1 - 1e-4,
                                                 1 - 1e-6, 1)})
        return sum(integrate.quad(f, u, v, limit=400, epsabs=1e-14, epsrel=1e-12)[0]
                   for u, v in zip(cuts[:-1], cuts[1:]))

    for i in range(4):
        row = dist[i:i + 1]
        F = lambda x: row.cdf([x])[0]  # noqa: E731
        below = quad(lambda x: F(x) ** 2, low, y[i])
        above = quad(lambda x: (1 - F(x)) ** 2, y[i], high)
        assert crps(y[i:i + 1], row) == pytest.approx(below + above, rel=1e-7)


def test_crps_of_an_unbounded_recalibrated_distribution_is_its_integral():
    from skgal import QuantileRecalibrated

    base = Normal([0.1, -0.4, 2.0], [0.5, 1.5, 0.2])
    dist = QuantileRecalibrated(base, ([0, 0.1, 0.5, 0.8, 1], [0, 0.25, 0.5, 0.6, 1]))
    y = np.array([0.3, -3.0, 2.1])
    for i in range(3):
        row = dist[i:i + 1]
        F = lambda x: row.cdf([x])[0]  # noqa: E731
        below = integrate.quad(lambda x: F(x) ** 2, -np.inf, y[i], limit=400)[0]
        above = integrate.quad(lambda x: (1 - F(x)) ** 2, y[i], np.inf, limit=400)[0]
        assert crps(y[i:i + 1], row) == pytest.approx(below + above, rel=1e-6)
    identity = QuantileRecalibrated(base, ([0, 1], [0, 1]))
    assert crps(y, identity) == pytest.approx(crps(y, base), rel=1e-7)


def test_joint_scores_and_per_target_reports():
    rng = np.random.RandomState(0)
    tril = np.tile(np.array([[0.5, 0.0], [0.3, 0.4]]), (30, 1, 1, 1))
    dist = MultivariateNormalMixture(np.ones((30, 1)), rng.normal(0, 0.5, (30, 1, 2)), tril,
                                     bounds=[(0.2, 1.0), (0.0, 90.0)])
    y = np.column_stack([rng.uniform(0.3, 0.9, 30), rng.uniform(10, 80, 30)])
    report = multi_target_report(y, dist, target_names=["q", "inclination"])
    assert report["nll"] == pytest.approx(-np.mean(dist.logpdf(y)))
    assert report["q"]["nll"] == pytest.approx(-np.mean(dist.marginal(0).logpdf(y[:, 0])))
    assert 10 < report["inclination"]["rmse"] < 90
    with pytest.raises(ValueError, match="one target"):
        crps(y, dist)


def calibrated(n=3000, seed=1, width=1.0):
    """Predictions whose truths are drawn from them (width 1), or too narrow/wide ones."""
    rng = np.random.RandomState(seed)
    w = rng.dirichlet([2, 2], n)
    loc = rng.normal(0, 1, (n, 2))
    scale = rng.uniform(0.2, 0.8, (n, 2))
    truth = NormalMixture(w, loc, scale, bounds=(0.2, 1.0))
    y = truth.sample(1, random_state=rng)[:, 0]
    return y, truth.with_scale(width)


def test_sbc_ranks_and_pit_are_uniform_only_when_calibrated():
    y, dist = calibrated()
    ranks = sbc_ranks(y, dist, n_draws=99, random_state=0)
    assert ranks.min() >= 0 and ranks.max() <= 99
    assert uniformity_test(ranks, n_draws=99)["pvalue"] > 0.01
    assert uniformity_test(pit(y, dist))["ks_pvalue"] > 0.01
    y, narrow = calibrated(width=0.6)
    assert uniformity_test(sbc_ranks(y, narrow, random_state=0), n_draws=99)["pvalue"] < 1e-6
    assert uniformity_test(pit(y, narrow))["pvalue"] < 1e-6
    with pytest.raises(ValueError, match="ranks must be integers"):
        uniformity_test([0.5] * 10, n_draws=9)


def test_hpd_and_tarp_coverage_follow_the_diagonal_only_when_calibrated():
    y, dist = calibrated()
    levels, cov = hpd_coverage(y, dist, n_draws=400, random_state=0)
    assert np.max(np.abs(cov - levels)) < 0.04
    levels, cov = tarp_coverage(y, dist.sample(400, random_state=0), random_state=0)
    assert np.max(np.abs(cov - levels)) < 0.04
    y, wide = calibrated(width=1.8)
    levels, cov = hpd_coverage(y, wide, [0.5], n_draws=400, random_state=0)
    assert cov[0] > 0.6  # too wide: the 50% regions hold more than half the truths
    # joint (q, i) regions of a correlated bivariate prediction
    rng = np.random.RandomState(3)
    n = 2000
    tril = np.tile(np.array([[0.5, 0.0], [0.45, 0.2]]), (n, 1, 1, 1))
    joint = MultivariateNormalMixture(np.ones((n, 1)), rng.normal(0, 1, (n, 1, 2)), tril,
                                      bounds=[(0.2, 1.0), (0.0, 90.0)])
    y2 = joint.sample(1, random_state=4)[:, 0, :]
    levels, cov = hpd_coverage(y2, joint, [0.68, 0.95], n_draws=400, random_state=0)
    np.testing.assert_allclose(cov, levels, atol=0.03)
    # the right marginals without the correlation: the joint regions are wrong
    independent = MultivariateNormalMixture(
        joint.weights, joint.loc, np.tile(np.diag([0.5, np.hypot(0.45, 0.2)]), (n, 1, 1, 1)),
        joint.bounds)
    assert hpd_coverage(y2, independent, [0.38], n_draws=400, random_state=0)[1][0] > 0.45


def test_predictive_distribution_of_a_pipeline_and_of_return_std():
    from sklearn.linear_model import BayesianRidge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.linspace(0, 1, 30)[:, None]
    pipe = make_pipeline(StandardScaler(), BayesianRidge()).fit(X, X[:, 0])
    dist = predictive_distribution(pipe, X)
    np.testing.assert_allclose(dist.mean(), pipe.predict(X))
    with pytest.raises(TypeError, match="not both"):
        regression_report(Y, Normal(MEAN, STD), STD)
