"""
Rendering and inspecting galaxies
=================================

:class:`~skgal.SersicGalaxySimulator` turns a table of galaxy parameters
(``I_e, R_e, n, q``) into images, one channel per inclination. Here one galaxy is shown at
the thesis's four inclinations, then turned by its position angle, in magnitudes and in
flux.
"""

import matplotlib.pyplot as plt
import numpy as np

from skgal import SersicGalaxySimulator
from skgal.plotting import plot_inclinations

sim = SersicGalaxySimulator(inclinations=(0, 30, 60, 90))
galaxy = np.array([[0.6, 12.0, 1.5, 0.3]])  # I_e, R_e (pixels), n, q
images = sim.transform(galaxy)
print(images.shape, images.dtype)  # (1, 64, 64, 4) float32, magnitudes
plot_inclinations(images[0], sim.inclinations, title="q = 0.3, n = 1.5, R_e = 12")
plt.show()

# %%
# A table with a sixth column, ``position_angle`` (degrees, counter-clockwise from +x),
# renders each row at its own inclination and angle: one channel per row.
rows = np.array([[0.6, 12.0, 1.5, 0.3, 70.0, pa] for pa in (0.0, 30.0, 60.0, 90.0)])
turned = SersicGalaxySimulator(output="flux").transform(rows)
fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
for ax, image, pa in zip(axes, turned[..., 0], rows[:, 5]):
    ax.imshow(np.log10(image), origin="lower", cmap="magma")
    ax.set_title(f"i = 70°, PA = {pa:g}°")
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()
