"""
What the CNN adds: comparison with the baselines
================================================

Two baselines set the scale. The prior predicts the training mean and spread of ``q``
for every galaxy. The classical inversion (Hubble 1926) measures the apparent axis ratio
from the image's second moments and inverts it with the known inclination,
``q² = ((b/a)² − cos² i) / sin² i``.
"""

import matplotlib.pyplot as plt
import numpy as np

from skgal import ProbabilisticQRegressor, SersicGalaxySimulator
from skgal.experiments import apparent_axis_ratio, classical_estimate, prior_baseline
from skgal.metrics import regression_report

sim = SersicGalaxySimulator(inclinations=(90,), sampling="center")
X, y = sim.sample(1000, random_state=3)
images = sim.transform(X)
train, test = np.arange(800), np.arange(800, 1000)

cnn = ProbabilisticQRegressor(epochs=15, learning_rate_schedule="cosine", random_state=0)
cnn.fit(images[train], y[train])
predictions = {"CNN": cnn.predict(images[test], return_std=True)}

predictions["prior"] = prior_baseline(y[train], len(test))
classical = classical_estimate(apparent_axis_ratio(images[..., 0]), np.full(len(y), 90.0))
spread = np.std(classical[train] - y[train])
predictions["classical"] = (classical[test], np.full(len(test), spread))

for name, (mean, std) in predictions.items():
    report = regression_report(y[test], mean, std)
    print(f"{name:10s} NLL {report['nll']:7.3f}  RMSE {report['rmse']:.3f}  "
          f"bias {report['bias']:+.3f}")

fig, ax = plt.subplots(figsize=(4.5, 4.2))
for name, (mean, _) in predictions.items():
    ax.scatter(y[test], mean, s=6, label=name)
ax.plot([0.2, 1], [0.2, 1], "k--", lw=0.8)
ax.set_xlabel("true q")
ax.set_ylabel("predicted q")
ax.set_title("edge-on galaxies")
ax.legend()
plt.show()
