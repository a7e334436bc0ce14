"""The likelihood-fit peer: its marginal likelihood against quadrature, its renders
against the simulator's, its prior against the simulator's draws, and its posteriors
on galaxies whose answer is known."""

import math
import pickle
import warnings

import numpy as np
import pytest
from scipy import integrate
from sklearn.base import clone

from skgal import (CCDNoise, GaussianNoise, GaussianPSF, GaussianSNRNoise, ImagePSF,
                   LikelihoodFitRegressor, MoffatPSF, SersicGalaxySimulator,
                   observing_conditions, total_flux)
from skgal._likelihood import _Model, _inverse_variance, marginal_intensity_loglike
from skgal.metrics import nll_scorer


@pytest.fixture(autouse=True)
def _quiet_dynesty():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


@pytest.mark.parametrize("intensity_range", [(0.1, 1.0), (2.0, 3.0), (0.01, 0.02)])
def test_marginal_likelihood_matches_quadrature(intensity_range):
    # the analytic integral over I_e against adaptive quadrature of the Gaussian
    # likelihood; (2, 3) and (0.01, 0.02) put the best I_e far outside the range, in the
    # tails of the truncated Gaussian
    rng = np.random.default_rng(0)
    template = rng.random((6, 5))
    weight = 1.0 / (0.05 + 0.1 * rng.random((6, 5))) ** 2
    data = 0.6 * template + rng.normal(size=(6, 5)) / np.sqrt(weight)
    value, best = marginal_intensity_loglike(data, template, weight, intensity_range)
    a, b = intensity_range

    def loglike(i):
        r = data - i * template
        return float(-0.5 * np.sum(weight * r * r) + 0.5 * np.sum(np.log(weight / (2 * np.pi))))

    peak = max(loglike(a), loglike(b), loglike(min(max(0.6, a), b)))
    integral, _ = integrate.quad(lambda i: math.exp(loglike(i) - peak), a, b,
                                 epsabs=0, epsrel=1e-12, limit=200)
    reference = peak + math.log(integral / (b - a))
    assert value == pytest.approx(reference, abs=1e-8)
    grid = np.linspace(a, b, 20001)
    assert best == pytest.approx(grid[np.argmax([loglike(i) for i in grid])], abs=2e-4 * (b - a))


@pytest.mark.parametrize("psf", [MoffatPSF(fwhm=3.0, beta=3.0),
                                 ImagePSF(np.outer(np.hanning(9), np.hanning(9)) + 0.01, 1.0)])
def test_fit_renders_match_the_simulator(psf):
    # the fit's looser engine tolerance (1e-3) against the simulator's (1e-9): errors
    # far below any noise
    sim = SersicGalaxySimulator(image_size=24, psf=psf, output="flux",
                                inclinations="isotropic", position_angle="uniform",
                                max_offset=2.0)
    X, _ = sim.sample(4, random_state=3)
    X["I_e"] = 1.0
    exact = sim.transform(X)[..., 0].astype(np.float64)
    model = _Model(sim, 1e-3)
    for k in range(4):
        theta = X.iloc[k][list(model.names)].to_numpy()
        image = model.template(theta)
        assert np.max(np.abs(image - exact[k])) < 1e-5 * exact[k].max()


def test_flux_prior_is_marginalised_over_the_total_light():
    # with flux_range the evidence at fixed shape is the integral over the total flux F
    # uniform in the range, with I_e = F / total_flux(1, ...): checked by quadrature
    # of the Gaussian likelihood of the simulator's own image at each F
    sim = SersicGalaxySimulator(image_size=12, psf=GaussianPSF(2.0), output="flux",
                                inclinations=(40.0,), flux_range=(5.0, 20.0),
                                effective_radius_range=(2.0, 4.0))
    model = _Model(sim, 1e-3)
    theta = np.array([3.0, 1.2, 0.4])  # R_e, n, q
    unit = sim.transform([[1.0, *theta]])[0, ..., 0].astype(np.float64)
    per_flux = unit / total_flux(1.0, *theta)
    rng = np.random.default_rng(4)
    weight = np.full(unit.shape, 1.0 / 0.02 ** 2)
    data = 9.0 * per_flux + rng.normal(size=unit.shape) * 0.02
    value, best = marginal_intensity_loglike(data, model.template(theta), weight, model.intensity)

    def loglike(f):
        r = data - f * per_flux
        return float(-0.5 * np.sum(weight * r * r) + 0.5 * np.sum(np.log(weight / (2 * np.pi))))

    peak = loglike(9.0)
    integral, _ = integrate.quad(lambda f: math.exp(loglike(f) - peak), 5.0, 20.0,
                                 points=[9.0], epsabs=0, epsrel=1e-10, limit=200)
    assert value == pytest.approx(peak + math.log(integral / 15.0), abs=1e-4)
    assert best == pytest.approx(9.0, rel=0.05)


