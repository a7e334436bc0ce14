"""Named parameter tables, drawn orientations and off-centre galaxies."""

import numpy as np
import pandas as pd
import pytest
from _reference import pixel_mean, surface_brightness

from skgal import SersicGalaxySimulator

RTOL = 1e-3


def render_offset(galaxy, offset, *, size, scale, sampling):
    ie, re, n, q, incl, pa = galaxy
    sim = SersicGalaxySimulator(image_size=size, pixel_scale=scale, sampling=sampling,
                                output="flux")
    table = pd.DataFrame([[ie, re, n, q, incl, pa, *offset]],
                         columns=["I_e", "R_e", "n", "q", "inclination", "position_angle",
                                  "x_offset", "y_offset"])
    return sim.transform(table)[0, :, :, 0].astype(np.float64)


OFFSET_CASES = [
    ((0.5, 5.0, 2.0, 0.3, 60.0, 0.0), (1.3, -0.4)),  # aligned: no mirror symmetry now
    ((0.7, 6.0, 1.0, 0.2, 90.0, 0.0), (0.5, 0.5)),  # edge-on: no outer product now
    ((0.4, 9.0, 1.5, 0.5, 0.0, 0.0), (-2.2, 1.7)),  # face-on cusp between pixels
    ((0.9, 5.0, 0.8, 0.4, 35.0, 77.0), (0.25, -3.0)),
]


@pytest.mark.parametrize("sampling", ["center", "pixel"])
@pytest.mark.parametrize("galaxy, offset", OFFSET_CASES)
def test_offset_galaxy_matches_quadrature(galaxy, offset, sampling):
    size, scale = 12, 2.0
    image = render_offset(galaxy, offset, size=size, scale=scale, sampling=sampling)
    peak = image.max()
    # the brightest pixel sits where the centre was moved to
    r, c = np.unravel_index(np.argmax(image), image.shape)
    assert abs(c - (5.5 + offset[0])) <= 1 and abs(r - (5.5 + offset[1])) <= 1
    pixels = [(r, c), (r, c + 1), (r - 1, c), (r + 1, c - 1), (0, 0), (11, 11), (2, 9),
              (9, 2)]
    checked = 0
    for r, c in pixels:
        if not (0 <= r < size and 0 <= c < size):
            continue
        x = (c - 5.5 - offset[0]) * scale
        y = (r - 5.5 - offset[1]) * scale
        if sampling == "center":
            ref = surface_brightness(x, y, *galaxy)
        else:
            ref = pixel_mean(x, y, scale, *galaxy)
        if ref > 1e-6 * peak:
            assert image[r, c] == pytest.approx(ref, rel=RTOL), (r, c)
            checked += 1
    assert checked >= 4


def test_whole_pixel_offset_shifts_the_image():
    galaxy = (0.6, 4.0, 1.2, 0.4, 50.0, 20.0)
    base = render_offset(galaxy, (0.0, 0.0), size=24, scale=1.0, sampling="pixel")
    moved = render_offset(galaxy, (2.0, -3.0), size=24, scale=1.0, sampling="pixel")
    # computed on different routes (no symmetry when off-centre), so to the tolerances
    np.testing.assert_allclose(moved[:21, 2:], base[3:, :22], rtol=3e-4,
                               atol=1e-10 * base.max())


def test_dataframe_is_read_by_name_in_any_order():
    sim = SersicGalaxySimulator(image_size=8, pixel_scale=4.0, inclinations=(30, 90),
                                sampling="center", output="flux")
    array = np.array([[0.5, 8.0, 1.0, 0.4], [0.9, 12.0, 1.7, 0.8]])
    frame = pd.DataFrame(array[:, ::-1], columns=["q", "n", "R_e", "I_e"])
    np.testing.assert_array_equal(sim.transform(frame), sim.transform(array))
    sim.fit(frame)
    assert list(sim.feature_names_in_) == ["q", "n", "R_e", "I_e"]


def test_position_angle_without_inclination():
    # four fixed inclinations at one position angle per galaxy
    sim = SersicGalaxySimulator(image_size=8, pixel_scale=4.0, sampling="center",
                                output="flux", position_angle="uniform")
    X, _ = sim.sample(3, random_state=0)
    assert list(X.columns) == ["I_e", "R_e", "n", "q", "position_angle"]
    images = sim.transform(X)
    assert images.shape == (3, 8, 8, 4)
    fixed = SersicGalaxySimulator(image_size=8, pixel_scale=4.0, sampling="center",
                                  output="flux", position_angle=float(X.position_angle[1]))
    np.testing.assert_array_equal(images[1], fixed.transform(X.iloc[1:2, :4].to_numpy())[0])


