"""The ``skgal`` command line."""

import argparse
import sys
import time

from . import __version__


def _inclinations(values):
    if len(values) == 1 and values[0] in ("uniform", "isotropic"):
        return values[0]
    try:
        return tuple(float(v) for v in values)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--inclinations takes angles in degrees or one of uniform, isotropic; "
            f"got {' '.join(values)}") from None


def _position_angle(value):
    if value == "uniform":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--position-angle takes an angle in degrees or 'uniform'; got {value}") from None


def _pixel_tolerance_option(value):
    if value in ("promise", "noise"):
        return value
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0.0 < number < float("inf"):
        raise argparse.ArgumentTypeError(
            f"--pixel-tolerance takes promise, noise or a number > 0; got {value}")
    return number


def _pixel_tolerance(args, noise, psf):
    """The simulator's pixel_tolerance from --pixel-tolerance and the model's noise step.

    Unset, ``train`` takes "noise" where there is a PSF (without one the tolerance is
    unused) and the noise has a fixed level, and ``simulate`` the promise (None)."""
    from ._conditions import noise_tolerance

    value = args.pixel_tolerance
    if value is None:
        if args.command != "train" or psf is None or noise is None \
                or not noise.empty_pixel_sigma():
            return None
        value = "noise"
    if value == "promise":
        return None
    if value == "noise":
        if noise is None:
            raise ValueError("--pixel-tolerance noise needs noise (--noise ccd, or "
                             "--conditions ground or space)")
        return noise_tolerance(noise)
    return value


def _psf(args):
    from ._psf import GaussianPSF, ImagePSF, MoffatPSF

    if args.psf == "none":
        if args.psf_fwhm is not None or args.psf_image is not None:
            raise ValueError("--psf-fwhm and --psf-image need --psf gaussian, moffat or image")
        return None
    if args.psf == "image":
        if args.psf_image is None:
            raise ValueError("--psf image needs --psf-image FILE.npy (a 2-D array)")
        import numpy as np
        return ImagePSF(np.load(args.psf_image), args.psf_pixel_scale or args.pixel_scale)
    if args.psf_fwhm is None:
        raise ValueError(f"--psf {args.psf} needs --psf-fwhm (length units of R_e)")
    if args.psf == "gaussian":
        return GaussianPSF(args.psf_fwhm)
    return MoffatPSF(args.psf_fwhm, args.psf_beta)


def _observation(args):
    """The observation steps after the renderer, from the noise and photometry options."""
    from ._noise import CCDNoise, GaussianSNRNoise
    from ._photometry import ToMagnitudes

    steps = []
    if args.noise == "ccd":
        steps.append(("noise", CCDNoise(sky_level=args.sky_level, gain=args.gain,
                                        read_noise=args.read_noise)))
    elif args.noise == "snr":
        steps.append(("noise", GaussianSNRNoise(snr=tuple(args.snr))))
    elif any(v is not None for v in (args.sky_level_given, args.snr_given)):
        raise ValueError("--sky-level, --gain, --read-noise and --snr need --noise ccd or snr")
    if args.output == "magnitude":
        kind = "asinh" if steps else "log"
        steps.append(("photometry", ToMagnitudes(kind=args.magnitudes or kind)))
    elif args.magnitudes:
        raise ValueError("--magnitudes needs --output magnitude")
    return steps


def _simulate(args):
    model, what = _model(args)
    return _write(args, model, what)


def _model(args):
    """The forward model the simulation options describe, and a phrase saying what it is."""
    from sklearn.pipeline import Pipeline

    from ._conditions import observing_conditions
    from ._simulator import SersicGalaxySimulator

    if args.conditions is not None:
        chosen = [flag for flag, value in (("--psf", args.psf != "none"),
                                           ("--noise", args.noise != "none"),
                                           ("--magnitudes", args.magnitudes is not None),
                                           ("--pixel-scale", args.pixel_scale != 1.0))
                  if value]
        if chosen:
            raise ValueError(f"--conditions sets the PSF, noise and photometry; drop "
                             f"{', '.join(chosen)} or --conditions")
        conditions = observing_conditions(args.conditions)
        tolerance = _pixel_tolerance(args, conditions.noise, conditions.psf)
        incl = args.inclinations
        model = conditions.forward_model(
            image_size=args.image_size,
            inclinations=_inclinations(incl) if incl != ["0", "30", "60", "90"]
            or args.conditions == "ideal" else "isotropic",
            position_angle=_position_angle(args.position_angle)
            if args.position_angle != "0" or args.conditions == "ideal" else "uniform",
            max_offset=args.max_offset, pixel_tolerance=tolerance)
        model.steps[0][1].set_params(sampling=args.sampling)
        model = model if len(model.steps) > 1 else model.steps[0][1]
        return model, f" ({conditions.description})"

    steps = _observation(args)
    observed = args.psf != "none" or args.noise != "none" or args.magnitudes
    psf = _psf(args)
    simulator = SersicGalaxySimulator(
        image_size=args.image_size, pixel_scale=args.pixel_scale,
        inclinations=_inclinations(args.inclinations), sampling=args.sampling,
        position_angle=_position_angle(args.position_angle), max_offset=args.max_offset,
        psf=psf, output="flux" if observed else args.output,
        pixel_tolerance=_pixel_tolerance(args, dict(steps).get("noise"), psf))
    model = Pipeline([("render", simulator)] + steps) if observed else simulator
    return model, ""


