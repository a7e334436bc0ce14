import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_regressor
from sklearn.exceptions import NotFittedError

from skgal import ProbabilisticQRegressor
from skgal.metrics import gaussian_nll

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def data():
    # images whose mean brightness encodes y, so that even 2 epochs learn something
    rng = np.random.RandomState(0)
    y = rng.uniform(0.2, 1.0, 120)
    X = (y[:, None, None, None] * 3 + rng.normal(0, 0.3, (120, 12, 12, 2))).astype("float32")
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return ProbabilisticQRegressor(epochs=3, batch_size=16, random_state=0).fit(X, y)


def test_the_papers_architecture():
    from skgal._network import build_network

    model = build_network((64, 64, 1), mean=[0.0], variance=[1.0])
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["InputLayer", "Normalization", "Conv2D", "MaxPooling2D", "Conv2D",
                     "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout",
                     "Dense", "GaussianParameters"]
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [16, 32, 48]
    assert all(c.kernel_size == (2, 2) and c.padding == "valid" for c in convs)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 309_794  # the thesis's "300,000"
    # four channels: only the first convolution grows
    model4 = build_network((64, 64, 4), mean=[0.0] * 4, variance=[1.0] * 4)
    assert sum(int(np.prod(w.shape)) for w in model4.trainable_weights) == 309_794 + 3 * 64


def test_predict_mean_std_interval_history(fitted, data):
    X, y = data
    assert is_regressor(fitted)
    mean, std = fitted.predict(X, return_std=True)
    assert mean.shape == std.shape == (120,) and np.all(std > 0)
    np.testing.assert_array_equal(fitted.predict(X), mean)
    lower, upper = fitted.predict_interval(X, coverage=0.95)
    np.testing.assert_allclose((upper - lower) / 2, 1.959964 * std, rtol=1e-5)
    assert set(fitted.history_) == {"loss", "val_loss"}
    assert len(fitted.history_["loss"]) == 3
    assert fitted.history_["loss"][-1] < fitted.history_["loss"][0]
    assert fitted.score(X, y) == pytest.approx(
        1 - np.sum((y - mean) ** 2) / np.sum((y - y.mean()) ** 2), rel=1e-5)  # R^2


def test_same_seed_same_predictions_other_seed_others(data, fitted):
    X, y = data
    again = ProbabilisticQRegressor(epochs=3, batch_size=16, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
    other = ProbabilisticQRegressor(epochs=3, batch_size=16, random_state=1).fit(X, y)
    assert not np.array_equal(other.predict(X), fitted.predict(X))


def test_batches_per_call_change_nothing_but_speed(data, fitted):
    # `fitted` trains 6 batches an epoch, 8 a call (the default); one a call and four (a
    # remainder of two) give the same network
    X, y = data
    assert fitted.model_.steps_per_execution == 8
    for per_call in (1, 4):
        other = ProbabilisticQRegressor(epochs=3, batch_size=16, random_state=0,
                                        steps_per_execution=per_call).fit(X, y)
        np.testing.assert_array_equal(other.predict(X), fitted.predict(X))
        np.testing.assert_array_equal(other.history_["val_loss"], fitted.history_["val_loss"])


def test_pickle_clone_and_joblib_round_trip(fitted, data, tmp_path):
    X, _ = data
    expected = fitted.predict(X, return_std=True)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X, return_std=True), expected)
    joblib.dump(fitted, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.predict(X, return_std=True), expected)
    assert loaded.history_ == fitted.history_
    twin = clone(fitted)
    assert twin.get_params() == fitted.get_params() and not hasattr(twin, "model_")


