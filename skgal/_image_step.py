"""The shared face of the observation steps: stateless transformers over image stacks.

This module imports nothing from skgal.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context


def check_images(X, name="X"):
    """Images (n, h, w[, channels]) of finite numbers, as an ndarray.

    Raises
    ------
    ValueError
        Another shape, or NaN or infinite pixels.
    TypeError
        Not numbers.
    """
    X = np.asarray(X)
    if X.ndim not in (3, 4) or X.shape[0] < 1:
        raise ValueError(f"{name} must be images of shape (n, height, width[, channels]); "
                         f"got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.number):
        raise TypeError(f"{name} must hold numbers; got dtype {X.dtype}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} holds NaN or infinite pixels")
    return X


class ImageStep(TransformerMixin, BaseEstimator):
    """A transformer over image stacks that learns nothing: ``fit`` only validates."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Validate the settings. The step learns nothing.

        Parameters
        ----------
        X : ignored
        y : ignored

        Returns
        -------
        self
        """
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = []  # always float32
        return tags
