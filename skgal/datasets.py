"""Galaxy image datasets in HDF5: make (in parallel, resumably) and load (eagerly or lazily).

File format (``format = "skgal-galaxy-dataset"``, ``format_version = 2``):

========================  ================================================================
``/images``               float32 (n, size, size, channels), channels last, chunked, gzip
``/params``               float64 (n, k), columns in the ``columns`` attribute
``/target``               float64 (n,), the flattening ``q``
``/inclinations``         float64 (channels,), degrees; empty when drawn per galaxy
``/light_fraction``       float64 (n, channels): each image's share of its galaxy's light
                          that falls inside the stamp (new in version 2)
``/noise_sigma``          float64 (n, channels): each image's noise level, in the flux
                          unit, when the forward model adds noise (new in version 2)
``/chunks_done``          bool (n_chunks,), which work chunks are written
attributes                ``complete``, ``settings`` (JSON: every parameter of every step
                          of the forward model, ``n_galaxies``, ``chunk_size``, ``seed``),
                          ``skgal_version``, ``columns``, ``DESCR``
========================  ================================================================

The forward model is a :class:`~skgal.SersicGalaxySimulator`, or a
:class:`~sklearn.pipeline.Pipeline` that starts with one and goes on with observation
steps over flux images (:class:`~skgal.CCDNoise`, :class:`~skgal.GaussianSNRNoise`,
:class:`~skgal.ToMagnitudes`). A noise step's ``random_state`` is recorded; when it is
not an integer, one is derived from the dataset's seed, so the file alone says how
it was made.

A dataset is written to ``<path>.partial`` and renamed to ``<path>`` only once every
chunk is in, so a file at ``path`` is always complete. Each chunk is flushed as it
is written; the same call on an interrupted ``.partial`` (even after ``kill -9``)
resumes it, and the result is identical to an uninterrupted run, for any
``n_jobs`` and joblib backend: the parameters come from one seeded stream and each
image depends only on its own parameters. A stored chunk that the kill left
unreadable (gzip chunks are not written atomically) is found when resuming, and its
galaxies are rendered again with a warning.
"""

import json
import os
import warnings

import h5py
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, check_random_state
from tqdm.auto import tqdm

from . import __version__
from ._conditions import observing_conditions
from ._noise import positive_definite_correlation
from ._real import RealGalaxy, center_cutout, load_real_galaxies, noise_correlation
from ._simulator import SersicGalaxySimulator
from ._sources import check_targets, reseeded
from ._table import as_table

__all__ = ["DatasetBatches", "DatasetError", "FORMAT", "FORMAT_VERSION", "RealGalaxy",
           "center_cutout", "load_galaxy_dataset", "load_real_galaxies", "make_galaxy_dataset",
           "noise_correlation", "positive_definite_correlation"]

FORMAT = "skgal-galaxy-dataset"
FORMAT_VERSION = 2
PARTIAL_SUFFIX = ".partial"
_DEFAULT_CHUNK = 128


class DatasetError(ValueError):
    """A dataset file that is missing, incomplete, corrupt, foreign or mismatched."""


def _partial_path(path):
    return os.fspath(path) + PARTIAL_SUFFIX


def _jsonable(value):
    """A parameter's value as JSON: sequences as lists of floats, PSFs by their settings."""
    if hasattr(value, "settings") and callable(value.settings):
        return value.settings()
    if isinstance(value, (tuple, list, np.ndarray)):
        return [float(v) for v in np.asarray(value, dtype=float).ravel()]
    if isinstance(value, np.generic):
        return value.item()
    return value


#: the simulator's parameters added since datasets recorded their settings, with the
#: value that renders as the code before them did
_ADDED_PARAMETERS = {"pixel_tolerance": None}