def test_input_scaling_is_learned_and_global(fitted, data):
    X, _ = data
    norm = fitted.model_.layers[1]
    # learned from the training rows alone (not the validation split): exactly their
    # per-channel mean and variance, which differ from the whole set's
    train = np.random.RandomState(fitted.random_state_).permutation(120)[24:]
    np.testing.assert_allclose(np.ravel(norm.mean), X[train].mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(np.ravel(norm.variance), X[train].var(axis=(0, 1, 2)),
                               rtol=1e-5)
    assert not np.allclose(np.ravel(norm.mean), X.mean(axis=(0, 1, 2)), rtol=1e-3)
    # a brighter copy of an image gets another prediction: no per-image normalisation
    assert fitted.predict(X[:1] + 1.0)[0] != pytest.approx(fitted.predict(X[:1])[0])


def test_recalibration_minimises_validation_nll(data):
    X, y = data
    plain = ProbabilisticQRegressor(epochs=3, batch_size=16, random_state=0).fit(X, y)
    recal = ProbabilisticQRegressor(epochs=3, batch_size=16, random_state=0,
                                    recalibrate=True).fit(X, y)
    assert plain.std_scale_ == 1.0 and recal.std_scale_ > 0 and recal.std_scale_ != 1.0
    # the same network; the validation rows are the seeded split's first 20%
    val = np.random.RandomState(recal.random_state_).permutation(120)[:24]
    mean, std = plain.predict(X[val], return_std=True)
    nll = [gaussian_nll(y[val], mean, s * std) for s in (0.8, 1.0, 1.25)]
    best = gaussian_nll(y[val], mean, recal.std_scale_ * std)
    assert best <= min(nll) + 1e-9
    np.testing.assert_allclose(recal.predict(X, return_std=True)[1],
                               recal.std_scale_ * plain.predict(X, return_std=True)[1],
                               rtol=1e-6)


def test_early_stopping_restores_the_best_epoch(data):
    X, y = data
    reg = ProbabilisticQRegressor(epochs=40, batch_size=16, learning_rate=0.05,
                                  early_stopping=True, patience=2, random_state=0).fit(X, y)
    val_loss = reg.history_["val_loss"]
    assert len(val_loss) < 40
    best = int(np.argmin(val_loss))
    assert val_loss[-1] > val_loss[best]  # it stopped after epochs worse than the best
    # the weights kept are the best epoch's: their validation NLL is that epoch's
    val = np.random.RandomState(reg.random_state_).permutation(120)[:24]
    mean, std = reg.predict(X[val], return_std=True)
    assert gaussian_nll(y[val], mean, std) == pytest.approx(val_loss[best], rel=1e-4)
    assert gaussian_nll(y[val], mean, std) != pytest.approx(val_loss[-1], rel=1e-4)


@pytest.mark.parametrize("shape", [(8, 8, 1), (4, 4, 3), (3, 5, 1), (64, 64, 4)])
def test_any_image_size_and_flattened_input(shape):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20,) + shape).astype("float32")
    y = rng.uniform(0.2, 1, 20)
    reg = ProbabilisticQRegressor(epochs=1, random_state=0, image_shape=shape)
    reg.fit(X.reshape(20, -1), y)
    assert reg.predict(X.reshape(20, -1)).shape == (20,)
    direct = ProbabilisticQRegressor(epochs=1, random_state=0).fit(X, y)
    np.testing.assert_allclose(direct.predict(X), reg.predict(X.reshape(20, -1)), rtol=1e-5)


def test_bad_input(fitted, data):
    X, y = data
    with pytest.raises(NotFittedError):
        ProbabilisticQRegressor().predict(X)
    with pytest.raises(ValueError, match="smaller than the network's input"):
        fitted.predict(X[:, :8, :8, :])
    with pytest.raises(ValueError, match="center_cutout"):
        fitted.predict(np.pad(X, ((0, 0), (2, 2), (2, 2), (0, 0))))
    bad = X.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(bad)
    reg = ProbabilisticQRegressor(epochs=1)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        reg.fit(X, y[:-1])
    with pytest.raises(ValueError, match="infinity|NaN"):
        reg.fit(X, np.where(np.arange(120) == 3, np.inf, y))
    with pytest.raises(ValueError, match="image_shape"):
        ProbabilisticQRegressor(image_shape=(5, 5, 1)).fit(X.reshape(120, -1), y)
    with pytest.raises(ValueError, match="dropout"):
        ProbabilisticQRegressor(dropout=1.5).fit(X, y)
    with pytest.raises(ValueError, match="coverage"):
        fitted.predict_interval(X, coverage=1.2)
    assert not hasattr(fitted, "partial_fit")


def test_cosine_schedule_decays_the_learning_rate_to_zero(data):
    X, y = data
    reg = ProbabilisticQRegressor(epochs=2, batch_size=16, learning_rate_schedule="cosine",
                                  random_state=0).fit(X, y)
    assert float(reg.model_.optimizer.learning_rate) < 1e-6  # decayed over every step
    flat = ProbabilisticQRegressor(epochs=2, batch_size=16, random_state=0).fit(X, y)
    assert float(flat.model_.optimizer.learning_rate) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="learning_rate_schedule"):
        ProbabilisticQRegressor(learning_rate_schedule="step").fit(X, y)


def test_a_network_trained_with_a_progress_bar_pickles(data):
    # the command line's and the benchmark's networks carry a tqdm bar over the epochs
    from skgal._runs import epoch_bar

    X, y = data
    reg = ProbabilisticQRegressor(epochs=1, batch_size=32, dense_units=8, random_state=0,
                                  callbacks=[epoch_bar("test", 1)]).fit(X, y)
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(restored.predict(X[:5]), reg.predict(X[:5]), rtol=1e-6)
    assert type(restored.callbacks[0]).__name__ == "EpochBar"
