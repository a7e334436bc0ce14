"""Augmentation: the symmetries of the square, applied to images at random.

A galaxy's image turned by a multiple of 90 degrees, or mirrored, is the image of
the same galaxy at another position angle (and a rotated or mirrored centre offset).
Its ``q``, inclination, ``n``, ``R_e`` and ``I_e`` are unchanged. Where the prior of
the position angle and of the offsets is symmetric too (uniform angles, offsets
uniform in a square), and the PSF has the square's symmetry (round, as Gaussian and
Moffat PSFs are), each transformed image is an exact new draw from the same
distribution, and a stored training set counts eight times over.

This module imports nothing from skgal but ``_image_step`` and ``_noise``.
"""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ._image_step import ImageStep, check_images
from ._noise import galaxy_generators

__all__ = ["RandomDihedral", "dihedral_transform", "psf_has_square_symmetry"]

#: The eight symmetries of the square, as (quarter turns, mirror first).
DIHEDRAL = tuple((turns, mirror) for mirror in (False, True) for turns in range(4))


def dihedral_transform(images, element):
    """Images (n, height, width[, channels]) under one symmetry of the square.

    ``element`` indexes :data:`DIHEDRAL`: 0-3 turn by 0, 90, 180, 270 degrees
    (counter-clockwise as the array is printed), 4-7 mirror left to right, then turn.
    Square images only.
    """
    turns, mirror = DIHEDRAL[int(element)]
    if mirror:
        images = images[:, :, ::-1]
    return np.rot90(images, turns, axes=(1, 2))


def psf_has_square_symmetry(psf):
    """Whether ``psf`` is unchanged by every symmetry of the square about its centre.

    No PSF and the round analytic ones (Gaussian, Moffat) are; a PSF image is when its
    array is square and equal, to 1e-6 of its peak, to each of its eight transforms.
    """
    image = getattr(psf, "image", None)
    if psf is None or image is None:
        return True
    image = np.asarray(image, dtype=float)
    if image.ndim != 2 or image.shape[0] != image.shape[1]:
        return False
    tol = 1e-6 * float(np.abs(image).max())
    return all(np.allclose(dihedral_transform(image[None], e)[0], image, rtol=0, atol=tol)
               for e in range(len(DIHEDRAL)))


class RandomDihedral(ImageStep):
    """Each image turned by a random multiple of 90 degrees and, at random, mirrored.

    A training augmentation: the image of a galaxy turned or mirrored is the image of
    the same galaxy at another position angle, with the same ``q`` and inclination.
    Put it before the PSF-free noise and photometry steps of a training source's
    ``transform`` (:class:`skgal.datasets.DatasetBatches`), where every batch gets a
    new seed, so that each stored galaxy is seen in all eight orientations over the
    epochs.

    It is exact, not an approximation, when the images' PSF has the square's symmetry
    (round PSFs, or none), the position angles are uniform and the centre offsets are
    drawn in a square; and when the targets do not change under it (``q``, the
    inclination, ``n``, ``R_e``, ``I_e``; not the position angle or the offsets). An
    image PSF (:class:`skgal.ImagePSF`) is not symmetric, and then this step would
    teach the network PSFs it will not meet.

    Parameters
    ----------
    symmetries : {"dihedral", "rotations"}, default="dihedral"
        All eight symmetries of the square, or only the four rotations (for images
        whose handedness matters).
    random_state : int, RandomState instance or None, default=None
        Seed of the draws. With an int, each galaxy's symmetry is a fixed function of
        the seed and of that galaxy's image, as for the noise steps: a galaxy
        transformed alone or in any batch is transformed alike.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import RandomDihedral
    >>> image = np.arange(16.0).reshape(1, 4, 4)
    >>> out = RandomDihedral(random_state=0).fit_transform(image)
    >>> out.shape, bool(np.array_equal(np.sort(out.ravel()), image.ravel()))
    ((1, 4, 4), True)
    """

    _parameter_constraints = {
        "symmetries": [StrOptions({"dihedral", "rotations"})],
        "random_state": ["random_state"],
    }

    def __init__(self, symmetries="dihedral", *, random_state=None):
        self.symmetries = symmetries
        self.random_state = random_state

    def elements(self, X):
        """The index into :data:`DIHEDRAL` that each image of ``X`` gets."""
        self._validate_params()
        X = check_images(X)
        if X.shape[1] != X.shape[2]:
            raise ValueError("X: RandomDihedral needs square images; got height "
                             f"{X.shape[1]} and width {X.shape[2]}")
        count = 8 if self.symmetries == "dihedral" else 4
        return np.array([int(rng.integers(count))
                         for rng in galaxy_generators(X, self.random_state)], dtype=int)

    def transform(self, X):
        """The images, each under its own symmetry, float32.

        Parameters
        ----------
        X : array-like of shape (n, height, height[, channels])
            Square images.

        Returns
        -------
        ndarray of float32, the shape of ``X``
        """
        elements = self.elements(X)
        X = np.asarray(X, dtype=np.float32)
        out = np.empty_like(X)
        for element in np.unique(elements):
            rows = elements == element
            out[rows] = dihedral_transform(X[rows], element)
        return out