def _write(args, model, what):
    from .datasets import make_galaxy_dataset

    start = time.perf_counter()
    path = make_galaxy_dataset(
        args.out, args.n_galaxies, simulator=model, chunk_size=args.chunk_size,
        n_jobs=args.n_jobs, random_state=args.seed, overwrite=args.overwrite,
        progress=not args.quiet)
    if not args.quiet:
        print(f"wrote {args.n_galaxies} galaxies{what} to {path} in "
              f"{time.perf_counter() - start:.1f} s")
    return 0


def _train(args):
    """Train a network on fresh simulations of the forward model; save it with joblib."""
    import os

    if os.path.exists(args.out) and not args.overwrite:
        raise FileExistsError(f"{args.out} exists")
    if not args.verbose:
        _quiet_tensorflow()
    import joblib
    from sklearn.pipeline import Pipeline

    from ._projection import ProjectionSelector
    from ._regressor import ProbabilisticQRegressor
    from ._sources import FreshSimulations
    from .metrics import coverage, multi_target_report, negative_log_likelihood

    model, what = _model(args)
    steps = list(model.steps) if isinstance(model, Pipeline) else [("render", model)]
    simulator = steps[0][1]
    if not simulator.per_galaxy_inclination:  # several channels: choose the input
        project = args.projection
        if project == "all":
            selector = ProjectionSelector("all", inclinations=simulator.inclinations)
        elif project == "random":
            selector = ProjectionSelector("random", inclinations=simulator.inclinations)
        else:
            selector = ProjectionSelector("fixed", inclination=float(project.split("-")[1]),
                                          inclinations=simulator.inclinations)
        steps.append(("project", selector))
    model = Pipeline(steps)
    source = FreshSimulations(model, targets=tuple(args.targets),
                              steps_per_epoch=args.steps_per_epoch)
    # the fixed validation set: a key that no training batch has (epoch -1 never runs)
    seed = args.seed
    X_val, y_val = source.batch((seed, 2**32 - 1, 0), args.n_validation)
    callbacks = None
    if not args.quiet:
        from ._runs import epoch_bar

        callbacks = [epoch_bar("on fresh", args.epochs)]
        print(f"training on fresh simulations{what}: {args.steps_per_epoch} batches of "
              f"{args.batch_size} new galaxies per epoch, {args.epochs} epochs; "
              f"validation {args.n_validation} galaxies")
    start = time.perf_counter()
    reg = ProbabilisticQRegressor(
        head=args.head, n_components=args.n_components, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate_schedule="cosine", recalibrate=True,
        training_source=source, workers=args.workers,
        use_multiprocessing=args.processes, random_state=seed,
        callbacks=callbacks)
    reg.fit(X_val, y_val)
    # the network, and the forward model whose images it takes (for new simulations)
    reg.set_params(callbacks=None)  # the progress bar is not part of the model
    partial = f"{args.out}.partial"
    try:
        joblib.dump({"model": reg, "forward_model": model, "targets": tuple(args.targets)},
                    partial)
        os.replace(partial, args.out)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    if not args.quiet:
        dist = reg.predict_distribution(X_val)
        if dist.n_targets == 1:
            scores = (f"validation NLL {negative_log_likelihood(y_val, dist):.3f}, 68% "
                      f"coverage {coverage(y_val, dist, 0.68):.2f}")
        else:
            report = multi_target_report(y_val, dist, target_names=args.targets)
            scores = f"validation joint NLL {report['nll']:.3f}; " + ", ".join(
                f"{t}: NLL {report[t]['nll']:.3f}, RMSE {report[t]['rmse']:.3g}"
                for t in args.targets)
        print(f"{scores}\nwrote {args.out} in {time.perf_counter() - start:.0f} s "
              f"(joblib.load(path)['model'].predict_distribution(images))")
    return 0


