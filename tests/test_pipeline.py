"""The user's experiment: simulate -> project -> regress, with model selection."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline

from skgal import ProbabilisticQRegressor, ProjectionSelector, SersicGalaxySimulator
from skgal.metrics import gaussian_nll, nll_scorer

pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def experiment():
    sim = SersicGalaxySimulator(image_size=16, pixel_scale=4.0, sampling="center")
    X, y = sim.sample(60, random_state=0)
    pipe = Pipeline([
        ("simulate", sim),
        ("project", ProjectionSelector(mode="all")),
        ("regress", ProbabilisticQRegressor(epochs=2, batch_size=16, random_state=0)),
    ])
    return pipe, X, y


def test_pipeline_fits_and_passes_return_std_through(experiment):
    pipe, X, y = experiment
    pipe.fit(X, y)
    mean, std = pipe.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5,) and np.all(std > 0)
    np.testing.assert_array_equal(pipe.predict(X[:5]), mean)


def test_grid_search_and_cross_validation_with_nll(experiment):
    pipe, X, y = experiment
    # parameters of two steps at once, two candidates (each fit costs a network)
    search = GridSearchCV(pipe, [{"project__mode": ["all"], "regress__dropout": [0.1]},
                                 {"project__mode": ["random"], "regress__dropout": [0.3]}],
                          scoring=nll_scorer, cv=2)
    search.fit(X, y)
    assert set(search.best_params_) == {"project__mode", "regress__dropout"}
    assert len(search.cv_results_["params"]) == 2
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    scores = cross_validate(pipe, X, y, scoring={"nll": nll_scorer, "r2": "r2"}, cv=2)
    assert np.all(np.isfinite(scores["test_nll"])) and len(scores["test_r2"]) == 2


def test_fixed_projection_pipeline(experiment):
    pipe, X, y = experiment
    pipe = pipe.set_params(project__mode="fixed", project__inclination=90)
    pipe.fit(X, y)
    assert pipe.named_steps["regress"].model_.input_shape == (None, 16, 16, 1)


def test_a_trained_pipeline_beats_the_prior_on_new_galaxies():
    # edge-on images show q; 300 galaxies and 10 epochs are enough to beat the prior
    sim = SersicGalaxySimulator(image_size=16, pixel_scale=4.0, sampling="center")
    X, y = sim.sample(400, random_state=1)
    pipe = Pipeline([
        ("simulate", sim),
        ("project", ProjectionSelector(mode="fixed", inclination=90)),
        ("regress", ProbabilisticQRegressor(epochs=10, batch_size=32, random_state=0)),
    ]).fit(X[:300], y[:300])
    # the prior's prediction: the training q's mean and spread, for every galaxy
    prior = -gaussian_nll(y[300:], np.full(100, y[:300].mean()), np.full(100, y[:300].std()))
    assert nll_scorer(pipe, X[300:], y[300:]) > prior + 0.1
