"""
Observing a galaxy: PSF, noise, orientation and centring
========================================================

The thesis's images are ideal. Here one galaxy is observed as a telescope would see it:
at a random position angle and a little off centre, through a Moffat PSF (the pixel mean
of the PSF-convolved light, computed exactly in Fourier space), with CCD noise, and in
asinh magnitudes, which stay finite where the noise makes the flux negative. Each step is
a scikit-learn transformer, so the chain is a :class:`~sklearn.pipeline.Pipeline`.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import Pipeline

from skgal import AlignToMajorAxis, CCDNoise, MoffatPSF, SersicGalaxySimulator, ToMagnitudes

observe = Pipeline([
    ("render", SersicGalaxySimulator(output="flux", psf=MoffatPSF(fwhm=3.0, beta=3.0),
                                     inclinations="isotropic", position_angle="uniform",
                                     max_offset=3.0)),
    ("noise", CCDNoise(sky_level=10.0, gain=4.0, read_noise=5.0, random_state=0)),
    ("photometry", ToMagnitudes(kind="asinh")),
])

# The sampler draws the orientation and the centre too, as named columns
X, q = observe["render"].sample(4, random_state=2)
X["I_e"] *= 5.0  # brighter than the thesis's prior, to see them through the noise
print(X.round(2))

# %%
# The noiseless flux, then the whole chain
flux = observe["render"].transform(X)
observed = observe.transform(X)
fig, axes = plt.subplots(2, 4, figsize=(11, 5.6))
for k in range(4):
    axes[0, k].imshow(flux[k, ..., 0], origin="lower", cmap="magma")
    axes[0, k].set_title(f"q = {X.q[k]:.2f}, i = {X.inclination[k]:.0f}°", fontsize=9)
    axes[1, k].imshow(observed[k, ..., 0], origin="lower", cmap="magma_r")
    axes[1, k].set_title(f"PA = {X.position_angle[k]:.0f}°, asinh mag", fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %%
# What a network is best shown: the same noisy images, each moved to its light's centre
# and turned so that its major axis runs along the rows (adaptive moments, then
# interpolation), before the photometry. The position angle and the offset tell
# nothing about ``q``; aligned, the network need not learn to ignore them. The measured
# centre and angle come with it.
noisy = observe[:-1].transform(X)  # render and noise
align = AlignToMajorAxis()
centre, angle = align.measure(noisy)
aligned = observe["photometry"].transform(align.transform(noisy))
fig, axes = plt.subplots(1, 4, figsize=(11, 3.0))
for k in range(4):
    axes[k].imshow(aligned[k, ..., 0], origin="lower", cmap="magma_r")
    axes[k].set_title(f"measured PA = {angle[k] % 180:.0f}°", fontsize=9)
    axes[k].set_xticks([])
    axes[k].set_yticks([])
fig.tight_layout()
plt.show()
print(np.round(centre, 2), "offsets drawn:", X[["x_offset", "y_offset"]].round(2).to_numpy())

# %%
# How much of each galaxy's light falls inside the 64 x 64 stamp, and each image's
# noise level (the sky's, the same for all with CCD noise)
fraction = observe["render"].light_fraction(flux, X)
_, sigma = observe["noise"].draw(flux)
print(np.round(fraction[:, 0], 3), np.round(sigma, 3))