def _quiet_tensorflow():
    """Keep TensorFlow's start-up log off the terminal (unless --verbose).

    On a machine without a GPU, TensorFlow's C++ core writes lines such as
    ``E0000 ... failed call to cuInit`` to the process's stderr when it is imported and
    when it first looks for devices, below Python, so neither ``warnings`` nor
    ``logging`` can stop them. They read like failures and are not. The file
    descriptor 2 is pointed at /dev/null for those two moments only; everything after
    reaches the terminal as usual.
    """
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    tf.get_logger().setLevel("ERROR")  # retracing notices and the like


def _reproduce(args):
    if not args.verbose:
        _quiet_tensorflow()
    from .experiments import PAPER_NLL, QUANTILE, reproduce

    out = args.out or f"reproduce-{args.preset}"
    summary = reproduce(out, args.preset, seed=args.seed, n_jobs=args.n_jobs,
                        progress=not args.quiet)
    if not args.quiet:
        print(f"\n{'method':22s} {'test NLL':>9s} {'recalibrated':>13s} {'thesis':>7s} "
              f"{'RMSE':>6s} {'cov68':>6s} {'quantile-recalibrated cov68/95':>31s}")
        rows = {(r["method"], r["calibration"]): r for r in summary["table"]}
        for method in (*PAPER_NLL, "isotropic", "isotropic: inclination"):
            if (method, "as trained") in rows:
                raw, recal = rows[(method, "as trained")], rows[(method, "recalibrated")]
                quantile = rows.get((method, QUANTILE))
                thesis = PAPER_NLL.get(method)
                print(f"{method:22s} {raw['nll']:9.3f} {recal['nll']:13.3f} "
                      f"{'' if thesis is None else f'{thesis:.3f}':>7s} {raw['rmse']:6.3f} "
                      f"{raw['coverage_68']:6.2f} "
                      + (f"{quantile['coverage_68']:25.2f} /{quantile['coverage_95']:.2f}"
                         if quantile else ""))
        for (method, calibration), r in rows.items():
            if calibration == "baseline":
                print(f"{method:22s} {r['nll']:9.3f} {'':13s} {'':7s} {r['rmse']:6.3f} "
                      f"{r['coverage_68']:6.2f}")
        print(f"\nwrote {out}/table1.md, table1.csv, results.json, predictions.npz and "
              f"figures/ in "
              f"{summary['seconds']['total']:.0f} s")
    return 0


def _benchmark(args):
    if not args.verbose:
        _quiet_tensorflow()
    from ._benchmark import benchmark

    out = args.out or f"benchmark-{args.conditions}-{args.preset}"
    summary = benchmark(out, args.preset, conditions=args.conditions, seed=args.seed,
                        n_jobs=args.n_jobs, progress=not args.quiet)
    if not args.quiet:
        print(f"\n{'contestant':20s} {'galaxies':10s} {'NLL q':>7s} {'NLL q,i':>8s} "
              f"{'RMSE':>6s} {'cov68':>6s} {'cov95':>6s} {'s/galaxy':>9s}")
        for r in summary["table"]:
            joint = f"{r['joint_nll']:8.3f}" if r["joint_nll"] is not None else f"{'':8s}"
            print(f"{r['contestant']:20s} {r['galaxies']:10s} {r['nll']:7.3f} {joint} "
                  f"{r['rmse']:6.3f} {r['coverage_68']:6.2f} {r['coverage_95']:6.2f} "
                  f"{r['seconds_per_galaxy']:9.2g}")
        print(f"\nwrote {out}/benchmark.md, benchmark.csv, results.json, predictions.npz and "
              f"figures/ in {summary['seconds']['total']:.0f} s")
    return 0


