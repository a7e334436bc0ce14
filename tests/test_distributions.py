"""Predictive distributions against scipy.stats and adaptive quadrature."""

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logit

from skgal import MultivariateNormalMixture, Normal, NormalMixture, QuantileRecalibrated


def random_mixture(n=4, k=3, bounds=None, seed=0):
    rng = np.random.RandomState(seed)
    w = rng.dirichlet(np.ones(k), size=n)
    loc = rng.normal(0, 1.5, (n, k))
    scale = rng.uniform(0.2, 1.5, (n, k))
    return NormalMixture(w, loc, scale, bounds=bounds)


def scipy_logpdf(d, i, y):
    """The mixture's density in y by the change of variables, written out with scipy."""
    w, loc, scale = d.weights[i], d.loc[i], d.scale[i]
    if d.bounds is None:
        return np.log(np.sum(w * stats.norm.pdf(y, loc, scale)))
    low, high = d.bounds
    u = (y - low) / (high - low)
    z = logit(u)
    return np.log(np.sum(w * stats.norm.pdf(z, loc, scale)) / ((high - low) * u * (1 - u)))


def quad(f, low, high):
    """Adaptive quadrature, split where a logit-normal density can be sharp (the edges)."""
    fractions = (0.0, 1e-6, 1e-4, 1e-2, 0.5, 1 - 1e-2, 1 - 1e-4, 1 - 1e-6, 1.0)
    edges = [low + (high - low) * f for f in fractions]
    return sum(integrate.quad(f, a, b, limit=500, epsabs=1e-13, epsrel=1e-12)[0]
               for a, b in zip(edges[:-1], edges[1:]))


def test_normal_matches_scipy():
    loc, scale = np.array([0.3, 0.5, 0.9]), np.array([0.05, 0.2, 1.0])
    d = Normal(loc, scale)
    y = np.array([0.31, 0.1, 2.0])
    np.testing.assert_allclose(d.logpdf(y), stats.norm.logpdf(y, loc, scale), rtol=1e-12)
    np.testing.assert_allclose(d.cdf(y), stats.norm.cdf(y, loc, scale), rtol=1e-12)
    np.testing.assert_allclose(d.ppf(0.9), stats.norm.ppf(0.9, loc, scale), rtol=1e-12)
    np.testing.assert_array_equal(d.mean(), loc)
    np.testing.assert_array_equal(d.std(), scale)
    lower, upper = d.interval(0.95)
    np.testing.assert_allclose(upper - loc, 1.959963985 * scale, rtol=1e-9)
    np.testing.assert_allclose(d.with_scale(2.0).std(), 2 * scale)
    sub = d[1:]
    assert isinstance(sub, Normal) and len(sub) == 2


@pytest.mark.parametrize("bounds", [None, (0.2, 1.0), (0.0, 90.0)])
def test_mixture_density_cdf_and_ppf(bounds):
    d = random_mixture(bounds=bounds)
    low, high = bounds if bounds else (-12.0, 12.0)
    for i in range(len(d)):
        row = d[i:i + 1]
        ys = np.linspace(low, high, 9)[1:-1]
        np.testing.assert_allclose([row.logpdf([y])[0] for y in ys],
                                   [scipy_logpdf(d, i, y) for y in ys], rtol=1e-10)
        # normalised, and the cdf is the integral of the density (adaptive quadrature)
        pdf = lambda y: row.pdf([y])[0]  # noqa: E731
        assert quad(pdf, low, high) == pytest.approx(1.0, abs=1e-10)
        mid = ys[2]
        assert row.cdf([mid])[0] == pytest.approx(quad(pdf, low, mid), abs=1e-10)
        # moments by quadrature
        mean = quad(lambda y: y * pdf(y), low, high)
        var = quad(lambda y: (y - mean) ** 2 * pdf(y), low, high)
        assert row.mean()[0] == pytest.approx(mean, rel=1e-7, abs=1e-9)
        assert row.std()[0] == pytest.approx(np.sqrt(var), rel=1e-6)
    p = np.array([0.01, 0.3, 0.5, 0.97])
    np.testing.assert_allclose(d.cdf(d.ppf(p)), p, atol=1e-12)


