"""ProbabilisticQRegressor: the thesis's CNN as a scikit-learn regressor, through scikeras.

Every scikeras-specific line of skgal is in this module, so that moving to another
wrapper is a one-file change. The network itself is in ``_network`` (pure Keras).

scikeras 0.13 predates scikit-learn 1.6's tags: on scikit-learn >= 1.6 its
``KerasRegressor`` is not recognised as a regressor (scikeras issues #332, #337), and
its bases put ``RegressorMixin`` last, so no subclass can put it first. This class
derives from scikeras's ``BaseWrapper`` with ``RegressorMixin`` on the left, defines
``__sklearn_tags__``, and takes its parameters from its constructor (scikeras would
take every attribute of the object).
"""

import numbers

import keras
import numpy as np
from scikeras.utils.random_state import tensorflow_random_state
from scikeras.utils.transformers import RegressorTargetEncoder
from scikeras.wrappers import BaseWrapper
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from ._allocator import keep_heap_slack
from ._distributions import QuantileRecalibrated, quantile_knots
from ._heads import GaussianHead, MixtureHead, make_head
from ._network import build_network
from ._sources import BatchProcesses

PREDICT_BATCH = 256  # samples per forward pass in predict


class _SourceBatches(keras.utils.PyDataset):
    """A training source as a Keras PyDataset: batch ``i`` of epoch ``e`` is keyed
    ``(seed, e, i)``, so it is the same batch whichever worker thread renders it."""

    def __init__(self, source, batch_size, seed, workers):
        super().__init__(workers=workers, use_multiprocessing=False,
                         max_queue_size=max(2 * workers, 2))
        # rendering threads beside TensorFlow's: their arrays kept off the kernel (the
        # fresh fit about 12% faster on the two cores here; see skgal._allocator)
        keep_heap_slack()
        self.source, self.batch_size, self.seed = source, batch_size, seed
        self.epoch, self._begun = 0, False

    def __len__(self):
        return int(self.source.n_batches(self.batch_size))

    def __getitem__(self, index):
        return self.source.batch((self.seed, self.epoch, index), self.batch_size)

    def on_epoch_begin(self):
        # Keras may render the first batches (to learn their shapes) before the first
        # epoch begins: those are epoch 0's, and the count moves on from the second
        if self._begun:
            self.epoch += 1
        self._begun = True