def _add_forward_model_options(parser):
    """The options that describe the forward model (simulate and train share them)."""
    parser.add_argument("--inclinations", nargs="+", default=["0", "30", "60", "90"],
                        help="angles in degrees (one channel each), or uniform / isotropic")
    parser.add_argument("--image-size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--pixel-scale", type=float, default=1.0,
                        help="pixel side in the length unit of R_e")
    parser.add_argument("--sampling", choices=("pixel", "center"), default="pixel")
    parser.add_argument("--conditions", choices=("ideal", "ground", "space"), default=None,
                        help="observing conditions by name (PSF, noise, photometry and the "
                             "brightness prior, from published numbers; see the docs' "
                             "Observing page): random orientations unless --inclinations or "
                             "--position-angle say otherwise")
    parser.add_argument("--position-angle", default="0",
                        help="degrees, or 'uniform' (drawn in [0, 180) per galaxy)")
    parser.add_argument("--max-offset", type=float, default=0.0,
                        help="draw the centre uniform within this many pixels of the stamp's "
                             "centre")
    psf = parser.add_argument_group("PSF (the image is the pixel mean of the PSF-convolved "
                                    "light, computed exactly)")
    psf.add_argument("--psf", choices=("none", "gaussian", "moffat", "image"), default="none")
    psf.add_argument("--psf-fwhm", type=float, default=None,
                        help="FWHM, length units of R_e (pixels at --pixel-scale 1)")
    psf.add_argument("--psf-beta", type=float, default=4.765, help="Moffat beta (> 1)")
    psf.add_argument("--psf-image", default=None, help="a 2-D PSF image, as a .npy file")
    psf.add_argument("--psf-pixel-scale", type=float, default=None,
                        help="the PSF image's pixel, length units (default --pixel-scale)")
    noise = parser.add_argument_group("noise")
    noise.add_argument("--noise", choices=("none", "ccd", "snr"), default="none",
                       help="ccd: Poisson from galaxy and sky, and read noise (images in "
                            "ADU); snr: Gaussian at a GREAT08 signal-to-noise ratio")
    noise.add_argument("--sky-level", type=float, default=None, help="ADU per pixel")
    noise.add_argument("--gain", type=float, default=1.0, help="electrons per ADU")
    noise.add_argument("--read-noise", type=float, default=0.0, help="electrons")
    noise.add_argument("--snr", type=float, nargs=2, default=None, metavar=("MIN", "MAX"),
                       help="signal-to-noise range, drawn log-uniform per galaxy")
    psf.add_argument("--pixel-tolerance", type=_pixel_tolerance_option, default=None,
                     help="the render's allowed error in a pixel: promise (1e-3 relative "
                          "for every pixel above 1e-4 of the peak), noise (1e-3 of an "
                          "empty pixel's noise: about twice as fast) or a number in the "
                          "images' unit. Default: noise for train where the noise has a "
                          "fixed level, promise otherwise")
    parser.add_argument("--output", choices=("magnitude", "flux"), default="magnitude")
    parser.add_argument("--magnitudes", choices=("log", "asinh"), default=None,
                        help="magnitude kind (default: log, or asinh with noise)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skgal", description="Intrinsic 3-D shapes of galaxies with probabilistic CNNs.")
    parser.add_argument("--version", action="version", version=f"skgal {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    sim = commands.add_parser(
        "simulate", help="simulate a galaxy image dataset (HDF5)",
        description="Simulate galaxies and write them to an HDF5 dataset. Rerunning the "
                    "same command on an interrupted run resumes it.")
    sim.add_argument("--n-galaxies", type=int, required=True, help="number of galaxies")
    sim.add_argument("--out", required=True, help="output .h5 file")
    sim.add_argument("--seed", type=int, default=None, help="random seed (default: drawn "
                     "and recorded in the file)")
    sim.add_argument("--n-jobs", type=int, default=None, help="parallel workers (-1: all)")
    _add_forward_model_options(sim)
    sim.add_argument("--chunk-size", type=int, default=None, help="galaxies per work unit")
    sim.add_argument("--overwrite", action="store_true", help="replace an existing file")
    sim.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sim.set_defaults(func=_simulate)

    tr = commands.add_parser(
        "train", help="train a network on fresh simulations of a forward model",
        description="Train the probabilistic CNN on new galaxies every batch (new noise, "
                    "new orientations), drawn from the forward model the options describe, "
                    "and save it with joblib.")
    tr.add_argument("--out", required=True, help="output file (.joblib)")
    _add_forward_model_options(tr)
    tr.add_argument("--targets", nargs="+", default=["q"],
                    choices=("q", "inclination", "I_e", "R_e", "n", "position_angle"),
                    help="what the network infers (inclination needs --inclinations "
                         "uniform or isotropic)")
    tr.add_argument("--projection", default="all",
                    help="with several fixed inclinations: all, random or fixed-DEGREES")
    tr.add_argument("--head", choices=("gaussian", "mixture", "bounded_mixture"),
                    default="bounded_mixture", help="the predictive distribution")
    tr.add_argument("--n-components", type=int, default=5, help="mixture components")
    tr.add_argument("--epochs", type=int, default=20)
    tr.add_argument("--steps-per-epoch", type=int, default=200, help="batches per epoch")
    tr.add_argument("--batch-size", type=int, default=32)
    tr.add_argument("--n-validation", type=int, default=1000,
                    help="galaxies in the fixed validation set")
    tr.add_argument("--workers", type=int, default=1,
                    help="rendering threads (or processes, with --processes)")
    tr.add_argument("--processes", action="store_true",
                    help="render in worker processes instead of threads: faster renders "
                         "(a render's Python holds the interpreter's lock), about 1.5 s to "
                         "start them")
    tr.add_argument("--seed", type=int, default=0, help="random seed")
    tr.add_argument("--overwrite", action="store_true", help="replace an existing file")
    tr.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    tr.add_argument("--verbose", action="store_true",
                    help="let TensorFlow print its start-up log")
    tr.set_defaults(func=_train)

    rep = commands.add_parser(
        "reproduce", help="the thesis's experiments: table 1 and figures 8-14",
        description="Simulate the thesis's dataset (or reuse the one in --out), train its six "
                    "methods, and write table1.md/.csv, results.json, predictions.npz and "
                    "figures/.")
    rep.add_argument("--preset", choices=("quick", "paper"), default="quick",
                     help="quick: 2,000 galaxies, 20 epochs (minutes); paper: 10,000 "
                          "galaxies, 100 epochs (about an hour of CPU)")
    rep.add_argument("--out", default=None, help="output directory (default "
                     "reproduce-PRESET)")
    rep.add_argument("--seed", type=int, default=0, help="random seed")
    rep.add_argument("--n-jobs", type=int, default=None, help="simulation workers (-1: all)")
    rep.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    rep.add_argument("--verbose", action="store_true",
                     help="let TensorFlow print its start-up log (devices, CPU features)")
    rep.set_defaults(func=_reproduce)

    ben = commands.add_parser(
        "benchmark", help="the network against the likelihood fit on observed galaxies",
        description="Simulate galaxies under named observing conditions (random "
                    "orientations, offsets, PSF and noise), train the network with a "
                    "Gaussian and with a bounded mixture head, fit a subset by the exact "
                    "likelihood, score every contestant on the same test galaxies, and write "
                    "benchmark.md/.csv, results.json, predictions.npz and figures/.")
    ben.add_argument("--preset", choices=("smoke", "quick", "paper"), default="quick",
                     help="smoke: seconds (the tests'); quick: minutes; paper: about three "
                          "hours on 2 cores, resumable (its 200 likelihood fits take most)")
    ben.add_argument("--conditions", choices=("ground", "space"), default="ground",
                     help="named observing conditions (see the Observing page)")
    ben.add_argument("--out", default=None, help="output directory (default "
                     "benchmark-CONDITIONS-PRESET)")
    ben.add_argument("--seed", type=int, default=0, help="random seed")
    ben.add_argument("--n-jobs", type=int, default=None,
                     help="workers for rendering and fitting (-1: all)")
    ben.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    ben.add_argument("--verbose", action="store_true",
                     help="let TensorFlow print its start-up log")
    ben.set_defaults(func=_benchmark)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("simulate", "train"):  # which noise options were given, then defaults
        args.sky_level_given, args.snr_given = args.sky_level, args.snr
        args.sky_level = 0.0 if args.sky_level is None else args.sky_level
        args.snr = (10.0, 100.0) if args.snr is None else args.snr
    try:
        return args.func(args)
    except KeyboardInterrupt:
        what = ("the dataset and the methods already trained are reused"
                if args.command == "reproduce" else
                "the training set, the trained networks and the finished fits are reused"
                if args.command == "benchmark" else "it resumes")
        print(f"skgal {args.command}: interrupted; run the same command again: {what}",
              file=sys.stderr)
        return 130
    except argparse.ArgumentTypeError as exc:
        parser.error(str(exc))
    except FileExistsError as exc:
        print(f"skgal {args.command}: error: {exc} (use --overwrite)", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"skgal {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
