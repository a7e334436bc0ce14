"""Distribution heads: how the network's last layer becomes a predictive distribution.

A head is one object that knows four things: how many numbers the network must output
for ``d`` targets, the Keras layer that turns those numbers into the distribution's
parameters, the Keras loss (the negative log-likelihood, on the original scale of the
targets), and the :mod:`skgal._distributions` object that the parameters describe.

- :class:`GaussianHead`: the thesis's Normal for one target (mean and softplus
  standard deviation); for several targets, one full-covariance Gaussian.
- :class:`MixtureHead`: ``K`` full-covariance Gaussians. With ``bounded=True`` they
  live in the logit space of each target's bounds, so no mass falls outside them, and
  the likelihood carries the Jacobian.

Unbounded targets are standardised for the network (``z = (y - center) / width``,
learned in ``fit``); the distributions handed back are in the targets' own units.

The parameter layout of a mixture, per row: ``K`` log-weights, ``K * d`` means, then
``K`` lower-triangular Cholesky factors of ``d (d + 1) / 2`` entries each, row by row,
with a positive diagonal. It is the same in the Keras loss and in numpy.
"""

import numbers
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up quiet

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

from ._distributions import MultivariateNormalMixture, Normal, NormalMixture  # noqa: E402

MIN_STD = 1e-6  # floor of every predicted standard deviation (latent space)
_U_EPS = 1e-6  # a bounded target's position in its bounds is clipped to [eps, 1 - eps]
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)

__all__ = ["GaussianHead", "MixtureHead", "make_head"]


def _tril_positions(d):
    """(row, column) of each packed Cholesky entry, row by row."""
    return [(r, c) for r in range(d) for c in range(r + 1)]


def _n_mixture_outputs(n_components, n_targets):
    k, d = n_components, n_targets
    return k + k * d + k * d * (d + 1) // 2


def _check_spaces(spaces, n_targets):
    """Per target (kind, a, b): "logit" with a=low, b=high, or "affine" with a=center, b=width."""
    spaces = [tuple(s) for s in spaces]
    if len(spaces) != n_targets:
        raise ValueError(f"need one target space per target ({n_targets}); got {len(spaces)}")
    for kind, a, b in spaces:
        if kind not in ("logit", "affine") or not (np.isfinite(a) and np.isfinite(b)):
            raise ValueError(f"bad target space {(kind, a, b)!r}")
        if (kind == "logit" and not a < b) or (kind == "affine" and not b > 0):
            raise ValueError(f"bad target space {(kind, a, b)!r}")
    return spaces


@keras.saving.register_keras_serializable(package="skgal", name="GaussianHead")
class GaussianParameters(keras.layers.Layer):
    """(mean, raw) -> (mean, softplus(raw) + MIN_STD): the thesis's Normal."""

    def call(self, inputs):
        mean = inputs[:, :1]
        std = keras.ops.softplus(inputs[:, 1:2]) + MIN_STD
        return keras.ops.concatenate([mean, std], axis=-1)


@keras.saving.register_keras_serializable(package="skgal")
def gaussian_nll_loss(y_true, y_pred):
    """Per-sample NLL of y_true under Normal(y_pred[:, 0], y_pred[:, 1])."""
    y_true = tf.reshape(tf.cast(y_true, y_pred.dtype), [-1])
    normal = tfp.distributions.Normal(loc=y_pred[:, 0], scale=y_pred[:, 1])
    return -normal.log_prob(y_true)


@keras.saving.register_keras_serializable(package="skgal")
class MixtureParameters(keras.layers.Layer):
    """Raw outputs -> log-weights (log-softmax), means, and Cholesky factors (positive diagonal)."""

    def __init__(self, n_components, n_targets, **kwargs):
        super().__init__(**kwargs)
        self.n_components = int(n_components)
        self.n_targets = int(n_targets)
        k, d = self.n_components, self.n_targets
        diag = np.zeros(_n_mixture_outputs(k, d), dtype=bool)
        packed = np.array([r == c for r, c in _tril_positions(d)])
        diag[k + k * d:] = np.tile(packed, k)
        self._diag = diag

    def call(self, inputs):
        k = self.n_components
        log_w = inputs[:, :k] - keras.ops.logsumexp(inputs[:, :k], axis=-1, keepdims=True)
        rest = inputs[:, k:]
        positive = keras.ops.softplus(rest) + MIN_STD
        rest = keras.ops.where(self._diag[None, k:], positive, rest)
        return keras.ops.concatenate([log_w, rest], axis=-1)

    def get_config(self):
        return {**super().get_config(), "n_components": self.n_components,
                "n_targets": self.n_targets}


