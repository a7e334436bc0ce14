"""Alignment to the major axis: adaptive moments against analytic Gaussians, the
resampling against scipy.ndimage and against the analytic aligned image, and the
step's determinism and errors."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from skgal import (AlignToMajorAxis, GaussianNoise, MoffatPSF, SersicGalaxySimulator,
                   adaptive_moments)


def _gaussian(size, sigma_major, sigma_minor, angle_deg, x0=0.0, y0=0.0):
    """An elliptical Gaussian, major axis at ``angle_deg`` from x towards y, centred at
    ``(x0, y0)`` pixels from the stamp's centre (x along columns, y along rows)."""
    y, x = np.mgrid[0:size, 0:size] - (size - 1) / 2.0
    t = np.radians(angle_deg)
    u = (x - x0) * np.cos(t) + (y - y0) * np.sin(t)
    v = -(x - x0) * np.sin(t) + (y - y0) * np.cos(t)
    return np.exp(-0.5 * ((u / sigma_major) ** 2 + (v / sigma_minor) ** 2))


@pytest.mark.parametrize("angle", [0.0, 25.0, 90.0, 133.0])
@pytest.mark.parametrize("centre", [(0.0, 0.0), (1.4, -0.8)])
def test_adaptive_moments_of_a_gaussian_are_its_own(angle, centre):
    # the fixed point for an elliptical Gaussian image is its centre and covariance
    image = _gaussian(41, 4.0, 2.0, angle, *centre)
    got_centre, cov = adaptive_moments(image[None])
    t = np.radians(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    expected = rot @ np.diag([16.0, 4.0]) @ rot.T
    np.testing.assert_allclose(got_centre[0], centre, atol=1e-6)
    np.testing.assert_allclose(cov[0], expected, atol=1e-4)


def test_adaptive_moments_ignore_light_far_from_the_galaxy():
    # a bright pixel in a corner shifts the plain centroid, not the weighted one
    image = _gaussian(41, 3.0, 3.0, 0.0)
    image[0, 0] = 5.0
    plain = (image * (np.arange(41) - 20.0)[None, :]).sum() / image.sum()
    centre, _ = adaptive_moments(image[None])
    assert abs(plain) > 0.5
    assert np.abs(centre[0]).max() < 1e-3


@pytest.mark.parametrize("angle", [10.0, 45.0, 100.0, 170.0])
@pytest.mark.parametrize("centre", [(0.0, 0.0), (1.3, -0.7)])
def test_aligned_gaussian_is_the_centred_gaussian_along_x(angle, centre):
    image = _gaussian(41, 5.0, 2.0, angle, *centre)[None]
    step = AlignToMajorAxis()
    got_centre, got_angle = step.measure(image)
    np.testing.assert_allclose(got_centre[0], centre, atol=1e-6)
    assert abs((got_angle[0] - angle + 90.0) % 180.0 - 90.0) < 1e-4
    out = step.fit_transform(image)[0]
    expected = _gaussian(41, 5.0, 2.0, 0.0)
    # the cubic convolution's error on a Gaussian of sigma 2 pixels
    np.testing.assert_allclose(out, expected, rtol=0, atol=5e-3)
    # and the check can tell: the unaligned image is ten tolerances from it or more
    assert np.abs(image[0] - expected).max() > 5e-2


def test_bilinear_resampling_is_scipys_with_mirrored_edges():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(3, 20, 20)) + _gaussian(20, 4.0, 2.0, 30.0)
    step = AlignToMajorAxis(order=1)
    centre, angle = step.measure(images)
    out = step.transform(images)
    v, u = np.mgrid[0:20, 0:20] - 9.5
    for k in range(3):
        t = np.radians(angle[k])
        cols = centre[k, 0] + np.cos(t) * u - np.sin(t) * v + 9.5
        rows = centre[k, 1] + np.sin(t) * u + np.cos(t) * v + 9.5
        expected = ndimage.map_coordinates(images[k], [rows, cols], order=1, mode="mirror")
        np.testing.assert_allclose(out[k], expected, rtol=0, atol=1e-5)


def test_cubic_convolution_reproduces_quadratics_inside_the_stamp():
    # Keys' kernel with a = -1/2 is exact for polynomials of degree two
    y, x = np.mgrid[0:24, 0:24].astype(float)
    base = _gaussian(24, 4.0, 2.0, 30.0, 0.4, 0.2)
    quadratic = 0.3 + 0.02 * x - 0.01 * y + 1e-3 * x * y + 2e-3 * x * x
    step = AlignToMajorAxis(order=3)
    both = np.stack([base, quadratic], axis=-1)[None]
    centre, angle = step.measure(both)  # on the sum of the channels
    assert abs(angle[0]) > 5 and np.abs(centre).max() > 0.1  # a real resampling
    out = step.transform(both)[0, :, :, 1]
    t = np.radians(angle[0])
    v, u = np.mgrid[0:24, 0:24] - 11.5
    cols = centre[0, 0] + np.cos(t) * u - np.sin(t) * v + 11.5
    rows = centre[0, 1] + np.sin(t) * u + np.cos(t) * v + 11.5
    expected = (0.3 + 0.02 * cols - 0.01 * rows + 1e-3 * cols * rows + 2e-3 * cols ** 2)
    inside = (cols > 1) & (cols < 22) & (rows > 1) & (rows < 22)
    np.testing.assert_allclose(out[inside], expected[inside], rtol=0, atol=1e-5)


