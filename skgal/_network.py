"""The thesis's probabilistic CNN in Keras: architecture, Gaussian head and loss.

Pure Keras (and TFP for the likelihood); nothing here knows about scikit-learn or the
wrapper. The network ends in a Normal distribution for ``q``: it outputs the mean and
a softplus-positive standard deviation, and trains on the Gaussian negative
log-likelihood computed with ``tensorflow_probability.distributions.Normal``.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up quiet

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402

MIN_STD = 1e-6  # floor of the predicted standard deviation


@keras.saving.register_keras_serializable(package="skgal")
class GaussianHead(keras.layers.Layer):
    """(mean, raw) -> (mean, softplus(raw) + MIN_STD): the Normal's parameters."""

    def call(self, inputs):
        mean = inputs[:, :1]
        std = keras.ops.softplus(inputs[:, 1:2]) + MIN_STD
        return keras.ops.concatenate([mean, std], axis=-1)


@keras.saving.register_keras_serializable(package="skgal")
def gaussian_nll_loss(y_true, y_pred):
    """Per-sample negative log-likelihood of y_true under Normal(y_pred[:, 0], y_pred[:, 1])."""
    y_true = tf.reshape(tf.cast(y_true, y_pred.dtype), [-1])
    normal = tfp.distributions.Normal(loc=y_pred[:, 0], scale=y_pred[:, 1])
    return -normal.log_prob(y_true)


def build_network(input_shape, *, mean, variance, filters=(16, 32, 48), kernel_size=2,
                  dense_units=128, dropout=0.3, learning_rate=1e-3, decay_steps=None):
    """Build and compile the network for inputs of ``input_shape``.

    Parameters
    ----------
    input_shape : tuple
        ``(H, W, C)`` for images, ``(n_features,)`` for tabular data.
    mean, variance : array_like
        Input scaling learned from the training data (per channel, or per feature),
        applied by a Normalization layer, so it is saved with the model.
    filters : sequence of int
        Filters of the convolution stages, each Conv2D(kernel_size, valid, ReLU)
        followed by 2x2 max-pooling. A stage the image has become too small for is
        left out (its pooling alone when the image still fits the kernel), so tiny
        test images work; tabular inputs have no convolution stages at all.
    kernel_size : int
        Side of the square convolution kernels.
    dense_units : int
        Units of the dense ReLU layer, followed by dropout.
    dropout : float
        Dropout rate after the dense layer.
    learning_rate : float
        Adam's learning rate.
    decay_steps : int, default=None
        If given, the learning rate follows a cosine decay to 0 over this many steps
        (``keras.optimizers.schedules.CosineDecay``); else it is constant, as in the thesis.

    Returns
    -------
    keras.Model
        Compiled with Adam and :func:`gaussian_nll_loss`; outputs (n, 2): mean, std.
    """
    inputs = keras.Input(shape=tuple(int(s) for s in input_shape))
    x = keras.layers.Normalization(axis=-1, mean=np.asarray(mean, dtype="float32"),
                                   variance=np.asarray(variance, dtype="float32"))(inputs)
    if len(input_shape) == 3:
        size = min(input_shape[:2])
        for n_filters in filters:
            if size < kernel_size:
                break
            x = keras.layers.Conv2D(int(n_filters), int(kernel_size), padding="valid",
                                    activation="relu")(x)
            size -= kernel_size - 1
            if size >= 2:
                x = keras.layers.MaxPooling2D(2)(x)
                size //= 2
        x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(int(dense_units), activation="relu")(x)
    x = keras.layers.Dropout(float(dropout))(x)
    x = keras.layers.Dense(2)(x)
    outputs = GaussianHead()(x)
    model = keras.Model(inputs, outputs)
    rate = float(learning_rate)
    if decay_steps:
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=int(decay_steps))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate), loss=gaussian_nll_loss)
    return model
