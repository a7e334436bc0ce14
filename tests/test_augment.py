"""The square's symmetries as a training augmentation: each transformed image is the
image of the same galaxy at the transformed position angle and centre offset."""

import numpy as np
import pandas as pd
import pytest

from skgal import ImagePSF, MoffatPSF, RandomDihedral, SersicGalaxySimulator
from skgal._augment import DIHEDRAL, dihedral_transform, psf_has_square_symmetry


def _transformed_geometry(element, position_angle, x_offset, y_offset):
    """Where the galaxy goes under DIHEDRAL[element], worked out by hand.

    Pixel (row r, column c) sits at x = c - half, y = r - half. Mirroring columns gives
    out(x, y) = in(-x, y): the offset's x flips and the major axis (cos PA, sin PA)
    becomes (-cos PA, sin PA), i.e. PA -> 180 - PA. np.rot90 by one quarter gives
    out(r, c) = in(c, size - 1 - r), i.e. out(x, y) = in(-y, x): the offset
    (ox, oy) -> (oy, -ox) and the axis u -> (u_y, -u_x), i.e. PA -> PA - 90.
    """
    turns, mirror = DIHEDRAL[element]
    pa, ox, oy = position_angle, x_offset, y_offset
    if mirror:
        pa, ox = 180.0 - pa, -ox
    for _ in range(turns):
        pa, ox, oy = pa - 90.0, oy, -ox
    return pa % 180.0, ox, oy


@pytest.mark.parametrize("element", range(8))
def test_each_symmetry_is_the_galaxy_at_its_transformed_orientation(element):
    simulator = SersicGalaxySimulator(image_size=16, output="flux", psf=MoffatPSF(2.5, 3.0))
    row = {"I_e": 0.6, "R_e": 3.5, "n": 1.3, "q": 0.4, "inclination": 65.0}
    pa, ox, oy = 30.0, 0.7, -0.4
    original = simulator.transform(pd.DataFrame([{**row, "position_angle": pa,
                                                  "x_offset": ox, "y_offset": oy}]))
    pa2, ox2, oy2 = _transformed_geometry(element, pa, ox, oy)
    expected = simulator.transform(pd.DataFrame([{**row, "position_angle": pa2,
                                                  "x_offset": ox2, "y_offset": oy2}]))
    got = dihedral_transform(original, element)
    assert got.shape == expected.shape
    peak = float(expected.max())
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * peak)
    if element != 0:  # and the galaxy did move: the test can tell orientations apart
        assert np.abs(got - original).max() > 1e-2 * peak


def test_a_galaxy_is_transformed_alike_alone_and_in_any_batch():
    rng = np.random.default_rng(0)
    images = rng.random((40, 6, 6, 2)).astype(np.float32)
    step = RandomDihedral(random_state=3)
    whole = step.fit_transform(images)
    for k in (0, 17, 39):
        np.testing.assert_array_equal(step.transform(images[k:k + 1])[0], whole[k])
    np.testing.assert_array_equal(step.transform(images[::-1]), whole[::-1])
    elements = step.elements(images)
    assert set(elements) == set(range(8))  # 40 draws of 8: all appear
    for k, element in enumerate(elements):
        np.testing.assert_array_equal(whole[k], dihedral_transform(images[k:k + 1],
                                                                  element)[0])
    # another seed, other symmetries
    assert not np.array_equal(RandomDihedral(random_state=4).elements(images), elements)


def test_rotations_only_keep_the_handedness():
    images = np.random.default_rng(1).random((60, 5, 5))
    elements = RandomDihedral("rotations", random_state=0).elements(images)
    assert set(elements) == {0, 1, 2, 3}


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="square images; got height 4 and width 6"):
        RandomDihedral(random_state=0).transform(np.zeros((2, 4, 6)))
    with pytest.raises(ValueError, match="symmetries"):
        RandomDihedral("mirrors").transform(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        RandomDihedral().transform(np.full((1, 4, 4), np.nan))


def test_which_psfs_have_the_square_symmetry():
    assert psf_has_square_symmetry(None)
    assert psf_has_square_symmetry(MoffatPSF(3.0, 3.0))
    round_image = np.outer([1.0, 3.0, 1.0], [1.0, 3.0, 1.0])
    assert psf_has_square_symmetry(ImagePSF(round_image, pixel_scale=1.0))
    lopsided = round_image.copy()
    lopsided[0, 1] += 0.5
    assert not psf_has_square_symmetry(ImagePSF(lopsided, pixel_scale=1.0))
    elongated = np.outer([1.0, 3.0, 1.0], [1.0, 2.0, 1.0])  # mirror-symmetric, not square
    assert not psf_has_square_symmetry(ImagePSF(elongated, pixel_scale=1.0))
