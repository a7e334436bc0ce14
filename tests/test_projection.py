import numpy as np
import pytest

from skgal import ProjectionSelector


@pytest.fixture
def stacks():
    X = np.zeros((6, 4, 4, 4), dtype=np.float32)
    X += np.arange(4, dtype=np.float32)  # channel k holds the value k everywhere
    X += 10 * np.arange(6, dtype=np.float32)[:, None, None, None]  # row r adds 10 r
    return X


def test_all_keeps_every_channel(stacks):
    np.testing.assert_array_equal(ProjectionSelector().fit_transform(stacks), stacks)


@pytest.mark.parametrize("inclination, channel", [(0, 0), (30, 1), (60.0, 2), (90, 3)])
def test_fixed_keeps_one_channel(stacks, inclination, channel):
    sel = ProjectionSelector(mode="fixed", inclination=inclination).fit(stacks)
    out, incl = sel.select(stacks)
    np.testing.assert_array_equal(out, stacks[..., channel:channel + 1])
    assert np.all(incl == [0, 30, 60, 90][channel])


def test_random_is_one_uniform_channel_per_galaxy_and_reproducible():
    X = np.broadcast_to(np.arange(4, dtype=np.float32), (4000, 2, 2, 4)).copy()
    sel = ProjectionSelector(mode="random", random_state=3).fit(X)
    out, incl = sel.select(X)
    assert out.shape == (4000, 2, 2, 1)
    channel = out[:, 0, 0, 0].astype(int)
    np.testing.assert_array_equal(incl[:, 0], np.array([0, 30, 60, 90])[channel])
    counts = np.bincount(channel, minlength=4)
    assert np.all(np.abs(counts - 1000) < 100)  # uniform over the four channels
    # the same array gives the same choice at fit and at predict time, and on a clone
    np.testing.assert_array_equal(sel.transform(X), out)
    np.testing.assert_array_equal(sel.fit_transform(X), out)
    other = ProjectionSelector(mode="random", random_state=4).fit_transform(X)
    assert not np.array_equal(other, out)


def test_errors(stacks):
    with pytest.raises(ValueError, match="among the channels"):
        ProjectionSelector(mode="fixed", inclination=45).fit(stacks)
    with pytest.raises(ValueError, match="among the channels"):
        ProjectionSelector(mode="fixed").fit(stacks)
    with pytest.raises(ValueError, match="3 channels"):
        ProjectionSelector().fit(stacks[..., :3])
    with pytest.raises(ValueError, match="image stacks"):
        ProjectionSelector().fit(stacks[:, :, :, 0])
    with pytest.raises(ValueError, match="mode"):
        ProjectionSelector(mode="best").fit(stacks)
    sel = ProjectionSelector().fit(stacks)
    with pytest.raises(ValueError, match="shape"):
        sel.transform(np.zeros((2, 8, 8, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        sel.transform(np.full_like(stacks, np.nan))


def test_fitted_shape_is_the_whole_image_shape(stacks):
    selector = ProjectionSelector().fit(stacks)
    assert selector.image_shape_ == stacks.shape[1:]
    # n_features_in_ is scikit-learn's for 2-D tables; an image stack has no such count
    assert not hasattr(selector, "n_features_in_")
