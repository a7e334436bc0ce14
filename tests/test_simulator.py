import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from scipy import integrate, stats
from sklearn.preprocessing import FunctionTransformer

from skgal import SersicGalaxySimulator, sersic_emissivity, total_flux

SMALL = dict(image_size=8, pixel_scale=8.0)


def test_sample_draws_the_prior():
    sim = SersicGalaxySimulator(**SMALL)
    X, y = sim.sample(2000, random_state=0)
    assert X.shape == (2000, 4)
    np.testing.assert_array_equal(y, X[:, 3])
    for column, (lo, hi) in enumerate([(0.1, 1.0), (5.0, 30.0), (0.5, 2.0), (0.2, 1.0)]):
        assert lo <= X[:, column].min() < lo + 0.01 * (hi - lo)
        assert hi - 0.01 * (hi - lo) < X[:, column].max() <= hi


def test_flux_prior_draws_the_total_light_uniformly():
    # the light integrated by quadrature of the emissivity, not total_flux, checks
    # that I_e = flux / total_flux(1, ...) gives the drawn flux
    sim = SersicGalaxySimulator(**SMALL, flux_range=(2.0, 5.0))
    X, _ = sim.sample(2000, random_state=1)
    plain, _ = SersicGalaxySimulator(**SMALL).sample(2000, random_state=1)
    np.testing.assert_array_equal(X[:, 1:], plain[:, 1:])  # the same stream
    I_e, R_e, n, q = X[0]
    light, _ = integrate.dblquad(
        lambda z, R: 2 * np.pi * R * 2 * sersic_emissivity(
            R, z, intensity=I_e, effective_radius=R_e, sersic_index=n, flattening=q),
        0, 60 * R_e, 0, 20 * q * R_e, epsrel=1e-10)
    flux = 2.0 + 3.0 * np.random.RandomState(1).random_sample(4)[0]
    assert light == pytest.approx(flux, rel=1e-6)
    drawn = total_flux(*X.T)
    assert stats.kstest((drawn - 2.0) / 3.0, "uniform").pvalue > 0.01
    with pytest.raises(ValueError, match="flux_range"):
        SersicGalaxySimulator(flux_range=(3.0, 1.0)).sample(2)


def test_sample_is_seeded_and_a_stream():
    sim = SersicGalaxySimulator(**SMALL, random_state=7)
    np.testing.assert_array_equal(sim.sample(5)[0], sim.sample(5)[0])
    rng = np.random.RandomState(3)
    first, _ = sim.sample(3, random_state=rng)
    second, _ = sim.sample(4, random_state=rng)
    whole, _ = sim.sample(7, random_state=3)
    np.testing.assert_array_equal(np.vstack([first, second]), whole)


@pytest.mark.parametrize("mode", ["uniform", "isotropic"])
def test_random_inclinations(mode):
    sim = SersicGalaxySimulator(**SMALL, inclinations=mode)
    X, _ = sim.sample(4000, random_state=1)
    assert X.shape == (4000, 5)
    incl = X[:, 4]
    assert incl.min() >= 0 and incl.max() <= 90
    # uniform: mean 45 degrees; isotropic: cos i uniform, so mean cos i = 1/2
    if mode == "uniform":
        assert abs(incl.mean() - 45) < 1.5
    else:
        assert abs(np.cos(np.radians(incl)).mean() - 0.5) < 0.02
    images = sim.transform(X[:3])
    assert images.shape == (3, 8, 8, 1)
    with pytest.raises(ValueError, match="inclination"):
        sim.transform(X[:3, :4])


def test_transform_channels_follow_inclinations():
    sim = SersicGalaxySimulator(**SMALL, inclinations=(0, 45, 90), output="flux")
    X, _ = sim.sample(2, random_state=0)
    images = sim.transform(X)
    assert images.shape == (2, 8, 8, 3) and images.dtype == np.float32
    # one row with its own inclination renders the same as the matching channel
    own = sim.transform(np.column_stack([X, [45.0, 45.0]]))
    np.testing.assert_array_equal(own[..., 0], images[..., 1])
    # and a position angle column rotates it
    turned = sim.transform(np.column_stack([X, [45.0, 45.0], [90.0, 90.0]]))
    np.testing.assert_allclose(turned[0, :, :, 0], images[0, :, :, 1].T, rtol=1e-5)
    assert list(sim.get_feature_names_out()) == [
        "inclination_0", "inclination_45", "inclination_90"]