def test_bounded_mixture_has_no_mass_outside_its_bounds():
    d = random_mixture(bounds=(0.2, 1.0))
    assert np.all(d.logpdf([0.1, 0.2, 1.0, 1.5]) == -np.inf)
    np.testing.assert_array_equal(d.cdf([0.1, 0.2, 1.0, 2.0]), [0, 0, 1, 1])
    np.testing.assert_array_equal(d.ppf(0.0), 0.2)
    np.testing.assert_array_equal(d.ppf(1.0), 1.0)
    draws = d.sample(2000, random_state=0)
    assert draws.shape == (4, 2000) and np.all((draws > 0.2) & (draws < 1.0))


def test_samples_follow_the_distribution():
    d = random_mixture(bounds=(0.2, 1.0), seed=3)
    draws = d.sample(4000, random_state=1)
    for i in range(len(d)):
        row = d[i:i + 1]
        result = stats.kstest(draws[i], lambda v: np.array(
            [row.cdf([x])[0] for x in np.atleast_1d(v)]))
        assert result.pvalue > 1e-3
    np.testing.assert_allclose(draws.mean(axis=1), d.mean(), atol=0.01)
    np.testing.assert_array_equal(d.sample(5, random_state=7), d.sample(5, random_state=7))


def test_mixture_validates_its_parameters():
    with pytest.raises(ValueError, match="one shape"):
        NormalMixture([[1.0]], [[0.0, 1.0]], [[1.0]])
    with pytest.raises(ValueError, match="scale"):
        NormalMixture([[1.0]], [[0.0]], [[0.0]])
    with pytest.raises(ValueError, match="sum to 1"):
        NormalMixture([[0.5, 0.2]], [[0.0, 1.0]], [[1.0, 1.0]])
    with pytest.raises(ValueError, match="low < high"):
        NormalMixture([[1.0]], [[0.0]], [[1.0]], bounds=(1.0, 0.2))
    with pytest.raises(ValueError, match="probabilities"):
        Normal([0.0], [1.0]).ppf(1.5)
    with pytest.raises(ValueError, match="rows"):
        Normal([0.0], [1.0]).logpdf([0.0, 1.0])


def test_multivariate_mixture_against_scipy_with_jacobians():
    rng = np.random.RandomState(0)
    n, k = 3, 2
    w = rng.dirichlet(np.ones(k), size=n)
    loc = rng.normal(0, 1, (n, k, 2))
    tril = np.tril(rng.normal(0, 0.4, (n, k, 2, 2)))
    tril[..., [0, 1], [0, 1]] = rng.uniform(0.3, 1.0, (n, k, 2))
    bounds = [(0.2, 1.0), None]
    d = MultivariateNormalMixture(w, loc, tril, bounds=bounds)
    y = np.column_stack([rng.uniform(0.25, 0.95, n), rng.normal(0, 1, n)])
    z = np.column_stack([logit((y[:, 0] - 0.2) / 0.8), y[:, 1]])
    for i in range(n):
        dens = sum(w[i, c] * stats.multivariate_normal.pdf(z[i], loc[i, c],
                                                           tril[i, c] @ tril[i, c].T)
                   for c in range(k))
        jac = 1 / (0.8 * ((y[i, 0] - 0.2) / 0.8) * (1 - (y[i, 0] - 0.2) / 0.8))
        assert d.logpdf(y)[i] == pytest.approx(np.log(dens * jac), rel=1e-10)
    # the marginal of the bounded target is the joint integrated over the other
    row = d[0:1]
    for q in (0.3, 0.7):
        joint = integrate.quad(lambda t: np.exp(row.logpdf(np.array([[q, t]]))[0]),
                               -np.inf, np.inf)[0]
        assert row.marginal(0).pdf([q])[0] == pytest.approx(joint, rel=1e-7)
    draws = d.sample(20000, random_state=0)
    assert draws.shape == (n, 20000, 2)
    np.testing.assert_allclose(draws.mean(axis=1), d.mean(), atol=0.03)
    np.testing.assert_allclose(draws.std(axis=1), d.std(), rtol=0.03)
    lower, upper = d.interval(0.68)
    assert lower.shape == (n, 2) and np.all(lower < upper)
    assert np.all(d.logpdf(np.array([[1.2, 0.0]] * n)) == -np.inf)


