"""The renderer against independent quadrature, analytic identities and properties."""

import math

import numpy as np
import pytest
from _reference import pixel_mean, surface_brightness, surface_brightness_by_quadrature
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.special import gamma

from skgal import SersicGalaxySimulator, sersic_b

RTOL = 1e-3  # the promised accuracy, for every pixel brighter than 1e-6 of the peak


def render(ie, re, n, q, inclination, position_angle=0.0, *, size=16, scale=4.0,
           sampling="center"):
    sim = SersicGalaxySimulator(image_size=size, pixel_scale=scale, sampling=sampling,
                                output="flux", inclinations=(inclination,),
                                position_angle=position_angle)
    return sim.transform([[ie, re, n, q]])[0, :, :, 0].astype(np.float64), sim


def sky(r, c, size, scale):
    return (c - (size - 1) / 2) * scale, (r - (size - 1) / 2) * scale


# The corners of the parameter space, steep and shallow profiles, thin and round discs,
# face-on, edge-on, nearly so and in between, aligned and arbitrary position angles.
CASES = [
    (1.0, 5.0, 2.0, 0.2, 0.0, 0.0),
    (0.5, 5.0, 2.0, 0.2, 30.0, 0.0),
    (0.3, 5.0, 2.0, 1.0, 60.0, 0.0),
    (1.0, 30.0, 2.0, 0.2, 90.0, 0.0),
    (0.1, 30.0, 0.5, 1.0, 90.0, 0.0),
    (0.7, 30.0, 0.5, 0.2, 30.0, 17.0),
    (0.4, 12.0, 1.0, 0.5, 45.0, 123.0),
    (0.9, 8.0, 1.4, 0.35, 0.5, 250.0),
    (0.2, 20.0, 0.8, 0.6, 89.5, 60.0),
    (0.6, 5.0, 1.0, 0.9, 75.0, 90.0),
    (0.5, 25.0, 1.8, 0.25, 90.0, 33.0),
    (0.8, 5.0, 0.5, 0.2, 10.0, 0.0),
]


# Found by hypothesis: at tiny inclinations the kernel (width h tan i) is far narrower
# than a pixel; near 90 degrees it is far wider than the image.
CASES += [(1.0, 5.0, 1.0, 0.5, 0.001953125, 0.0), (1.0, 5.0, 1.0, 0.5, 0.004, 180.0),
          (0.5, 9.0, 1.5, 0.3, 1e-6, 90.0), (0.5, 9.0, 1.5, 0.3, 89.999, 0.0)]


def assert_centres_match_quadrature(galaxy, size, scale, row_step):
    """Every pixel centre brighter than 1e-6 of the peak (on every row_step-th row)
    within RTOL of adaptive quadrature; returns how many were checked."""
    image, _ = render(*galaxy, size=size, scale=scale)
    peak = image.max()
    checked = 0
    for r in range(0, size, row_step):
        for c in range(size):
            ref = surface_brightness(*sky(r, c, size, scale), *galaxy)
            if ref > 1e-6 * peak:
                assert image[r, c] == pytest.approx(ref, rel=RTOL), (r, c)
                checked += 1
    return checked


@pytest.mark.parametrize("galaxy", CASES)
def test_center_sampling_matches_quadrature(galaxy):
    assert assert_centres_match_quadrature(galaxy, 16, 4.0, row_step=2) > 20


PIXEL_CASES = [
    (1.0, 5.0, 2.0, 0.2, 0.0, 0.0),
    (0.5, 5.0, 2.0, 0.3, 60.0, 0.0),
    (1.0, 30.0, 2.0, 0.2, 90.0, 0.0),
    (0.7, 6.0, 0.5, 0.2, 30.0, 0.0),
    (0.4, 9.0, 1.5, 0.5, 45.0, 31.0),
    (0.9, 5.0, 1.2, 0.8, 90.0, 200.0),
    (0.6, 7.0, 1.0, 0.3, 87.0, 0.0),  # falls ~1000x per pixel across the disc
    (1.0, 5.0, 1.0, 0.5, 0.002, 0.0),  # a kernel far narrower than a pixel
]