@keras.saving.register_keras_serializable(package="skgal")
class MixtureNLL(keras.losses.Loss):
    """Per-sample NLL of the targets under the mixture, on the targets' own scale."""

    def __init__(self, n_components, spaces, name="mixture_nll", **kwargs):
        super().__init__(name=name, **kwargs)
        self.n_components = int(n_components)
        self.spaces = [(str(kind), float(a), float(b)) for kind, a, b in spaces]
        d = len(self.spaces)
        self.n_targets = d
        # gather index that unpacks the Cholesky entries into d x d (0 = a zero pad)
        index = np.zeros(d * d, dtype="int32")
        for p, (r, c) in enumerate(_tril_positions(d)):
            index[r * d + c] = p + 1
        self._unpack = index
        self._logit = np.array([kind == "logit" for kind, _, _ in self.spaces])
        self._a = np.array([a for _, a, _ in self.spaces], dtype="float32")
        self._b = np.array([b for _, _, b in self.spaces], dtype="float32")

    def call(self, y_true, y_pred):
        k, d = self.n_components, self.n_targets
        y = tf.reshape(tf.cast(y_true, y_pred.dtype), [-1, d])
        n = tf.shape(y_pred)[0]
        log_w = y_pred[:, :k]
        loc = tf.reshape(y_pred[:, k:k + k * d], [-1, k, d])
        packed = tf.reshape(y_pred[:, k + k * d:], [-1, k, d * (d + 1) // 2])
        padded = tf.concat([tf.zeros([n, k, 1], y_pred.dtype), packed], axis=-1)
        tril = tf.reshape(tf.gather(padded, self._unpack, axis=-1), [-1, k, d, d])
        # targets -> latent space, and log|dy/dz| (added: the NLL is of y, not z)
        u = tf.clip_by_value((y - self._a) / (self._b - self._a), _U_EPS, 1 - _U_EPS)
        z_logit = tf.math.log(u) - tf.math.log1p(-u)
        jac_logit = tf.math.log(self._b - self._a) + tf.math.log(u) + tf.math.log1p(-u)
        z_affine = (y - self._a) / self._b
        jac_affine = tf.math.log(self._b) + tf.zeros_like(y)
        z = tf.where(self._logit, z_logit, z_affine)
        log_dy_dz = tf.reduce_sum(tf.where(self._logit, jac_logit, jac_affine), axis=-1)
        diff = z[:, None, :] - loc
        white = tf.linalg.triangular_solve(tril, diff[..., None], lower=True)[..., 0]
        log_det = tf.reduce_sum(tf.math.log(tf.linalg.diag_part(tril)), axis=-1)
        comp = log_w - 0.5 * tf.reduce_sum(white * white, axis=-1) - log_det - d * _LOG_SQRT_2PI
        return -tf.reduce_logsumexp(comp, axis=-1) + log_dy_dz

    def get_config(self):
        return {"name": self.name, "n_components": self.n_components,
                "spaces": [list(s) for s in self.spaces]}


class GaussianHead:
    """The thesis's head: a Normal for one target, a full-covariance Gaussian for several.

    For one target the network outputs a mean and a softplus-positive standard
    deviation in the target's own units, exactly as in the thesis. For several targets
    this is :class:`MixtureHead` with one component, on standardised targets.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import GaussianHead
    >>> head = GaussianHead()
    >>> head.n_outputs(1)
    2
    >>> head.distribution(np.array([[0.5, 0.1]]), [("affine", 0.0, 1.0)]).std()
    array([0.1])
    """

    name = "gaussian"
    bounded = False
    n_components = 1

    def n_outputs(self, n_targets):
        """Numbers the network outputs for ``n_targets`` targets."""
        return 2 if n_targets == 1 else _n_mixture_outputs(1, n_targets)

    def layer(self, n_targets):
        """The Keras layer from the raw outputs to the distribution's parameters."""
        return GaussianParameters() if n_targets == 1 else MixtureParameters(1, n_targets)

    def loss(self, spaces):
        """The Keras loss: the per-galaxy NLL of the targets, on their own scale."""
        return gaussian_nll_loss if len(spaces) == 1 else MixtureNLL(1, spaces)

    def distribution(self, params, spaces, scale=1.0):
        """The predictive distribution of the parameters ``params`` (n, n_outputs)."""
        if len(spaces) == 1:
            return Normal(params[:, 0], params[:, 1] * scale)
        return _mixture_distribution(params, 1, spaces, scale)

    def __repr__(self):
        return "GaussianHead()"


class MixtureHead:
    """``K`` full-covariance Gaussians, optionally in the logit space of bounded targets.

    Parameters
    ----------
    n_components : int, default=5
        Components ``K``.
    bounded : bool, default=False
        Put the components in ``logit((y - low) / (high - low))`` of each target's
        bounds (the regressor's ``target_bounds``), so the predictive density is zero
        outside them and the NLL includes the Jacobian.

    Examples
    --------
    >>> from skgal import MixtureHead
    >>> MixtureHead(3).n_outputs(1)    # 3 weights, 3 means, 3 scales
    9
    >>> MixtureHead(2).n_outputs(2)    # 2 weights, 2 x 2 means, 2 x 3 Cholesky entries
    12
    """

    name = "mixture"

    def __init__(self, n_components=5, bounded=False):
        if not (isinstance(n_components, numbers.Integral) and n_components >= 1):
            raise ValueError(f"n_components must be an integer >= 1; got {n_components!r}")
        self.n_components = int(n_components)
        self.bounded = bool(bounded)

    def n_outputs(self, n_targets):
        return _n_mixture_outputs(self.n_components, n_targets)

    def layer(self, n_targets):
        return MixtureParameters(self.n_components, n_targets)

    def loss(self, spaces):
        return MixtureNLL(self.n_components, spaces)

    def distribution(self, params, spaces, scale=1.0):
        return _mixture_distribution(params, self.n_components, spaces, scale)

    def __repr__(self):
        return f"MixtureHead(n_components={self.n_components}, bounded={self.bounded})"


def _mixture_distribution(params, n_components, spaces, scale=1.0):
    """numpy side of MixtureParameters: the distribution, in the targets' own units."""
    spaces = _check_spaces(spaces, len(spaces))
    params = np.asarray(params, dtype=float)
    k, d = n_components, len(spaces)
    if params.ndim != 2 or params.shape[1] != _n_mixture_outputs(k, d):
        raise ValueError(f"params must have shape (n, {_n_mixture_outputs(k, d)}); got "
                         f"{params.shape}")
    weights = np.exp(params[:, :k] - np.max(params[:, :k], axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    loc = params[:, k:k + k * d].reshape(-1, k, d).copy()
    packed = params[:, k + k * d:].reshape(-1, k, d * (d + 1) // 2)
    tril = np.zeros((params.shape[0], k, d, d))
    for p, (r, c) in enumerate(_tril_positions(d)):
        tril[:, :, r, c] = packed[:, :, p]
    tril *= scale
    bounds = []
    for j, (kind, a, b) in enumerate(spaces):
        if kind == "affine":  # back to the target's units: y = a + b z
            loc[:, :, j] = a + b * loc[:, :, j]
            tril[:, :, j, :] *= b
            bounds.append(None)
        else:
            bounds.append((a, b))
    if d == 1:
        if k == 1 and bounds[0] is None:
            return Normal(loc[:, 0, 0], tril[:, 0, 0, 0])
        return NormalMixture(weights, loc[:, :, 0], tril[:, :, 0, 0], bounds[0])
    return MultivariateNormalMixture(weights, loc, tril, bounds)


def make_head(head, n_components=5):
    """The head named ``"gaussian"``, ``"mixture"`` or ``"bounded_mixture"`` (or a head itself)."""
    if isinstance(head, (GaussianHead, MixtureHead)):
        return head
    if head == "gaussian":
        return GaussianHead()
    if head == "mixture":
        return MixtureHead(n_components)
    if head == "bounded_mixture":
        return MixtureHead(n_components, bounded=True)
    raise ValueError(f"head must be 'gaussian', 'mixture', 'bounded_mixture' or a head object; "
                     f"got {head!r}")
