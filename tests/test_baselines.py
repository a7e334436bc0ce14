import numpy as np
import pytest

from skgal import SersicGalaxySimulator
from skgal.experiments import KnownInclinationInversionRegressor


@pytest.fixture(scope="module")
def views():
    # galaxies that fit their stamps (cropped ones look rounder than they are)
    sim = SersicGalaxySimulator(image_size=24, inclinations=(0, 90), sampling="center",
                                pixel_scale=1.5, effective_radius_range=(5.0, 8.0))
    X, q = sim.sample(30, random_state=0)
    images = sim.fit_transform(X)
    return images, q


def test_known_inclination_inversion_edge_on_and_face_on(views):
    images, q = views
    edge = images[..., 1:]
    reg = KnownInclinationInversionRegressor().fit(edge[:20], q[:20],
                                                   inclination=np.full(20, 90.0))
    mean, std = reg.predict(edge[20:], inclination=np.full(10, 90.0), return_std=True)
    # edge-on, the apparent axis ratio is close to q: far better than the prior
    assert np.sqrt(np.mean((mean - q[20:]) ** 2)) < 0.5 * q[:20].std()
    assert np.all(std == reg.scatter_) and 1e-3 <= reg.scatter_ < 0.5 * q[:20].std()
    # the training spread is the estimate's error there
    train_mean = reg.predict(edge[:20], inclination=np.full(20, 90.0))
    assert reg.scatter_ == pytest.approx(np.std(train_mean - q[:20]))
    # face-on, the image says nothing about q: the prior, from the training targets
    face = images[..., :1]
    mean, std = reg.predict(face[20:], inclination=np.zeros(10), return_std=True)
    np.testing.assert_allclose(mean, q[:20].mean())
    np.testing.assert_allclose(std, q[:20].std())
    dist = reg.predict_distribution(edge[20:], inclination=np.full(10, 90.0))
    np.testing.assert_allclose(dist.mean(), reg.predict(edge[20:], inclination=np.full(10, 90.0)))


def test_known_inclination_inversion_needs_the_inclinations(views):
    images, q = views
    reg = KnownInclinationInversionRegressor()
    with pytest.raises(TypeError, match="inclination"):
        reg.fit(images[:5, ..., 1:], q[:5])
    with pytest.raises(ValueError, match=r"inclination: one angle in \[0, 90\] degrees per "
                                         r"image \(5\); got 4"):
        reg.fit(images[:5, ..., 1:], q[:5], inclination=np.full(4, 90.0))
    with pytest.raises(ValueError, match="inclination"):
        reg.fit(images[:5, ..., 1:], q[:5], inclination=np.full(5, 120.0))
    with pytest.raises(ValueError, match="one image channel"):
        reg.fit(images[:5], q[:5], inclination=np.full(5, 90.0))