@pytest.mark.parametrize("galaxy", PIXEL_CASES)
def test_pixel_sampling_matches_quadrature(galaxy):
    size, scale = 12, 2.5
    image, _ = render(*galaxy, size=size, scale=scale, sampling="pixel")
    peak = image.max()
    # the cusp (centre), both sides of the minor axis, the edge, and a few more
    pixels = [(5, 5), (5, 6), (6, 6), (4, 5), (5, 3), (2, 7), (0, 0), (11, 4), (8, 9),
              (3, 8), (2, 9)]
    for r, c in pixels:
        ref = pixel_mean(*sky(r, c, size, scale), scale, *galaxy)
        if ref > 1e-6 * peak:
            assert image[r, c] == pytest.approx(ref, rel=RTOL), (r, c)


@pytest.mark.parametrize("n, q, position_angle", [(0.5, 0.2, 0.0), (1.7, 0.4, 33.0),
                                                  (2.0, 1.0, 90.0)])
def test_face_on_image_is_the_integral_along_the_line_of_sight(n, q, position_angle):
    size, scale = 16, 2.0
    image, _ = render(0.6, 9.0, n, q, 0.0, position_angle, size=size, scale=scale)
    for r, c in [(7, 7), (7, 8), (3, 12), (0, 0), (15, 2), (10, 5)]:
        ref = surface_brightness_by_quadrature(*sky(r, c, size, scale), 0.6, 9.0, n, q, 0.0,
                                               position_angle)
        assert image[r, c] == pytest.approx(ref, rel=1e-6), (r, c)


def test_face_on_image_is_the_analytic_profile():
    ie, re, n, q = 0.6, 9.0, 1.7, 0.4
    image, _ = render(ie, re, n, q, 0.0, size=32, scale=1.0)
    x, y = np.meshgrid(np.arange(32) - 15.5, np.arange(32) - 15.5)
    expected = ie * np.exp(-sersic_b(n) * ((np.hypot(x, y) / re) ** (1 / n) - 1)) \
        * math.sqrt(2 * math.pi) * q * re / 1.177
    np.testing.assert_allclose(image, expected, rtol=1e-6)  # float32 output


@pytest.mark.parametrize("sampling", ["center", "pixel"])
def test_edge_on_image_is_separable(sampling):
    image, _ = render(0.5, 11.0, 1.3, 0.4, 90.0, size=16, scale=2.0, sampling=sampling)
    outer = np.outer(image[:, 5], image[7, :]) / image[7, 5]
    np.testing.assert_allclose(image, outer, rtol=1e-5)


@pytest.mark.parametrize("sampling", ["center", "pixel"])
def test_edge_on_fast_path_agrees_with_general_path(sampling):
    # PA 0 uses the separable shortcut; PA 1e-7 degrees the general per-pixel engine
    aligned, _ = render(0.5, 11.0, 1.3, 0.4, 90.0, 0.0, size=12, scale=3.0, sampling=sampling)
    general, _ = render(0.5, 11.0, 1.3, 0.4, 90.0, 1e-7, size=12, scale=3.0, sampling=sampling)
    np.testing.assert_allclose(general, aligned, rtol=2e-4)


@pytest.mark.parametrize("inclination", [0.0, 30.0, 60.0, 90.0])
@pytest.mark.parametrize("n", [0.5, 0.8])
def test_pixel_sampling_conserves_total_flux(inclination, n):
    # A compact galaxy lies wholly in the image: the pixel means, times the pixel
    # area, add up to the total luminosity I_e e^b 2 pi n R_e^2 Gamma(2n) / b^(2n)
    # times sqrt(2 pi) h, whatever the inclination.
    ie, re, q = 0.8, 5.0, 0.5
    image, _ = render(ie, re, n, q, inclination, size=64, scale=1.0, sampling="pixel")
    b = sersic_b(n)
    total = ie * math.exp(b) * 2 * math.pi * n * re ** 2 * gamma(2 * n) / b ** (2 * n) \
        * math.sqrt(2 * math.pi) * q * re / 1.177
    assert image.sum(dtype=np.float64) == pytest.approx(total, rel=1e-4)


def test_position_angle_rotates_the_image():
    base, _ = render(0.5, 10.0, 1.0, 0.3, 60.0, 0.0, size=16, scale=2.0)
    quarter, _ = render(0.5, 10.0, 1.0, 0.3, 60.0, 90.0, size=16, scale=2.0)
    np.testing.assert_allclose(quarter, base.T, rtol=1e-6)
    # major axis along +x at PA 0: brighter along the row than along the column
    assert base[7, 0] > base[0, 7]


@example(ie=1.0, re=5.0, n=0.5, q=0.25, inclination=76.0,  # PA 0 vs 180, 1e-22 pixels
         position_angle=1.3254008835420316e-197, sampling="center")
