"""SersicGalaxySimulator: the galaxy image model as a scikit-learn transformer and sampler."""

import numbers

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._fourier import render_psf, shared_grids
from ._profile import sersic_b, total_flux
from ._render import render_flux
from ._table import (ALL_COLUMNS, REQUIRED_COLUMNS, as_table, check_count, is_positional,
                     read_parameter_table)

#: The required columns of a parameter table, and the two angles of the old layout.
PARAMETER_NAMES = REQUIRED_COLUMNS
ANGLE_NAMES = ("inclination", "position_angle")
PAPER_INCLINATIONS = (0.0, 30.0, 60.0, 90.0)
_RANDOM_INCLINATIONS = ("uniform", "isotropic")


def _check_range(name, value, *, low=None, high=None, high_inclusive=True):
    """Validate a (min, max) prior range; returns it as a tuple of floats."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (min, max) of numbers; got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise ValueError(f"{name} must be a finite pair with min <= max; got {value!r}")
    if low is not None and not lo > low:
        raise ValueError(f"{name} must lie above {low}; got {value!r}")
    if high is not None and (hi > high if high_inclusive else hi >= high):
        raise ValueError(f"{name} must lie at or below {high}; got {value!r}")
    return lo, hi


def _check_inclinations(inclinations):
    """Fixed inclinations as a tuple of floats in [0, 90], or a random-mode string."""
    if isinstance(inclinations, str):
        if inclinations not in _RANDOM_INCLINATIONS:
            raise ValueError(
                f"inclinations must be a sequence of angles in degrees or one of "
                f"{_RANDOM_INCLINATIONS}; got {inclinations!r}")
        return inclinations
    try:
        values = np.asarray(inclinations, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(
            f"inclinations must be a sequence of angles in degrees or one of "
            f"{_RANDOM_INCLINATIONS}; got {inclinations!r}") from None
    if values.size == 0:
        raise ValueError("inclinations must hold at least one angle; got an empty sequence")
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values > 90):
        raise ValueError(f"inclinations must lie in [0, 90] degrees; got {inclinations!r}")
    return tuple(float(v) for v in values)


class SersicGalaxySimulator(TransformerMixin, BaseEstimator):
    """Images of inclined Sérsic discs: a transformer from parameters to images.

    Each galaxy is a Sérsic profile in its disc plane times a Gaussian in height,
    ``F(R, z) = I_e exp(-b_n[(R/R_e)^(1/n) - 1]) exp(-z^2 / 2 h_z^2)`` with
    ``h_z = q R_e / 1.177``, seen at an inclination ``i`` (0 face-on, 90 edge-on)
    and position angle ``PA`` (major axis counter-clockwise from +x). An image is
    the exact line-of-sight integral of ``F``; see the user guide for the
    coordinate conventions and accuracy (1e-3 relative, tested).

    ``transform`` turns a parameter table into images; ``sample`` draws the table
    from the prior, so ``transform(sample(n)[0])`` is a random dataset.

    Parameters
    ----------
    image_size : int, default=64
        Side of the square image, in pixels (at least 8).
    pixel_scale : float, default=1.0
        Side of a pixel, in the length unit of ``R_e``.
    inclinations : sequence of float or {"uniform", "isotropic"}, default=(0, 30, 60, 90)
        Inclinations in degrees, one image channel each. ``"uniform"`` draws ``i``
        uniform in [0, 90] per galaxy in ``sample``; ``"isotropic"`` draws
        ``cos i`` uniform (random orientations). Either way the drawn angle is a
        column of the table and ``transform`` renders one channel at it.
    position_angle : float or "uniform", default=0.0
        Position angle in degrees, used when the table has no such column.
        ``"uniform"`` draws it uniform in [0, 180) per galaxy in ``sample``, as the
        table's ``position_angle`` column (the image repeats every 180 degrees).
    max_offset : float, default=0.0
        ``sample`` draws the galaxy's centre uniform within this many pixels of the
        stamp's centre along each axis, as the columns ``x_offset`` and ``y_offset``
        (pixels). 0 draws no offset. It must be below ``image_size / 2``.
    sampling : {"pixel", "center"}, default="pixel"
        ``"pixel"``: the mean surface brightness over each pixel, as a detector
        records it. ``"center"``: the value at the pixel centre, as the thesis did.
    psf : GaussianPSF, MoffatPSF, ImagePSF or None, default=None
        The point-spread function, in the length unit of ``R_e``. The image is then
        the continuous image convolved with the continuous PSF, averaged over each
        pixel (or taken at its centre), computed exactly in Fourier space (see the
        user guide, "Observing"). ``None``: no PSF, the line-of-sight engine.
    pixel_tolerance : float or None, default=None
        With a ``psf``: the error allowed in a pixel, in the flux unit of the images
        (``I_e`` times length; counts for the named observing conditions). ``None``:
        the accuracy promise, an aim of 1e-7 of each image's own peak, so that every
        pixel brighter than 1e-4 of the peak is within 1e-3 relative of the exact
        image (tested). A noisy image needs only an error far below its noise:
        :meth:`ObservingConditions.forward_model` with ``pixel_tolerance="noise"``
        sets 1e-3 of the noise's standard deviation in an empty pixel, which draws
        the ``"ground"`` conditions' images about twice as fast (the user guide,
        "Observing"). The aim, as a share of the galaxy's face-on central
        brightness, is kept between 1e-9 (the engine's tightest) and 1e-3. Without a
        PSF the line-of-sight engine draws at its own accuracy and this is unused.
    output : {"magnitude", "flux"}, default="magnitude"
        ``"flux"``: surface brightness in units of ``I_e`` times length.
        ``"magnitude"``: ``zero_point - 2.5 log10(flux)``, clipped at
        ``magnitude_limit`` so that no pixel is infinite.
    zero_point : float, default=25.0
        Magnitude of a surface brightness of 1.
    magnitude_limit : float, default=35.0
        Limiting surface brightness, in magnitudes: fainter pixels (flux below
        ``10**(-0.4 (magnitude_limit - zero_point))``, 1e-4 by default) are set to it.
        The brightest pixels of the default prior are about 17 mag.
    intensity_range, effective_radius_range, sersic_index_range, flattening_range : (float, float)
        Uniform prior ranges of ``I_e``, ``R_e`` (length units), ``n`` and ``q``
        used by ``sample``. Defaults: the thesis's (0.1, 1), (5, 30), (0.5, 2), (0.2, 1).
    flux_range : (float, float) or None, default=None
        A prior on the galaxy's total light instead of ``I_e``: ``sample`` draws the
        total flux (:func:`skgal.total_flux`, in ``I_e`` times length cubed: the
        image's sum times the pixel area) uniform in this range and sets
        ``I_e = flux / total_flux(1, R_e, n, q)``; ``intensity_range`` is then unused.
        An observed galaxy's brightness is known to a factor of a few, its ``I_e``
        only with its size and flattening, so this is the prior that matches a
        real stamp. ``None``: ``I_e`` uniform in ``intensity_range``.
    n_jobs : int, default=None
        Threads rendering in parallel (joblib; ``-1`` all cores). Results do not
        depend on it.
    random_state : int, RandomState instance or None, default=None
        Seed of ``sample`` when it is called without one.

    Attributes
    ----------
    n_features_in_ : int
        Number of parameter columns seen in ``fit`` (when ``fit`` got ``X``).
    feature_names_in_ : ndarray of str
        The columns' names, when ``fit`` got a dataframe.

    Examples
    --------
    >>> from skgal import SersicGalaxySimulator
    >>> sim = SersicGalaxySimulator(image_size=16, sampling="center")
    >>> X, y = sim.sample(3, random_state=0)
    >>> X.shape, y.shape
    ((3, 4), (3,))
    >>> sim.transform(X).shape
    (3, 16, 16, 4)
    """

    _parameter_constraints = {
        "image_size": [Interval(numbers.Integral, 8, None, closed="left")],
        "pixel_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "inclinations": ["array-like", StrOptions(set(_RANDOM_INCLINATIONS))],
        "position_angle": [Interval(numbers.Real, None, None, closed="neither"),
                           StrOptions({"uniform"})],
        "max_offset": [Interval(numbers.Real, 0, None, closed="left")],
        "sampling": [StrOptions({"pixel", "center"})],
        "psf": [None, HasMethods(["transform", "max_wavenumber", "core_radius",
                                  "wing_radius"])],
        "pixel_tolerance": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "output": [StrOptions({"magnitude", "flux"})],
        "zero_point": [Interval(numbers.Real, None, None, closed="neither")],
        "magnitude_limit": [Interval(numbers.Real, None, None, closed="neither")],
        "intensity_range": ["array-like"],
        "effective_radius_range": ["array-like"],
        "sersic_index_range": ["array-like"],
        "flattening_range": ["array-like"],
        "flux_range": [None, "array-like"],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, *, image_size=64, pixel_scale=1.0, inclinations=PAPER_INCLINATIONS,
                 position_angle=0.0, max_offset=0.0, sampling="pixel", psf=None,
                 pixel_tolerance=None, output="magnitude", zero_point=25.0, magnitude_limit=35.0,
                 intensity_range=(0.1, 1.0),
                 effective_radius_range=(5.0, 30.0), sersic_index_range=(0.5, 2.0),
                 flattening_range=(0.2, 1.0), flux_range=None, n_jobs=None,
                 random_state=None):
        self.image_size = image_size
        self.pixel_scale = pixel_scale
        self.inclinations = inclinations
        self.position_angle = position_angle
        self.max_offset = max_offset
        self.sampling = sampling
        self.psf = psf
        self.pixel_tolerance = pixel_tolerance
        self.output = output
        self.zero_point = zero_point
        self.magnitude_limit = magnitude_limit
        self.intensity_range = intensity_range
        self.effective_radius_range = effective_radius_range
        self.sersic_index_range = sersic_index_range
        self.flattening_range = flattening_range
        self.flux_range = flux_range
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- validation -------------------------------------------------------------
    def _check_settings(self):
        """Validate every parameter (also those the constraints cannot express)."""
        self._validate_params()
        inclinations = _check_inclinations(self.inclinations)
        priors = {
            "intensity_range": _check_range("intensity_range", self.intensity_range, low=0),
            "effective_radius_range": _check_range(
                "effective_radius_range", self.effective_radius_range, low=0),
            "sersic_index_range": _check_range(
                "sersic_index_range", self.sersic_index_range, low=0),
            "flattening_range": _check_range(
                "flattening_range", self.flattening_range, low=0, high=1),
            "flux_range": None if self.flux_range is None
            else _check_range("flux_range", self.flux_range, low=0),
        }
        if not self.max_offset < self.image_size / 2:
            raise ValueError(
                f"max_offset must be below image_size / 2 = {self.image_size / 2:g} pixels, "
                f"so that the centre stays in the stamp; got {self.max_offset!r}")
        return inclinations, priors

    def table_columns(self):
        """The columns of the table that :meth:`sample` draws, in order.

        Returns
        -------
        tuple of str
            ``I_e, R_e, n, q``, then ``inclination`` when it is drawn per galaxy,
            ``position_angle`` when it is drawn (``position_angle="uniform"``) and
            ``x_offset, y_offset`` when ``max_offset > 0``.

        Examples
        --------
        >>> from skgal import SersicGalaxySimulator
        >>> SersicGalaxySimulator(position_angle="uniform", max_offset=2).table_columns()
        ('I_e', 'R_e', 'n', 'q', 'position_angle', 'x_offset', 'y_offset')
        """
        names = list(REQUIRED_COLUMNS)
        if isinstance(self.inclinations, str):
            names.append("inclination")
        if isinstance(self.position_angle, str):
            names.append("position_angle")
        if self.max_offset > 0:
            names += ["x_offset", "y_offset"]
        return tuple(names)

    @property
    def per_galaxy_inclination(self):
        """True when ``inclinations`` is drawn per galaxy ("uniform", "isotropic")."""
        return isinstance(self.inclinations, str)

    # -- scikit-learn API -------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Validate the settings (and ``X``, when given). The simulator learns nothing.

        Parameters
        ----------
        X : array-like or dataframe of shape (n_samples, n_columns), default=None
            Parameter table (see :meth:`transform`), only checked.
        y : ignored

        Returns
        -------
        self : SersicGalaxySimulator
        """
        self._check_settings()
        if X is not None:
            table = self._read_table(X)
            self.n_features_in_ = len(table.names)
            if table.from_frame:
                self.feature_names_in_ = np.asarray(table.names, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        return self

    def _read_table(self, X):
        table = read_parameter_table(X)
        if "x_offset" in table:
            limit = self.image_size / 2
            for column in ("x_offset", "y_offset"):
                bad = np.flatnonzero(~(np.abs(table.columns[column]) < limit))
                if bad.size:
                    raise ValueError(
                        f"X: column {column!r} must lie in (-{limit:g}, {limit:g}) pixels "
                        f"(image_size / 2), so that the centre stays in the stamp; row "
                        f"{int(bad[0])} has {table.columns[column][bad[0]]!r}")
        return table

    def transform(self, X, *, return_flux=False):
        """Render the galaxies of a parameter table.

        Parameters
        ----------
        X : array-like or dataframe of shape (n_samples, n_columns)
            Columns ``I_e, R_e, n, q`` and optionally ``inclination``,
            ``position_angle``, ``x_offset`` and ``y_offset`` (see the user guide). A
            dataframe is read by column name; a plain array by position, in that
            order (4, 5, 6 or 8 columns). Without an ``inclination`` column, one
            channel per entry of ``inclinations``; with it, one channel per row at
            its own inclination. A missing ``position_angle`` is the estimator's
            fixed one; missing offsets are 0.

        return_flux : bool, default=False
            Also return the float64 flux images, before ``output``'s conversion.

        Returns
        -------
        images : ndarray of shape (n_samples, image_size, image_size, n_channels), float32
            Channels last. Flux (``I_e`` times length) or magnitudes per ``output``.
        """
        inclinations, _ = self._check_settings()
        table = self._read_table(X)
        n = len(table)
        if "inclination" in table:
            incl = table.columns["inclination"]
            rows = np.arange(n)
        else:
            if isinstance(inclinations, str):
                raise ValueError(
                    f"inclinations={inclinations!r} draws an inclination per galaxy: "
                    "transform needs a table with an 'inclination' column, as returned "
                    "by sample()")
            incl = np.tile(np.asarray(inclinations), n)
            rows = np.repeat(np.arange(n), len(inclinations))
        if "position_angle" not in table and isinstance(self.position_angle, str):
            raise ValueError(
                f"position_angle={self.position_angle!r} draws a position angle per galaxy: "
                "transform needs a table with a 'position_angle' column, as returned by "
                "sample()")
        pa = table.get("position_angle", 0.0 if isinstance(self.position_angle, str)
                       else self.position_angle)[rows]
        params = table.to_array(REQUIRED_COLUMNS)[rows]
        offsets = np.column_stack([table.get("x_offset", 0.0)[rows],
                                   table.get("y_offset", 0.0)[rows]])
        flux = self._render(params, incl, pa, offsets)
        images = self._channels_last(self._to_output(flux), n)
        if return_flux:
            return images, self._channels_last(flux, n)
        return images

    def _channels_last(self, images, n):
        channels = images.shape[0] // n
        images = images.reshape(n, channels, self.image_size, self.image_size)
        return np.ascontiguousarray(images.transpose(0, 2, 3, 1))

    def light_fraction(self, flux_images, X):
        """The fraction of each galaxy's light that falls inside the stamp.

        The pixel means times the pixel area, summed, over :func:`skgal.total_flux`
        (exact for ``sampling="pixel"``; a Riemann sum for ``"center"``).

        Parameters
        ----------
        flux_images : ndarray of shape (n_samples, size, size, channels)
            This simulator's images of ``X`` with ``output="flux"``.
        X : array-like or dataframe
            Their parameter table.

        Returns
        -------
        ndarray of shape (n_samples, channels)

        Examples
        --------
        >>> from skgal import SersicGalaxySimulator
        >>> sim = SersicGalaxySimulator(image_size=16, output="flux", inclinations=(0, 90))
        >>> X = [[0.5, 30.0, 2.0, 0.5], [0.5, 2.0, 0.5, 0.5]]
        >>> sim.light_fraction(sim.transform(X), X).round(3)
        array([[0.144, 0.142],
               [1.   , 1.   ]])
        """
        table = self._read_table(X)
        total = total_flux(*(table.columns[c] for c in REQUIRED_COLUMNS))
        flux = np.asarray(flux_images, dtype=np.float64)
        return flux.sum(axis=(1, 2)) * float(self.pixel_scale) ** 2 / total[:, None]

    def _render(self, params, incl, pa, offsets):
        """Flux images (m, size, size) float64, rendered in parallel threads."""
        b = sersic_b(params[:, 2])
        b = np.atleast_1d(b)
        m = params.shape[0]
        workers = effective_n_jobs(self.n_jobs)
        # several chunks per worker balance the load; images do not depend on it
        bounds = np.linspace(0, m, min(m, 4 * workers) + 1).astype(int)
        chunks = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
        if self.psf is None:
            kwargs = dict(image_size=self.image_size, pixel_scale=self.pixel_scale,
                          sampling=self.sampling)
            parts = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(render_flux)(params[s, 0], params[s, 1], params[s, 2], b[s],
                                     params[s, 3], incl[s], pa[s], offsets[s, 0],
                                     offsets[s, 1], **kwargs)
                for s in chunks)
        else:
            # the PSF's transform on each lattice is shared by the threads, and kept
            # for the next call (a training batch, a dataset's next chunk)
            kwargs = dict(psf=self.psf, image_size=self.image_size,
                          pixel_scale=self.pixel_scale, sampling=self.sampling,
                          grids=shared_grids(self.psf, float(self.pixel_scale)), tol="peak",
                          pixel_tol=None if self.pixel_tolerance is None
                          else float(self.pixel_tolerance))
            # BLAS is left alone: a process-wide limit taken and restored around each
            # call undid itself when two threads rendered batches. A galaxy's own BLAS
            # calls are small, below where BLAS starts threads of its own (its large sums
            # are written out: _fourier._low_image); building an image PSF's lattices,
            # once each and kept, may start them
            parts = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(render_psf)(params[s, 0], params[s, 1], params[s, 2],
                                    params[s, 3], incl[s], pa[s], offsets[s, 0],
                                    offsets[s, 1], sersic_constant=b[s], **kwargs)
                for s in chunks)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _to_output(self, flux):
        if self.output == "flux":
            return flux.astype(np.float32)
        floor = 10.0 ** (-0.4 * (self.magnitude_limit - self.zero_point))
        return (self.zero_point - 2.5 * np.log10(np.maximum(flux, floor))).astype(np.float32)

    def sample(self, n_samples, random_state=None, *, as_frame="auto"):
        """Draw galaxy parameters from the prior.

        Parameters
        ----------
        n_samples : int
            Number of galaxies, at least 1.
        random_state : int, RandomState instance or None, default=None
            Seed; ``None`` uses the estimator's ``random_state``. The draws are a
            row-major stream, so ``sample(a + b)`` equals ``sample(a)`` followed by
            ``sample(b)`` from the same RandomState.
        as_frame : bool or "auto", default="auto"
            Return a pandas DataFrame with named columns. ``"auto"`` does so when the
            table has a drawn position angle or offsets, and returns the thesis-era
            tables (``I_e, R_e, n, q`` and an ``inclination``) as plain arrays.

        Returns
        -------
        X : ndarray or DataFrame of shape (n_samples, n_columns)
            The columns of :meth:`table_columns`: ``I_e, R_e, n, q``, then
            ``inclination`` (degrees), ``position_angle`` (degrees) and
            ``x_offset, y_offset`` (pixels) where they are drawn.
        y : ndarray of shape (n_samples,)
            The target, ``q``.

        Examples
        --------
        Four fixed inclinations at one random position angle per galaxy:

        >>> from skgal import SersicGalaxySimulator
        >>> sim = SersicGalaxySimulator(image_size=16, position_angle="uniform")
        >>> X, y = sim.sample(2, random_state=0)
        >>> list(X.columns)
        ['I_e', 'R_e', 'n', 'q', 'position_angle']
        >>> sim.transform(X).shape
        (2, 16, 16, 4)
        """
        inclinations, priors = self._check_settings()
        n_samples = check_count(n_samples, "n_samples")
        if as_frame not in (True, False, "auto"):
            raise ValueError(f"as_frame must be True, False or 'auto'; got {as_frame!r}")
        names = self.table_columns()
        if as_frame is False and not is_positional(names):
            raise ValueError(
                f"the drawn columns {list(names)} skip a column of the positional order "
                f"{list(ALL_COLUMNS)}, so only a dataframe can hold them: pass "
                "as_frame=True (or 'auto')")
        rng = check_random_state(self.random_state if random_state is None else random_state)
        # one uniform per column, row-major: the stream of the four-column default is
        # the thesis-era one, so today's defaults draw today's galaxies
        u = rng.random_sample((n_samples, len(names)))
        X = np.empty_like(u)
        for j, key in enumerate(("intensity_range", "effective_radius_range",
                                 "sersic_index_range", "flattening_range")):
            lo, hi = priors[key]
            X[:, j] = lo + (hi - lo) * u[:, j]
        if priors["flux_range"] is not None:  # the same uniforms, read as total light
            lo, hi = priors["flux_range"]
            X[:, 0] = (lo + (hi - lo) * u[:, 0]) / total_flux(1.0, X[:, 1], X[:, 2], X[:, 3])
        for j, name in enumerate(names[4:], start=4):
            if name == "inclination":
                if inclinations == "uniform":
                    X[:, j] = 90.0 * u[:, j]
                else:  # isotropic: cos i uniform in (0, 1]
                    X[:, j] = np.degrees(np.arccos(1.0 - u[:, j]))
            elif name == "position_angle":
                X[:, j] = 180.0 * u[:, j]
            else:  # an offset, uniform in [-max_offset, max_offset)
                X[:, j] = self.max_offset * (2.0 * u[:, j] - 1.0)
        y = X[:, 3].copy()
        # "auto": the thesis-era tables (4 or 5 columns) stay arrays; any newer column
        # (a drawn position angle, offsets) comes with names
        frame = as_frame is True or (as_frame == "auto"
                                      and (len(names) > 5 or not is_positional(names)))
        return as_table(X, names, as_frame=frame), y

    def get_feature_names_out(self, input_features=None):
        """Names of the output channels (the last image axis).

        ``inclination_<angle>`` per fixed inclination, or ``inclination_per_galaxy``
        when each row carries its own.

        Parameters
        ----------
        input_features : None
            Ignored; the output names do not depend on the input columns' names.

        Returns
        -------
        ndarray of str objects

        Examples
        --------
        >>> from skgal import SersicGalaxySimulator
        >>> SersicGalaxySimulator().get_feature_names_out().tolist()
        ['inclination_0', 'inclination_30', 'inclination_60', 'inclination_90']
        """
        inclinations = _check_inclinations(self.inclinations)
        names = getattr(self, "feature_names_in_", ALL_COLUMNS[:getattr(self, "n_features_in_", 4)])
        per_row = "inclination" in names or isinstance(inclinations, str)
        if per_row:
            return np.asarray(["inclination_per_galaxy"], dtype=object)
        return np.asarray([f"inclination_{v:g}" for v in inclinations], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False  # stateless: transform validates on its own
        tags.transformer_tags.preserves_dtype = []  # always float32 images
        return tags