def test_prior_transform_is_the_simulators_prior():
    # the simulator draws one uniform per column, row-major; the transform of the same
    # uniforms (without the I_e column, which is marginalised) gives the same table
    sim = SersicGalaxySimulator(image_size=16, psf=GaussianPSF(2.0), inclinations="isotropic",
                                position_angle="uniform", max_offset=1.5,
                                effective_radius_range=(3.0, 6.0))
    X, _ = sim.sample(50, random_state=7, as_frame=True)
    u = np.random.RandomState(7).random_sample((50, 8))
    model = _Model(sim, 1e-3)
    assert model.names == tuple(X.columns[1:])
    assert model.periodic == [model.names.index("position_angle")]
    theta = np.array([model.prior_transform(row) for row in u[:, 1:]])
    np.testing.assert_allclose(theta, X.to_numpy()[:, 1:], rtol=1e-12, atol=1e-12)


def test_ccd_variance_is_the_noise_steps():
    noise = CCDNoise(sky_level=100.0, gain=2.0, read_noise=4.0)
    image = np.array([[0.0, 10.0], [-5.0, 50.0]])
    expected = (np.maximum(image, 0) + 100.0) / 2.0 + 4.0
    np.testing.assert_allclose(_inverse_variance(image, noise), 1.0 / expected)
    np.testing.assert_allclose(_inverse_variance(image, GaussianNoise(sigma=0.5)), 4.0)


def _edge_on_setup(inclination, sigma=0.01):
    sim = SersicGalaxySimulator(image_size=16, psf=GaussianPSF(fwhm=2.0), output="flux",
                                inclinations=(inclination,),
                                effective_radius_range=(4.0, 8.0))
    noise = GaussianNoise(sigma=sigma, random_state=1)
    X = np.array([[0.5, 6.0, 1.0, 0.3]])
    return sim, noise, X, noise.transform(sim.transform(X))


def test_recovers_q_of_an_inclined_galaxy():
    sim, noise, X, images = _edge_on_setup(80.0)
    # uniform draws from bootstrapped bounds: the quickest here (the default, random
    # walks, is tested below)
    fit = LikelihoodFitRegressor(simulator=sim, noise=noise, n_live=30, dlogz=1.0,
                                 sample="unif", random_state=0).fit()
    post = fit.sample_posterior(images)
    dist = fit.distribution_from_samples(post.samples)
    mean, std = dist.mean(), dist.std()
    assert std[0] < 0.05
    assert abs(mean[0] - 0.3) < 3 * std[0] + 0.01
    assert post.samples.shape == (1, 1000, 3)
    assert post.n_calls[0] > 0 and post.seconds[0] > 0 and post.ess[0] > 30
    # the best fit has the true I_e, R_e and n
    np.testing.assert_allclose(post.best[0][:3], [0.5, 6.0, 1.0], rtol=0.05)
    # scored like the network; deterministic, and a pickled fit gives the same answer
    again = pickle.loads(pickle.dumps(fit))
    assert nll_scorer(again, images, [0.3]) == float(dist.logpdf([0.3])[0])
    assert clone(fit).get_params()["n_live"] == 30


def test_face_on_leaves_q_uncertain():
    # face-on, the image fixes I_e q, not q: the posterior spans the prior
    sim, noise, X, images = _edge_on_setup(0.0)
    fit = LikelihoodFitRegressor(simulator=sim, noise=noise, n_live=30, dlogz=1.0,
                                 sample="unif", random_state=0).fit()
    dist = fit.predict_distribution(images)
    assert dist.std()[0] > 0.1
    low, high = dist.interval(0.95)
    assert low[0] < 0.3 < high[0] and high[0] - low[0] > 0.4


