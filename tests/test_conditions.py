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


def test_a_pixel_tolerance_tied_to_the_noise():
    from skgal import CCDNoise, GaussianNoise, GaussianSNRNoise

    ground = observing_conditions("ground")
    sigma = math.sqrt(ground.noise.sky_level / ground.noise.gain)
    assert ground.noise.empty_pixel_sigma() == pytest.approx(sigma)
    render = ground.forward_model(image_size=16, pixel_tolerance="noise")["render"]
    assert render.pixel_tolerance == pytest.approx(1e-3 * sigma)
    assert ground.forward_model(image_size=16)["render"].pixel_tolerance is None
    assert ground.forward_model(image_size=16, pixel_tolerance=0.5)["render"] \
        .pixel_tolerance == 0.5
    space = observing_conditions("space")
    assert space.forward_model(pixel_tolerance="noise")["render"].pixel_tolerance == \
        pytest.approx(1e-3 * space.noise.sigma)
    # the level of an empty pixel, which no pixel's noise is below
    assert CCDNoise(sky_level=150.0, gain=2.0, read_noise=4.0).empty_pixel_sigma() == \
        pytest.approx(math.sqrt(150 / 2 + 4))
    assert GaussianNoise(sigma=0.5).empty_pixel_sigma() == 0.5
    assert GaussianSNRNoise().empty_pixel_sigma() is None
    with pytest.raises(ValueError, match="'ideal' conditions have no noise"):
        observing_conditions("ideal").forward_model(pixel_tolerance="noise")
    with pytest.raises(ValueError, match="pixel_tolerance must be .* got 'loose'"):
        ground.forward_model(pixel_tolerance="loose")


def test_the_command_line_ties_the_tolerance_to_the_noise(tmp_path, capsys):
    from skgal.cli import _model, build_parser

    def model(*argv):
        args = build_parser().parse_args(list(argv) + ["--out", "x"])
        args.sky_level = args.sky_level or 0.0
        args.snr = args.snr or (10.0, 100.0)
        built, _ = _model(args)
        return built["render"] if hasattr(built, "steps") else built

    sigma = observing_conditions("ground").noise.empty_pixel_sigma()
    # train defaults to the noise's tolerance, simulate to the promise
    assert model("train", "--conditions", "ground").pixel_tolerance == \
        pytest.approx(1e-3 * sigma)
    assert model("simulate", "--n-galaxies", "1", "--conditions", "ground") \
        .pixel_tolerance is None
    assert model("train", "--conditions", "ground", "--pixel-tolerance", "promise") \
        .pixel_tolerance is None
    assert model("train", "--psf", "moffat", "--psf-fwhm", "3", "--noise", "ccd",
                 "--sky-level", "100", "--pixel-tolerance", "0.2").pixel_tolerance == 0.2
    assert model("simulate", "--n-galaxies", "1", "--psf", "moffat", "--psf-fwhm", "3",
                 "--noise", "ccd", "--sky-level", "100", "--pixel-tolerance", "noise") \
        .pixel_tolerance == pytest.approx(1e-2)
    # no PSF (the tolerance would be unused) or no noise of a fixed level: train keeps
    # the promise; an explicit "noise" without such noise is refused
    assert model("train", "--noise", "ccd", "--sky-level", "100").pixel_tolerance is None
    assert model("train", "--psf", "moffat", "--psf-fwhm", "3", "--noise", "snr") \
        .pixel_tolerance is None
    out = str(tmp_path / "x.h5")
    assert main(["simulate", "--n-galaxies", "1", "--out", out, "--psf", "moffat",
                 "--psf-fwhm", "3", "--noise", "snr", "--pixel-tolerance", "noise"]) == 2
    assert "a level set by each image" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "--n-galaxies", "1", "--out", out, "--pixel-tolerance", "-1"])
    assert "promise, noise or a number > 0; got -1" in capsys.readouterr().err