def test_sample_draws_orientation_and_offsets():
    sim = SersicGalaxySimulator(image_size=16, inclinations="isotropic",
                                position_angle="uniform", max_offset=2.5)
    X, y = sim.sample(4000, random_state=1)  # "auto": new columns come with names
    assert list(X.columns) == ["I_e", "R_e", "n", "q", "inclination", "position_angle",
                               "x_offset", "y_offset"]
    assert 0 <= X.position_angle.min() < 1 and 179 < X.position_angle.max() < 180
    for column in ("x_offset", "y_offset"):
        assert -2.5 <= X[column].min() < -2.4 and 2.4 < X[column].max() < 2.5
    np.testing.assert_array_equal(y, X.q.to_numpy())
    # eight columns in the positional order: an array can hold them when asked
    array, _ = sim.sample(5, random_state=1, as_frame=False)
    np.testing.assert_array_equal(array, X.iloc[:5].to_numpy())


def test_default_sample_stream_is_unchanged():
    # the thesis-era draws: one 4-column uniform block, row-major
    X, _ = SersicGalaxySimulator().sample(3, random_state=5)
    u = np.random.RandomState(5).random_sample((3, 4))
    np.testing.assert_allclose(X[:, 1], 5 + 25 * u[:, 1])
    assert isinstance(X, np.ndarray)


@pytest.mark.parametrize("columns, match", [
    (["I_e", "R_e", "n"], "lacks the required columns \\['q'\\]"),
    (["I_e", "R_e", "n", "q", "colour"], "unknown columns \\['colour'\\]"),
    (["I_e", "R_e", "n", "q", "x_offset"], "both 'x_offset' and 'y_offset'"),
    (["I_e", "R_e", "n", "q", "q"], "repeated columns"),
])
def test_bad_dataframes_are_named(columns, match):
    sim = SersicGalaxySimulator(image_size=8)
    frame = pd.DataFrame(np.full((2, len(columns)), 0.5), columns=columns)
    with pytest.raises(ValueError, match=match):
        sim.transform(frame)


def test_offsets_out_of_the_stamp_are_refused():
    sim = SersicGalaxySimulator(image_size=8)
    frame = pd.DataFrame([[0.5, 5.0, 1.0, 0.5, 0.0, 4.0]],
                         columns=["I_e", "R_e", "n", "q", "x_offset", "y_offset"])
    with pytest.raises(ValueError, match="'y_offset' must lie in \\(-4, 4\\) pixels"):
        sim.transform(frame)
    with pytest.raises(ValueError, match="max_offset must be below image_size / 2 = 4"):
        SersicGalaxySimulator(image_size=8, max_offset=4).sample(1)


def test_as_frame_false_refuses_a_table_an_array_cannot_hold():
    sim = SersicGalaxySimulator(image_size=8, max_offset=1.0)
    with pytest.raises(ValueError, match="as_frame=True"):
        sim.sample(2, as_frame=False)
    with pytest.raises(ValueError, match="7 columns"):
        sim.transform(np.full((1, 7), 0.5))


def test_a_seed_column_is_read_by_name_and_does_not_change_the_light():
    sim = SersicGalaxySimulator(image_size=8, inclinations="uniform", output="flux")
    X, _ = sim.sample(3, random_state=0, as_frame=True)
    seeded = X.assign(seed=[4, 4, 9])
    np.testing.assert_array_equal(sim.transform(seeded), sim.transform(X))
    # a plain array's ninth column is the seed
    array = np.column_stack([X.to_numpy(), np.zeros((3, 3)), [1, 2, 3]])
    assert sim.transform(array).shape == (3, 8, 8, 1)


@pytest.mark.parametrize("value", [-1.0, 2.5, 2.0**53])
def test_a_seed_that_is_not_a_nonnegative_integer_is_refused(value):
    sim = SersicGalaxySimulator(image_size=8)
    frame = pd.DataFrame([[0.5, 5.0, 1.0, 0.5, value]], columns=["I_e", "R_e", "n", "q", "seed"])
    with pytest.raises(ValueError, match="column 'seed' must be an integer >= 0; row 0"):
        sim.transform(frame)
