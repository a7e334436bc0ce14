"""The vendored AEGIS galaxies, their observing conditions and the centred cut."""

import dataclasses
import os

import numpy as np
import pytest

import skgal
from skgal import GaussianNoise, ImagePSF
from skgal.datasets import center_cutout, load_real_galaxies

# from the FITS catalogues in shared/real_galaxies (IDENT, MAG, NOISE_VARIANCE, shape)
CATALOGUE = {
    "F814W": [(23409, 24.7407, 7.016189083512182e-06, (46, 70)),
              (14886, 22.0027, 6.9816286035857215e-06, (156, 142)),
              (9024, 24.8102, 6.265112569018433e-06, (50, 48)),
              (17038, 24.7008, 6.550603090039195e-06, (44, 39)),
              (24216, 22.8371, 5.747591961666328e-06, (104, 103))],
    "F606W": [(23409, 25.1206, 7.099404709629573e-06, (46, 70)),
              (14886, 22.509, 7.038996770472594e-06, (156, 142)),
              (9024, 24.8641, 6.2687169983055915e-06, (50, 48)),
              (17038, 25.0418, 8.522839910305108e-06, (44, 39)),
              (24216, 24.1715, 5.5946108872308165e-06, (104, 103))],
}


@pytest.mark.parametrize("band", ["F814W", "F606W", "f814w"])
def test_catalogue(band):
    galaxies = load_real_galaxies(band)
    for galaxy, (ident, mag, variance, shape) in zip(galaxies, CATALOGUE[band.upper()]):
        assert (galaxy.ident, galaxy.band, galaxy.image.shape) == (ident, band.upper(), shape)
        assert galaxy.magnitude == pytest.approx(mag, abs=1e-4)
        assert galaxy.noise_variance == pytest.approx(variance, rel=1e-9)
        assert galaxy.psf_image.shape == (20, 20)
        assert galaxy.pixel_scale == galaxy.psf_pixel_scale == pytest.approx(0.03)
        assert galaxy.image.dtype == np.float32 and np.all(np.isfinite(galaxy.image))


def test_the_licence_ships_beside_the_data():
    folder = os.path.join(os.path.dirname(skgal.__file__), "data")
    with open(os.path.join(folder, "LICENSE-GalSim")) as f:
        assert "GalSim" in f.read()


def test_the_space_conditions_psf_is_galaxy_14886s():
    from skgal import observing_conditions

    galaxy = load_real_galaxies()[1]
    psf = observing_conditions("space").psf
    expected = galaxy.psf_image.astype(np.float64)
    np.testing.assert_array_equal(psf.image, expected / expected.sum())


def test_conditions_match_the_galaxy():
    galaxy = load_real_galaxies()[4]
    conditions = galaxy.conditions((1e-4, 1e-2))
    assert isinstance(conditions.psf, ImagePSF) and isinstance(conditions.noise, GaussianNoise)
    assert conditions.psf.image.sum() == pytest.approx(1.0)
    assert conditions.noise.sigma == pytest.approx(np.sqrt(galaxy.noise_variance))
    assert conditions.pixel_scale == 0.03 and conditions.intensity_range == (1e-4, 1e-2)


@pytest.mark.parametrize("change, match", [
    (dict(noise_variance=None), "noise_variance must be a positive number"),
    (dict(noise_variance=float("nan")), "noise_variance must be a positive number"),
    (dict(psf_pixel_scale=0.05), "PSF image's pixel scale 0.05"),
])
def test_conditions_refuse_what_cannot_be_matched(change, match):
    galaxy = dataclasses.replace(load_real_galaxies()[0], **change)
    with pytest.raises(ValueError, match=match):
        galaxy.conditions((1e-4, 1e-2))


def test_bad_band():
    with pytest.raises(ValueError, match="band must be one of"):
        load_real_galaxies("F125W")


def test_cutout_centres_the_light():
    galaxy = load_real_galaxies()[1]  # the brightest, 156 x 142
    cut, offset = center_cutout(galaxy.image, 64)
    assert cut.shape == (64, 64)
    assert np.all(np.abs(offset) <= 0.5 + 1e-12)
    # the cut keeps the stamp's pixels, unresampled
    image = galaxy.image.astype(np.float64)
    assert any(np.array_equal(image[t:t + 64, u:u + 64], cut)
               for t, u in zip(*np.nonzero(image == cut[0, 0])))
    # the light is centred: its first moment within the cut is at the offset
    light = np.maximum(cut, 0)
    yy, xx = np.mgrid[:64, :64] - 31.5
    assert abs((light * xx).sum() / light.sum() - offset[0]) < 1.5
    assert abs((light * yy).sum() / light.sum() - offset[1]) < 1.5