def _made_by(settings, simulator):
    """Whether a dataset's stored simulator ``settings["parameters"]`` are ``simulator``'s
    (floats to a relative 1e-9; ``n_jobs`` and ``random_state`` aside, which do not change
    the images; a parameter the dataset does not record taken at its default)."""
    wanted = {k: _jsonable(v) for k, v in simulator.get_params(deep=False).items()
              if k not in ("n_jobs", "random_state")}
    stored = {k: v for k, v in settings.get("parameters", {}).items()
              if k not in ("n_jobs", "random_state")}
    # a parameter newer than the dataset, at the default that does what the code that
    # wrote it did
    for k in wanted.keys() - stored.keys():
        if k in _ADDED_PARAMETERS:
            stored[k] = _ADDED_PARAMETERS[k]

    def agree(a, b):
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(agree(a[k], b[k]) for k in a)
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        if isinstance(a, (int, float, list)) and isinstance(b, (int, float, list)):
            return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-9, atol=0)
        return a == b

    return stored.keys() == wanted.keys() and all(agree(stored[k], wanted[k]) for k in stored)


def _forward_model(model):
    """(simulator, [(name, step), ...]) of a simulator, a Pipeline starting with one, or
    the name of observing conditions (their forward model at its defaults)."""
    if model is None:
        return SersicGalaxySimulator(), []
    if isinstance(model, str):
        try:
            model = observing_conditions(model).forward_model()
        except ValueError as err:
            raise ValueError(f"simulator: {err}") from None
    if isinstance(model, SersicGalaxySimulator):
        return model, []
    if isinstance(model, Pipeline):
        steps = [(name, step) for name, step in model.steps if step not in (None, "passthrough")]
        if not steps or not isinstance(steps[0][1], SersicGalaxySimulator):
            raise TypeError("simulator: a Pipeline must start with a SersicGalaxySimulator; got "
                            f"{[type(step).__name__ for _, step in steps]}")
        for name, step in steps[1:]:
            if not hasattr(step, "transform"):
                raise TypeError(f"simulator: step {name!r} has no transform method")
        if steps[0][1].output != "flux" and len(steps) > 1:
            raise ValueError("simulator: the observation steps act on flux images, so the "
                             "Pipeline's SersicGalaxySimulator needs output='flux'")
        return steps[0][1], steps[1:]
    raise TypeError(f"simulator must be a SersicGalaxySimulator, a Pipeline starting with "
                    f"one, or the name of observing conditions; got {model!r}")


def _prepare_steps(steps, seed):
    """Clones of the observation steps, each noise step with an integer random_state."""
    prepared = []
    for k, (name, step) in enumerate(steps):
        step = clone(step)
        params = step.get_params(deep=False)
        if "random_state" in params and not isinstance(params["random_state"],
                                                       (int, np.integer)):
            derived = int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0])
            step.set_params(random_state=derived)
        if hasattr(step, "fit"):
            step.fit()  # validates the settings before anything touches the disk
        prepared.append((name, step))
    return prepared


def _settings_of(simulator, steps, n_galaxies, chunk_size, seed):
    params = simulator.get_params(deep=False)
    params.pop("n_jobs", None)  # how fast it ran does not change the content
    params.pop("random_state", None)  # the dataset's seed is its own
    params = {key: _jsonable(value) for key, value in params.items()}
    settings = {"simulator": "SersicGalaxySimulator", "parameters": params,
                "n_galaxies": int(n_galaxies), "chunk_size": int(chunk_size), "seed": int(seed)}
    if steps:
        settings["observation"] = [
            {"name": name, "step": type(step).__name__,
             "parameters": {k: _jsonable(v) for k, v in step.get_params(deep=False).items()}}
            for name, step in steps]
    return settings


def _chunk_bounds(n_galaxies, chunk_size):
    starts = np.arange(0, n_galaxies, chunk_size)
    return [(int(s), int(min(s + chunk_size, n_galaxies))) for s in starts]


def _render_chunk(simulator, steps, params, columns):
    """Images, light fractions and noise levels (or None) of one chunk of rows."""
    table = as_table(np.asarray(params), columns, as_frame=True)
    images, flux = simulator.transform(table, return_flux=True)
    fraction = simulator.light_fraction(flux, table)
    sigma = None
    for _, step in steps:
        if hasattr(step, "draw"):
            images, sigma = step.draw(images)
            sigma = np.broadcast_to(np.asarray(sigma, dtype=float).reshape(
                len(images), -1), fraction.shape)
        else:
            images = step.transform(images)
    return np.asarray(images, dtype=np.float32), fraction, sigma


