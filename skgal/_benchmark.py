"""The realistic benchmark: the network against the likelihood fit, the Bayes limit, on
galaxies observed as a telescope would (``skgal benchmark``).

The setting: isotropic inclinations, random position angles, centre offsets, the PSF
and noise of named observing conditions (:func:`skgal.observing_conditions`). The
contestants are scored on the same hidden test galaxies:

``prior``
    The prior of ``q`` (uniform) and of the inclination (isotropic).
``classical``
    The apparent axis ratio from second moments measured through the PSF (the PSF's
    moments subtracted), inverted for an oblate spheroid seen at an isotropic
    inclination, with the measurement's scatter from the validation galaxies: a
    posterior of ``q`` on a grid.
``network (gaussian)``, ``network (mixture)``
    The thesis's CNN with a Gaussian head for ``q``, and with a bounded mixture head for
    ``q`` and the inclination jointly; each trained on a stored set of noiseless
    galaxies seen through new noise every batch, recalibrated on the validation set
    (by a temperature).
``network (mixture, quantile)``
    The mixture network's ``q`` marginal as trained, through the quantile map
    (:class:`skgal.QuantileRecalibrated`) fitted on the same validation galaxies: the
    calibration that fixes the coverage at every level where one temperature cannot.
``likelihood fit``
    :class:`skgal.LikelihoodFitRegressor` on the first ``n_fit`` test galaxies.

Each contestant is also scored on the fit's galaxies, so the network and the fit are
compared on the same images. A run is resumable: the training set, each network's
predictions and each chunk of likelihood fits are kept in ``out_dir`` as they finish.

This module sits with the experiments: it imports the estimators, the datasets, the
metrics and the run-and-report layer.
"""

import json
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.pipeline import Pipeline

from ._align import AlignToMajorAxis
from ._augment import DIHEDRAL, RandomDihedral, dihedral_transform, psf_has_square_symmetry
from ._baselines import MomentsInversionRegressor, PriorBaseline
from ._conditions import REFERENCE_DISC, observing_conditions
from ._distributions import (QuantileRecalibrated, from_arrays, mixture_of, quantile_knots,
                             to_arrays)
from ._likelihood import LikelihoodFitRegressor
from ._runs import (epoch_bar, jsonable, load_checkpoint, machine, save_checkpoint, versions,
                    write_atomically, write_rows)
from .datasets import DatasetBatches, _made_by, load_galaxy_dataset, make_galaxy_dataset
from .metrics import coverage, negative_log_likelihood, uniformity_test

__all__ = ["BENCHMARK_PRESETS", "BenchmarkPreset", "CONTESTANTS", "benchmark",
           "load_predictions"]

CONTESTANTS = ("prior", "classical", "network (gaussian)", "network (mixture)",
               "network (mixture, quantile)", "likelihood fit")
Q_BOUNDS = (0.2, 1.0)
I_BOUNDS = (0.0, 90.0)


@dataclass(frozen=True)
class BenchmarkPreset:
    """The size of a benchmark run.

    Parameters
    ----------
    n_train : int
        Noiseless training galaxies (stored once; each batch sees them through new noise).
    n_validation, n_test : int
        Validation galaxies (early stopping, recalibration, the classical method's
        scatter) and test galaxies.
    n_fit : int
        Test galaxies the likelihood fit also takes (the first ones).
    epochs : int
    batch_size : int, default=64
    image_size : int, default=32
    effective_radius_range : (float, float), default=(3.0, 10.0)
        The prior of ``R_e``, pixels: galaxies that fit the stamp.
    max_offset : float, default=1.5
        Centre offsets, pixels.
    n_live : int, default=75
        The likelihood fit's live points.
    fit_max_calls : int, default=200_000
    network : dict, default={}
        Other settings of the networks (``dense_units``, say).
    augment : bool, default=True
        Show each stored training galaxy turned and mirrored at random
        (:class:`skgal.RandomDihedral`), when the conditions' PSF has the square's
        symmetry (so that this is exact; ``ground``'s Moffat does, ``space``'s image PSF
        does not).
    align : bool, default=True
        Show the networks each image moved to its light's centre and turned to its
        major axis (:class:`skgal.AlignToMajorAxis`, after the noise), in training and
        in prediction.
    average_symmetries : bool, default=True
        Where the conditions' PSF has the square's symmetry, the networks' prediction
        for an image is the equal mixture of their predictions for its turned and
        mirrored copies (:func:`symmetrised_distribution`; the four that keep the axes
        of aligned images), on the validation galaxies as on the test ones. The
        posterior is invariant under them, so this removes only the network's own
        noise.
    """

    n_train: int
    n_validation: int
    n_test: int
    n_fit: int
    epochs: int
    batch_size: int = 64
    image_size: int = 32
    effective_radius_range: tuple = (3.0, 10.0)
    max_offset: float = 1.5
    n_live: int = 75
    fit_max_calls: int = 200_000
    network: dict = field(default_factory=dict)
    augment: bool = True
    align: bool = True
    average_symmetries: bool = True