def test_cutout_near_an_edge_stays_inside():
    stamp = np.zeros((30, 40))
    stamp[2, 37] = 1.0
    cut, offset = center_cutout(stamp, 10, smoothing=0)
    assert cut[2 - 0, 37 - 30] == 1.0  # the window sits in the stamp's corner
    np.testing.assert_allclose(offset, [37 - 30 - 4.5, 2 - 4.5])


@pytest.mark.parametrize("size", [40, 45, 100])
def test_cutout_larger_than_the_stamp_is_an_error(size):
    stamp = load_real_galaxies()[3].image  # 44 x 39
    if size == 40:
        with pytest.raises(ValueError, match=r"the stamp \(44 x 39 pixels\) is smaller"):
            center_cutout(stamp, size)
    else:
        with pytest.raises(ValueError, match="smaller than the cut asked for"):
            center_cutout(stamp, size)


def test_stamp_size_is_the_largest_cut_the_stamp_holds():
    from skgal.experiments import stamp_size

    sizes = {g.ident: stamp_size(g) for g in load_real_galaxies()}
    # stamps 46x70, 156x142, 50x48, 44x39, 104x103
    assert sizes == {23409: 32, 14886: 64, 9024: 48, 17038: 32, 24216: 64}
    small = dataclasses.replace(load_real_galaxies()[0], image=np.zeros((20, 30)))
    with pytest.raises(ValueError, match="smaller than every cut size"):
        stamp_size(small)


def test_matching_forward_model_brackets_the_stamps_light():
    from skgal import total_flux
    from skgal.experiments import matching_forward_model

    galaxy = load_real_galaxies()[3]
    cut, _ = center_cutout(galaxy.image, 32)
    model = matching_forward_model(galaxy, cut, random_state=0)
    render = model["render"]
    assert render.image_size == 32 and render.output == "flux"
    np.testing.assert_allclose(render.psf.image.sum(), 1.0, rtol=1e-6)
    assert model["noise"].sigma == pytest.approx(np.sqrt(galaxy.noise_variance))
    # the noise has the stamp's measured correlation (made valid: it moves < 1e-3)
    measured = galaxy.noise_correlation().correlation
    rho = np.asarray(model["noise"].correlation)
    c = rho.shape[0] // 2
    np.testing.assert_allclose(rho[c - 2:c + 3, c - 2:c + 3],
                               0.5 * (measured + measured[::-1, ::-1]), atol=1e-3)
    noisy, _ = model["noise"].draw(np.zeros((200, 32, 32)), seeds=np.arange(200))
    lag = np.mean(noisy[:, :, 1:] * noisy[:, :, :-1]) / np.mean(noisy ** 2)
    assert lag == pytest.approx(rho[c, c + 1], abs=0.02)
    white = matching_forward_model(galaxy, cut, random_state=0, correlated_noise=False)
    assert type(white["noise"]).__name__ == "GaussianNoise"
    X, _ = render.sample(500, random_state=1)
    light = total_flux(*(X[c].to_numpy() for c in ("I_e", "R_e", "n", "q")))
    assert 0.5 * cut.sum() <= light.min() and light.max() <= 3.0 * cut.sum()
    with pytest.raises(ValueError, match="no positive light"):
        matching_forward_model(galaxy, -np.abs(cut))
    with pytest.raises(TypeError, match="RealGalaxy"):
        matching_forward_model(galaxy.image, cut)


def test_analysis_of_a_stamp_smoke():
    # tiny settings: the pieces fit together, the best fit's chi-square is the
    # residual's, and the posteriors are of (q, i) within their bounds
    from skgal.experiments import analyse_real_galaxy

    galaxy = load_real_galaxies()[3]
    res = analyse_real_galaxy(galaxy, image_size=16, n_train=64, n_validation=32, epochs=1,
                              n_live=10, max_calls=600, random_state=0)
    assert res.cut.shape == res.model.shape == (16, 16)
    chi2 = np.sum((res.residual / res.sigma) ** 2) / (16 * 16 - len(res.best))
    assert res.chi2_dof == pytest.approx(chi2)
    assert set(res.best) >= {"I_e", "R_e", "n", "q", "inclination", "position_angle"}
    for dist in (res.network, res.fit):
        lo, hi = dist.marginal(0).ppf(0.001)[0], dist.marginal(0).ppf(0.999)[0]
        assert 0.2 <= lo < hi <= 1.0
    assert res.seconds["fit"] > 0 and res.n_calls > 0
    assert set(res.at_prior_edge) <= {"R_e", "n", "q", "x_offset", "y_offset"}
    edged = dataclasses.replace(res, best={**res.best, "n": 1.999, "q": 0.5})
    assert "n" in edged.at_prior_edge and "q" not in edged.at_prior_edge


