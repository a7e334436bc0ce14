"""
Building a dataset
==================

:func:`~skgal.datasets.make_galaxy_dataset` draws galaxies from the prior, renders them in
parallel and writes an HDF5 file that describes itself. An interrupted run is resumed by the
same call, and :func:`~skgal.datasets.load_galaxy_dataset` reads the file back, eagerly
or lazily.
"""

import os
import tempfile

import matplotlib.pyplot as plt

from skgal import SersicGalaxySimulator
from skgal.datasets import load_galaxy_dataset, make_galaxy_dataset
from skgal.plotting import plot_galaxy_grid

path = os.path.join(tempfile.mkdtemp(), "galaxies.h5")
make_galaxy_dataset(path, 200, simulator=SersicGalaxySimulator(), random_state=0)

data = load_galaxy_dataset(path)
print(data.DESCR)
print(data.images.shape, data.feature_names)

# %%
# Lazy loading leaves the images on disk and reads slices on demand.
lazy = load_galaxy_dataset(path, lazy=True)
first = lazy.images[:8, :, :, 2]  # eight galaxies at i = 60 degrees
fig = plot_galaxy_grid(first, [f"q = {q:.2f}" for q in lazy.target[:8]])
lazy.file.close()
plt.show()