#: The sizes ``skgal benchmark --preset`` accepts.
BENCHMARK_PRESETS = {
    # the tests' run: seconds
    "smoke": BenchmarkPreset(n_train=256, n_validation=64, n_test=16, n_fit=2, epochs=1,
                             batch_size=32, image_size=16, effective_radius_range=(2.0, 4.0),
                             max_offset=1.0, n_live=15, fit_max_calls=1500,
                             network={"dense_units": 16}),
    # under 10 minutes on 2 cores
    "quick": BenchmarkPreset(n_train=3000, n_validation=500, n_test=500, n_fit=12, epochs=15),
    # about three hours on 2 cores (2026-12-04: the networks trained in 53 and 44 minutes,
    # the 200 likelihood fits 50 minutes, two at a time); resumable chunk by chunk.
    # The network is the thesis's with 3x3 kernels, twice the filters, a dense layer of
    # 512 and no dropout: on aligned images, 90 epochs of it come within 0.09 nats of the
    # fit, where 60 epochs with the thesis's dense layer of 128 and dropout of 0.3 stayed
    # 0.15 short (benchmarks/augment.py, benchmarks/ensemble.py)
    "paper": BenchmarkPreset(n_train=20000, n_validation=2000, n_test=2000, n_fit=200,
                             epochs=90, network={"kernel_size": 3, "filters": (32, 64, 96),
                                                 "dense_units": 512, "dropout": 0.0}),
}


# -- the pieces of a run ----------------------------------------------------------------
def _snr(flux, noise):
    """Matched-filter signal-to-noise ratio of each noiseless image."""
    flux = np.asarray(flux, dtype=float).reshape(len(flux), -1)
    if hasattr(noise, "sky_level"):
        var = (flux + noise.sky_level) / noise.gain + (noise.read_noise / noise.gain) ** 2
    else:
        var = np.full_like(flux, float(noise.sigma) ** 2)
    return np.sqrt(np.sum(flux ** 2 / var, axis=1))


def network_input(model, preset, noisy):
    """What the networks see of noisy flux images: asinh magnitudes, of the images
    aligned to their major axes first where the preset asks for it."""
    if preset.align:
        noisy = AlignToMajorAxis().fit_transform(noisy)
    return model["photometry"].transform(noisy)


def _prior_joint_nll(q, inclination):
    """The prior's joint NLL: q uniform, i isotropic (density sin i, per degree)."""
    log_q = -math.log(Q_BOUNDS[1] - Q_BOUNDS[0])
    log_i = np.log(np.sin(np.radians(inclination)) * math.pi / 180.0)
    return float(-np.mean(log_q + log_i))


