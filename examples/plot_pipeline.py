"""
A pipeline: simulate, project, regress
======================================

The thesis's experiment as one scikit-learn pipeline: galaxy parameters go in,
:class:`~skgal.SersicGalaxySimulator` renders them,
:class:`~skgal.ProjectionSelector` keeps the projections the network sees, and
:class:`~skgal.ProbabilisticQRegressor` predicts a mean and a standard deviation of ``q``.
"""

import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from skgal import ProbabilisticQRegressor, ProjectionSelector, SersicGalaxySimulator
from skgal.metrics import regression_report
from skgal.plotting import plot_predictions

sim = SersicGalaxySimulator(sampling="center")
X, y = sim.sample(800, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

pipe = Pipeline([
    ("simulate", sim),
    ("project", ProjectionSelector(mode="all")),
    ("regress", ProbabilisticQRegressor(epochs=15, learning_rate_schedule="cosine",
                                        random_state=0)),
])
pipe.fit(X_train, y_train)
mean, std = pipe.predict(X_test, return_std=True)
print({k: round(v, 3) for k, v in regression_report(y_test, mean, std).items()})

plot_predictions(y_test, mean, std, title="all four projections, 640 training galaxies")
plt.show()