@given(ie=st.floats(0.1, 1.0), re=st.floats(5.0, 30.0), n=st.floats(0.5, 2.0),
       q=st.floats(0.2, 1.0), inclination=st.floats(0.0, 90.0),
       position_angle=st.floats(-360.0, 360.0), sampling=st.sampled_from(["center", "pixel"]))
def test_images_are_finite_positive_and_symmetric(ie, re, n, q, inclination, position_angle,
                                                  sampling):
    args = dict(size=8, scale=4.0, sampling=sampling)
    image, _ = render(ie, re, n, q, inclination, position_angle, **args)
    # never negative (far pixels of compact galaxies may underflow float32 to 0), and
    # positive at the centre, where the light is
    assert np.all(np.isfinite(image)) and np.all(image >= 0)
    assert np.all(image[3:5, 3:5] > 0)
    # turning the galaxy by 180 degrees changes nothing; PA -> -PA mirrors it in y.
    # These are computed independently, so they agree to the engine's tolerances
    # (1e-4 on a pixel's finite-difference terms), well inside the 1e-3 promise,
    # which covers pixels brighter than 1e-6 of the peak (docs/conventions.rst). A pixel at
    # 1e-22 of the peak once differed by 0.1% between PA 0 and 180, so an absolute floor of
    # 1e-10 of the peak, far below the promise, keeps such pixels out of the comparison.
    floor = 1e-10 * image.max()
    turned, _ = render(ie, re, n, q, inclination, position_angle + 180.0, **args)
    mirrored, _ = render(ie, re, n, q, inclination, -position_angle, **args)
    np.testing.assert_allclose(turned, image, rtol=3e-4, atol=floor)
    np.testing.assert_allclose(mirrored, image[::-1, :], rtol=3e-4, atol=floor)
    if inclination == 0.0:  # a face-on disc is round
        np.testing.assert_allclose(image, image.T, rtol=3e-4, atol=floor)


@pytest.mark.parametrize("sampling", ["center", "pixel"])
@pytest.mark.parametrize("inclination, n", [(30.0, 2.0), (60.0, 0.6), (3.0, 1.2), (87.0, 1.0)])
def test_column_engine_agrees_with_per_pixel_engine(sampling, inclination, n):
    # Position angles that are multiples of 90 degrees integrate whole columns at once;
    # any other angle integrates pixel by pixel. Over whole images they must agree.
    galaxy = (0.6, 7.0, n, 0.3, inclination)
    for quarter in (0.0, 90.0):
        aligned, _ = render(*galaxy, quarter, size=16, scale=2.0, sampling=sampling)
        general, _ = render(*galaxy, quarter + 1e-7, size=16, scale=2.0, sampling=sampling)
        assert np.all(aligned > 0) and np.all(general > 0)
        bright = general > 1e-6 * general.max()  # the accuracy promise's range
        np.testing.assert_allclose(general[bright], aligned[bright], rtol=3e-4)


# The thesis's stamps (pixel scale 1, R_e of 5-30 pixels): pixel means next to the minor
# axis (Gauss-Legendre and exact routes), and edge-on ones by finite differences away
# from the axis, against nested quadrature.
AXIS_CASES = [
    (0.5, 5.0, 2.0, 0.2, 30.0),   # a thin cusp: the kernel is about half a pixel wide
    (0.8, 12.0, 1.0, 0.5, 60.0),
    (0.3, 25.0, 0.5, 1.0, 45.0),
    (1.0, 6.0, 0.7, 0.3, 80.0),
]


@pytest.mark.parametrize("galaxy", AXIS_CASES)
def test_pixel_means_next_to_the_minor_axis_match_quadrature(galaxy):
    size = 20
    ie, re, n, q, inclination = galaxy
    image, _ = render(ie, re, n, q, inclination, size=size, scale=1.0, sampling="pixel")
    # the two columns either side of the axis (9, 10), from the centre rows outwards
    for r, c in [(9, 9), (10, 10), (9, 8), (6, 10), (3, 9), (0, 11), (14, 8), (19, 10)]:
        ref = pixel_mean(*sky(r, c, size, 1.0), 1.0, ie, re, n, q, inclination, 0.0)
        assert image[r, c] == pytest.approx(ref, rel=RTOL / 10), (r, c)