def test_multivariate_validates():
    with pytest.raises(ValueError, match="scale_tril"):
        MultivariateNormalMixture([[1.0]], [[[0.0, 0.0]]], np.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="positive diagonal"):
        MultivariateNormalMixture([[1.0]], [[[0.0, 0.0]]], np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="one entry per target"):
        MultivariateNormalMixture([[1.0]], [[[0.0, 0.0]]], np.eye(2)[None, None],
                                  bounds=[None])
    d = MultivariateNormalMixture([[1.0]], [[[0.0, 0.0]]], np.eye(2)[None, None])
    with pytest.raises(ValueError, match="target index"):
        d.marginal(2)
    assert isinstance(d.marginal(1), Normal)


def test_distributions_round_trip_through_arrays(tmp_path):
    from skgal._distributions import from_arrays, to_arrays

    rng = np.random.RandomState(0)
    tril = np.tril(rng.uniform(0.2, 0.5, (3, 2, 2, 2)))
    cases = [Normal([0.5, 0.6], [0.1, 0.2]), random_mixture(bounds=(0.2, 1.0)),
             random_mixture(), MultivariateNormalMixture(rng.dirichlet([1, 1], 3),
                                                         rng.normal(0, 1, (3, 2, 2)), tril,
                                                         bounds=[(0.2, 1.0), None]),
             QuantileRecalibrated(random_mixture(bounds=(0.2, 1.0)),
                                  ([0, 0.3, 0.7, 1], [0, 0.2, 0.9, 1]))]
    for dist in cases:
        np.savez(tmp_path / "d.npz", **to_arrays(dist))
        with np.load(tmp_path / "d.npz") as saved:
            back = from_arrays(dict(saved))
        assert type(back) is type(dist)
        y = dist.sample(1, random_state=0)[:, 0]
        np.testing.assert_array_equal(back.logpdf(y), dist.logpdf(y))


def test_quantile_recalibration_is_a_proper_distribution_that_fixes_coverage():
    from skgal import QuantileRecalibrated
    from skgal._distributions import quantile_knots

    rng = np.random.RandomState(0)
    # too narrow predictions of a bounded target: the truth is drawn 1.6x wider
    truth = NormalMixture(rng.dirichlet([2, 2], 4000), rng.normal(0, 1, (4000, 2)),
                          rng.uniform(0.2, 0.6, (4000, 2)), bounds=(0.2, 1.0))
    y = truth.sample(1, random_state=1)[:, 0]
    narrow = truth.with_scale(1 / 1.6)
    half = 2000
    knots = quantile_knots(narrow[:half].cdf(y[:half]))
    fixed = QuantileRecalibrated(narrow[half:], knots)
    for level in (0.5, 0.68, 0.95):
        lower, upper = fixed.interval(level)
        cover = np.mean((lower <= y[half:]) & (y[half:] <= upper))
        assert cover == pytest.approx(level, abs=0.03)
    lower, upper = narrow[half:].interval(0.68)
    assert np.mean((lower <= y[half:]) & (y[half:] <= upper)) < 0.6  # before: far too few
    assert np.mean(-fixed.logpdf(y[half:])) < np.mean(-narrow[half:].logpdf(y[half:]))
    row = fixed[0:1]
    # the density R'(F) f integrates to 1: quadrature between the knots' images, where
    # the slope of R changes
    edges = np.concatenate([[0.2], [row.ppf(v)[0] for v in knots[1][1:-1]], [1.0]])

    def integral(f):
        return sum(integrate.quad(f, a, b, limit=200)[0] for a, b in zip(edges[:-1], edges[1:]))

    assert integral(lambda v: row.pdf([v])[0]) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(row.cdf(row.ppf(np.array([0.3]))), [0.3], atol=1e-9)
    assert row.mean()[0] == pytest.approx(integral(lambda v: v * row.pdf([v])[0]), abs=1e-4)
    with pytest.raises(ValueError, match="knots"):
        QuantileRecalibrated(narrow, ([0, 0.5, 0.4, 1], [0, 0.3, 0.6, 1]))


