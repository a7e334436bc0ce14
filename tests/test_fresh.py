"""Training on fresh simulations: seeding, per-worker determinism, the estimator's face."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skgal import (BatchProcesses, CCDNoise, FreshSimulations, ProjectionSelector,
                   SersicGalaxySimulator, ToMagnitudes)

pytest.importorskip("tensorflow")
from skgal import ProbabilisticQRegressor  # noqa: E402
from skgal.metrics import nll_scorer  # noqa: E402


class RecordingSource(FreshSimulations):
    """Records the key of every batch it renders."""

    keys = None

    def batch(self, key, batch_size):
        self.keys.append(tuple(int(k) for k in key))
        return super().batch(key, batch_size)


@pytest.fixture(scope="module")
def source():
    sim = SersicGalaxySimulator(image_size=12, pixel_scale=5.0, inclinations="isotropic")
    return FreshSimulations(sim, targets=("q", "inclination"), steps_per_epoch=3)


def test_a_batch_is_fixed_by_its_key_and_new_for_any_other(source):
    X, y = source.batch((0, 0, 1), 8)
    assert X.shape == (8, 12, 12, 1) and X.dtype == np.float32 and y.shape == (8, 2)
    again = source.batch((0, 0, 1), 8)
    np.testing.assert_array_equal(again[0], X)
    for other in [(0, 1, 1), (0, 0, 2), (1, 0, 1)]:  # another epoch, batch or seed
        assert not np.array_equal(source.batch(other, 8)[1], y)
    assert np.all((y[:, 0] >= 0.2) & (y[:, 0] <= 1.0)) and np.all(y[:, 1] <= 90)
    assert source.target_bounds() == [(0.2, 1.0), (0.0, 90.0)]


def test_every_step_that_draws_gets_a_new_seed_per_batch():
    # one galaxy, always the same: whatever differs between batches is noise or projection
    sim = SersicGalaxySimulator(image_size=12, pixel_scale=5.0, output="flux",
                                intensity_range=(0.5, 0.5), effective_radius_range=(8, 8),
                                sersic_index_range=(1, 1), flattening_range=(0.5, 0.5))
    noisy = Pipeline([("render", sim), ("noise", CCDNoise(sky_level=50.0, random_state=0)),
                      ("photometry", ToMagnitudes(kind="asinh"))])
    source = FreshSimulations(noisy, steps_per_epoch=2)
    X, y = source.batch((5, 0, 0), 4)
    assert X.shape == (4, 12, 12, 4) and np.all(y == 0.5)
    np.testing.assert_array_equal(source.batch((5, 0, 0), 4)[0], X)
    assert not np.allclose(source.batch((5, 0, 1), 4)[0][0], X[0])  # new noise
    assert noisy.get_params()["noise__random_state"] == 0  # the user's pipeline is untouched
    clean = FreshSimulations(Pipeline([("render", sim), ("photometry", ToMagnitudes())]))
    np.testing.assert_array_equal(clean.batch((5, 0, 1), 4)[0], clean.batch((5, 0, 0), 4)[0])
    projected = FreshSimulations(Pipeline([("render", sim), ("photometry", ToMagnitudes()),
                                           ("project", ProjectionSelector("random"))]))
    channels = [projected.batch((5, 0, i), 8)[0][:, 0, 0, 0] for i in range(2)]
    assert not np.array_equal(*channels)  # a new draw of projections for every batch


def test_fresh_training_does_not_depend_on_the_number_of_workers(source):
    RecordingSource.keys = []
    recording = RecordingSource(source.simulator, targets=source.targets, steps_per_epoch=3)
    X_val, y_val = source.batch((1234, 0, 0), 48)
    predictions = []
    # the workers, and the batches Keras trains on a call (3 a epoch, 2 a call: a call's
    # remainder too), change nothing
    for workers, per_call in ((1, 1), (3, 2)):
        RecordingSource.keys = []
        recording.keys = RecordingSource.keys
        reg = ProbabilisticQRegressor(epochs=3, batch_size=8, random_state=0, workers=workers,
                                      training_source=recording, head="bounded_mixture",
                                      n_components=2,
                                      steps_per_execution=per_call).fit(X_val, y_val)
        predictions.append(reg.predict(X_val))
        seeds = {k[0] for k in recording.keys}
        assert len(seeds) == 1
        # every (epoch, batch) once at least; epoch e's batches are keyed e
        assert {k[1:] for k in recording.keys} == {(e, i) for e in range(3) for i in range(3)}
    np.testing.assert_array_equal(predictions[0], predictions[1])
    assert reg.target_spaces_ == [("logit", 0.2, 1.0), ("logit", 0.0, 90.0)]
    assert set(reg.history_) == {"loss", "val_loss"} and len(reg.history_["loss"]) == 3


class Unrebuildable(Exception):
    """Pickles, but its __init__ cannot take its args back."""

    def __init__(self, a, b):
        super().__init__(f"{a} {b}")


class FailingSource(FreshSimulations):
    """Batch 1 fails, batch 2 with an exception that cannot be rebuilt, batch 3 prints
    (module level: a worker process imports it)."""

    def batch(self, key, batch_size):
        if key[-1] == 1:
            raise ValueError(f"no batch {key}")
        if key[-1] == 2:
            raise Unrebuildable("odd", "error")
        if key[-1] == 3:
            print("a stray print, which must not reach the pipe")
        return super().batch(key, batch_size)


def _refuse():
    raise ImportError("this source cannot be rebuilt here")


class RefusedSource(FreshSimulations):
    """Pickles, but cannot be unpickled (as a class defined in a script cannot be)."""

    def __reduce__(self):
        return _refuse, ()


def test_processes_render_the_batches_threads_would(source):
    # worker processes (new interpreters that import skgal, not the calling script)
    # render the same batches: the same training run
    X_val, y_val = source.batch((1234, 0, 0), 48)
    fits = [ProbabilisticQRegressor(epochs=2, batch_size=8, random_state=0, workers=2,
                                    training_source=source, use_multiprocessing=processes)
            .fit(X_val, y_val).predict(X_val) for processes in (False, True)]
    np.testing.assert_array_equal(*fits)
    failing = FailingSource(source.simulator, targets=source.targets, steps_per_epoch=3)
    with BatchProcesses(failing, 1) as processes:
        np.testing.assert_array_equal(processes.batch((0, 0, 0), 4)[0],
                                      source.batch((0, 0, 0), 4)[0])
        assert processes.n_batches(4) == 3
        # the process's error, raised here with its traceback as a note
        with pytest.raises(ValueError, match=r"no batch \(0, 0, 1\)") as raised:
            processes.batch((0, 0, 1), 4)
        assert "raised in the rendering process" in "".join(raised.value.__notes__)
        with pytest.raises(RuntimeError, match="Unrebuildable: odd error"):
            processes.batch((0, 0, 2), 4)
        np.testing.assert_array_equal(processes.batch((0, 0, 3), 4)[0],
                                      source.batch((0, 0, 3), 4)[0])
        # interrupted after asking (Ctrl-C): the reply left in the pipe must not answer
        # the next question, so the process is replaced
        from skgal import _sources

        receive, calls = _sources._receive, []

        def interrupted(stream):
            calls.append(1)
            if len(calls) == 1:
                raise KeyboardInterrupt
            return receive(stream)

        _sources._receive = interrupted
        try:
            with pytest.raises(KeyboardInterrupt):
                processes.batch((0, 0, 4), 4)
        finally:
            _sources._receive = receive
        np.testing.assert_array_equal(processes.batch((0, 0, 5), 4)[0],
                                      source.batch((0, 0, 5), 4)[0])
    with pytest.raises(RuntimeError, match="closed"):
        processes.batch((0, 0, 0), 4)
    with pytest.raises(ValueError, match="processes must be an integer >= 1; got 0"):
        BatchProcesses(source, 0)
    with pytest.raises(TypeError, match="could not unpickle the source.*cannot be rebuilt"):
        BatchProcesses(RefusedSource(source.simulator), 1)

    class Local(FreshSimulations):
        pass

    with pytest.raises(TypeError, match="must pickle"):
        BatchProcesses(Local(source.simulator), 1)


def test_a_fresh_trained_regressor_is_an_ordinary_estimator(source):
    q_only = FreshSimulations(source.simulator, steps_per_epoch=2)
    X_val, y_val = q_only.batch((7, 0, 0), 40)
    reg = ProbabilisticQRegressor(epochs=2, batch_size=8, random_state=0,
                                  training_source=q_only, recalibrate=True).fit(X_val, y_val)
    mean, std = reg.predict(X_val, return_std=True)
    assert mean.shape == (40,) and np.all(std > 0) and reg.std_scale_ != 1.0
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X_val), mean)
    search = GridSearchCV(ProbabilisticQRegressor(epochs=1, batch_size=8, random_state=0,
                                                  training_source=q_only),
                          {"dropout": [0.0, 0.3]}, scoring=nll_scorer, cv=2).fit(X_val, y_val)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    # the input scaling comes from the validation images
    norm = reg.model_.layers[1]
    np.testing.assert_allclose(np.ravel(norm.mean), X_val.mean(axis=(0, 1, 2)), rtol=1e-5)


def test_bad_sources(source):
    with pytest.raises(TypeError, match="SersicGalaxySimulator"):
        FreshSimulations(ProjectionSelector())
    with pytest.raises(ValueError, match="does not draw"):
        FreshSimulations(SersicGalaxySimulator(), targets=("q", "inclination"))
    with pytest.raises(ValueError, match="targets must name"):
        FreshSimulations(SersicGalaxySimulator(), targets=("flattening",))
    with pytest.raises(ValueError, match="steps_per_epoch"):
        FreshSimulations(SersicGalaxySimulator(), steps_per_epoch=0)
    X_val, y_val = source.batch((1, 0, 0), 16)
    with pytest.raises(ValueError, match="gives 2 targets but y"):
        ProbabilisticQRegressor(epochs=1, training_source=source).fit(X_val, y_val[:, 0])
    with pytest.raises(ValueError, match="sample_weight"):
        ProbabilisticQRegressor(epochs=1, training_source=source).fit(
            X_val, y_val, sample_weight=np.ones(16))


def test_inclination_choices_render_only_the_view_each_galaxy_gets():
    sim = SersicGalaxySimulator(image_size=12, pixel_scale=5.0)  # four fixed views
    source = FreshSimulations(sim, targets=("q", "inclination"), steps_per_epoch=2,
                              inclination_choices=(0, 30, 60, 90))
    X, y = source.batch((3, 1, 0), 12)
    assert X.shape == (12, 12, 12, 1) and set(y[:, 1]) <= {0.0, 30.0, 60.0, 90.0}
    assert len(set(y[:, 1])) > 1
    # the same galaxies rendered at all four views: each row's view is the channel drawn
    seeds = np.random.SeedSequence([3, 1, 0]).generate_state(3)
    table, _ = SersicGalaxySimulator(image_size=12, inclinations="uniform").sample(
        12, random_state=int(seeds[0]))
    stacks = sim.fit_transform(table[:, :4])
    channel = np.searchsorted([0, 30, 60, 90], y[:, 1])
    np.testing.assert_allclose(X[:, :, :, 0], stacks[np.arange(12), :, :, channel], rtol=1e-5)
    with pytest.raises(ValueError, match="inclination_choices"):
        FreshSimulations(sim, inclination_choices=(0, 120))
