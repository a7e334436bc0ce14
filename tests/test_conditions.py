"""Observing conditions by name: their numbers follow from the published inputs."""

import math

import numpy as np
import pytest

from skgal import CONDITIONS, observing_conditions, total_flux
from skgal.cli import main
from skgal.datasets import load_galaxy_dataset


def test_names_and_unknown_name():
    assert CONDITIONS == ("ideal", "ground", "space")
    with pytest.raises(ValueError, match=r"unknown observing conditions 'hubble'.*'space'"):
        observing_conditions("hubble")


def test_ideal_is_the_thesis():
    model = observing_conditions("ideal").forward_model(image_size=16)
    sim = model["render"]
    assert sim.inclinations == (0.0, 30.0, 60.0, 90.0) and sim.position_angle == 0.0
    assert sim.psf is None and sim.output == "magnitude" and len(model.steps) == 1


@pytest.mark.parametrize("name", ["ground", "space"])
def test_a_point_source_at_the_depth_has_snr_5(name):
    # the photometric scale's definition: matched-filter SNR 5 at the depth, sky-limited
    c = observing_conditions(name)
    counts = 10 ** (-0.4 * (c.depth - c.zero_point))
    size = 64
    y, x = (np.mgrid[0:size, 0:size] - (size - 1) / 2)
    kx, ky = np.meshgrid(np.fft.fftfreq(size) * 2 * np.pi, np.fft.fftfreq(size) * 2 * np.pi)
    # the PSF sampled at the pixels, from its transform (exact for a band-limited PSF)
    p = np.real(np.fft.ifft2(c.psf.transform(kx, ky) * np.exp(1j * (kx + ky) * 0)))
    p = np.fft.fftshift(p)
    noise = c.noise
    sigma = math.sqrt(noise.sky_level / noise.gain) if name == "ground" else noise.sigma
    snr = counts * math.sqrt(np.sum(p ** 2)) / sigma
    assert snr == pytest.approx(5.0, rel=2e-2)


@pytest.mark.parametrize("name", ["ground", "space"])
def test_the_brightness_prior_spans_two_and_a_half_magnitudes(name):
    c = observing_conditions(name)
    lo, hi = c.intensity_range
    magnitudes = [c.zero_point - 2.5 * math.log10(i * total_flux(1.0, 15.0, 1.0, 0.5))
                  for i in (lo, hi)]
    np.testing.assert_allclose(magnitudes, [c.depth - 2.5, c.depth - 5.0])


@pytest.mark.parametrize("name", ["ground", "space"])
def test_forward_models_render_noisy_images(name):
    model = observing_conditions(name).forward_model(image_size=24, random_state=0)
    X, _ = model["render"].sample(3, random_state=1)
    assert list(X.columns) == ["I_e", "R_e", "n", "q", "inclination", "position_angle"]
    images = model.transform(X)
    assert images.shape == (3, 24, 24, 1) and np.all(np.isfinite(images))
    np.testing.assert_array_equal(images, model.transform(X))  # seeded


def test_simulate_by_conditions(tmp_path, capsys):
    out = tmp_path / "space.h5"
    assert main(["simulate", "--n-galaxies", "2", "--out", str(out), "--image-size", "16",
                 "--conditions", "space", "--seed", "0", "--quiet"]) == 0
    data = load_galaxy_dataset(out)
    assert data.settings["parameters"]["psf"]["type"] == "ImagePSF"
    assert [s["step"] for s in data.settings["observation"]] == ["GaussianNoise",
                                                                  "ToMagnitudes"]
    assert main(["simulate", "--n-galaxies", "2", "--out", str(tmp_path / "x.h5"),
                 "--conditions", "ground", "--psf", "gaussian", "--quiet"]) == 2
    assert "--conditions sets the PSF" in capsys.readouterr().err
