"""The thesis's probabilistic CNN in Keras: the architecture up to its distribution head.

Pure Keras; nothing here knows about scikit-learn or the wrapper. The head (``_heads``)
supplies the last layer and the loss: by default the thesis's Normal for ``q`` (a mean
and a softplus-positive standard deviation, trained on the Gaussian negative
log-likelihood).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up quiet

import keras  # noqa: E402
import numpy as np  # noqa: E402

from ._heads import GaussianHead, gaussian_nll_loss  # noqa: E402,F401  (the old home)


def build_network(input_shape, *, mean, variance, filters=(16, 32, 48), kernel_size=2,
                  dense_units=128, dropout=0.3, learning_rate=1e-3, decay_steps=None,
                  head=None, spaces=(("affine", 0.0, 1.0),), steps_per_execution=1):
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
    head : GaussianHead or MixtureHead, default=None
        The distribution head (``GaussianHead()`` when None).
    spaces : sequence of (kind, a, b), default=(("affine", 0, 1),)
        One per target: how the head maps it to its latent space (see ``_heads``).
    steps_per_execution : int, default=1
        Batches per call of Keras's compiled training step (see
        ``ProbabilisticQRegressor``).

    Returns
    -------
    keras.Model
        Compiled with Adam and the head's loss; outputs the head's parameters
        ((n, 2): mean and std, for the Gaussian head and one target).
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
    head = GaussianHead() if head is None else head
    x = keras.layers.Dense(head.n_outputs(len(spaces)))(x)
    outputs = head.layer(len(spaces))(x)
    model = keras.Model(inputs, outputs)
    rate = float(learning_rate)
    if decay_steps:
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=int(decay_steps))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate), loss=head.loss(spaces),
                  steps_per_execution=int(steps_per_execution))
    return model