def test_channels_share_the_transform_of_their_sum():
    a = _gaussian(21, 4.0, 1.5, 40.0)
    b = _gaussian(21, 3.0, 2.5, 40.0, 0.5, 0.5)
    step = AlignToMajorAxis()
    two = step.fit_transform(np.stack([a, b], axis=-1)[None])[0]
    centre, angle = step.measure(np.stack([a, b], axis=-1)[None])
    summed_centre, summed_angle = step.measure((a + b)[None])
    np.testing.assert_allclose(centre, summed_centre)
    np.testing.assert_allclose(angle, summed_angle)
    np.testing.assert_allclose(two.sum(axis=-1), step.transform((a + b)[None])[0], atol=1e-5)


def test_a_turned_image_aligns_to_the_same_image():
    rng = np.random.default_rng(2)
    image = _gaussian(24, 4.0, 2.0, 20.0, 0.3, -0.2) + 0.01 * rng.normal(size=(24, 24))
    step = AlignToMajorAxis()
    out = step.transform(image[None])[0]
    turned = step.transform(np.rot90(image)[None])[0]
    # the major axis has no head: the result is the same image or turned half round
    best = min(np.abs(turned - out).max(), np.abs(turned - out[::-1, ::-1]).max())
    assert best < 0.02


def test_an_image_is_aligned_alike_alone_and_in_any_batch():
    rng = np.random.default_rng(3)
    images = rng.normal(size=(9, 16, 16, 2)) + _gaussian(16, 3.0, 1.5, 60.0)[..., None]
    step = AlignToMajorAxis()
    whole = step.fit_transform(images)
    assert whole.dtype == np.float32 and whole.shape == images.shape
    for k in (0, 4, 8):
        np.testing.assert_array_equal(step.transform(images[k:k + 1])[0], whole[k])


def test_noisy_rendered_galaxies_are_measured_at_their_position_angle():
    sim = SersicGalaxySimulator(image_size=32, output="flux", psf=MoffatPSF(2.5, 3.0))
    rows = pd.DataFrame({"I_e": 1.0, "R_e": 6.0, "n": 1.0, "q": 0.3, "inclination": 80.0,
                         "position_angle": [15.0, 75.0, 130.0], "x_offset": [0.5, -1.0, 0.0],
                         "y_offset": [0.0, 0.8, -1.2]})
    flux = sim.transform(rows)
    noisy = GaussianNoise(sigma=0.01 * float(flux.max()), random_state=0).fit_transform(flux)
    centre, angle = AlignToMajorAxis().measure(noisy)
    np.testing.assert_allclose(centre, rows[["x_offset", "y_offset"]], atol=0.1)
    error = (angle - rows["position_angle"].to_numpy() + 90.0) % 180.0 - 90.0
    assert np.abs(error).max() < 2.0


@pytest.mark.parametrize("bad, match", [
    ({"order": 2}, "order"), ({"order": "cubic"}, "order"), ({"n_iter": 0}, "n_iter"),
    ({"min_sigma": 0.0}, "min_sigma")])
def test_bad_settings_name_the_parameter(bad, match):
    with pytest.raises(ValueError, match=match):
        AlignToMajorAxis(**bad).fit_transform(np.ones((1, 8, 8)))


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="shape"):
        AlignToMajorAxis().fit_transform(np.ones((8, 8)))
    with pytest.raises(ValueError, match="NaN"):
        AlignToMajorAxis().fit_transform(np.full((1, 8, 8), np.nan))
    with pytest.raises(ValueError, match="images"):
        adaptive_moments(np.ones((8, 8)))
    with pytest.raises(ValueError, match="min_sigma"):
        adaptive_moments(np.ones((1, 8, 8)), min_sigma=-1.0)


def test_the_weight_is_no_narrower_than_min_sigma():
    # a single bright pixel: the weight shrinks onto it until it reaches its floor
    image = np.zeros((1, 21, 21))
    image[0, 10, 10] = 1.0
    for floor in (0.5, 1.0, 2.0):
        _, cov = adaptive_moments(image, min_sigma=floor)
        np.testing.assert_allclose(np.linalg.eigvalsh(cov[0]), floor ** 2, rtol=1e-6)


@settings(deadline=None, max_examples=25)
@given(size=st.integers(6, 24), angle=st.floats(0.0, 180.0), sigma=st.floats(0.8, 5.0),
       ratio=st.floats(0.2, 1.0), noise=st.floats(0.0, 0.5), seed=st.integers(0, 2**16),
       order=st.sampled_from([1, 3]))
def test_alignment_is_finite_and_turns_with_a_half_turned_image(size, angle, sigma, ratio,
                                                                 noise, seed, order):
    rng = np.random.default_rng(seed)
    image = (_gaussian(size, sigma, sigma * ratio, angle)
             + noise * rng.normal(size=(size, size)))[None]
    step = AlignToMajorAxis(order=order)
    out = step.transform(image)
    assert out.shape == image.shape and np.all(np.isfinite(out))
    # turned half round about the stamp's centre, the image keeps its axis: the aligned
    # result is the aligned image turned half round (pixel centres map onto pixel
    # centres), or itself when the measured angle comes out 180 degrees apart
    centre, angle_measured = step.measure(image)
    centre2, angle2 = step.measure(image[:, ::-1, ::-1])
    np.testing.assert_allclose(centre2, -centre, atol=1e-6)
    apart = (angle2[0] - angle_measured[0]) % 360.0
    if ratio < 0.8 and noise < 0.1:  # an axis well defined
        assert min(apart, abs(apart - 180.0), 360.0 - apart) < 1e-4
    turned = step.transform(image[:, ::-1, ::-1])
    if min(apart, 360.0 - apart) < 1e-7:
        np.testing.assert_allclose(turned, out[:, ::-1, ::-1], atol=1e-5)
    elif abs(apart - 180.0) < 1e-7:
        np.testing.assert_allclose(turned, out, atol=1e-5)