def _create(partial, simulator, steps, settings, columns, rng, bounds):
    """Create the .partial file with every parameter written and no image yet."""
    size = simulator.image_size
    channels = 1 if simulator.per_galaxy_inclination else len(simulator.inclinations)
    n = settings["n_galaxies"]
    with h5py.File(partial, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["complete"] = False
        f.attrs["settings"] = json.dumps(settings, sort_keys=True)
        f.attrs["skgal_version"] = __version__
        f.attrs["columns"] = list(columns)
        f.attrs["DESCR"] = _describe(settings, columns)
        f.create_dataset(
            "images", shape=(n, size, size, channels), dtype="float32",
            chunks=(min(16, n), size, size, channels), compression="gzip",
            compression_opts=4, shuffle=True)
        params = f.create_dataset("params", shape=(n, len(columns)), dtype="float64")
        target = f.create_dataset("target", shape=(n,), dtype="float64")
        f.create_dataset("light_fraction", shape=(n, channels), dtype="float64")
        if any(hasattr(step, "draw") for _, step in steps):
            f.create_dataset("noise_sigma", shape=(n, channels), dtype="float64")
        f.create_dataset("inclinations", data=np.asarray(
            [] if simulator.per_galaxy_inclination else simulator.inclinations, dtype=float))
        f.create_dataset("chunks_done", data=np.zeros(len(bounds), dtype=bool))
        for lo, hi in bounds:  # one seeded stream, drawn chunk by chunk: flat memory
            X, y = simulator.sample(hi - lo, random_state=rng, as_frame=True)
            params[lo:hi] = X.to_numpy()
            target[lo:hi] = y


def _recorded_seed(partial, settings):
    """The seed of an interrupted dataset whose other settings are these, else None."""
    try:
        with h5py.File(partial, "r") as f:
            recorded = json.loads(f.attrs["settings"])
    except Exception:  # absent or unreadable: nothing to resume from
        return None
    seed = recorded.get("seed")
    return seed if {**recorded, "seed": 0} == {**settings, "seed": 0} else None


def _open_partial(partial, settings, overwrite):
    """Return True if ``partial`` is a resumable file with these settings."""
    if not os.path.exists(partial):
        return False
    if overwrite:
        os.remove(partial)
        return False
    try:
        with h5py.File(partial, "r") as f:
            same = (f.attrs.get("format") == FORMAT
                    and json.loads(f.attrs["settings"]) == settings
                    and "chunks_done" in f)
    except Exception as exc:  # an unreadable remnant of a killed run: start over
        warnings.warn(f"{partial} is unreadable ({exc}); starting that dataset again",
                      RuntimeWarning, stacklevel=3)
        os.remove(partial)
        return False
    if not same:
        raise DatasetError(
            f"{partial} is an interrupted dataset with other settings; delete it or pass "
            f"overwrite=True to replace it")
    return True


def _damaged_rows(partial):
    """Row ranges of the images' stored chunks that cannot be read back.

    ``kill -9`` in the middle of writing a gzip chunk can leave it corrupt. Such a chunk
    fails when it is read, and writing part of it later reads it first, so a resumed run
    would stop there, and the finished rows it holds are lost either way. Every chunk is
    read, one at a time (chunks never written read as fill values)."""
    with h5py.File(partial, "r") as f:
        images = f["images"]
        step = images.chunks[0]
        bad = []
        for start in range(0, images.shape[0], step):
            stop = min(start + step, images.shape[0])
            try:
                images[start:stop]
            except OSError:
                bad.append((start, stop))
    return bad


def _salvage(partial, bounds, create):
    """Rebuild a partial file with damaged chunks: a new file (``create``) holding every
    finished chunk that reads back, the others to be rendered again."""
    bad = _damaged_rows(partial)
    if not bad:
        return
    rebuilt = partial + ".rebuild"
    create(rebuilt)
    kept = 0
    with h5py.File(partial, "r") as old, h5py.File(rebuilt, "r+") as new:
        done = old["chunks_done"][...]
        names = [name for name in ("images", "light_fraction", "noise_sigma") if name in old]
        for k, (lo, hi) in enumerate(bounds):
            if not done[k] or any(lo < stop and hi > start for start, stop in bad):
                continue
            for name in names:
                new[name][lo:hi] = old[name][lo:hi]
            new.flush()
            new["chunks_done"][k] = True
            kept += hi - lo
    warnings.warn(f"{partial} was damaged by an interruption (rows "
                  f"{', '.join(f'{a}-{b - 1}' for a, b in bad)} unreadable); kept the "
                  f"{kept} galaxies that read back, the rest are rendered again",
                  RuntimeWarning, stacklevel=3)
    os.replace(rebuilt, partial)


def make_galaxy_dataset(path, n_galaxies, *, simulator=None, chunk_size=None, n_jobs=None,
                        random_state=None, overwrite=False, progress=False):
    """Simulate galaxies and write them, with their parameters, to an HDF5 file.

    Parameters
    ----------
    path : str or path-like
        The ``.h5`` file to create. While it is written it is ``<path>.partial``.
    n_galaxies : int
        Number of galaxies (rows), at least 1.
    simulator : SersicGalaxySimulator, Pipeline or str, default=None
        The forward model: the image model and prior, and optionally, as a Pipeline
        that starts with the simulator (``output="flux"``), observation steps over
        flux images (noise, photometry). A string names observing conditions
        (:data:`skgal.CONDITIONS`: ``"ideal"``, ``"ground"``, ``"space"``) and means
        their forward model at its defaults, 64x64 (for other settings pass
        ``observing_conditions(name).forward_model(...)``). Default
        ``SersicGalaxySimulator()`` (the thesis's 64x64 images at 0, 30, 60 and 90
        degrees). Its ``n_jobs`` is not used.
    chunk_size : int, default=None
        Galaxies per work unit and per write (default 128). Memory stays at a few
        chunks however large ``n_galaxies`` is.
    n_jobs : int, default=None
        Parallel workers, through joblib: the default ``loky`` processes, or any
        backend set with :func:`joblib.parallel_config` (``"dask"`` for a
        ``dask.distributed`` cluster). The file's content does not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seed of the parameter draws. ``None`` draws a seed, recorded in the file; an
        interrupted run of the same call is then resumed with the seed it recorded.
    overwrite : bool, default=False
        Replace an existing ``path`` (only once the new file is complete) and
        discard an interrupted ``.partial``. Without it, an existing ``path`` is an
        error and an interrupted ``.partial`` with the same settings is resumed.
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    path : str
        The path of the complete file.

    Examples
    --------
    >>> import os, tempfile
    >>> from skgal import SersicGalaxySimulator
    >>> from skgal.datasets import make_galaxy_dataset, load_galaxy_dataset
    >>> out = os.path.join(tempfile.mkdtemp(), "tiny.h5")
    >>> sim = SersicGalaxySimulator(image_size=8, sampling="center")
    >>> _ = make_galaxy_dataset(out, 5, simulator=sim, random_state=0)
    >>> load_galaxy_dataset(out).images.shape
    (5, 8, 8, 4)

    A telescope's images: a PSF, random orientations and centres, CCD noise, asinh
    magnitudes; the file records every setting, and each image's noise level:

    >>> from sklearn.pipeline import make_pipeline
    >>> from skgal import CCDNoise, MoffatPSF, ToMagnitudes
    >>> observe = make_pipeline(
    ...     SersicGalaxySimulator(image_size=16, output="flux", psf=MoffatPSF(2.0, 3.0),
    ...                           inclinations="isotropic", position_angle="uniform",
    ...                           max_offset=1.0),
    ...     CCDNoise(sky_level=0.5, gain=4.0), ToMagnitudes(kind="asinh"))
    >>> noisy = os.path.join(tempfile.mkdtemp(), "noisy.h5")
    >>> _ = make_galaxy_dataset(noisy, 3, simulator=observe, random_state=0)
    >>> data = load_galaxy_dataset(noisy)
    >>> list(data.frame.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['I_e', 'R_e', 'n', 'q', 'inclination', 'position_angle', 'x_offset', 'y_offset',
     'light_fraction', 'noise_sigma']
    """
    path = os.fspath(path)
    if isinstance(n_galaxies, bool) or not isinstance(n_galaxies, (int, np.integer)) \
            or n_galaxies < 1:
        raise ValueError(f"n_galaxies must be an integer >= 1; got {n_galaxies!r}")
    chunk_size = _DEFAULT_CHUNK if chunk_size is None else chunk_size
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) \
            or chunk_size < 1:
        raise ValueError(f"chunk_size must be an integer >= 1; got {chunk_size!r}")
    simulator, steps = _forward_model(simulator)
    simulator = clone(simulator).set_params(n_jobs=1)
    simulator.fit()  # validates every setting before anything touches the disk
    _prepare_steps(steps, 0)  # likewise
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    partial = _partial_path(path)
    if random_state is None and not overwrite:
        # no seed given: an interrupted run of the same call is resumed with its seed
        seed = _recorded_seed(partial, _settings_of(simulator, _prepare_steps(steps, 0),
                                                    n_galaxies, chunk_size, 0))
    else:
        seed = None
    if seed is None:
        if random_state is None or not isinstance(random_state, (int, np.integer)):
            seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
        else:
            seed = int(random_state)
    steps = _prepare_steps(steps, seed)
    settings = _settings_of(simulator, steps, n_galaxies, chunk_size, seed)
    columns = simulator.table_columns()
    bounds = _chunk_bounds(int(n_galaxies), int(chunk_size))

    def create(target):
        _create(target, simulator, steps, settings, columns, np.random.RandomState(seed),
                bounds)

    if not _open_partial(partial, settings, overwrite):
        create(partial)
    else:
        _salvage(partial, bounds, create)

    with h5py.File(partial, "r+") as f:
        done = f["chunks_done"][...]
        todo = [k for k in range(len(bounds)) if not done[k]]
        params = f["params"]
        with tqdm(total=int(n_galaxies), initial=sum(hi - lo for k, (lo, hi) in
                                                     enumerate(bounds) if done[k]),
                  unit="galaxy", disable=not progress, desc="simulate") as bar:
            results = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(_render_chunk)(simulator, steps, params[bounds[k][0]:bounds[k][1]],
                                       columns)
                for k in todo)
            for k, (images, fraction, sigma) in zip(todo, results):
                lo, hi = bounds[k]
                f["images"][lo:hi] = images
                f["light_fraction"][lo:hi] = fraction
                if sigma is not None:
                    f["noise_sigma"][lo:hi] = sigma
                f.flush()  # the images are on disk before the chunk is marked done
                f["chunks_done"][k] = True
                f.flush()
                bar.update(hi - lo)
        f.attrs["complete"] = True
    os.replace(partial, path)  # atomic: `path` appears only when complete
    return path


