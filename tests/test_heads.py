"""Distribution heads: Keras losses against scipy, Jacobians, fits with every head."""

import pickle

import numpy as np
import pytest
from scipy import stats
from scipy.special import logit

pytest.importorskip("tensorflow")

from skgal import (GaussianHead, MixtureHead, MultivariateNormalMixture,  # noqa: E402
                   Normal, NormalMixture, ProbabilisticQRegressor)
from skgal._heads import MixtureParameters, gaussian_nll_loss, make_head  # noqa: E402


def raw_outputs(head, n_targets, n=6, seed=0):
    """Parameters as the head's layer makes them from random raw network outputs."""
    rng = np.random.RandomState(seed)
    raw = rng.normal(0, 1, (n, head.n_outputs(n_targets))).astype("float32")
    return np.asarray(head.layer(n_targets)(raw), dtype=float)


def test_gaussian_loss_is_scipys_nll():
    params = np.array([[0.5, 0.1], [0.3, 0.02], [0.9, 0.5]], dtype="float32")
    y = np.array([0.55, 0.3, 0.2], dtype="float32")
    loss = np.asarray(gaussian_nll_loss(y, params))
    np.testing.assert_allclose(loss, -stats.norm.logpdf(y, params[:, 0], params[:, 1]),
                               rtol=1e-5)
    dist = GaussianHead().distribution(params, [("affine", 0.0, 1.0)])
    assert isinstance(dist, Normal)
    np.testing.assert_allclose(-dist.logpdf(y), loss, rtol=1e-5)


@pytest.mark.parametrize("n_components", [1, 3])
def test_bounded_mixture_loss_is_the_density_of_y_with_its_jacobian(n_components):
    head = MixtureHead(n_components, bounded=True)
    params = raw_outputs(head, 1)
    low, high = 0.2, 1.0
    y = np.linspace(0.25, 0.95, 6)
    loss = np.asarray(head.loss([("logit", low, high)])(y.astype("float32"),
                                                          params.astype("float32"),))
    # per-sample losses: Keras reduces, so compare the mean, then each row by numpy
    dist = head.distribution(params, [("logit", low, high)])
    assert isinstance(dist, NormalMixture) and dist.bounds == (low, high)
    by_hand = []
    z = logit((y - low) / (high - low))
    for i in range(6):
        dens = np.sum(dist.weights[i] * stats.norm.pdf(z[i], dist.loc[i], dist.scale[i]))
        jac = 1 / ((y[i] - low) * (high - y[i]) / (high - low))
        by_hand.append(-np.log(dens * jac))
    np.testing.assert_allclose(-dist.logpdf(y), by_hand, rtol=1e-9)
    assert float(loss) == pytest.approx(np.mean(by_hand), rel=1e-5)


def test_joint_mixture_loss_matches_numpy_for_mixed_spaces():
    head = MixtureHead(2)
    params = raw_outputs(head, 2, seed=1)
    spaces = [("logit", 0.2, 1.0), ("affine", 45.0, 20.0)]
    y = np.column_stack([np.linspace(0.3, 0.9, 6), np.linspace(5, 85, 6)])
    loss = head.loss(spaces)
    per_row = [float(loss(y[i:i + 1].astype("float32"), params[i:i + 1].astype("float32")))
               for i in range(6)]
    dist = head.distribution(params, spaces)
    assert isinstance(dist, MultivariateNormalMixture) and dist.bounds[1] is None
    np.testing.assert_allclose(per_row, -dist.logpdf(y), rtol=1e-5)
    # the affine target comes back in degrees: y = 45 + 20 z
    layer_loc = params[:, 2:6].reshape(6, 2, 2)
    np.testing.assert_allclose(dist.loc[:, :, 1], 45 + 20 * layer_loc[:, :, 1])


def test_mixture_layer_gives_normalised_weights_and_positive_scales():
    params = raw_outputs(MixtureHead(3), 2)
    layer = MixtureParameters(3, 2)
    np.testing.assert_allclose(np.exp(params[:, :3]).sum(axis=1), 1, rtol=1e-6)
    diag = params[:, layer._diag]
    assert diag.shape == (6, 6) and np.all(diag > 0)
    assert MixtureParameters.from_config(layer.get_config()).n_components == 3