def sbc_of_fit(samples, truth, names, n_draws=99):
    """Simulation-based calibration of the likelihood fit on a run's own galaxies:
    drawn from the prior, so the rank of each true parameter among ``n_draws`` of its
    posterior draws is uniform if the fit is right (Talts et al. 2018).

    Parameters
    ----------
    samples : ndarray of shape (n, n_samples, p)
        Posterior draws (independent, as :meth:`LikelihoodFitRegressor.sample_posterior`
        returns them), ``n_samples >= n_draws``.
    truth : ndarray of shape (n, p)
    names : sequence of str
        The ``p`` parameters' names.

    Returns
    -------
    dict
        ``{name: {"chi2_pvalue", "counts"}}`` (:func:`skgal.metrics.uniformity_test`).
    """
    ranks = np.sum(samples[:, :n_draws, :] < truth[:, None, :], axis=1)
    out = {}
    for j, name in enumerate(names):
        test = uniformity_test(ranks[:, j], n_draws=n_draws)
        out[name] = {"chi2_pvalue": float(test["pvalue"]),
                     "counts": [int(c) for c in test["counts"]]}
    return out


def gap_to_fit(dists, fit, q):
    """Each contestant's mean NLL of ``q`` minus the likelihood fit's, on the same
    galaxies, with the standard error of that mean difference galaxy by galaxy (paired:
    the galaxies that are hard for one are hard for both, so it is smaller than either
    mean's own), and each mean's own standard error.

    Returns
    -------
    dict
        ``{name: {"gap", "standard_error", "nll_standard_error"}}``, and
        ``"likelihood fit"``'s ``nll_standard_error``.
    """
    reference = -fit.logpdf(q)
    n = len(q)

    def sem(values):
        return float(np.std(values, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")

    out = {"likelihood fit": {"nll_standard_error": sem(reference)}}
    for name, dist in dists.items():
        nll = -dist.logpdf(q)
        out[name] = {"gap": float(np.mean(nll - reference)),
                     "standard_error": sem(nll - reference), "nll_standard_error": sem(nll)}
    return out


def _scores(dist, joint, q, inclination, seconds):
    row = {"nll": negative_log_likelihood(q, dist), "joint_nll": None,
           "rmse": float(np.sqrt(np.mean((dist.mean() - q) ** 2))),
           "coverage_68": coverage(q, dist, 0.68), "coverage_95": coverage(q, dist, 0.95),
           "seconds_per_galaxy": seconds, "n": int(len(q))}
    if joint is not None:
        row["joint_nll"] = joint if isinstance(joint, float) else negative_log_likelihood(
            np.column_stack([q, inclination]), joint)
    return row


def joint_network(source, *, epochs, batch_size, random_state, label=None, **network):
    """The bounded (q, i) mixture network trained on a ``training_source``.

    The one configuration that ``skgal benchmark`` and the real galaxies' analysis
    train: five Gaussians in the logit space of the prior's ``q`` in [0.2, 1] and
    ``i`` in [0, 90] degrees, a cosine learning rate and a temperature recalibration.
    ``label`` names a progress bar over the epochs (none when None); ``network``
    passes other settings (``dropout``, say) to the regressor.
    """
    from ._regressor import ProbabilisticQRegressor

    return ProbabilisticQRegressor(
        head="bounded_mixture", n_components=5, target_bounds=[Q_BOUNDS, I_BOUNDS],
        recalibrate="temperature", training_source=source, epochs=epochs,
        batch_size=batch_size, learning_rate_schedule="cosine", random_state=random_state,
        callbacks=[epoch_bar(label, epochs)] if label else None, **network)


def fit_quietly(reg, X, y):
    """``reg.fit(X, y)`` without the UserWarnings that training from a source raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return reg.fit(X, y)


def benchmark_model(preset, conditions="ground", *, seed=0, n_jobs=None):
    """The conditions and the forward model (render, noise, photometry) of a run.

    The render step's prior is the preset's: ``R_e`` in its range, and the conditions'
    brightness prior rescaled to that size (see :func:`benchmark`).
    """
    if conditions == "ideal":
        raise ValueError("conditions: the benchmark needs a PSF and noise; choose one of "
                         "'ground' or 'space'")
    cond = observing_conditions(conditions)
    model = cond.forward_model(image_size=preset.image_size, max_offset=preset.max_offset,
                               random_state=seed)
    # the conditions' brightness prior is set by a reference disc of R_e = 15 pixels
    # (2.5 to 5 magnitudes above the depth); scaled so that a disc of the benchmark's
    # typical size (the geometric mean of its R_e range) spans the same magnitudes
    r_lo, r_hi = preset.effective_radius_range
    scale = REFERENCE_DISC[0] ** 2 / (r_lo * r_hi)
    model["render"].set_params(effective_radius_range=(float(r_lo), float(r_hi)),
                               intensity_range=tuple(scale * v for v in cond.intensity_range),
                               n_jobs=n_jobs)
    return cond, model


def observed_sets(model, preset, seed):
    """The validation and test galaxies of a run: tables, noisy flux and network input,
    and ``input_seconds``, the time per galaxy of turning a noisy image into the
    networks' input (alignment and photometry), which a network's answer costs too."""
    sets = {}
    for name, n, offset in (("validation", preset.n_validation, 1), ("test", preset.n_test, 2)):
        X, _ = model["render"].sample(n, random_state=np.random.RandomState([seed, offset]))
        flux = model["render"].transform(X)
        noisy, _ = model["noise"].set_params(random_state=seed + offset).draw(flux)
        t0 = time.perf_counter()
        images = network_input(model, preset, noisy)
        input_seconds = (time.perf_counter() - t0) / n
        sets[name] = {"X": X, "q": X["q"].to_numpy(), "inclination":
                      X["inclination"].to_numpy(), "noisy": noisy[..., 0], "images": images,
                      "snr": _snr(flux, model["noise"]), "input_seconds": input_seconds}
    return sets


def training_transform(model, cond, preset):
    """What each training batch's stored noiseless images go through: the noise and the
    photometry, reseeded per batch, after a random symmetry of the square
    (:class:`skgal.RandomDihedral`) where the preset asks for it and the conditions'
    PSF has that symmetry, so that the augmentation is exact; and the alignment
    (:class:`skgal.AlignToMajorAxis`) between the noise and the photometry where the
    preset asks for it, as :func:`network_input` does."""
    steps = aligned_steps(model.steps[1:]) if preset.align else list(model.steps[1:])
    if preset.augment and psf_has_square_symmetry(cond.psf):
        steps.insert(0, ("augment", RandomDihedral()))
    return Pipeline(steps)


def aligned_steps(steps):
    """A forward model's ``steps`` with :class:`skgal.AlignToMajorAxis` (named
    ``"align"``) inserted before the one named ``"photometry"``: after the noise, on
    flux."""
    steps = list(steps)
    names = [name for name, _ in steps]
    if "photometry" not in names:
        raise ValueError(f"steps: need one named 'photometry' to align before; got {names}")
    steps.insert(names.index("photometry"), ("align", AlignToMajorAxis()))
    return steps


def symmetrised_distribution(reg, images, *, aligned=False):
    """``reg``'s prediction averaged over the eight symmetries of the square of each
    image: the equal-weight mixture of its predictive distributions of the turned and
    mirrored copies (exact under a round PSF, as :class:`skgal.RandomDihedral`).
    Images ``aligned`` to their major axes (:class:`skgal.AlignToMajorAxis`) are
    averaged over the four that keep the axes where they are (the half turn and the
    two mirrors): a quarter turn would stand the galaxy upright, which the network
    never saw."""
    elements = [e for e, (turns, _) in enumerate(DIHEDRAL) if not aligned or turns % 2 == 0]
    return mixture_of([reg.predict_distribution(dihedral_transform(images, e))
                       for e in elements])


#: Threads that put the training batches through noise, alignment and photometry while
#: the network trains. The batches do not depend on it (each has its own seed); with one,
#: that pipeline held training back: two trained the quick preset's network 1.5 times
#: faster on 2 cores, to the same weights (benchmarks/README.md, "Training workers").
TRAINING_WORKERS = 2


def _train_network(kind, path, rows, val, preset, transform, seed, progress):
    from ._regressor import ProbabilisticQRegressor

    targets = ("q",) if kind == "gaussian" else ("q", "inclination")
    source = DatasetBatches(path, rows=rows, transform=transform, targets=targets)
    network = {"workers": TRAINING_WORKERS, **preset.network}
    if kind == "gaussian":
        reg = ProbabilisticQRegressor(
            recalibrate=True, epochs=preset.epochs, batch_size=preset.batch_size,
            random_state=seed, learning_rate_schedule="cosine", training_source=source,
            callbacks=[epoch_bar(kind, preset.epochs)] if progress else None,
            **network)
        return fit_quietly(reg, val["images"], val["q"])
    reg = joint_network(source, epochs=preset.epochs, batch_size=preset.batch_size,
                        random_state=seed, label=kind if progress else None, **network)
    return fit_quietly(reg, val["images"], np.column_stack([val["q"], val["inclination"]]))


def _fit_chunks(fit, images, out_dir, run_settings, chunk, progress):
    """The likelihood fits, ``chunk`` galaxies at a time, each chunk kept as it ends."""
    from tqdm.auto import tqdm

    parts = []
    starts = range(0, len(images), chunk)
    for lo in tqdm(starts, desc="likelihood fit", unit="chunk", disable=not progress):
        path = os.path.join(out_dir, "fits", f"{lo:05d}.npz")
        settings = {**run_settings, "rows": [lo, min(lo + chunk, len(images))]}
        saved = None
        if os.path.exists(path):
            with np.load(path, allow_pickle=False) as f:
                if json.loads(str(f["settings"])) == jsonable(settings):
                    saved = {k: f[k] for k in f.files if k != "settings"}
        if saved is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                post = fit.sample_posterior(images[lo:lo + chunk])
            saved = {k: np.asarray(post[k]) for k in ("samples", "seconds", "n_calls", "logz",
                                                      "ess", "best")}
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_atomically(path, lambda f, s=saved: np.savez(
                f, settings=np.asarray(json.dumps(jsonable(settings))), **s), mode="wb")
        parts.append(saved)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


#: The likelihood fit's render tolerance (of the face-on central brightness): its images
#: differ from exact ones by at most 1e-4 of their peak, and on the paper preset's 200
#: fitted galaxies the sum over pixels of (error / noise)^2, by which the log-likelihood
#: can err, is at most 6e-4 (median 2e-10); 1.65x faster than 1e-3
#: (benchmarks/likelihood_tolerance.py).
FIT_TOLERANCE = 1e-2

#: The preset's fields that the test galaxies and the likelihood fit depend on; the fits
#: a run keeps (``fits/``) are reused by a run that changes only the others (the
#: networks' settings, say). ``n_fit`` is not one: each kept chunk records its rows.
FIT_FIELDS = ("n_test", "image_size", "effective_radius_range", "max_offset", "n_live",
              "fit_max_calls")

COLUMNS = ("contestant", "galaxies", "nll", "joint_nll", "rmse", "coverage_68", "coverage_95",
           "seconds_per_galaxy", "n")


def benchmark(out_dir, preset="quick", *, conditions="ground", seed=0, n_jobs=None,
              progress=True):
    """Run the benchmark and write its table, figures, ``results.json`` and
    ``predictions.npz`` in ``out_dir``.

    Parameters
    ----------
    out_dir : str
        Output directory; what a previous run with the same settings left there (the
        training set, the networks' predictions, the finished fits) is reused. The fits
        are reused by a run that changes only settings they do not depend on (those
        outside :data:`FIT_FIELDS`: the networks', say).
    preset : {"smoke", "quick", "paper"} or BenchmarkPreset, default="quick"
    conditions : str, default="ground"
        Named observing conditions (:data:`skgal.CONDITIONS`, not ``"ideal"``).
    seed : int, default=0
    n_jobs : int, default=None
        Workers for rendering and for the likelihood fits.
    progress : bool, default=True

    Returns
    -------
    dict
        The content of ``results.json``.
    """
    preset_name = preset if isinstance(preset, str) else "custom"
    preset = BENCHMARK_PRESETS[preset] if isinstance(preset, str) else preset
    cond, model = benchmark_model(preset, conditions, seed=seed, n_jobs=n_jobs)
    start = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    run_settings = {"preset": asdict(preset), "conditions": conditions, "seed": seed}
    report_settings = {**run_settings, "preset_name": preset_name}
    seconds = {}

    # the galaxies: training (noiseless, stored), validation and test (observed)
    path = os.path.join(out_dir, "train.h5")
    if not os.path.exists(path):
        make_galaxy_dataset(path, preset.n_train, simulator=model["render"], n_jobs=n_jobs,
                            random_state=seed, progress=progress)
    stored = load_galaxy_dataset(path, lazy=True)
    if (stored.settings["n_galaxies"] != preset.n_train or stored.settings["seed"] != seed
            or not _made_by(stored.settings, model["render"])):
        raise ValueError(f"{path} was made with other settings; use another out directory")
    sets = observed_sets(model, preset, seed)
    seconds["data"] = time.perf_counter() - start
    val, test = sets["validation"], sets["test"]
    q, incl = test["q"], test["inclination"]
    dists, joints, per_galaxy = {}, {}, {}

    # the prior
    prior = PriorBaseline(kind="uniform", bounds=Q_BOUNDS).fit(val["noisy"], val["q"])
    dists["prior"], joints["prior"] = prior.predict_distribution(test["noisy"]), None
    per_galaxy["prior"] = 0.0

    # the classical inversion, its scatter from the validation galaxies
    t0 = time.perf_counter()
    sigma = model["noise"].empty_pixel_sigma()  # the sky's noise
    classical = MomentsInversionRegressor(psf=cond.psf, noise_sigma=float(sigma),
                                          flattening_range=Q_BOUNDS)
    classical.fit(val["noisy"], np.column_stack([val["q"], val["inclination"]]))
    dists["classical"], joints["classical"] = classical.predict_distribution(test["noisy"]), None
    per_galaxy["classical"] = (time.perf_counter() - t0) / (len(val["q"]) + len(q))
    scatter = classical.scatter_

    # the networks
    n_rows = preset.n_train
    if preset.average_symmetries and psf_has_square_symmetry(cond.psf):
        def predict(reg, images):
            return symmetrised_distribution(reg, images, aligned=preset.align)
    else:
        def predict(reg, images):
            return reg.predict_distribution(images)
    for kind in ("gaussian", "mixture"):
        name = f"network ({kind})"
        checkpoint = os.path.join(out_dir, "trained", f"{kind}.npz")
        settings = {**run_settings, "contestant": name}
        kept = ("seconds_per_galaxy",) if kind == "gaussian" else ("seconds_per_galaxy",
                                                                   "quantile_knots")
        result = load_checkpoint(checkpoint, settings, kept)
        if result is None:
            t0 = time.perf_counter()
            reg = _train_network(kind, path, (0, n_rows), val, preset,
                                 training_transform(model, cond, preset), seed, progress)
            train_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            dist = predict(reg, test["images"])
            seconds_each = (time.perf_counter() - t0) / len(q)
            result = {"distribution": dist, "seconds": train_seconds,
                      "seconds_per_galaxy": seconds_each, "history": reg.history_,
                      "std_scale": reg.std_scale_}
            if kind == "mixture":  # q's quantile map, on the same validation galaxies
                raw = predict(reg, val["images"]).with_scale(1 / reg.std_scale_)
                result["quantile_knots"] = np.stack(quantile_knots(
                    raw.marginal(0).cdf(val["q"])))
            save_checkpoint(checkpoint, settings, result, kept)
        seconds[f"train {name}"] = result["seconds"]
        dist = result["distribution"]
        if kind == "gaussian":
            dists[name], joints[name] = dist, None
        else:
            dists[name], joints[name] = dist.marginal(0), dist
            raw = dist.with_scale(1 / result["std_scale"]).marginal(0)
            quantile = f"network ({kind}, quantile)"
            dists[quantile], joints[quantile] = QuantileRecalibrated(
                raw, tuple(result["quantile_knots"])), None
            per_galaxy[quantile] = float(result["seconds_per_galaxy"])
        per_galaxy[name] = float(result["seconds_per_galaxy"])
    for name in per_galaxy:  # a network answers about a noisy image: its input path too
        if name.startswith("network"):
            per_galaxy[name] += test["input_seconds"]

    # the likelihood fit, on the first n_fit test galaxies
    n_fit = min(preset.n_fit, len(q))
    fit = LikelihoodFitRegressor(simulator=model["render"], noise=model["noise"],
                                 targets=("q", "inclination"), n_live=preset.n_live,
                                 max_calls=preset.fit_max_calls, tolerance=FIT_TOLERANCE,
                                 n_jobs=n_jobs, random_state=seed).fit()
    fit_settings = {"preset": {k: v for k, v in asdict(preset).items() if k in FIT_FIELDS},
                    "conditions": conditions, "seed": seed, "tolerance": FIT_TOLERANCE}
    post = _fit_chunks(fit, test["noisy"][:n_fit], out_dir,
                       {**fit_settings, "contestant": "likelihood fit",
                        "sampler": fit.sample},
                       max(2, 2 * (n_jobs or 1)) if n_fit > 2 else n_fit, progress)
    fit_joint = fit.distribution_from_samples(post["samples"])
    fit_seconds = float(np.mean(post["seconds"]))

    # the scores: every contestant on all test galaxies, and on the fit's
    rows = []
    for name in CONTESTANTS[:-1]:
        joint = joints[name] if joints[name] is not None else (
            _prior_joint_nll(q, incl) if name == "prior" else None)
        rows.append({"contestant": name, "galaxies": "all test",
                     **_scores(dists[name], joint, q, incl, per_galaxy[name])})
    for name in CONTESTANTS[:-1]:
        sub = dists[name][np.arange(n_fit)]
        joint = joints[name][np.arange(n_fit)] if joints[name] is not None else (
            _prior_joint_nll(q[:n_fit], incl[:n_fit]) if name == "prior" else None)
        rows.append({"contestant": name, "galaxies": "fit subset",
                     **_scores(sub, joint, q[:n_fit], incl[:n_fit], per_galaxy[name])})
    rows.append({"contestant": "likelihood fit", "galaxies": "fit subset",
                 **_scores(fit_joint.marginal(0), fit_joint, q[:n_fit], incl[:n_fit],
                           fit_seconds)})
    write_rows(rows, COLUMNS, out_dir, "benchmark")
    gaps = gap_to_fit({name: dists[name][np.arange(n_fit)] for name in CONTESTANTS[:-1]},
                      fit_joint.marginal(0), q[:n_fit])
    # the fit's own calibration, on its galaxies (too few ranks below 20 to test)
    fit_sbc = sbc_of_fit(post["samples"], test["X"][list(fit.parameter_names_)].to_numpy()[
        :n_fit], fit.parameter_names_) if n_fit >= 20 else None

    # predictions, figures, results
    arrays = {"q_true": q, "inclination_true": incl, "snr": test["snr"],
              "params": test["X"].to_numpy(), "param_names": np.asarray(test["X"].columns),
              "fit_samples": post["samples"], "fit_parameter_names":
              np.asarray(fit.parameter_names_), "fit_seconds": post["seconds"],
              "fit_n_calls": post["n_calls"]}
    for name in CONTESTANTS[:-1]:
        stored_dist = joints[name] if joints[name] is not None else dists[name]
        key = name.replace(" ", "_").replace("(", "").replace(")", "")
        arrays.update({f"{key}__{k}": v for k, v in to_arrays(stored_dist).items()})
    write_atomically(os.path.join(out_dir, "predictions.npz"),
                     lambda f: np.savez_compressed(f, **arrays), mode="wb")
    figures = _write_figures(out_dir, dists, fit_joint, test, n_fit)
    seconds["total"] = time.perf_counter() - start
    summary = {"settings": report_settings, "versions": versions(), "machine": machine(),
               "seconds": seconds, "classical_scatter": scatter,
               "likelihood": {"seconds_per_galaxy": fit_seconds, "tolerance": FIT_TOLERANCE,
                              "sbc": fit_sbc,
                              "calls_per_galaxy": float(np.mean(post["n_calls"])),
                              "calls_per_second": float(np.sum(post["n_calls"])
                                                        / np.sum(post["seconds"]))},
               "gap_to_fit": gaps, "table": rows,
               "figures": [os.path.relpath(p, out_dir) for p in figures]}
    write_atomically(os.path.join(out_dir, "results.json"),
                     lambda f: json.dump(jsonable(summary), f, indent=2))
    return summary


def load_predictions(path):
    """The distributions saved in a benchmark's ``predictions.npz``, by contestant."""
    with np.load(path, allow_pickle=False) as saved:
        out = {}
        for name in CONTESTANTS[:-1]:
            key = name.replace(" ", "_").replace("(", "").replace(")", "")
            out[name] = from_arrays({k.split("__", 1)[1]: saved[k] for k in saved.files
                                     if k.startswith(f"{key}__")})
    return out


def _write_figures(out_dir, dists, fit_joint, test, n_fit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = os.path.join(out_dir, "figures")
    os.makedirs(folder, exist_ok=True)
    written = []
    q, snr = test["q"], test["snr"]

    # NLL of q against signal-to-noise
    fig, ax = plt.subplots(figsize=(6, 4))
    edges = np.quantile(snr, np.linspace(0, 1, 6))
    centres = np.sqrt(edges[1:] * edges[:-1])
    for name, dist in dists.items():
        nll = -dist.logpdf(q)
        means = [np.mean(nll[(snr >= lo) & (snr <= hi)]) for lo, hi in zip(edges[:-1],
                                                                           edges[1:])]
        ax.plot(centres, means, "o-", label=name)
    fit_nll = -fit_joint.marginal(0).logpdf(q[:n_fit])
    ax.plot(snr[:n_fit], fit_nll, "k*", ms=7, label="likelihood fit (each galaxy)")
    ax.set(xscale="log", xlabel="signal-to-noise ratio (matched filter)",
           ylabel="NLL of q (nats)", title="lower is better")
    ax.legend(fontsize=7)
    fig.tight_layout()
    written.append(os.path.join(folder, "nll_vs_snr.png"))
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    # network against likelihood posteriors for a few galaxies
    grid = np.linspace(Q_BOUNDS[0] + 1e-4, Q_BOUNDS[1] - 1e-4, 300)
    shown = min(4, n_fit)
    fig, axes = plt.subplots(1, shown, figsize=(3.2 * shown, 3.0), squeeze=False)
    for k, ax in zip(range(shown), axes[0]):
        rows = np.full(grid.size, k)
        for name in ("network (gaussian)", "network (mixture)"):
            ax.plot(grid, dists[name][rows].pdf(grid), label=name)
        ax.plot(grid, fit_joint.marginal(0)[rows].pdf(grid), "k", lw=2,
                label="likelihood fit")
        ax.axvline(q[k], color="r", ls=":", label="truth")
        ax.set(xlabel="q", title=f"i = {test['inclination'][k]:.0f}°, "
                                 f"S/N = {snr[k]:.0f}")
    axes[0][0].set_ylabel("posterior density")
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    written.append(os.path.join(folder, "posteriors.png"))
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    # calibration: coverage of central intervals at many levels
    levels = np.linspace(0.05, 0.95, 19)
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    for name, dist in dists.items():
        ax.plot(levels, [coverage(q, dist, lv) for lv in levels], "o-", ms=3, label=name)
    fq = fit_joint.marginal(0)
    ax.plot(levels, [coverage(q[:n_fit], fq, lv) for lv in levels], "k*-", ms=5,
            label=f"likelihood fit ({n_fit} galaxies)")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
    ax.set(xlabel="nominal coverage", ylabel="observed coverage of q")
    ax.legend(fontsize=7)
    fig.tight_layout()
    written.append(os.path.join(folder, "calibration.png"))
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written