def test_joint_posterior_and_independence_of_batching():
    sim = SersicGalaxySimulator(image_size=12, psf=GaussianPSF(fwhm=2.0), output="flux",
                                inclinations="isotropic", effective_radius_range=(3.0, 5.0))
    noise = GaussianNoise(sigma=0.01, random_state=0)
    X, _ = sim.sample(2, random_state=0)
    images = noise.transform(sim.transform(X))
    fit = LikelihoodFitRegressor(simulator=sim, noise=noise, targets=("q", "inclination"),
                                 n_live=15, dlogz=5.0, max_calls=1500, n_draws=50,
                                 random_state=0).fit()
    both = fit.sample_posterior(images)
    alone = fit.set_params(n_jobs=2).sample_posterior(images[1:])
    np.testing.assert_array_equal(both.samples[1], alone.samples[0])
    dist = fit.distribution_from_samples(both.samples)
    assert dist.mean().shape == (2, 2)
    lo, hi = fit.target_bounds_[1]
    assert (lo, hi) == (0.0, 90.0)
    assert np.all(np.isfinite(dist.logpdf(np.c_[X[:, 3], X[:, 4]])))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(simulator=None), TypeError, "simulator"),
    (dict(simulator=GaussianNoise()), TypeError, "simulator"),
    (dict(noise=GaussianSNRNoise()), TypeError, "noise must be a GaussianNoise, a Correlated"),
    (dict(targets=("inclination",)), ValueError, "targets must be"),
    (dict(targets=("q", "inclination")), ValueError, "inclination is a target only"),
    (dict(sample="slice"), ValueError, "sample must be"),
])
def test_bad_settings(kwargs, error, match):
    params = dict(simulator=SersicGalaxySimulator(image_size=16, psf=GaussianPSF(2.0),
                                                  inclinations=(60.0,)),
                  noise=GaussianNoise(sigma=0.1))
    params.update(kwargs)
    with pytest.raises(error, match=match):
        LikelihoodFitRegressor(**params).fit()


def test_bad_forward_models_and_images():
    noise = GaussianNoise(sigma=0.1)
    with pytest.raises(ValueError, match="needs a PSF"):
        LikelihoodFitRegressor(simulator=SersicGalaxySimulator(image_size=16),
                               noise=noise).fit()
    with pytest.raises(ValueError, match="one image per galaxy"):
        LikelihoodFitRegressor(simulator=SersicGalaxySimulator(image_size=16,
                                                               psf=GaussianPSF(2.0)),
                               noise=noise).fit()
    fit = LikelihoodFitRegressor(simulator=observing_conditions("ground").forward_model(
        image_size=16)["render"], noise=noise).fit()
    with pytest.raises(ValueError, match="must be 16 x 16 pixels"):
        fit.predict(np.zeros((1, 12, 12)))
    with pytest.raises(ValueError, match="one image channel"):
        fit.predict(np.zeros((1, 16, 16, 2)))


RHO = np.array([[0.05, 0.2, 0.05], [0.3, 1.0, 0.3], [0.05, 0.2, 0.05]])


def _covariance_by_loops(rho, h, w):
    # independent of skgal's: pixel (y, x) against (y', x'), lag read from rho
    r = rho.shape[0] // 2
    cov = np.zeros((h * w, h * w))
    for a in range(h * w):
        for b in range(h * w):
            dy, dx = a // w - b // w, a % w - b % w
            if abs(dy) <= r and abs(dx) <= r:
                cov[a, b] = rho[dy + r, dx + r]
    return cov


def test_correlated_likelihood_is_the_multivariate_gaussian_marginalised_by_quadrature():
    from scipy.stats import multivariate_normal

    from skgal import CorrelatedGaussianNoise
    from skgal._likelihood import _image_loglike, _whitened

    sim = SersicGalaxySimulator(image_size=8, psf=GaussianPSF(2.0), output="flux",
                                inclinations=(50.0,), effective_radius_range=(2.0, 4.0),
                                intensity_range=(0.5, 2.0))
    model = _Model(sim, 1e-3)
    theta = np.array([3.0, 1.2, 0.4])
    template = model.template(theta)
    sigma = 0.03
    noise = CorrelatedGaussianNoise(sigma=sigma, correlation=RHO, random_state=3)
    data = noise.transform((1.2 * template)[None])[0].astype(np.float64)
    value, best = _image_loglike(model, theta, *_whitened(data, noise))
    cov = sigma ** 2 * _covariance_by_loops(RHO, 8, 8)

    def loglike(ie):
        return multivariate_normal(mean=ie * template.ravel(), cov=cov).logpdf(data.ravel())

    peak = loglike(1.2)
    integral, _ = integrate.quad(lambda ie: math.exp(loglike(ie) - peak), 0.5, 2.0,
                                 points=[1.2], epsrel=1e-10, limit=200)
    assert value == pytest.approx(peak + math.log(integral / 1.5), abs=1e-6)
    assert best == pytest.approx(1.2, rel=0.05)