def test_make_head():
    assert isinstance(make_head("gaussian"), GaussianHead)
    assert make_head("bounded_mixture", 4).bounded and make_head("mixture", 4).n_components == 4
    with pytest.raises(ValueError, match="head must be"):
        make_head("student")
    with pytest.raises(ValueError, match="n_components"):
        MixtureHead(0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    q = rng.uniform(0.2, 1.0, 160)
    incl = rng.uniform(0, 90, 160)
    X = (q[:, None, None, None] * 3 + np.cos(np.radians(incl))[:, None, None, None]
         + rng.normal(0, 0.3, (160, 8, 8, 1))).astype("float32")
    return X, q, incl


@pytest.mark.parametrize("head", ["mixture", "bounded_mixture"])
def test_fit_with_a_mixture_head(data, head):
    X, q, _ = data
    reg = ProbabilisticQRegressor(head=head, n_components=3, target_bounds=(0.2, 1.0),
                                  epochs=3, batch_size=16, random_state=0, recalibrate=True)
    reg.fit(X, q)
    dist = reg.predict_distribution(X)
    assert isinstance(dist, NormalMixture) and dist.n_components == 3
    mean, std = reg.predict(X, return_std=True)
    np.testing.assert_allclose(mean, dist.mean())
    np.testing.assert_allclose(std, dist.std())
    assert reg.history_["loss"][-1] < reg.history_["loss"][0]
    # the temperature is the NLL's minimum over the validation split
    val = reg.validation_indices_
    assert len(val) == 32 and len(np.unique(val)) == 32
    raw = reg.head_.distribution(reg._predict_params(X[val]), reg.target_spaces_)
    best = -np.mean(raw.with_scale(reg.std_scale_).logpdf(q[val]))
    for s in (0.8 * reg.std_scale_, 1.25 * reg.std_scale_):
        assert best <= -np.mean(raw.with_scale(s).logpdf(q[val])) + 1e-9
    lower, upper = reg.predict_interval(X, coverage=0.9)
    if head == "bounded_mixture":
        assert np.all((lower > 0.2) & (upper < 1.0))
        assert reg.target_spaces_ == [("logit", 0.2, 1.0)]
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


def test_two_targets_give_a_joint_distribution(data):
    X, q, incl = data
    y = np.column_stack([q, incl])
    reg = ProbabilisticQRegressor(head="bounded_mixture", n_components=2,
                                  target_bounds=[(0.2, 1.0), (0.0, 90.0)], epochs=2,
                                  batch_size=16, random_state=0).fit(X, y)
    dist = reg.predict_distribution(X[:5])
    assert isinstance(dist, MultivariateNormalMixture) and dist.n_targets == 2
    mean, std = reg.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5, 2)
    assert np.all((mean[:, 1] > 0) & (mean[:, 1] < 90))
    np.testing.assert_allclose(dist.marginal(1).mean(), mean[:, 1])
    gauss = ProbabilisticQRegressor(epochs=1, random_state=0).fit(X, y)
    assert gauss.target_spaces_[1][0] == "affine"
    assert gauss.target_spaces_[1][1] == pytest.approx(incl[
        np.random.RandomState(gauss.random_state_).permutation(160)[32:]].mean(), rel=1e-5)


def test_target_bounds_are_checked(data):
    X, q, _ = data
    with pytest.raises(ValueError, match=r"not inside target_bounds \(0.3, 1\)"):
        ProbabilisticQRegressor(head="bounded_mixture", target_bounds=(0.3, 1.0),
                                epochs=1).fit(X, q)
    with pytest.raises(ValueError, match="low < high"):
        ProbabilisticQRegressor(head="bounded_mixture", target_bounds=(1.0, 0.2),
                                epochs=1).fit(X, q)
    with pytest.raises(ValueError, match="2 pairs|1 pairs|pair"):
        ProbabilisticQRegressor(head="bounded_mixture", target_bounds=[(0, 1)] * 3,
                                epochs=1).fit(X, q)
    reg = ProbabilisticQRegressor(head="bounded_mixture", n_components=2, epochs=1,
                                  random_state=0).fit(X, q)
    (kind, low, high), = reg.target_spaces_
    train = q[np.random.RandomState(reg.random_state_).permutation(160)[32:]]
    span = train.max() - train.min()
    assert kind == "logit"
    assert low == pytest.approx(train.min() - 0.01 * span, rel=1e-5)
    assert high == pytest.approx(train.max() + 0.01 * span, rel=1e-5)


def test_fit_does_not_touch_random_state(data, monkeypatch):
    X, q, _ = data
    state = np.random.RandomState(3)
    reg = ProbabilisticQRegressor(epochs=1, random_state=state)
    seen = []
    original = ProbabilisticQRegressor._build_keras_model

    def spy(self):
        seen.append(self.random_state)
        return original(self)

    monkeypatch.setattr(ProbabilisticQRegressor, "_build_keras_model", spy)
    reg.fit(X, q)
    assert seen == [state] and reg.random_state is state
    assert isinstance(reg.random_state_, int)


def test_quantile_recalibration_makes_the_validation_pit_uniform(data):
    from skgal import QuantileRecalibrated

    X, q, incl = data
    reg = ProbabilisticQRegressor(head="bounded_mixture", n_components=2,
                                  target_bounds=(0.2, 1.0), epochs=2, batch_size=16,
                                  random_state=0, recalibrate="quantile").fit(X, q)
    dist = reg.predict_distribution(X)
    assert isinstance(dist, QuantileRecalibrated) and reg.std_scale_ == 1.0
    val = reg.validation_indices_
    assert len(val) == 32 and len(np.unique(val)) == 32
    pit = np.sort(dist[val].cdf(q[val]))
    # on the validation split the map sends each PIT quantile to its level
    np.testing.assert_allclose(pit, (np.arange(32) + 0.5) / 32, atol=0.05)
    mean, std = reg.predict(X, return_std=True)
    assert mean.shape == (160,) and np.all((mean > 0.2) & (mean < 1.0)) and np.all(std > 0)
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), mean)
    with pytest.raises(ValueError, match="one target"):
        ProbabilisticQRegressor(epochs=1, recalibrate="quantile").fit(
            X, np.column_stack([q, incl]))
    with pytest.raises(ValueError, match="recalibrate"):
        ProbabilisticQRegressor(epochs=1, recalibrate="conformal").fit(X, q)