def _describe(settings, columns):
    p = settings["parameters"]
    steps = [s["step"] for s in settings.get("observation", [])]
    return (
        f"skgal galaxy dataset: {settings['n_galaxies']} Sérsic discs, "
        f"{p['image_size']}x{p['image_size']} pixels of {p['pixel_scale']} length units, "
        f"inclinations {p['inclinations']} degrees, position angle {p['position_angle']}, "
        f"sampling={p['sampling']!r}, PSF {p['psf']}, output={p['output']!r}"
        + (f", then {' -> '.join(steps)}" if steps else "")
        + f", seed {settings['seed']}. Parameter columns {list(columns)}; target q; "
        f"light_fraction per image. Made with skgal {__version__}.")


def _frame(bunch):
    """The parameters by name, with the per-image columns (one per channel)."""
    import pandas as pd

    frame = pd.DataFrame(bunch.params, columns=bunch.feature_names)
    channels = [f"{a:g}" for a in bunch.inclinations]
    for extra in ("light_fraction", "noise_sigma"):
        if extra in bunch:
            values = bunch[extra]
            if values.shape[1] == 1:
                frame[extra] = values[:, 0]
            else:
                for j, angle in enumerate(channels):
                    frame[f"{extra}_{angle}"] = values[:, j]
    return frame


