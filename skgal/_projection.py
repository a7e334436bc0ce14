"""ProjectionSelector: which inclinations of an image stack the network sees."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

from ._simulator import PAPER_INCLINATIONS


class ProjectionSelector(TransformerMixin, BaseEstimator):
    """Select the projections (channels) of image stacks ``(n, H, W, C)``.

    The channels are the inclinations named by ``inclinations`` (the simulator's
    order). The thesis's three inputs:

    - ``mode="all"``: every channel, the 64x64x4 input;
    - ``mode="fixed"``: the channel of one ``inclination``, a 64x64x1 input;
    - ``mode="random"``: one channel per galaxy, drawn uniformly, the "single random
      projection". The draw depends only on ``random_state`` and the row's position,
      so ``transform`` of the same array gives the same channels at fit and at
      predict time; :meth:`select` also returns which inclination each row got.

    Parameters
    ----------
    mode : {"all", "fixed", "random"}, default="all"
        Which channels to keep (above).
    inclination : float, default=None
        The inclination (degrees) kept by ``mode="fixed"``; must be in ``inclinations``.
    inclinations : sequence of float, default=(0, 30, 60, 90)
        The inclination of each channel, in order.
    random_state : int, RandomState instance or None, default=None
        Seed of ``mode="random"``.

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(H, W, C)`` of the stacks seen in ``fit``; ``transform`` requires the same.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import ProjectionSelector
    >>> X = np.zeros((5, 8, 8, 4), dtype="float32")
    >>> ProjectionSelector(mode="fixed", inclination=60).fit_transform(X).shape
    (5, 8, 8, 1)
    >>> images, inclination = ProjectionSelector("random", random_state=0).fit(X).select(X)
    >>> images.shape, inclination.ravel().tolist()
    ((5, 8, 8, 1), [0.0, 90.0, 30.0, 0.0, 90.0])
    """

    _parameter_constraints = {
        "mode": [StrOptions({"all", "fixed", "random"})],
        "inclination": [Interval(numbers.Real, 0, 90, closed="both"), None],
        "inclinations": ["array-like"],
        "random_state": ["random_state"],
    }

    def __init__(self, mode="all", *, inclination=None, inclinations=PAPER_INCLINATIONS,
                 random_state=None):
        self.mode = mode
        self.inclination = inclination
        self.inclinations = inclinations
        self.random_state = random_state

    def _check(self, X, reset):
        X = check_array(X, allow_nd=True, dtype=np.float32, input_name="X")
        inclinations = np.asarray(self.inclinations, dtype=float).reshape(-1)
        if X.ndim != 4:
            raise ValueError(f"X must be image stacks (n, H, W, C); got shape {X.shape}")
        if X.shape[-1] != inclinations.size:
            raise ValueError(
                f"X has {X.shape[-1]} channels but inclinations={tuple(inclinations)} names "
                f"{inclinations.size}")
        if not reset and X.shape[1:] != self.image_shape_:
            raise ValueError(f"X has images of shape {X.shape[1:]}; fitted on "
                             f"{self.image_shape_}")
        return X, inclinations

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the stacks and the settings; the selector learns only their shape.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, C)
            Image stacks, one channel per entry of ``inclinations``.
        y : None
            Ignored; there for pipelines.

        Returns
        -------
        self : ProjectionSelector
        """
        X, inclinations = self._check(X, reset=True)
        if self.mode == "fixed":
            if self.inclination is None or not np.any(np.isclose(inclinations,
                                                                  self.inclination)):
                raise ValueError(
                    f"mode='fixed' needs an inclination among the channels "
                    f"{tuple(inclinations.tolist())}; got inclination={self.inclination!r}")
        # no n_features_in_: scikit-learn defines it for 2-D tables, and an image
        # stack's "features" are its whole shape, which image_shape_ holds
        self.image_shape_ = X.shape[1:]
        return self

    def select(self, X):
        """The selected images and the inclination of every kept channel.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, C)
            Image stacks of the shape seen in ``fit``.

        Returns
        -------
        images : ndarray of shape (n, H, W, C_out), float32
        inclinations : ndarray of shape (n, C_out), degrees
        """
        check_is_fitted(self, "image_shape_")
        X, inclinations = self._check(X, reset=False)
        n = X.shape[0]
        if self.mode == "all":
            return X, np.broadcast_to(inclinations, (n, inclinations.size)).copy()
        if self.mode == "fixed":
            k = int(np.flatnonzero(np.isclose(inclinations, self.inclination))[0])
            return X[..., k:k + 1], np.full((n, 1), inclinations[k])
        k = check_random_state(self.random_state).randint(inclinations.size, size=n)
        return X[np.arange(n), :, :, k][..., np.newaxis], inclinations[k][:, np.newaxis]

    def transform(self, X):
        """The selected images.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, C)
            Image stacks of the shape seen in ``fit``.

        Returns
        -------
        images : ndarray of shape (n_samples, H, W, C_out), float32
            ``C_out`` is ``C`` for ``mode="all"`` and 1 otherwise.
        """
        return self.select(X)[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