@pytest.mark.parametrize("galaxy", AXIS_CASES[:2] + [(0.6, 7.0, 1.5, 0.3, 40.0)])
def test_pixel_means_on_the_minor_axis_of_an_odd_stamp_match_quadrature(galaxy):
    # an odd stamp: the middle column straddles the axis, and the axis columns are
    # rows when the position angle is 90 degrees
    size = 19
    ie, re, n, q, inclination = galaxy
    image, _ = render(ie, re, n, q, inclination, 90.0, size=size, scale=1.0,
                      sampling="pixel")
    for r, c in [(9, 9), (9, 10), (8, 11), (7, 9), (9, 3), (10, 0), (11, 15), (8, 18)]:
        ref = pixel_mean(*sky(r, c, size, 1.0), 1.0, ie, re, n, q, inclination, 90.0)
        assert image[r, c] == pytest.approx(ref, rel=RTOL / 10), (r, c)


@pytest.mark.parametrize("n", [0.6, 1.0, 2.0])
def test_edge_on_pixel_means_match_quadrature(n):
    size = 24
    galaxy = (0.7, 8.0, n, 0.3, 90.0, 0.0)
    image, _ = render(*galaxy, size=size, scale=1.0, sampling="pixel")
    for r, c in [(11, 11), (12, 14), (11, 16), (13, 20), (12, 23), (10, 2), (14, 5)]:
        ref = pixel_mean(*sky(r, c, size, 1.0), 1.0, *galaxy)
        if ref > 1e-6 * image.max():
            assert image[r, c] == pytest.approx(ref, rel=RTOL / 10), (r, c)


def test_pixels_the_finite_differences_refuse_match_quadrature():
    # A steep n < 1 disc at 60 degrees: far out along the minor axis its light falls
    # faster than the fourth-order cubature can follow, so whole runs of a column's
    # rows are gathered and integrated as one strip column (exact across the rows).
    size = 64
    galaxy = (0.5, 8.9, 0.73, 0.5, 60.0)
    counts = np.zeros(5, dtype=np.int64)
    from skgal._render import render_flux
    image = render_flux(np.array([galaxy[0]]), galaxy[1], galaxy[2], sersic_b(galaxy[2]),
                        galaxy[3], galaxy[4], 0.0, image_size=size, pixel_scale=1.0,
                        sampling="pixel", routes=counts)[0]
    assert counts[4] > 2 * 32  # more strip-column pixels than the two axis columns hold
    peak = image.max()
    for r, c in [(8, 24), (5, 28), (12, 20), (3, 26), (55, 40)]:
        ref = pixel_mean(*sky(r, c, size, 1.0), 1.0, *galaxy, 0.0)
        assert ref > 1e-6 * peak  # inside the accuracy promise's range
        assert image[r, c] == pytest.approx(ref, rel=RTOL / 10), (r, c)


def test_gauss_tail_matches_erfc():
    """The strip columns' normal tails (Cephes' rational erfc times a Gaussian that the
    caller supplies) against the standard library's erfc, on both branches."""
    from skgal._render import _gauss_tail

    for u in np.concatenate([np.linspace(0.0, 9.0, 2001), [math.sqrt(2.0), 8.999]]):
        reference = 0.5 * math.erfc(u / math.sqrt(2.0))
        assert _gauss_tail(u, math.exp(-0.5 * u * u)) == pytest.approx(reference, rel=1e-13)
    assert _gauss_tail(9.01, math.exp(-0.5 * 9.01 ** 2)) == 0.0


@pytest.mark.parametrize("n, re", [(0.5, 5.0), (1.0, 12.0), (2.0, 30.0)])
@pytest.mark.parametrize("xa, xb", [(0.0, 1.0), (1.0, 2.0), (-0.5, 0.5), (-3.0, -2.0),
                                    (20.0, 21.0), (40.0, 41.0)])