def load_galaxy_dataset(path, *, return_X_y=False, lazy=False):
    """Load a dataset written by :func:`make_galaxy_dataset`.

    Parameters
    ----------
    path : str or path-like
        The dataset file.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.
    lazy : bool, default=False
        Leave the images on disk: ``images`` is then an :class:`h5py.Dataset`,
        read slice by slice (``images[i:j]``) for datasets larger than memory. The
        file stays open while it is referenced; ``bunch.file.close()`` closes it.

    Returns
    -------
    data : Bunch
        ``images`` (n, size, size, channels) float32, ``params`` (n, k),
        ``target`` (n,), ``inclinations`` (channels,) degrees, ``feature_names``
        (the params columns), ``settings`` (dict), ``DESCR``, and (version 2 files)
        ``light_fraction`` (n, channels), ``noise_sigma`` (n, channels) when the
        images are noisy, and ``frame``: a DataFrame of the parameters by name with
        a ``light_fraction`` and ``noise_sigma`` column per channel.
    (images, target) : tuple, if ``return_X_y``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    DatasetError
        The file is incomplete, corrupt or not an skgal dataset.

    Examples
    --------
    >>> import os, tempfile
    >>> from skgal import SersicGalaxySimulator
    >>> from skgal.datasets import make_galaxy_dataset, load_galaxy_dataset
    >>> out = os.path.join(tempfile.mkdtemp(), "tiny.h5")
    >>> sim = SersicGalaxySimulator(image_size=8, inclinations=(30, 90))
    >>> _ = make_galaxy_dataset(out, 3, simulator=sim, random_state=0)
    >>> data = load_galaxy_dataset(out)
    >>> data.images.shape, data.inclinations.tolist(), data.feature_names
    ((3, 8, 8, 2), [30.0, 90.0], ['I_e', 'R_e', 'n', 'q'])
    >>> images, q = load_galaxy_dataset(out, return_X_y=True)
    >>> lazy = load_galaxy_dataset(out, lazy=True)  # images stay on disk
    >>> lazy.images[:2].shape
    (2, 8, 8, 2)
    >>> lazy.file.close()
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        hint = ""
        if os.path.exists(_partial_path(path)):
            hint = (f"; an interrupted dataset is at {_partial_path(path)}: run the same "
                    "make_galaxy_dataset call (or skgal simulate) again to finish it")
        raise FileNotFoundError(f"no dataset at {path}{hint}")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DatasetError(f"{path} is not a readable HDF5 file: {exc}") from exc
    try:
        if f.attrs.get("format") != FORMAT:
            raise DatasetError(f"{path} is not an skgal galaxy dataset (no format={FORMAT!r})")
        if not bool(f.attrs.get("complete", False)):
            raise DatasetError(f"{path} is an incomplete dataset")
        if f.attrs.get("format_version", 0) > FORMAT_VERSION:
            raise DatasetError(f"{path} has a newer format version than this skgal reads")
        images = f["images"] if lazy else f["images"][...]
        bunch = Bunch(
            images=images,
            params=f["params"][...],
            target=f["target"][...],
            inclinations=f["inclinations"][...],
            feature_names=[str(c) for c in f.attrs["columns"]],
            settings=json.loads(f.attrs["settings"]),
            DESCR=str(f.attrs["DESCR"]),
        )
        for extra in ("light_fraction", "noise_sigma"):
            if extra in f:
                bunch[extra] = f[extra][...]
        bunch.frame = _frame(bunch)
    except DatasetError:
        f.close()
        raise
    except (KeyError, OSError, ValueError) as exc:
        f.close()
        raise DatasetError(f"{path} is corrupt or incomplete: {exc}") from exc
    if lazy:
        bunch.file = f
    else:
        f.close()
    if return_X_y:
        return bunch.images, bunch.target
    return bunch


class DatasetBatches:
    """Training batches read from a dataset file, for datasets larger than memory.

    A training source for :class:`skgal.ProbabilisticQRegressor` (``training_source=``),
    like :class:`skgal.FreshSimulations`: each batch is read from disk when the training
    needs it, so only a few batches are ever in memory. The images are stored in
    compressed blocks of rows (16 by default, :func:`make_galaxy_dataset`), and a random
    row would cost a whole block; so the shuffle is by block. Every epoch visits each
    block of ``rows`` once, in an order drawn from ``(seed, epoch)``, and a batch is the
    rows of ``ceil(batch_size / block)`` blocks. The galaxies of a dataset are drawn
    independently, so blocks of neighbouring rows are as random as any.

    Parameters
    ----------
    path : str or path-like
        A dataset written by :func:`make_galaxy_dataset`.
    rows : (start, stop), default=None
        The rows to train on (all when None); keep others for validation and testing.
    transform : transformer or Pipeline, default=None
        Applied to each batch's images (a :class:`skgal.ProjectionSelector`, say),
        fitted on the batch; every step with a ``random_state`` gets a new seed per
        batch, so random projections differ from batch to batch.
    targets : sequence of str, default=("q",)
        Parameter columns to learn (``"q"``, ``"inclination"`` for datasets that draw
        one per galaxy, ...).

    Examples
    --------
    >>> import os, tempfile
    >>> from skgal import ProjectionSelector, SersicGalaxySimulator
    >>> from skgal.datasets import DatasetBatches, make_galaxy_dataset
    >>> path = make_galaxy_dataset(os.path.join(tempfile.mkdtemp(), "g.h5"), 40,
    ...                            simulator=SersicGalaxySimulator(image_size=8),
    ...                            random_state=0)
    >>> source = DatasetBatches(path, rows=(0, 32),
    ...                         transform=ProjectionSelector("fixed", inclination=90))
    >>> X, y = source.batch((0, 0, 1), batch_size=16)
    >>> X.shape, y.shape, source.n_batches(16)
    ((16, 8, 8, 1), (16,), 2)
    """

    def __init__(self, path, *, rows=None, transform=None, targets=("q",)):
        self.path = os.fspath(path)
        self.rows = rows
        self.transform = transform
        self.targets = targets
        # read once: batch() runs once per training step, and the file's layout is fixed
        self._layout_cache = self._read_layout()

    def _layout(self):
        return self._layout_cache

    def _read_layout(self):
        """(start, stop), block size and target columns, checked against the file."""
        data = load_galaxy_dataset(self.path, lazy=True)
        try:
            n = data.images.shape[0]
            block = (data.images.chunks or (16,))[0]
            columns = data.feature_names
        finally:
            data.file.close()
        start, stop = (0, n) if self.rows is None else (int(r) for r in self.rows)
        if not 0 <= start < stop <= n:
            raise ValueError(f"rows must be (start, stop) with 0 <= start < stop <= {n}; "
                             f"got {self.rows!r}")
        targets = check_targets(self.targets, columns, "the dataset")
        return start, stop, block, [columns.index(t) for t in targets]

    @property
    def n_targets(self):
        return len(self._layout()[3])

    def _blocks(self):
        start, stop, block, _ = self._layout()
        first = start // block
        return [(max(b * block, start), min((b + 1) * block, stop))
                for b in range(first, -(-stop // block))]

    def n_batches(self, batch_size):
        blocks = self._blocks()
        per_batch = max(1, -(-int(batch_size) // self._layout()[2]))
        return -(-len(blocks) // per_batch)

    def batch(self, key, batch_size):
        """The batch fixed by ``key = (seed, epoch, index)``: images and targets.

        Returns
        -------
        X : ndarray of float32
        y : ndarray of float32, (n,) for one target, else (n, d)
        """
        seed, epoch, index = (int(k) for k in key)
        _, _, block, target_columns = self._layout()
        blocks = self._blocks()
        order = np.random.RandomState(
            np.random.SeedSequence([seed, epoch]).generate_state(1)).permutation(len(blocks))
        per_batch = max(1, -(-int(batch_size) // block))
        chosen = sorted(blocks[b] for b in order[index * per_batch:(index + 1) * per_batch])
        if not chosen:
            raise IndexError(f"batch {index} is past the epoch's {self.n_batches(batch_size)}")
        with h5py.File(self.path, "r") as f:
            images = np.concatenate([f["images"][lo:hi] for lo, hi in chosen])
            params = np.concatenate([f["params"][lo:hi] for lo, hi in chosen])
        if self.transform is not None:
            batch_seed = np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0]
            images = reseeded(self.transform, batch_seed).fit_transform(images)
        y = params[:, target_columns].astype(np.float32)
        return np.asarray(images, dtype=np.float32), (y[:, 0] if y.shape[1] == 1 else y)

    def __repr__(self):
        return (f"DatasetBatches({self.path!r}, rows={self.rows!r}, "
                f"transform={self.transform!r}, targets={self.targets!r})")