def test_magnitudes_are_finite_and_clipped():
    sim = SersicGalaxySimulator(image_size=16, pixel_scale=4.0, sampling="center")
    X = np.array([[0.1, 5.0, 0.5, 0.2]])  # compact: the image corners are far below 1e-4
    mags = sim.transform(X)
    assert np.all(np.isfinite(mags))
    assert mags.max() == pytest.approx(35.0)
    flux = sim.set_params(output="flux").transform(X)
    bright = flux > 1e-3
    np.testing.assert_allclose(mags[bright], 25.0 - 2.5 * np.log10(flux[bright]), rtol=1e-6)


def test_results_do_not_depend_on_n_jobs_or_backend():
    sim = SersicGalaxySimulator(**SMALL)
    X, _ = sim.sample(12, random_state=0)
    reference = sim.transform(X)
    np.testing.assert_array_equal(sim.set_params(n_jobs=2).transform(X), reference)
    with parallel_config(backend="loky"):
        np.testing.assert_array_equal(sim.set_params(n_jobs=2).transform(X), reference)


def test_pipeline_and_clone():
    sim = SersicGalaxySimulator(**SMALL)
    X, _ = sim.sample(3, random_state=0)
    pipe = Pipeline([("simulate", sim),
                     ("flatten", FunctionTransformer(lambda a: a.reshape(len(a), -1)))])
    assert pipe.fit_transform(X).shape == (3, 8 * 8 * 4)
    twin = clone(sim)
    np.testing.assert_array_equal(twin.transform(X), sim.transform(X))


@pytest.mark.parametrize("row, message", [
    ([np.nan, 10, 1, 0.5], "NaN"),
    ([np.inf, 10, 1, 0.5], "infinity"),
    ([-0.1, 10, 1, 0.5], "I_e"),
    ([0.5, 0.0, 1, 0.5], "R_e"),
    ([0.5, 10, -1, 0.5], "'n'"),
    ([0.5, 10, 1, 1.5], "'q'"),
    ([0.5, 10, 1, 0.0], "'q'"),
    ([0.5, 10, 1, 0.5, 91.0], "inclination"),
    ([0.5, 10, 1, 0.5, -1.0], "inclination"),
    ([0.5, 10, 1], "4 columns"),
    ([0.5, 10, 1, 0.5, 30, 0, 1], "4 columns"),
])
def test_bad_parameter_tables(row, message):
    sim = SersicGalaxySimulator(**SMALL)
    with pytest.raises(ValueError, match=message):
        sim.transform([row])


def test_bad_tables_of_other_kinds():
    sim = SersicGalaxySimulator(**SMALL)
    with pytest.raises(ValueError, match="0 sample"):
        sim.transform(np.empty((0, 4)))
    with pytest.raises(ValueError):
        sim.transform([["a", "b", "c", "d"]])
    with pytest.raises(ValueError, match="2D"):
        sim.transform([0.5, 10, 1, 0.5])


@pytest.mark.parametrize("params, message", [
    (dict(image_size=4), "image_size"),
    (dict(image_size=16.5), "image_size"),
    (dict(pixel_scale=0.0), "pixel_scale"),
    (dict(pixel_scale=-1.0), "pixel_scale"),
    (dict(sampling="middle"), "sampling"),
    (dict(output="counts"), "output"),
    (dict(inclinations=(0, 100)), r"\[0, 90\]"),
    (dict(inclinations=(np.nan,)), r"\[0, 90\]"),
    (dict(inclinations="random"), "uniform"),
    (dict(inclinations=()), "at least one"),
    (dict(flattening_range=(0.2, 1.5)), "flattening_range"),
    (dict(effective_radius_range=(-1, 5)), "effective_radius_range"),
    (dict(sersic_index_range=(2, 1)), "sersic_index_range"),
    (dict(intensity_range="wide"), "intensity_range"),
])
def test_bad_settings(params, message):
    sim = SersicGalaxySimulator(**params)
    with pytest.raises((ValueError, TypeError), match=message):
        sim.fit()
    with pytest.raises((ValueError, TypeError), match=message):
        sim.sample(2)


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_sample_sizes(n):
    with pytest.raises(ValueError, match="n_samples"):
        SersicGalaxySimulator().sample(n)