def test_edge_on_strip_in_polar_form_matches_nested_quadrature(n, re, xa, xb):
    """The edge-on column means' polar form against the double integral of the profile
    over the strip, nested adaptive quadrature in x and Y."""
    from scipy.integrate import quad

    from skgal._render import MAX_PANELS, TAIL_EFOLDS, _edge_on_strip

    b = sersic_b(n)
    rmax = re * (TAIL_EFOLDS / b + 1.0) ** n  # the engine cuts the profile there

    def profile(r):
        return math.exp(-b * ((r / re) ** (1.0 / n) - 1.0))

    def projected(x):  # A(x) = 2 Int_0^Ymax S(sqrt(x^2 + Y^2)) dY, inside rmax
        if abs(x) >= rmax:
            return 0.0
        return 2.0 * quad(lambda y: profile(math.hypot(x, y)), 0.0,
                          math.sqrt(rmax ** 2 - x * x), epsabs=0.0, epsrel=1e-9,
                          limit=200)[0]

    breaks = [p for p in (0.0, rmax) if xa < p < xb]
    expected = quad(projected, xa, xb, points=breaks or None, epsabs=0.0, epsrel=1e-10,
                    limit=200)[0]
    geom = (1.0, re, n, b, 0.3 * re / 1.177, 0.0, 1.0, 1.0)
    ws = (np.empty((4, MAX_PANELS)), np.empty(16), np.empty(15), np.empty(15))
    assert _edge_on_strip(xa, xb, geom, 1.0, ws) == pytest.approx(expected, rel=1e-6, abs=0.0)


@pytest.mark.parametrize("n, re", [(0.5, 5.0), (1.0, 12.0), (2.0, 5.0)])
@pytest.mark.parametrize("x, y", [(0.5, 0.5), (0.0, 0.0), (0.3, -0.2), (-1.5, 2.5),
                                  (2.5, 0.0), (14.5, -3.5), (40.3, 0.5)])
def test_face_on_pixel_in_polar_form_matches_nested_quadrature(n, re, x, y):
    """A face-on pixel's mean, in polar form, against the profile integrated over the
    pixel's square by nested adaptive quadrature (split at the centre's axes)."""
    from scipy.integrate import quad

    from skgal._render import MAX_PANELS, TAIL_EFOLDS, _face_on_pixel

    b = sersic_b(n)
    ie, q, d = 0.7, 0.4, 1.0
    h = q * re / 1.177
    rmax = re * (TAIL_EFOLDS / b + 1.0) ** n  # the engine cuts the profile there

    def profile(u, v):
        return math.exp(-b * ((math.hypot(u, v) / re) ** (1.0 / n) - 1.0))

    def column(u, y0, y1):  # Int over v in [y0, y1] inside rmax
        reach = math.sqrt(max(rmax ** 2 - u * u, 0.0))
        lo, hi = max(y0, -reach), min(y1, reach)
        if not hi > lo:
            return 0.0
        return quad(lambda v: profile(u, v), lo, hi, epsabs=0.0, epsrel=1e-12, limit=200)[0]

    def cuts(lo, hi):
        return [lo] + ([0.0] if lo < 0.0 < hi else []) + [hi]

    total = 0.0
    xs, ys = cuts(x - d / 2, x + d / 2), cuts(y - d / 2, y + d / 2)
    for x0, x1 in zip(xs[:-1], xs[1:]):
        for y0, y1 in zip(ys[:-1], ys[1:]):
            # the circle r = rmax crosses the square where |u| = sqrt(rmax^2 - v^2)
            kinks = [k for v in (y0, y1) if abs(v) < rmax
                     for k in (math.sqrt(rmax ** 2 - v * v),) if x0 < k < x1]
            total += quad(column, x0, x1, args=(y0, y1), points=kinks or None, epsabs=0.0,
                          epsrel=1e-11, limit=200)[0]
    expected = ie * math.sqrt(2.0 * math.pi) * h * total / d ** 2
    geom = (ie, re, n, b, h, 1.0, 0.0, 1.0)
    ws = (np.empty((4, MAX_PANELS)), np.empty(16), np.empty(15), np.empty(15))
    assert _face_on_pixel(x, y, d, geom, ws) == pytest.approx(expected, rel=1e-6, abs=0.0)


@pytest.mark.parametrize("galaxy", [(1.0, 0.266, 0.5, 0.3, 80.0, 0.0),
                                    (1.0, 0.166, 0.5, 0.3, 80.0, 0.0),
                                    (1.0, 0.059, 1.0, 1.0, 85.0, 0.0),
                                    (1.0, 0.266, 0.5, 0.3, 80.0, 17.0)])
def test_a_galaxy_far_smaller_than_a_pixel_keeps_its_central_light(galaxy):
    """Found in review: with R_e a fraction of a pixel and a thin kernel, a row's light
    comes from the kernel's tail at the profile's peak, Y = 0, which the columns' (and
    lines of sight's) range must reach even when the rows' kernels do not."""
    assert assert_centres_match_quadrature(galaxy, 16, 1.0, row_step=1) > 0
