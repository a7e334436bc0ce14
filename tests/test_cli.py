import subprocess
import sys

import numpy as np
import pytest

from skgal.cli import main
from skgal.datasets import load_galaxy_dataset


def test_simulate_writes_a_dataset(tmp_path, capsys):
    out = tmp_path / "g.h5"
    rc = main(["simulate", "--n-galaxies", "6", "--out", str(out), "--seed", "3",
               "--image-size", "8", "--inclinations", "0", "90", "--quiet"])
    assert rc == 0
    data = load_galaxy_dataset(out)
    assert data.images.shape == (6, 8, 8, 2)
    np.testing.assert_array_equal(data.inclinations, [0, 90])
    # the same command again refuses to overwrite, with a clear message
    assert main(["simulate", "--n-galaxies", "6", "--out", str(out), "--quiet"]) == 2
    assert "--overwrite" in capsys.readouterr().err


def test_simulate_random_inclinations(tmp_path):
    out = tmp_path / "g.h5"
    assert main(["simulate", "--n-galaxies", "4", "--out", str(out), "--image-size", "8",
                 "--inclinations", "isotropic", "--quiet"]) == 0
    data = load_galaxy_dataset(out)
    assert data.images.shape == (4, 8, 8, 1) and data.feature_names[-1] == "inclination"


def test_bad_input_exits_with_a_message(tmp_path, capsys):
    assert main(["simulate", "--n-galaxies", "2", "--out", str(tmp_path / "g.h5"),
                 "--image-size", "4"]) == 2
    assert "image_size" in capsys.readouterr().err


def test_console_script_runs():
    done = subprocess.run([sys.executable, "-m", "skgal.cli", "--version"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "skgal" in done.stdout


def test_rerunning_an_interrupted_command_resumes_it(tmp_path, monkeypatch, capsys):
    import skgal.datasets as datasets

    out = tmp_path / "g.h5"
    args = ["simulate", "--n-galaxies", "9", "--out", str(out), "--image-size", "8",
            "--chunk-size", "2", "--quiet"]  # no --seed: one is drawn and recorded
    real = datasets._render_chunk
    calls = []

    def interrupted(simulator, steps, params, columns):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return real(simulator, steps, params, columns)

    monkeypatch.setattr(datasets, "_render_chunk", interrupted)
    assert main(args) == 130  # Ctrl-C: a message, not a traceback
    assert "run the same command again" in capsys.readouterr().err
    monkeypatch.undo()
    assert not out.exists()
    assert main(args) == 0  # the same command finishes the same file
    data = load_galaxy_dataset(out)
    again = tmp_path / "again.h5"
    assert main(args[:4] + [str(again)] + args[5:] + ["--seed", str(data.settings["seed"])]) == 0
    np.testing.assert_array_equal(load_galaxy_dataset(again).images, data.images)


def test_reproduce_command(tmp_path, monkeypatch, capsys):
    pytest = __import__("pytest")
    pytest.importorskip("tensorflow")
    from skgal import experiments

    # the quick preset's protocol on a tiny dataset, so that the test takes seconds
    monkeypatch.setitem(experiments.PRESETS, "quick", experiments.Preset(n_galaxies=60,
                                                                         epochs=1))
    out = tmp_path / "run"
    assert main(["reproduce", "--preset", "quick", "--out", str(out), "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "fixed-90" in printed and "classical (fixed-30)" in printed and "-2.375" in printed
    assert (out / "table1.md").exists() and (out / "results.json").exists()
    assert len(list((out / "figures").glob("*.png"))) == 9
    assert "isotropic: inclination" in printed


def test_simulate_a_telescope(tmp_path):
    out = tmp_path / "observed.h5"
    args = ["simulate", "--n-galaxies", "3", "--out", str(out), "--image-size", "12",
            "--inclinations", "isotropic", "--position-angle", "uniform", "--max-offset", "1",
            "--psf", "moffat", "--psf-fwhm", "2.5", "--psf-beta", "3", "--noise", "ccd",
            "--sky-level", "2", "--gain", "3", "--seed", "1", "--quiet"]
    assert main(args) == 0
    data = load_galaxy_dataset(out)
    steps = [s["step"] for s in data.settings["observation"]]
    assert steps == ["CCDNoise", "ToMagnitudes"]
    assert data.settings["observation"][1]["parameters"]["kind"] == "asinh"
    assert data.settings["parameters"]["psf"] == {"type": "MoffatPSF", "fwhm": 2.5,
                                                  "beta": 3.0}
    assert data.noise_sigma.shape == (3, 1) and np.all(np.isfinite(data.images))


@pytest.mark.parametrize("extra, message", [
    (["--psf", "gaussian"], "needs --psf-fwhm"),
    (["--psf-fwhm", "2"], "need --psf gaussian"),
    (["--psf", "moffat", "--psf-fwhm", "2", "--psf-beta", "1"], "beta must be > 1"),
    (["--noise", "ccd", "--sky-level", "-1"], "sky_level"),
    (["--sky-level", "3"], "need --noise ccd or snr"),
    (["--max-offset", "9"], "max_offset must be below"),
    (["--position-angle", "north"], "--position-angle takes"),
])
def test_bad_observing_options(tmp_path, capsys, extra, message):
    args = ["simulate", "--n-galaxies", "2", "--out", str(tmp_path / "x.h5"), "--image-size",
            "8", "--quiet"] + extra
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()


def test_tensorflow_start_up_log_is_kept_off_the_terminal():
    pytest = __import__("pytest")
    pytest.importorskip("tensorflow")
    # what `skgal reproduce` does before it trains, then a Keras model's first use
    code = ("from skgal.cli import _quiet_tensorflow; _quiet_tensorflow(); "
            "import numpy as np, keras; "
            "m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]); "
            "m.predict(np.zeros((1, 2)), verbose=0); print('trained')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and "trained" in done.stdout
    assert done.stderr == "", done.stderr


def test_train_on_fresh_simulations_in_one_command(tmp_path, capsys, monkeypatch):
    pytest.importorskip("tensorflow")
    import joblib

    import skgal._regressor

    started = []  # --processes: the batches come from worker processes

    class Recorded(skgal._regressor.BatchProcesses):
        def __init__(self, source, processes):
            started.append(processes)
            super().__init__(source, processes)

    monkeypatch.setattr(skgal._regressor, "BatchProcesses", Recorded)

    from skgal import MultivariateNormalMixture

    out = tmp_path / "model.joblib"
    args = ["train", "--out", str(out), "--image-size", "12", "--pixel-scale", "5",
            "--sampling", "center", "--inclinations", "isotropic", "--targets", "q",
            "inclination", "--epochs", "1", "--steps-per-epoch", "3", "--n-validation",
            "32", "--n-components", "2", "--processes"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "validation joint NLL" in printed and "inclination: NLL" in printed
    saved = joblib.load(out)
    assert saved["targets"] == ("q", "inclination")
    assert saved["model"].use_multiprocessing and started == [1]
    images, _ = saved["forward_model"].fit_transform(saved["forward_model"].steps[0][1]
                                                     .sample(4, random_state=0)[0]), None
    dist = saved["model"].predict_distribution(images)
    assert isinstance(dist, MultivariateNormalMixture) and len(dist) == 4
    assert main(args) == 2 and "exists" in capsys.readouterr().err  # never overwritten
    assert not list(tmp_path.glob("*.partial"))
    bad = ["train", "--out", str(tmp_path / "b.joblib"), "--targets", "inclination",
           "--epochs", "1"]
    assert main(bad) == 2 and "does not draw ['inclination']" in capsys.readouterr().err