class ProbabilisticQRegressor(RegressorMixin, BaseWrapper):
    """The thesis's probabilistic CNN: predicts a distribution of ``q`` (or of several targets).

    Conv2D 16, 32 and 48 filters (2x2, valid, ReLU), each followed by 2x2 max-pooling,
    then Flatten, Dense 128 ReLU, Dropout 0.3 and a distribution head, trained with Adam
    on the negative log-likelihood. The default head is the thesis's Gaussian (a mean
    and a softplus-positive standard deviation). About 310,000 parameters for one 64x64
    channel (the thesis's "300,000").

    Other heads give posteriors of the right shape: ``head="mixture"`` is a mixture of
    ``n_components`` Gaussians, and ``head="bounded_mixture"`` puts that mixture in the
    logit space of ``target_bounds``, so that no probability falls outside them (``q``
    in the prior's [0.2, 1], the inclination in [0, 90] degrees). Every head's NLL is
    on the targets' own scale, with the Jacobian, so it compares with the thesis's.

    ``y`` may have several columns (``q`` and the inclination, say): the heads then
    give a joint distribution, with full covariances, whose marginals are per-target
    predictions (:meth:`predict_distribution`).

    The input scaling is learned in ``fit``: one mean and one variance per channel
    over every training pixel, held in the model's Normalization layer. Images are
    never normalised one by one: their overall brightness carries information on ``q``.

    Parameters
    ----------
    filters : tuple of int, default=(16, 32, 48)
        Filters of the convolution stages. Stages that the image has become too small
        for are left out (see :func:`skgal._network.build_network`).
    kernel_size : int, default=2
        Side of the convolution kernels.
    dense_units : int, default=128
        Units of the dense layer.
    dropout : float, default=0.3
        Dropout rate after the dense layer.
    learning_rate : float, default=1e-3
        Adam's learning rate.
    learning_rate_schedule : {"constant", "cosine"}, default="constant"
        ``"constant"`` as in the thesis; ``"cosine"`` decays the rate to 0 over the
        training, which steadies the last epochs (the constant rate leaves the
        validation NLL jumping from epoch to epoch).
    batch_size : int, default=32
        Minibatch size.
    epochs : int, default=100
        Training epochs (the thesis's 100).
    validation_split : float, default=0.2
        Fraction of the training data held out (at random, seeded by
        ``random_state``) for validation losses, early stopping and recalibration.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for ``patience`` epochs, and
        restore the best weights.
    patience : int, default=10
        Epochs without improvement before early stopping.
    recalibrate : bool or {"temperature", "quantile"}, default=False
        After training, recalibrate the predictions on the validation split.
        ``True`` or ``"temperature"``: widen or narrow them by the single factor that
        minimises the NLL there (``std_scale_``): for the Gaussian head, the standard
        deviations; for a mixture, a temperature on every component's scale in its
        latent space, which keeps the weights and means. ``"quantile"`` (one target
        only): pass each predicted cdf through the monotone map that makes the
        validation PIT values uniform (Kuleshov et al. 2018, ``calibration_knots_``),
        which fixes the coverage at every level at once; the predictions become
        :class:`skgal.QuantileRecalibrated`. Off by default, to stay with the thesis.
    head : {"gaussian", "mixture", "bounded_mixture"} or a head object, default="gaussian"
        The predictive distribution (:class:`skgal.GaussianHead`,
        :class:`skgal.MixtureHead`).
    n_components : int, default=5
        Components of the ``"mixture"`` and ``"bounded_mixture"`` heads.
    target_bounds : (low, high), list of them, or None, default=None
        Support of each target for a bounded head: one pair for every target, or one
        per target. None takes the prior's support from a ``training_source`` where it
        has one (``q``: the simulator's ``flattening_range``; the inclination: [0, 90]),
        and otherwise each target's training range, widened by 1% of it on each side.
        Training targets outside the bounds are an error.
    training_source : FreshSimulations or None, default=None
        Train on batches from this source (new galaxies, with new noise, for every
        batch) instead of on ``X, y``, which then become the fixed validation set: early
        stopping, the validation losses and the recalibration use them, and the input
        scaling is learned from them. Each batch is seeded by ``(random_state, epoch,
        batch)``, so the run does not depend on ``workers``.
    workers : int, default=1
        Threads (or, with ``use_multiprocessing``, processes) that render the
        ``training_source``'s batches ahead of the training.
    use_multiprocessing : bool, default=False
        Render the ``training_source``'s batches in ``workers`` processes instead of
        threads (:class:`skgal.BatchProcesses`): a render's Python holds the
        interpreter's lock, and on the two cores here the ``"ground"`` conditions'
        renders alone (to the noise) ran 1.3-1.7x as fast in two processes as in two
        threads; a fit on them was about as fast (0.9-1.1x, the processes' start included),
        since the network and the renders already fill two cores
        (``benchmarks/bench_fresh.py --kinds threads processes``). It pays where the
        network trains elsewhere (a GPU). The batches, and so the run, are the same.
        The processes start with each ``fit`` (new interpreters that import skgal:
        about 1.5 s) and each holds a copy of the source, which must pickle.
    steps_per_execution : int, default=8
        Batches Keras trains on in one call of its compiled training step: fewer trips
        through Python (on two cores here training on arrays ran 1.05-1.3x faster than
        with 1, training on fresh simulations about as fast;
        ``benchmarks/bench_fresh.py --steps-per-execution 1 8``). The weights are the
        same for any value; per-batch callbacks are called every ``steps_per_execution``
        batches.
    image_shape : tuple of int, default=None
        ``(H, W, C)`` (or ``(H, W)``) of the images when ``X`` comes flattened to
        2-D. Without it a 2-D ``X`` is tabular data, handled by the dense layers alone.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for training (a progress bar, say).
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the weights, dropout and shuffling: the same value gives the
        same predictions.
    verbose : int, default=0
        Keras's verbosity.

    Attributes
    ----------
    model_ : keras.Model
        The trained network.
    history_ : dict of list
        Per-epoch ``loss`` and, with a validation split, ``val_loss``.
    std_scale_ : float
        Factor applied to the predicted standard deviations, or the mixture's
        temperature (1 unless recalibrated so).
    calibration_knots_ : (ndarray, ndarray) or None
        The PIT map of ``recalibrate="quantile"``.
    validation_indices_ : ndarray of int
        Rows of the ``X`` given to ``fit`` that were held out to validate (and
        recalibrate) rather than to train: empty when ``validation_split`` is 0, every
        row with a ``training_source``. A recalibration of one's own can be fitted on
        them without touching the test set.
    head_ : GaussianHead or MixtureHead
        The head in use.
    n_targets_ : int
        Columns of ``y`` (1 for a 1-D ``y``).
    target_spaces_ : list of (str, float, float)
        How the head maps each target to its latent space: ``("logit", low, high)`` or
        ``("affine", center, width)``.
    random_state_ : int or None
        The integer seed drawn from ``random_state`` for this fit.
    n_features_in_ : int
        Size of the second axis of ``X`` in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgal import ProbabilisticQRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 8, 8, 1)).astype("float32")
    >>> y = rng.uniform(0.2, 1.0, size=40)
    >>> reg = ProbabilisticQRegressor(epochs=1, random_state=0).fit(X, y)
    >>> mean, std = reg.predict(X[:3], return_std=True)
    >>> mean.shape, bool(np.all(std > 0))
    ((3,), True)

    A bounded mixture, and its predictive distribution:

    >>> reg = ProbabilisticQRegressor(head="bounded_mixture", n_components=3,
    ...                               target_bounds=(0.2, 1.0), epochs=1, random_state=0)
    >>> dist = reg.fit(X, y).predict_distribution(X[:3])
    >>> lower, upper = dist.interval(0.95)
    >>> bool(np.all((0.2 < lower) & (upper < 1.0)))
    True
    """

    # scikeras settings that are fixed here, not hyperparameters: class attributes,
    # so that scikeras finds them but get_params does not list them
    model = None
    build_fn = None
    warm_start = False
    optimizer = None
    loss = None
    metrics = None
    shuffle = True
    run_eagerly = False
    validation_batch_size = None

    _parameter_constraints = {
        "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "dense_units": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions({"constant", "cosine"})],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "validation_split": [Interval(numbers.Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "patience": [Interval(numbers.Integral, 0, None, closed="left")],
        "recalibrate": ["boolean", StrOptions({"temperature", "quantile"})],
        "image_shape": [tuple, list, None],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "filters": [tuple, list],
        "head": [StrOptions({"gaussian", "mixture", "bounded_mixture"}), GaussianHead,
                 MixtureHead],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "target_bounds": [tuple, list, None],
        "training_source": [HasMethods(["batch", "n_batches"]), None],
        "workers": [Interval(numbers.Integral, 1, None, closed="left")],
        "use_multiprocessing": ["boolean"],
        "steps_per_execution": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, *, filters=(16, 32, 48), kernel_size=2, dense_units=128, dropout=0.3,
                 learning_rate=1e-3, learning_rate_schedule="constant", batch_size=32,
                 epochs=100, validation_split=0.2,
                 early_stopping=False, patience=10, recalibrate=False, image_shape=None,
                 callbacks=None, random_state=None, verbose=0, head="gaussian",
                 n_components=5, target_bounds=None, training_source=None, workers=1,
                 use_multiprocessing=False, steps_per_execution=8):
        self.filters = filters
        self.kernel_size = kernel_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.learning_rate_schedule = learning_rate_schedule
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.patience = patience
        self.recalibrate = recalibrate
        self.image_shape = image_shape
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.head = head
        self.n_components = n_components
        self.target_bounds = target_bounds
        self.training_source = training_source
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.steps_per_execution = steps_per_execution

    # -- parameters: the constructor's, as scikit-learn defines them ---------------
    @classmethod
    def _get_param_names(cls):
        return BaseEstimator._get_param_names.__func__(cls)

    def __repr__(self, N_CHAR_MAX=700):
        return BaseEstimator.__repr__(self, N_CHAR_MAX)

    def __sklearn_tags__(self):
        tags = RegressorMixin.__sklearn_tags__(self)
        tags.regressor_tags.poor_score = True  # a few epochs in the checks learn little
        tags.non_deterministic = self.random_state is None
        tags.input_tags.three_d_array = True  # images (n, H, W, C) or (n, H, W)
        tags.target_tags.multi_output = True  # y may have several columns
        return tags

    # -- input ----------------------------------------------------------------------
    def _as_network_input(self, X, *, reset):
        """Validated float32 network input: images (n, H, W, C), or a 2-D table.

        Rejects sparse, non-numeric and non-finite input, and (after fit) input of
        another shape than the fitted one, with scikit-learn's messages.
        """
        X = check_array(X, allow_nd=True, dtype=np.float32, accept_sparse=False,
                        ensure_all_finite=True, input_name="X")
        if self.image_shape is not None:
            shape = tuple(int(s) for s in self.image_shape)
            if len(shape) == 2:
                shape += (1,)
            if X.ndim == 2:
                if X.shape[1] != int(np.prod(shape)):
                    raise ValueError(
                        f"X has {X.shape[1]} features, but image_shape={self.image_shape} "
                        f"needs {int(np.prod(shape))}")
                X = np.reshape(X, (X.shape[0],) + shape)
        if X.ndim == 3:
            X = X[..., np.newaxis]
        if X.ndim not in (2, 4):
            raise ValueError(f"X must be images (n, H, W[, C]) or a 2-D table; got {X.ndim} "
                             "dimensions")
        if not reset:
            fitted = self.X_shape_[1:]
            if X.ndim == 2 and len(fitted) == 1 and X.shape[1] != fitted[0]:
                raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} "
                                 f"is expecting {fitted[0]} features as input.")
            if X.shape[1:] != fitted:
                hint = ""
                if X.ndim == 4 and len(fitted) == 3 and X.shape[1] >= fitted[0] \
                        and X.shape[2] >= fitted[1]:
                    hint = ("; cut larger stamps to the fitted size with "
                            "skgal.datasets.center_cutout(image, size)")
                elif X.ndim == 4 and len(fitted) == 3:
                    hint = ("; a stamp smaller than the network's input cannot be used: train "
                            "at a smaller image size")
                raise ValueError(f"X has images of shape {X.shape[1:]}, but "
                                 f"{type(self).__name__} was fitted on {fitted}{hint}")
        return X

    @property
    def partial_fit(self):
        # Training holds out a validation split and learns the input scaling from the
        # whole training set; a one-batch update would do neither, so it is not offered.
        raise AttributeError("ProbabilisticQRegressor has no partial_fit: call fit")

    # -- scikeras hooks --------------------------------------------------------------
    @property
    def target_encoder(self):
        return RegressorTargetEncoder()

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        return super()._validate_data(X=X, y=y, reset=reset, y_numeric=True)

    def _keras_build_fn(self, meta):
        shape = meta["X_shape_"][1:]
        decay_steps = None
        if self.learning_rate_schedule == "cosine":
            decay_steps = self.epochs * int(np.ceil(self._n_train / self.batch_size))
        return build_network(shape, mean=self._scaling[0], variance=self._scaling[1],
                             filters=self.filters, kernel_size=self.kernel_size,
                             dense_units=self.dense_units, dropout=self.dropout,
                             learning_rate=self.learning_rate, decay_steps=decay_steps,
                             head=self.head_, spaces=self.target_spaces_,
                             steps_per_execution=self.steps_per_execution)

    def _initialize(self, X, y=None):
        # scikeras's own, but seeding Keras from the seed drawn in fit: scikeras reads
        # self.random_state, which an estimator must not change (and threaded
        # searches share)
        self._random_state = self.random_state_
        X, y = self._validate_data(X, y, reset=True)
        self.target_encoder_ = self.target_encoder.fit(y)
        vars(self).update(**getattr(self.target_encoder_, "get_metadata", dict)())
        self.feature_encoder_ = self.feature_encoder.fit(X)
        vars(self).update(**getattr(self.feature_encoder, "get_metadata", dict)())
        self.model_ = self._build_keras_model()
        self._initialize_callbacks()
        return X, y

    def _initialize_callbacks(self):
        super()._initialize_callbacks()
        if self.early_stopping:
            monitor = "val_loss" if self._has_validation else "loss"
            self._fit_callbacks = list(self._fit_callbacks) + [keras.callbacks.EarlyStopping(
                monitor=monitor, patience=self.patience, restore_best_weights=True)]

    # -- scikit-learn API ------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Train the network on images ``X`` and targets ``y`` (the flattening ``q``).

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W, C), (n_samples, H, W) or (n_samples, n_features)
            Images, channels last; 2-D ``X`` is reshaped by ``image_shape``, or else
            taken as tabular data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets: ``q``, or several columns (``q`` and the inclination, say).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : ProbabilisticQRegressor
        """
        self._validate_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None")
        X = self._as_network_input(X, reset=True)
        y = check_array(y, ensure_2d=False, dtype=np.float32, input_name="y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D (n_samples, n_targets); got shape {y.shape}")
        if self.recalibrate == "quantile" and y.ndim == 2:
            raise ValueError(f"recalibrate='quantile' recalibrates one target; y has "
                             f"{y.shape[1]}: use recalibrate='temperature' for a joint "
                             "distribution")
        X, y = self._validate_data(X, y, reset=True)  # matching lengths; sets X_shape_
        y = np.asarray(y, dtype=np.float32)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype="float32").reshape(-1)
            if sample_weight.shape[0] != X.shape[0]:
                raise ValueError(f"sample_weight has {sample_weight.shape[0]} entries for "
                                 f"{X.shape[0]} samples")
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(2**31 - 1)) if self.random_state is not None else None
        if self.training_source is not None:
            return self._fit_on_source(X, y, sample_weight, seed, rng)
        order = (np.random.RandomState(seed) if seed is not None else rng).permutation(len(y))
        n_val = int(round(self.validation_split * len(y)))
        n_val = n_val if 1 <= n_val < len(y) else 0
        val, train = order[:n_val], order[n_val:]
        self._has_validation = n_val > 0
        self.validation_indices_ = np.sort(val)
        self.head_ = make_head(self.head, self.n_components)
        self.n_targets_ = 1 if y.ndim == 1 else y.shape[1]
        self.target_spaces_ = self._target_spaces(y.reshape(len(y), -1)[train])
        # input scaling: per channel (images) or per feature (tables), training data only
        axes = tuple(range(X.ndim - 1))
        self._scaling = (X[train].mean(axis=axes), np.maximum(X[train].var(axis=axes), 1e-12))
        self._n_train = len(train)
        kwargs = {}
        if n_val:
            kwargs["validation_data"] = (X[val], y[val])
        weights = None if sample_weight is None else sample_weight[train]
        self.random_state_ = seed  # scikeras seeds Keras with it during build and fit
        try:
            super().fit(X[train], y[train], sample_weight=weights, **kwargs)
        finally:
            del self._scaling, self._n_train
        self.history_ = {key: list(values) for key, values in self.history_.items()}
        self._forget_callbacks()
        self._recalibrate(X[val], y[val] if n_val else None)
        return self

    def _recalibrate(self, X_val, y_val):
        """std_scale_ and calibration_knots_, from the validation split (None: none)."""
        self.std_scale_, self.calibration_knots_ = 1.0, None
        if not self.recalibrate or y_val is None or len(y_val) == 0:
            return
        params = self._predict_params(X_val)
        if self.recalibrate == "quantile":  # one target: checked in fit
            dist = self.head_.distribution(params, self.target_spaces_)
            self.calibration_knots_ = quantile_knots(dist.cdf(y_val))
        else:
            self.std_scale_ = self._fit_scale(params, y_val)

    def _forget_callbacks(self):
        # scikeras keeps the training's callback objects; a fitted model needs none, and
        # a progress bar defined in a function would make it unpicklable
        self._fit_callbacks, self._predict_callbacks = [], []

    def _fit_on_source(self, X, y, sample_weight, seed, rng):
        """Train on the source's batches; ``X, y`` are the fixed validation set."""
        source = self.training_source
        if sample_weight is not None:
            raise ValueError("sample_weight cannot weight a training_source's galaxies; "
                             "leave it None")
        n_targets = 1 if y.ndim == 1 else y.shape[1]
        if getattr(source, "n_targets", n_targets) != n_targets:
            raise ValueError(f"the training_source gives {source.n_targets} targets but y "
                             f"(the validation targets) has {n_targets}")
        self._has_validation = True
        self.validation_indices_ = np.arange(len(y))
        self.head_ = make_head(self.head, self.n_components)
        self.n_targets_ = n_targets
        self.target_spaces_ = self._target_spaces(y.reshape(len(y), -1),
                                                  getattr(source, "target_bounds", None))
        axes = tuple(range(X.ndim - 1))
        self._scaling = (X.mean(axis=axes), np.maximum(X.var(axis=axes), 1e-12))
        steps = int(source.n_batches(self.batch_size))
        self._n_train = steps * self.batch_size
        self.random_state_ = seed
        # the batches' seed: the fit's, or one drawn now (random_state=None)
        batch_seed = seed if seed is not None else int(rng.randint(2**31 - 1))
        processes = None
        try:
            X, y = self._initialize(X, y)
            if self.use_multiprocessing:
                processes = BatchProcesses(source, self.workers)
            batches = _SourceBatches(processes or source, self.batch_size, batch_seed,
                                     self.workers)
            fit = dict(x=batches, validation_data=(X, y), epochs=self.epochs,
                       callbacks=self._fit_callbacks, verbose=self.verbose, shuffle=False)
            if self._random_state is not None:
                with tensorflow_random_state(self._random_state):
                    history = self.model_.fit(**fit)
            else:
                history = self.model_.fit(**fit)
        finally:
            del self._scaling, self._n_train
            if processes is not None:
                processes.close()
        self.history_ = {key: list(map(float, values))
                         for key, values in history.history.items()}
        self._forget_callbacks()
        self._recalibrate(X, y)
        return self

    def _target_spaces(self, y, source_bounds=None):
        """Each target's latent space, from the training targets ``y`` (n, d)."""
        d = y.shape[1]
        if not self.head_.bounded:
            if isinstance(self.head_, GaussianHead) and d == 1:
                return [("affine", 0.0, 1.0)]  # the thesis's head, in q's own units
            center = y.mean(axis=0).astype(float)
            width = y.std(axis=0).astype(float)
            return [("affine", float(c), float(w) if w > 0 else 1.0)
                    for c, w in zip(center, width)]
        bounds = self.target_bounds
        if bounds is None:
            low, high = y.min(axis=0).astype(float), y.max(axis=0).astype(float)
            margin = np.maximum(0.01 * (high - low), 1e-6 * np.maximum(np.abs(high), 1))
            bounds = list(zip(low - margin, high + margin))
            if callable(source_bounds):  # the prior's support, where the source knows it
                bounds = [b if b is not None else default
                          for b, default in zip(source_bounds(), bounds)]
        else:
            try:
                bounds = np.asarray(bounds, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"target_bounds must be a pair (low, high) or one pair per "
                                f"target; got {self.target_bounds!r}") from None
            if bounds.shape == (2,):
                bounds = np.tile(bounds, (d, 1))
            if bounds.shape != (d, 2):
                raise ValueError(f"target_bounds must be a pair (low, high) or {d} pairs; "
                                 f"got {self.target_bounds!r}")
        spaces = []
        for j, (low, high) in enumerate(bounds):
            low, high = float(low), float(high)
            if not (np.isfinite(low) and np.isfinite(high) and low < high):
                raise ValueError(f"target_bounds must be finite pairs with low < high; got "
                                 f"{self.target_bounds!r}")
            if np.any(y[:, j] <= low) or np.any(y[:, j] >= high):
                raise ValueError(
                    f"training targets (column {j}) span [{y[:, j].min():.6g}, "
                    f"{y[:, j].max():.6g}], not inside target_bounds ({low:g}, {high:g})")
            spaces.append(("logit", low, high))
        return spaces

    def _fit_scale(self, params, y):
        """The width factor that minimises the NLL of ``y`` (the validation split)."""
        if isinstance(self.head_, GaussianHead) and self.n_targets_ == 1:
            # the NLL of y ~ N(mean, (s std)^2) is minimal at s^2 = mean(((y - mean)/std)^2)
            return float(np.sqrt(np.mean(((y - params[:, 0]) / params[:, 1]) ** 2)))

        def nll(log_s):
            dist = self.head_.distribution(params, self.target_spaces_, np.exp(log_s))
            return -np.mean(np.maximum(dist.logpdf(y), -1e6))

        return float(np.exp(minimize_scalar(nll, bounds=(-4, 4), method="bounded",
                                            options={"xatol": 1e-5}).x))

    def _predict_params(self, X):
        # Fixed-size, zero-padded batches: the kernels then sum in the same order
        # whatever else is predicted with a sample, so predictions of a subset equal the
        # subset of the predictions, bit for bit.
        n = X.shape[0]
        out = None
        for start in range(0, n, PREDICT_BATCH):
            batch = X[start:start + PREDICT_BATCH]
            m = batch.shape[0]
            if m < PREDICT_BATCH:
                batch = np.concatenate(
                    [batch, np.zeros((PREDICT_BATCH - m,) + batch.shape[1:], batch.dtype)])
            params = np.asarray(self.model_.predict_on_batch(batch), dtype=float)
            if out is None:
                out = np.empty((n, params.shape[1]))
            out[start:start + m] = params[:m]
        return out

    def predict_distribution(self, X):
        """The predictive distribution of the targets for each image.

        Parameters
        ----------
        X : array-like
            Images as in :meth:`fit`, of the fitted shape.

        Returns
        -------
        distribution : Normal, NormalMixture or MultivariateNormalMixture
            One distribution per image, with ``logpdf``, ``cdf``, ``ppf``, ``mean``,
            ``std``, ``interval`` and ``sample`` (:mod:`skgal.metrics` scores it). For
            several targets, a joint distribution; ``.marginal(j)`` gives target ``j``.
        """
        check_is_fitted(self, "model_")
        params = self._predict_params(self._as_network_input(X, reset=False))
        dist = self.head_.distribution(params, self.target_spaces_, self.std_scale_)
        if getattr(self, "calibration_knots_", None) is not None:
            dist = QuantileRecalibrated(dist, self.calibration_knots_)
        return dist

    def predict(self, X, return_std=False):
        """Predicted mean of the targets, and the standard deviation with ``return_std=True``.

        Parameters
        ----------
        X : array-like
            Images as in :meth:`fit`, of the fitted shape.
        return_std : bool, default=False
            Also return the predicted standard deviations (with the recalibration of
            ``std_scale_``).

        Returns
        -------
        mean : ndarray of shape (n_samples,) or (n_samples, n_targets)
        std : ndarray of the same shape, if ``return_std``
        """
        dist = self.predict_distribution(X)
        if return_std:
            return dist.mean(), dist.std()
        return dist.mean()

    def predict_interval(self, X, coverage=0.68):
        """Central predictive interval of the targets holding ``coverage`` of the probability.

        Parameters
        ----------
        X : array-like
            Images as in :meth:`fit`.
        coverage : float, default=0.68
            Probability inside the interval, in (0, 1).

        Returns
        -------
        lower, upper : ndarray of shape (n_samples,) or (n_samples, n_targets)
            For several targets, each target's marginal interval.
        """
        if not (isinstance(coverage, numbers.Real) and 0 < coverage < 1):
            raise ValueError(f"coverage must be a probability in (0, 1); got {coverage!r}")
        return self.predict_distribution(X).interval(coverage)
