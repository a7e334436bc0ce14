"""skgal benchmark: the classical method's pieces against analytic results, and a smoke
run of the whole benchmark (files, table, resumption, CLI)."""

import json
import math
import os

import numpy as np
import pytest
from scipy import integrate

from skgal import GaussianPSF, MoffatPSF, QuantileRecalibrated
from skgal._baselines import classical_posterior, psf_moments, second_moment_axis_ratio
from skgal._benchmark import BENCHMARK_PRESETS, CONTESTANTS, benchmark, load_predictions

pytest.importorskip("tensorflow")


def test_psf_moments_are_analytic():
    # Gaussian: sigma^2 per axis; Moffat: <r^2> / 2 = alpha^2 / (2 (beta - 2))
    g = GaussianPSF(fwhm=3.0)
    sigma2 = (3.0 / (2 * math.sqrt(2 * math.log(2)))) ** 2
    np.testing.assert_allclose(psf_moments(g), [sigma2, sigma2, 0.0], atol=1e-5)
    m = MoffatPSF(fwhm=3.0, beta=4.0)
    expected = m.alpha ** 2 / (2 * (4.0 - 2.0))
    np.testing.assert_allclose(psf_moments(m), [expected, expected, 0.0], rtol=1e-4,
                               atol=1e-5)


def test_axis_ratio_through_the_psf():
    # an elliptical Gaussian blob (sigmas 4 and 2, rotated 30 degrees) convolved with a
    # round Gaussian PSF of sigma 1.5 is an elliptical Gaussian of summed covariances
    yy, xx = np.mgrid[:64, :64] - 31.5
    rot = np.radians(30.0)
    c, s = math.cos(rot), math.sin(rot)
    cov = np.array([[c, -s], [s, c]]) @ np.diag([16.0, 4.0]) @ np.array([[c, s], [-s, c]])
    cov = cov + 1.5 ** 2 * np.eye(2)
    inv = np.linalg.inv(cov)
    image = np.exp(-0.5 * (inv[0, 0] * xx ** 2 + 2 * inv[0, 1] * xx * yy + inv[1, 1] * yy ** 2))
    ratio = second_moment_axis_ratio(image[None] * 100.0, np.array([1.0]),
                                     (1.5 ** 2, 1.5 ** 2, 0.0), threshold=0.01)
    assert ratio[0] == pytest.approx(0.5, abs=2e-3)


def test_classical_posterior_is_hubbles_law():
    # with a tiny scatter the likelihood of r is the spheroid's p(r | q) =
    # r / sqrt((1 - q^2)(r^2 - q^2)) for q < r: its shape in q, by quadrature
    r = 0.7
    dist = classical_posterior([r], 1e-3, grid=np.linspace(0.2, 0.6, 81), n_cos=20000)
    q = np.array([0.3, 0.45, 0.55])
    exact = r / np.sqrt((1 - q ** 2) * (r ** 2 - q ** 2))
    norm = integrate.quad(lambda x: r / math.sqrt((1 - x * x) * (r * r - x * x)), 0.2, 0.6)[0]
    got = np.array([dist.pdf([x])[0] for x in q])
    np.testing.assert_allclose(got, exact / norm, rtol=3e-3)


