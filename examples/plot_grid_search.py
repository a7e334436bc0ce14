"""
Model selection by likelihood
=============================

``score`` is R², as in every scikit-learn regressor. A probabilistic prediction is better
judged by its likelihood: :data:`skgal.metrics.nll_scorer` (minus the Gaussian NLL, so that
greater is better) plugs into ``GridSearchCV``.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skgal import ProbabilisticQRegressor, ProjectionSelector, SersicGalaxySimulator
from skgal.metrics import nll_scorer

sim = SersicGalaxySimulator(image_size=32, pixel_scale=2.0, sampling="center")
X, y = sim.sample(400, random_state=1)
pipe = Pipeline([("simulate", sim), ("project", ProjectionSelector()),
                 ("regress", ProbabilisticQRegressor(epochs=6, random_state=0))])
search = GridSearchCV(pipe, {"project__mode": ["all", "random"],
                             "regress__dropout": [0.1, 0.3]},
                      scoring={"nll": nll_scorer, "r2": "r2"}, refit="nll", cv=2)
search.fit(X, y)
for params, nll, r2 in zip(search.cv_results_["params"],
                           search.cv_results_["mean_test_nll"],
                           search.cv_results_["mean_test_r2"]):
    print(f"{params}: NLL {-nll:.3f}, R2 {r2:.3f}")
print("best:", search.best_params_)
assert np.isfinite(search.best_score_)

# %%
# The two scores rank the settings differently: R² rewards the mean alone, the NLL
# the mean and the spread together.
labels = [f"{p['project__mode']}, dropout {p['regress__dropout']}"
          for p in search.cv_results_["params"]]
fig, axes = plt.subplots(1, 2, figsize=(8, 3), sharey=True, layout="constrained")
axes[0].barh(labels, -search.cv_results_["mean_test_nll"], color="C0")
axes[0].set_xlabel("cross-validated NLL of q (lower is better)")
axes[1].barh(labels, search.cv_results_["mean_test_r2"], color="C1")
axes[1].set_xlabel("cross-validated R² (higher is better)")
plt.show()