def test_tabulated_is_exact_for_a_triangle():
    # a piecewise-linear density is represented exactly: scipy's triangular law
    from scipy import stats

    from skgal import Tabulated

    grid = np.array([0.2, 0.5, 1.0])
    law = stats.triang(c=0.3 / 0.8, loc=0.2, scale=0.8)
    dist = Tabulated(grid, [law.pdf(grid) * 7.0] * 3)  # any scale: rows are normalised
    y = np.array([0.25, 0.5, 0.93])
    np.testing.assert_allclose(dist.pdf(y), law.pdf(y), rtol=1e-12)
    np.testing.assert_allclose(dist.cdf(y), law.cdf(y), rtol=1e-12)
    np.testing.assert_allclose(dist.ppf(np.array([0.1, 0.375, 0.9])),
                               law.ppf([0.1, 0.375, 0.9]), rtol=1e-12)
    np.testing.assert_allclose(dist.mean(), law.mean(), rtol=1e-12)
    np.testing.assert_allclose(dist.std(), law.std(), rtol=1e-12)
    assert np.all(np.isneginf(dist.logpdf([0.1, 1.2, 0.5])[:2]))
    np.testing.assert_array_equal(dist.cdf([0.1, 1.2, 1.0]), [0.0, 1.0, 1.0])


def test_tabulated_round_trip_sampling_and_crps():
    from scipy import integrate

    from skgal import Tabulated
    from skgal._distributions import from_arrays, to_arrays
    from skgal.metrics import crps

    grid = np.linspace(0.0, 1.0, 201)
    dist = Tabulated(grid, [np.exp(-0.5 * ((grid - 0.4) / 0.1) ** 2), 1 + grid])
    again = from_arrays(to_arrays(dist))
    np.testing.assert_array_equal(again.density, dist.density)
    draws = dist.sample(4000, random_state=0)
    assert abs(draws[1].mean() - dist.mean()[1]) < 0.02
    # the CRPS by its definition, integrated by quadrature
    y = 0.7
    reference = integrate.quad(lambda x: (dist[1:].cdf([x])[0] - (x >= y)) ** 2, 0, 1,
                               points=[y], limit=200)[0]
    assert crps([y], dist[1:]) == pytest.approx(reference, rel=1e-6)


def test_mixture_of_predictions_averages_their_densities():
    from scipy import stats

    from skgal._distributions import mixture_of

    a = NormalMixture([[0.3, 0.7], [1.0, 0.0]], [[-1.0, 0.5], [0.0, 1.0]],
                      [[0.4, 0.8], [1.0, 2.0]], bounds=(0.2, 1.0))
    b = NormalMixture([[1.0], [1.0]], [[0.2], [-0.3]], [[0.6], [0.5]], bounds=(0.2, 1.0))
    mixed = mixture_of([a, b])
    y = np.array([0.45, 0.8])
    np.testing.assert_allclose(mixed.pdf(y), 0.5 * (a.pdf(y) + b.pdf(y)), rtol=1e-12)
    np.testing.assert_allclose(mixed.cdf(y), 0.5 * (a.cdf(y) + b.cdf(y)), rtol=1e-12)
    # unbounded normals: the average of two scipy densities
    mixed = mixture_of([Normal([0.0, 1.0], [1.0, 2.0]), Normal([1.0, 1.0], [0.5, 1.0])])
    expected = 0.5 * (stats.norm(0.0, 1.0).pdf(0.3) + stats.norm(1.0, 0.5).pdf(0.3))
    assert mixed.pdf(np.array([0.3, 0.3]))[0] == pytest.approx(expected, rel=1e-12)
    # joint predictions keep their covariances
    tril = np.array([[[[0.5, 0.0], [0.2, 0.3]]], [[[0.4, 0.0], [-0.1, 0.6]]]])
    c = MultivariateNormalMixture([[1.0], [1.0]], [[[0.1, 0.2]], [[0.0, -0.5]]], tril,
                                  bounds=[(0.2, 1.0), (0.0, 90.0)])
    d = MultivariateNormalMixture([[1.0], [1.0]], [[[-0.4, 0.3]], [[0.2, 0.1]]], tril,
                                  bounds=[(0.2, 1.0), (0.0, 90.0)])
    yq = np.array([[0.5, 40.0], [0.7, 70.0]])
    np.testing.assert_allclose(mixture_of([c, d]).pdf(yq), 0.5 * (c.pdf(yq) + d.pdf(yq)),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="same bounds"):
        mixture_of([a, NormalMixture([[1.0], [1.0]], [[0.0], [0.0]], [[1.0], [1.0]])])
    with pytest.raises(TypeError, match="must all be NormalMixture"):
        mixture_of([a, c])