def test_smoke_run_writes_resumes_and_scores(tmp_path, monkeypatch):
    out = str(tmp_path / "bench")
    summary = benchmark(out, "smoke", progress=False)
    names = sorted(os.listdir(out))
    assert {"benchmark.md", "benchmark.csv", "results.json", "predictions.npz", "figures",
            "train.h5", "trained", "fits"} <= set(names)
    assert sorted(os.listdir(os.path.join(out, "figures"))) == [
        "calibration.png", "nll_vs_snr.png", "posteriors.png"]
    table = {(r["contestant"], r["galaxies"]): r for r in summary["table"]}
    assert {c for c, _ in table} == set(CONTESTANTS)
    # the prior scores its own density: q uniform on [0.2, 1]
    assert table[("prior", "all test")]["nll"] == pytest.approx(math.log(0.8))
    fit = table[("likelihood fit", "fit subset")]
    assert fit["n"] == 2 and fit["joint_nll"] is not None and fit["seconds_per_galaxy"] > 0
    assert table[("network (mixture)", "all test")]["joint_nll"] is not None
    assert table[("network (gaussian)", "all test")]["joint_nll"] is None
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    assert results["likelihood"]["calls_per_galaxy"] > 0
    # each contestant's gap to the fit is the difference of the fit-subset rows
    for name in ("network (mixture)", "classical"):
        gap = results["gap_to_fit"][name]
        assert gap["gap"] == pytest.approx(table[(name, "fit subset")]["nll"] - fit["nll"])
        assert gap["standard_error"] >= 0 and gap["nll_standard_error"] >= 0
    saved = load_predictions(os.path.join(out, "predictions.npz"))
    assert len(saved["network (mixture)"]) == 16 and saved["network (mixture)"].n_targets == 2
    # under ground's round PSF, each prediction is averaged over the four symmetries
    # that keep an aligned image's axes: 5 components x 4, and the Gaussian's 1 x 4
    assert saved["network (mixture)"].n_components == 20
    assert saved["network (gaussian)"].n_components == 4
    # the quantile map keeps the mixture's q ranking (it is monotone) and is stored
    quantile = saved["network (mixture, quantile)"]
    assert isinstance(quantile, QuantileRecalibrated) and len(quantile) == 16
    q_true = np.load(os.path.join(out, "predictions.npz"))["q_true"]
    np.testing.assert_array_equal(np.argsort(quantile.cdf(q_true)),
                                  np.argsort(quantile.base.cdf(q_true)))
    assert table[("network (mixture, quantile)", "all test")]["nll"] == pytest.approx(
        -np.mean(quantile.logpdf(q_true)))

    # run again: nothing is trained or fitted again, and the table is the same
    import skgal._benchmark as bench
    from skgal import LikelihoodFitRegressor

    def refuse(*args, **kwargs):
        raise AssertionError("trained or fitted again")

    monkeypatch.setattr(bench, "_train_network", refuse)
    monkeypatch.setattr(LikelihoodFitRegressor, "sample_posterior", refuse)
    again = benchmark(out, "smoke", progress=False)
    assert [r["nll"] for r in again["table"]] == [r["nll"] for r in summary["table"]]

    # other network settings: the networks train again, the fits are reused
    from dataclasses import replace

    monkeypatch.undo()
    monkeypatch.setattr(LikelihoodFitRegressor, "sample_posterior", refuse)
    other = benchmark(out, replace(BENCHMARK_PRESETS["smoke"], epochs=2), progress=False)
    rows = {(r["contestant"], r["galaxies"]): r for r in other["table"]}
    assert rows[("likelihood fit", "fit subset")] == table[("likelihood fit", "fit subset")]
    assert rows[("network (mixture)", "all test")] != table[("network (mixture)", "all test")]
    # and other test galaxies are fitted again
    with pytest.raises(AssertionError, match="fitted again"):
        benchmark(out, replace(BENCHMARK_PRESETS["smoke"], n_test=12), progress=False)
    # a training set made for other galaxies is not reused
    with pytest.raises(ValueError, match="other settings"):
        benchmark(out, replace(BENCHMARK_PRESETS["smoke"], max_offset=0.5), progress=False)


def test_cli_and_bad_conditions(tmp_path, capsys):
    from skgal.cli import main

    with pytest.raises(ValueError, match="needs a PSF and noise"):
        benchmark(str(tmp_path), "smoke", conditions="ideal")
    with pytest.raises(SystemExit):
        main(["benchmark", "--conditions", "ideal"])
    assert "invalid choice" in capsys.readouterr().err


def test_moments_inversion_regressor():
    import pandas as pd

    from skgal import GaussianNoise, SersicGalaxySimulator
    from skgal.experiments import MomentsInversionRegressor

    sim = SersicGalaxySimulator(image_size=32, psf=GaussianPSF(fwhm=2.0), output="flux",
                                inclinations="isotropic", effective_radius_range=(5.0, 8.0))
    X, _ = sim.sample(60, random_state=0, as_frame=True)
    X["inclination"] = 85.0  # nearly edge-on: the axis ratio is q's
    X["I_e"] = 2.0
    images = GaussianNoise(sigma=0.01, random_state=0).transform(sim.transform(X))
    y = np.column_stack([X["q"], X["inclination"]])
    reg = MomentsInversionRegressor(psf=GaussianPSF(fwhm=2.0), noise_sigma=0.01)
    reg.fit(images[:40], y[:40])
    mean, std = reg.predict(images[40:], return_std=True)
    assert reg.scatter_ < 0.2 and np.all(std > 0)
    assert np.corrcoef(mean, X["q"][40:])[0, 1] > 0.8
    with pytest.raises(ValueError, match="y must be"):
        reg.fit(images, X["q"])
    with pytest.raises(ValueError, match="one image channel"):
        reg.predict(np.zeros((1, 32, 32, 2)))
    assert isinstance(X, pd.DataFrame)