def test_correlated_noise_has_its_covariance_and_is_a_function_of_each_galaxy():
    from skgal import CorrelatedGaussianNoise

    noise = CorrelatedGaussianNoise(sigma=2.0, correlation=RHO, random_state=1)
    images = np.arange(3000, dtype=float)[:, None, None] * np.ones((3000, 6, 7)) * 1e-3
    noisy, sigma = noise.draw(images)
    field = (noisy - images).reshape(3000, -1).astype(np.float64)
    empirical = field.T @ field / 3000
    expected = 4.0 * _covariance_by_loops(RHO, 6, 7)
    # 3000 draws: each entry within 5 standard errors (sd of a product ~ 4 sqrt(2) / sqrt(n))
    assert np.max(np.abs(empirical - expected)) < 5 * 4.0 * math.sqrt(2.0 / 3000)
    np.testing.assert_array_equal(sigma, 2.0)
    alone = noise.transform(images[17:18])
    np.testing.assert_array_equal(alone[0], noisy[17])
    two = noise.transform(np.stack([images[5], images[5]], axis=-1)[None])
    assert two.shape == (1, 6, 7, 2) and not np.allclose(two[..., 0], two[..., 1])


@pytest.mark.parametrize("correlation, error, match", [
    (np.ones((2, 2)), ValueError, "odd side"),
    ([[0.0, 0.5, 0.0], [0.5, 2.0, 0.5], [0.0, 0.5, 0.0]], ValueError, "1 at its centre"),
    ([[0.0, 0.5, 0.0], [0.1, 1.0, 0.5], [0.0, 0.5, 0.0]], ValueError, "symmetric"),
    ([[0.9, 0.9, 0.9], [0.9, 1.0, 0.9], [0.9, 0.9, 0.9]], ValueError, "positive definite"),
    ("white", ValueError, "'correlation' parameter"),
])
def test_bad_correlations_are_named(correlation, error, match):
    from skgal import CorrelatedGaussianNoise

    with pytest.raises(error, match=match):
        CorrelatedGaussianNoise(correlation=correlation).transform(np.zeros((1, 8, 8)))


def test_fit_with_correlated_noise_runs_and_is_wider_than_white():
    # the same correlated image fitted with its true covariance and as white noise of
    # the same variance: the white likelihood counts correlated pixels as independent,
    # so it is narrower
    from skgal import CorrelatedGaussianNoise

    sim = SersicGalaxySimulator(image_size=10, psf=GaussianPSF(fwhm=2.0), output="flux",
                                inclinations=(60.0,), effective_radius_range=(2.5, 4.0))
    rho = np.array([[0.2, 0.45, 0.2], [0.45, 1.0, 0.45], [0.2, 0.45, 0.2]])
    noise = CorrelatedGaussianNoise(sigma=0.05, correlation=rho, random_state=0)
    X, _ = sim.sample(1, random_state=2)
    images = noise.transform(sim.transform(X))
    widths = []
    for step in (noise, GaussianNoise(sigma=0.05)):
        fit = LikelihoodFitRegressor(simulator=sim, noise=step, n_live=25, dlogz=1.0,
                                     max_calls=2500, n_draws=200, random_state=0).fit()
        widths.append(fit.sample_posterior(images).samples[0, :, 2].std())
    assert widths[0] > widths[1] > 0


def test_a_measured_correlation_is_made_valid_and_kept_where_it_was():
    from skgal._noise import correlated_cholesky, positive_definite_correlation

    bad = np.array([[0.3, 0.55, 0.3], [0.55, 1.0, 0.55], [0.3, 0.55, 0.3]])
    with pytest.raises(ValueError, match="positive definite"):
        correlated_cholesky(bad, (12, 12))
    valid = positive_definite_correlation(bad, (12, 12))
    assert valid.shape == (23, 23) and valid[11, 11] == 1.0
    np.testing.assert_allclose(valid, valid[::-1, ::-1])
    assert np.all(np.linalg.eigvalsh(_covariance_by_loops(valid, 12, 12)) > 0)
    assert np.max(np.abs(valid[10:13, 10:13] - bad)) < 0.1
    # a valid one is kept (zero beyond its lags)
    kept = positive_definite_correlation(RHO, (10, 10))
    np.testing.assert_allclose(kept[8:11, 8:11], RHO, atol=1e-12)
    assert np.max(np.abs(kept[np.abs(np.arange(19) - 9) > 1])) < 1e-12
