"""Baselines that know little or nothing: the prior, and the classical inversion of
an apparent axis ratio (Hubble 1926).

This module imports nothing from skgal.
"""

import numpy as np

__all__ = ["apparent_axis_ratio", "classical_estimate", "prior_baseline"]


def prior_baseline(q_train, n_test):
    """The prior: every galaxy gets the training mean and standard deviation of q.

    The baseline that knows nothing about the image; any useful model beats its NLL.
    For ``q`` uniform in [0.2, 1] its NLL is about ``log(0.231) + 1.42 = -0.05``.

    Parameters
    ----------
    q_train : array-like of shape (n_train,)
        Training values of ``q``.
    n_test : int
        Number of predictions.

    Returns
    -------
    mean, std : ndarray of shape (n_test,)

    Examples
    --------
    >>> from skgal.experiments import prior_baseline
    >>> mean, std = prior_baseline([0.2, 0.4, 0.6], 2)
    >>> mean.round(3), std.round(3)
    (array([0.4, 0.4]), array([0.163, 0.163]))
    """
    q_train = np.asarray(q_train, dtype=float)
    return np.full(n_test, q_train.mean()), np.full(n_test, q_train.std())


def apparent_axis_ratio(images, *, zero_point=25.0, magnitude_limit=35.0):
    """Axis ratio b/a of each image's second moments of light (Hubble 1926's input).

    The eigenvalues ``l1 >= l2`` of the flux-weighted second-moment matrix give
    ``b/a = sqrt(l2 / l1)``, whatever the position angle.

    Parameters
    ----------
    images : array-like of shape (n_images, H, W)
        Images in magnitudes per unit area.
    zero_point : float, default=25.0
        Magnitude of unit flux, as in :class:`skgal.SersicGalaxySimulator`.
    magnitude_limit : float, default=35.0
        Pixels at this magnitude (the simulator's floor) count as empty.

    Returns
    -------
    ndarray of shape (n_images,)
        Apparent axis ratios in [0, 1].

    Examples
    --------
    A face-on disc is round; the same galaxy seen edge-on is as thin as its light:

    >>> from skgal import SersicGalaxySimulator
    >>> from skgal.experiments import apparent_axis_ratio
    >>> sim = SersicGalaxySimulator(inclinations=(0.0, 90.0)).fit()
    >>> images = sim.transform([[1.0, 8.0, 1.0, 0.3]])  # I_e, R_e, n, q
    >>> face_on, edge_on = images[..., 0], images[..., 1]
    >>> apparent_axis_ratio(face_on).round(2), apparent_axis_ratio(edge_on).round(2)
    (array([1.]), array([0.26]))
    """
    images = np.asarray(images, dtype=float)
    flux = np.where(images < magnitude_limit - 1e-6, 10 ** (-0.4 * (images - zero_point)), 0.0)
    n, h, w = flux.shape
    y, x = np.mgrid[0:h, 0:w]
    total = flux.sum(axis=(1, 2))
    cx = (flux * x).sum(axis=(1, 2)) / total
    cy = (flux * y).sum(axis=(1, 2)) / total
    dx = x[None] - cx[:, None, None]
    dy = y[None] - cy[:, None, None]
    mxx = (flux * dx * dx).sum(axis=(1, 2)) / total
    myy = (flux * dy * dy).sum(axis=(1, 2)) / total
    mxy = (flux * dx * dy).sum(axis=(1, 2)) / total
    half_trace = 0.5 * (mxx + myy)
    root = np.sqrt((0.5 * (mxx - myy)) ** 2 + mxy ** 2)
    return np.sqrt(np.clip((half_trace - root) / (half_trace + root), 0.0, 1.0))


def classical_estimate(axis_ratio, inclination, *, q_range=(0.2, 1.0)):
    """Hubble (1926): q^2 = ((b/a)^2 - cos^2 i) / sin^2 i, clipped to the prior range.

    It inverts ``(b/a)^2 = cos^2 i + q^2 sin^2 i``, the apparent axis ratio of an oblate
    spheroid of axis ratio ``q`` seen at inclination ``i``.

    Parameters
    ----------
    axis_ratio : array-like
        Apparent axis ratios ``b/a`` (:func:`apparent_axis_ratio`).
    inclination : array-like
        Known inclinations, degrees.
    q_range : (float, float), default=(0.2, 1.0)
        The estimate is clipped to this range (the prior's).

    Returns
    -------
    ndarray
        Estimates of ``q``; NaN face-on (``sin i = 0``), where ``b/a`` says nothing.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal.experiments import classical_estimate
    >>> q, i = 0.4, np.array([0.0, 30.0, 60.0, 90.0])
    >>> ratio = np.sqrt(np.cos(np.radians(i)) ** 2 + q ** 2 * np.sin(np.radians(i)) ** 2)
    >>> classical_estimate(ratio, i)
    array([nan, 0.4, 0.4, 0.4])
    """
    i = np.radians(np.asarray(inclination, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        q2 = (np.asarray(axis_ratio) ** 2 - np.cos(i) ** 2) / np.sin(i) ** 2
    q = np.sqrt(np.clip(q2, q_range[0] ** 2, q_range[1] ** 2))
    return np.where(np.sin(i) > 1e-6, q, np.nan)