def test_the_analysis_network_sees_aligned_images(monkeypatch):
    # the network trains on noise -> align -> photometry and is asked about the cut
    # aligned the same way; with align=False, about the cut as it is
    import skgal._real_analysis as real
    from skgal import AlignToMajorAxis
    from skgal.experiments import analyse_real_galaxy

    seen = {}
    original = real._train_network

    def record(model, *args):
        net = original(model, *args)
        seen["steps"] = [name for name, _ in model.steps]
        predict = net.predict_distribution

        def keep(X):
            seen["X"] = X
            return predict(X)

        net.predict_distribution = keep
        seen["photometry"] = model["photometry"]
        return net

    monkeypatch.setattr(real, "_train_network", record)
    galaxy = load_real_galaxies()[3]
    for align in (True, False):
        res = analyse_real_galaxy(galaxy, image_size=16, n_train=32, n_validation=16,
                                  epochs=1, n_live=10, max_calls=300, align=align)
        cut = res.cut[None, :, :, None]
        if align:
            assert seen["steps"] == ["render", "noise", "align", "photometry"]
            cut = AlignToMajorAxis().fit_transform(cut)
        else:
            assert seen["steps"] == ["render", "noise", "photometry"]
        np.testing.assert_allclose(seen["X"], seen["photometry"].transform(cut))
    assert not np.allclose(AlignToMajorAxis().fit_transform(res.cut[None, :, :, None]),
                           res.cut[None, :, :, None], atol=1e-3)


def test_noise_correlation_of_smoothed_white_noise_is_analytic():
    # white noise convolved with a kernel has the kernel's autocorrelation as its
    # correlation (for a Gaussian of s pixels, exp(-d^2 / 4 s^2), less the sampling's
    # error at s < 1); a sky with a bright source and a gradient in it is measured
    # away from the source
    from scipy.ndimage import gaussian_filter

    from skgal.datasets import noise_correlation

    s = 0.6
    noise = gaussian_filter(np.random.default_rng(3).normal(size=(400, 400)), s, mode="wrap")
    variance = float(noise.var())
    y, x = np.mgrid[:400, :400]
    stamp = noise + 50 * np.sqrt(variance) * np.exp(-((x - 200) ** 2 + (y - 200) ** 2) / 50.0)
    stamp += 1e-3 * np.sqrt(variance) * (x + 0.5 * y)  # a sky gradient: 0.6 sigma across
    c = noise_correlation(stamp, variance, max_lag=3)
    delta = np.zeros((31, 31))
    delta[15, 15] = 1.0
    kernel = gaussian_filter(delta, s)
    auto = np.array([[np.sum(kernel * np.roll(kernel, (dy, dx), axis=(0, 1)))
                      for dx in range(-3, 4)] for dy in range(-3, 4)])
    expected = auto / auto[3, 3]
    lag = np.arange(-3, 4)
    continuous = np.exp(-(lag[:, None] ** 2 + lag[None, :] ** 2) / (4 * s * s))
    np.testing.assert_allclose(expected, continuous, atol=0.07)
    np.testing.assert_allclose(c.correlation, expected, atol=0.02)
    assert c.variance_ratio == pytest.approx(1.0, abs=0.03)
    # less the documented bias of the local level, 2 factor / (2 pi 16^2) at each lag
    bias = expected.size * 2 * expected.sum() / (2 * np.pi * 16.0 ** 2)
    assert c.factor == pytest.approx(expected.sum() - bias, abs=0.1)
    assert c.n_pixels < 400 * 400
    with pytest.raises(ValueError, match="sky pixels"):
        noise_correlation(stamp[:9, :9], variance)  # 81 pixels
    with pytest.raises(ValueError, match="noise_variance"):
        noise_correlation(stamp, -1.0)


def test_the_aegis_noise_is_correlated_by_drizzling():
    # measured: neighbours correlate by about 0.45, and the catalogue's variance is the
    # sky's to about 10%
    for galaxy in load_real_galaxies():
        c = galaxy.noise_correlation()
        assert 0.3 < c.correlation[2, 3] < 0.6 and 0.3 < c.correlation[3, 2] < 0.6
        assert 0.8 < c.variance_ratio < 1.05
        assert c.factor > 1.5
