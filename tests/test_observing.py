"""Noise and photometry steps: statistics, determinism, limits and errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline

from skgal import CCDNoise, GaussianSNRNoise, SersicGalaxySimulator, ToMagnitudes


def galaxies(n=6, size=16, seed=0):
    sim = SersicGalaxySimulator(image_size=size, pixel_scale=2.0, sampling="center",
                                output="flux", inclinations=(30, 90))
    X, _ = sim.sample(n, random_state=seed)
    return X, sim.transform(X).astype(np.float64)


def test_ccd_noise_has_the_ccd_variance():
    flat = np.full((4, 64, 64), 30.0)
    sky, gain, read = 120.0, 2.5, 5.0
    noisy, sigma = CCDNoise(sky_level=sky, gain=gain, read_noise=read,
                            random_state=1).draw(flat, seeds=np.arange(4))
    expected = (30.0 + sky) / gain + (read / gain) ** 2
    # 16384 pixels: 5 standard errors of the variance (1.1%) and of the mean (0.0625)
    assert noisy.var() == pytest.approx(expected, rel=0.055)
    assert noisy.mean() == pytest.approx(30.0, abs=0.32)  # sky-subtracted, unbiased
    np.testing.assert_allclose(sigma, math.sqrt(sky / gain + (read / gain) ** 2))


def test_poisson_noise_follows_the_galaxy():
    # without sky and read noise the variance is image / gain, pixel by pixel
    image = np.tile(np.linspace(0.0, 400.0, 32), (2000, 1, 1))
    noisy, _ = CCDNoise(gain=4.0, random_state=3).draw(image, seeds=np.arange(2000))
    np.testing.assert_allclose(noisy.var(axis=0)[0, 8:], image[0, 0, 8:] / 4.0, rtol=0.1)
    assert np.all(noisy[:, 0, 0] == 0)  # a zero mean draws zero photons


def test_identical_images_share_noise_unless_seeded():
    image = np.full((2, 8, 8), 5.0)
    step = GaussianSNRNoise(snr=10.0, random_state=0)
    same = step.transform(image)
    np.testing.assert_array_equal(same[0], same[1])
    seeded, _ = step.draw(image, seeds=[0, 1])
    assert not np.array_equal(seeded[0], seeded[1])
    with pytest.raises(ValueError, match="seeds must be 2 integers"):
        step.draw(image, seeds=[0.5, 1.5])


def test_snr_noise_follows_great08():
    _, images = galaxies()
    noisy, sigma = GaussianSNRNoise(snr=25.0, random_state=0).draw(images)
    power = np.sqrt((images ** 2).sum(axis=(1, 2)))
    np.testing.assert_allclose(sigma, power / 25.0)
    residual = (noisy - images) / sigma[:, None, None, :]
    assert residual.std() == pytest.approx(1.0, abs=0.03)


def test_snr_range_is_drawn_log_uniformly():
    image = np.ones((3000, 4, 4))
    image *= np.arange(3000)[:, None, None] + 1.0  # distinct images, distinct seeds
    _, sigma = GaussianSNRNoise(snr=(10.0, 1000.0), random_state=0).draw(image)
    nu = 4.0 * (np.arange(3000) + 1.0) / sigma
    assert 10.0 <= nu.min() and nu.max() <= 1000.0
    assert np.median(np.log10(nu)) == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("step", [CCDNoise(sky_level=50.0, random_state=7),
                                  GaussianSNRNoise(random_state=7)])
def test_a_galaxys_noise_does_not_depend_on_its_batch(step):
    _, images = galaxies(n=6)
    whole = step.transform(images)
    for k in (0, 3, 5):
        np.testing.assert_array_equal(step.transform(images[k:k + 1])[0], whole[k])
    np.testing.assert_array_equal(step.transform(images[::-1]), whole[::-1])
    # a different seed is different noise
    other = step.set_params(random_state=8).transform(images)
    assert not np.array_equal(other, whole)


def test_noise_in_a_pipeline_is_independent_of_n_jobs():
    X, _ = galaxies(n=5)
    steps = lambda jobs: Pipeline([  # noqa: E731
        ("render", SersicGalaxySimulator(image_size=16, pixel_scale=2.0, output="flux",
                                         sampling="center", n_jobs=jobs)),
        ("noise", CCDNoise(sky_level=10.0, random_state=0)),
        ("photometry", ToMagnitudes(kind="asinh"))])
    np.testing.assert_array_equal(steps(1).fit_transform(X), steps(2).fit_transform(X))


def test_log_magnitudes_refuse_negative_pixels():
    _, images = galaxies(n=2)
    noisy = GaussianSNRNoise(snr=5.0, random_state=0).transform(images)
    with pytest.raises(ValueError, match="negative pixels .*kind='asinh'"):
        ToMagnitudes().transform(noisy)
    mags = ToMagnitudes(kind="asinh").transform(noisy)
    assert np.all(np.isfinite(mags))


def test_log_magnitudes_are_the_simulators():
    X, _ = galaxies(n=3)
    sim = SersicGalaxySimulator(image_size=16, pixel_scale=2.0, sampling="center",
                                inclinations=(30, 90))
    flux = sim.set_params(output="flux").transform(X)
    # the simulator converts its float64 flux; here the float32 flux: one float32 ulp
    np.testing.assert_allclose(ToMagnitudes().transform(flux),
                               sim.set_params(output="magnitude").transform(X), rtol=2e-7)


@settings(deadline=None)
@given(flux=st.floats(-1e3, 1e6), b=st.floats(1e-3, 10.0))
def test_asinh_magnitudes_are_finite_monotone_and_log_when_bright(flux, b):
    step = ToMagnitudes(kind="asinh", softening=b)
    m, brighter = step.transform(np.array([[[flux, flux + 1.0]]]))[0, 0]
    assert np.isfinite(m) and brighter < m
    if flux > 1e3 * b:  # asinh(x/2b) + ln b -> ln x
        assert m == pytest.approx(25.0 - 2.5 * math.log10(flux), abs=1e-3)


def test_asinh_softening_from_the_noise():
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 3.0, (1, 64, 64))
    auto = ToMagnitudes(kind="asinh").transform(noise)
    fixed = ToMagnitudes(kind="asinh", softening=1.042 * 3.0).transform(noise)
    np.testing.assert_allclose(auto, fixed, atol=0.05)
    with pytest.raises(ValueError, match="found no noise in image 0"):
        ToMagnitudes(kind="asinh").transform(np.ones((1, 8, 8)))


@pytest.mark.parametrize("step, match", [
    (CCDNoise(sky_level=-1.0), "sky_level"),
    (CCDNoise(gain=0.0), "gain"),
    (CCDNoise(read_noise=-2.0), "read_noise"),
    (GaussianSNRNoise(snr=0.0), "snr"),
    (GaussianSNRNoise(snr=(5.0, -1.0)), "snr"),
    (ToMagnitudes(softening=0.0), "softening"),
])
def test_bad_settings_are_named(step, match):
    with pytest.raises(ValueError, match=match):
        step.transform(np.ones((1, 8, 8)))


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="NaN or infinite"):
        CCDNoise().transform(np.full((1, 4, 4), np.nan))
    with pytest.raises(ValueError, match="shape"):
        GaussianSNRNoise().transform(np.ones((4, 4)))
    with pytest.raises(ValueError, match=">= 0"):
        CCDNoise().transform(-np.ones((1, 4, 4)))


@settings(deadline=None, max_examples=25)
@given(image=st.lists(st.floats(0.0, 1e4), min_size=16, max_size=16),
       sky=st.floats(0.0, 1e3), gain=st.floats(0.1, 10.0), read=st.floats(0.0, 20.0),
       snr=st.floats(0.5, 1e3))
def test_noise_and_photometry_keep_images_finite_and_their_shape(image, sky, gain, read, snr):
    flux = np.asarray(image, dtype=float).reshape(1, 4, 4)
    ccd = CCDNoise(sky_level=sky, gain=gain, read_noise=read, random_state=0).transform(flux)
    assert ccd.shape == flux.shape and ccd.dtype == np.float32 and np.all(np.isfinite(ccd))
    mags = ToMagnitudes(kind="asinh", softening=1.0).transform(ccd)
    assert np.all(np.isfinite(mags))
    if flux.sum() > 0:
        noisy = GaussianSNRNoise(snr=snr, random_state=0).transform(flux)
        assert noisy.shape == flux.shape and np.all(np.isfinite(noisy))


def test_a_tables_seed_column_reaches_the_noise_step_through_a_pipeline():
    # Metadata routing passes the table's seeds to the noise step: two rows of one galaxy
    # with different seeds get different noise, and the same seed the same noise.
    import sklearn

    from skgal import GaussianNoise

    sim = SersicGalaxySimulator(image_size=8, inclinations=(60,), output="flux")
    X, _ = sim.sample(1, random_state=0)
    table = np.column_stack([np.repeat(X, 3, axis=0), [[60.0]] * 3, np.zeros((3, 3)),
                             [[7], [8], [7]]])
    with sklearn.config_context(enable_metadata_routing=True):
        model = Pipeline([
            ("render", SersicGalaxySimulator(image_size=8, inclinations=(60,), output="flux")),
            ("noise", GaussianNoise(sigma=0.1, random_state=0).set_transform_request(seeds=True))])
        noisy = model.fit(table).transform(table, seeds=table[:, 8].astype(int))
    assert not np.array_equal(noisy[0], noisy[1])
    np.testing.assert_array_equal(noisy[0], noisy[2])
    expected, _ = GaussianNoise(sigma=0.1, random_state=0).draw(
        sim.transform(table[:, :5]), seeds=[7, 8, 7])
    np.testing.assert_array_equal(noisy, expected)


@pytest.mark.parametrize("shape", [(7, 4032), (3, 2, 15), (5, 1), (4, 2), (2, 3, 4033)])
def test_the_noise_estimates_median_is_numpys(shape):
    # robust_noise_sigma's faster median: the same values as np.median, odd and even
    # counts, ties included
    from skgal._photometry import _median_last

    rows = np.random.default_rng(0).normal(size=shape)
    rows[..., ::3] = np.round(rows[..., ::3], 1)
    np.testing.assert_array_equal(_median_last(rows), np.median(rows, axis=-1))
    rows[0, ..., -1] = np.nan  # a row with NaN has no median, as in numpy
    np.testing.assert_array_equal(_median_last(rows), np.median(rows, axis=-1))


def test_the_noise_estimate_needs_two_pixels_a_row():
    from skgal import robust_noise_sigma

    with pytest.raises(ValueError, match="width of at least 2 pixels"):
        robust_noise_sigma(np.ones((2, 8, 1)))