def test_training_sees_the_squares_symmetries_only_where_they_are_exact():
    from dataclasses import replace

    from skgal._benchmark import BENCHMARK_PRESETS, benchmark_model, training_transform

    preset = replace(BENCHMARK_PRESETS["smoke"], align=False)
    for conditions, expected in (("ground", ["augment", "noise", "photometry"]),
                                 ("space", ["noise", "photometry"])):
        cond, model = benchmark_model(preset, conditions)
        steps = [name for name, _ in training_transform(model, cond, preset).steps]
        assert steps == expected, conditions
    cond, model = benchmark_model(preset, "ground")
    unaugmented = training_transform(model, cond, replace(preset, augment=False))
    assert [name for name, _ in unaugmented.steps] == ["noise", "photometry"]


def test_aligned_training_and_prediction_see_the_same_steps():
    from dataclasses import replace

    from skgal import AlignToMajorAxis
    from skgal._benchmark import (BENCHMARK_PRESETS, benchmark_model, network_input,
                                  training_transform)

    preset = replace(BENCHMARK_PRESETS["smoke"], align=True)
    for conditions, expected in (("ground", ["augment", "noise", "align", "photometry"]),
                                 ("space", ["noise", "align", "photometry"])):
        cond, model = benchmark_model(preset, conditions)
        steps = [name for name, _ in training_transform(model, cond, preset).steps]
        assert steps == expected, conditions
    # prediction: the same alignment and photometry on the noisy images
    cond, model = benchmark_model(preset, "ground")
    X, _ = model["render"].sample(3, random_state=0)
    noisy, _ = model["noise"].set_params(random_state=1).draw(model["render"].transform(X))
    expected = model["photometry"].transform(AlignToMajorAxis().fit_transform(noisy))
    np.testing.assert_array_equal(network_input(model, preset, noisy), expected)
    plain = network_input(model, replace(preset, align=False), noisy)
    np.testing.assert_array_equal(plain, model["photometry"].transform(noisy))
    assert np.abs(plain - expected).max() > 0.1


def test_aligned_images_are_averaged_over_the_symmetries_that_keep_the_axes():
    from skgal import Normal
    from skgal._augment import dihedral_transform
    from skgal._benchmark import symmetrised_distribution

    class Recorder:
        def __init__(self):
            self.seen = []

        def predict_distribution(self, images):
            self.seen.append(images.copy())
            return Normal(np.full(len(images), 0.5), np.full(len(images), 0.1))

    images = np.arange(2 * 4 * 4, dtype=float).reshape(2, 4, 4, 1)
    for aligned, elements in ((False, range(8)), (True, (0, 2, 4, 6))):
        reg = Recorder()
        dist = symmetrised_distribution(reg, images, aligned=aligned)
        assert len(reg.seen) == len(elements)
        for seen, e in zip(reg.seen, elements):
            np.testing.assert_array_equal(seen, dihedral_transform(images, e))
        np.testing.assert_allclose(dist.mean(), 0.5)
    # the four kept ones: each image's rows stay rows
    for e in (0, 2, 4, 6):
        turned = dihedral_transform(images, e)[0, :, :, 0]
        assert {tuple(sorted(r)) for r in turned} == {tuple(sorted(r)) for r in images[0, :, :, 0]}


def test_tables_give_times_in_significant_figures(tmp_path):
    # a network answers in a fraction of a millisecond: three decimals would print 0.000
    from skgal._runs import write_rows

    write_rows([{"nll": -1.23456, "seconds_per_galaxy": 0.000251234}],
               ("nll", "seconds_per_galaxy"), tmp_path, "t")
    assert (tmp_path / "t.csv").read_text().splitlines()[1] == "-1.235,0.000251"


def test_sbc_of_fit_tells_calibrated_draws_from_biased_ones():
    from skgal._benchmark import sbc_of_fit

    rng = np.random.default_rng(0)
    n, draws = 400, 99
    centre = rng.normal(size=(n, 1, 2))
    samples = centre + rng.normal(size=(n, draws, 2))
    truth = centre[:, 0, :] + rng.normal(size=(n, 2))  # a draw of the same posterior
    truth[:, 1] += 0.7  # the second parameter's posteriors lean low
    out = sbc_of_fit(samples, truth, ("a", "b"), n_draws=draws)
    assert out["a"]["chi2_pvalue"] > 1e-3 and sum(out["a"]["counts"]) == n
    assert out["b"]["chi2_pvalue"] < 1e-6
