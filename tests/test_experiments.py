import json

import numpy as np
import pytest

from skgal import experiments
from skgal.experiments import (
    PAPER_NLL,
    Preset,
    apparent_axis_ratio,
    classical_estimate,
    prior_baseline,
    reproduce,
    split,
)

pytest.importorskip("tensorflow")


def test_split_is_seeded_and_disjoint():
    train, test = split(100, seed=3)
    assert len(test) == 20 and len(train) == 80
    assert not set(train) & set(test)
    np.testing.assert_array_equal(split(100, seed=3)[1], test)
    assert not np.array_equal(split(100, seed=4)[1], test)


def test_second_moment_axis_ratio_of_an_elliptical_gaussian():
    # a Gaussian blob with sigma_y / sigma_x = 0.5, rotated or not: b/a = 0.5
    y, x = np.mgrid[0:64, 0:64] - 31.5
    for angle in (0.0, 0.7):
        c, s = np.cos(angle), np.sin(angle)
        u, v = x * c + y * s, -x * s + y * c
        flux = np.exp(-0.5 * ((u / 8.0) ** 2 + (v / 4.0) ** 2))
        mags = 25 - 2.5 * np.log10(np.maximum(flux, 1e-4))
        ratio = apparent_axis_ratio(mags[None], magnitude_limit=35.0)[0]
        assert ratio == pytest.approx(0.5, abs=0.01)


def test_hubble_inversion():
    # an oblate spheroid of flattening q seen at i has (b/a)^2 = cos^2 i + q^2 sin^2 i
    q, i = 0.4, np.array([30.0, 60.0, 90.0])
    ratio = np.sqrt(np.cos(np.radians(i)) ** 2 + q ** 2 * np.sin(np.radians(i)) ** 2)
    np.testing.assert_allclose(classical_estimate(ratio, i), q)
    assert np.isnan(classical_estimate([0.9], [0.0])[0])  # face-on: nothing to say
    assert classical_estimate([0.1], [90.0])[0] == pytest.approx(0.2)  # clipped to the prior


def test_prior_baseline():
    mean, std = prior_baseline([0.2, 0.4, 0.6], 5)
    np.testing.assert_allclose(mean, 0.4)
    np.testing.assert_allclose(std, np.std([0.2, 0.4, 0.6]))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    summary = reproduce(str(out), Preset(n_galaxies=80, epochs=2, n_calibration=40), seed=0, progress=False,
                        methods=("fixed-60", "random", "isotropic"))
    return out, summary


def test_reproduce_writes_table_figures_and_results(tiny_run):
    out, summary = tiny_run
    table = (out / "table1.md").read_text()
    for name in ("fixed-60", "random @ i=30", "prior", "classical (random)", "recalibrated"):
        assert name in table
    rows = (out / "table1.csv").read_text().splitlines()
    assert rows[0].startswith("method,calibration,nll,paper_nll")
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["preset"]["n_galaxies"] == 80
    assert results["versions"]["tensorflow"] and results["versions"]["skgal"]
    assert len(results["history"]["random"]["val_loss"]) == 2
    for name in ("fig08_isophotes.png", "fig09_inclinations.png", "fig10_random_galaxies.png",
                 "fig12_loss_curves.png", "fig13_predictions_fixed.png",
                 "fig14_predictions_random.png", "isotropic_predictions.png",
                 "calibration.png"):
        assert (out / "figures" / name).stat().st_size > 10_000
    raw = next(r for r in summary["table"] if r["method"] == "fixed-60"
               and r["calibration"] == "as trained")
    assert raw["paper_nll"] == PAPER_NLL["fixed-60"] and raw["n"] == 16


def test_the_isotropic_method_is_scored_on_q_and_the_inclination(tiny_run):
    out, summary = tiny_run
    rows = {(r["method"], r["calibration"]): r for r in summary["table"]}
    q_row, i_row = rows[("isotropic", "as trained")], rows[("isotropic: inclination",
                                                            "as trained")]
    assert q_row["paper_nll"] is None and q_row["n"] == 16
    assert 0 < i_row["rmse"] < 90 and 0 < q_row["rmse"] < 0.8
    assert ("classical (isotropic)", "baseline") not in rows  # the inclination is unknown
    joint = summary["joint_nll"]["isotropic"]
    assert np.isfinite(joint["as trained"]) and np.isfinite(joint["recalibrated"])
    saved = np.load(out / "predictions.npz")
    # the inclinations are isotropic (cos i uniform) and the images' own
    incl = saved["inclination"][list(saved["methods"]).index("isotropic")]
    assert np.all((incl >= 0) & (incl <= 90)) and len(set(incl.round(6))) == 16
    images, inclination = experiments.isotropic_views(
        experiments.load_or_simulate(str(out), n_galaxies=80, seed=0), seed=0)
    assert images.shape == (80, 64, 64, 1)
    np.testing.assert_array_equal(inclination[saved["test_index"]], incl)


def test_reproduce_saves_the_test_predictions(tiny_run):
    out, summary = tiny_run
    saved = np.load(out / "predictions.npz")
    assert saved["methods"].tolist() == ["fixed-60", "random", "isotropic"]
    assert saved["mean"].shape == saved["std"].shape == (3, 16)
    np.testing.assert_array_equal(saved["q_true"], saved["params"][:, 3])
    assert set(saved["inclination"][1]) <= {0.0, 30.0, 60.0, 90.0}
    np.testing.assert_array_equal(saved["inclination"][0], 60.0)
    # the table is recomputable from the file alone
    from skgal.metrics import regression_report
    row = next(r for r in summary["table"] if r["method"] == "random"
               and r["calibration"] == "recalibrated")
    recomputed = regression_report(saved["q_true"], saved["mean"][1],
                                   saved["std_recalibrated"][1])
    assert recomputed["nll"] == pytest.approx(row["nll"])
    assert row["mean_std"] == pytest.approx(np.mean(saved["std_recalibrated"][1]))
    assert not list(out.rglob("*.partial"))
    # and so is the quantile recalibration's row
    from skgal import Normal, QuantileRecalibrated
    quantile = next(r for r in summary["table"] if r["method"] == "random"
                    and r["calibration"] == experiments.QUANTILE)
    dist = QuantileRecalibrated(Normal(saved["mean"][1], saved["std"][1]),
                                saved["quantile_knots"][1])
    assert regression_report(saved["q_true"], dist)["nll"] == pytest.approx(quantile["nll"])


def test_the_quantile_recalibration_is_fitted_on_the_validation_galaxies(tmp_path,
                                                                         monkeypatch):
    """train_method's knots make the network's PIT uniform on the galaxies its regressor
    held out (not the test ones): every validation galaxy's PIT lands on its level."""
    from skgal import Normal, ProbabilisticQRegressor

    fitted = []
    original = ProbabilisticQRegressor.fit

    def keep(self, X, y, **kwargs):
        fitted.append((self, X))
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(ProbabilisticQRegressor, "fit", keep)
    data = experiments.load_or_simulate(str(tmp_path), n_galaxies=60, seed=1)
    train, test = split(60, seed=1)
    result = experiments.train_method(data, "fixed-90", train, test, epochs=1, seed=1)
    knots, val = result["quantile_knots"], result["validation_index"]
    assert knots.shape == (1, 2, 27) and np.all(np.diff(knots[0], axis=1) > 0)
    assert len(val) == round(0.2 * len(train)) and set(val) <= set(train)
    assert not set(val) & set(test)
    (reg, X_train), = fitted
    images = X_train[reg.validation_indices_]
    np.testing.assert_array_equal(np.asarray(train)[reg.validation_indices_], val)
    mean, std = reg.predict(images, return_std=True)
    pit = Normal(mean, std / reg.std_scale_).cdf(data.target[val])
    mapped = np.sort(np.interp(pit, knots[0, 0], knots[0, 1]))
    np.testing.assert_allclose(mapped, (np.arange(len(val)) + 0.5) / len(val),
                               atol=1.0 / len(val))



def test_the_quantile_recalibration_is_fitted_on_fresh_calibration_galaxies(tmp_path,
                                                                           monkeypatch):
    """With a calibration set, the knots make the network's PIT uniform on those
    galaxies, seen through the method's projection (random draws of their own)."""
    from skgal import Normal, ProbabilisticQRegressor

    fitted = []
    original = ProbabilisticQRegressor.fit

    def keep(self, X, y, **kwargs):
        fitted.append(self)
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(ProbabilisticQRegressor, "fit", keep)
    data = experiments.load_or_simulate(str(tmp_path), n_galaxies=40, seed=1)
    cal = experiments.load_or_simulate(str(tmp_path), n_galaxies=50,
                                       seed=experiments.calibration_seed(1),
                                       name=experiments.CALIBRATION_NAME)
    assert (tmp_path / "calibration.h5").exists() and cal.images.shape == (50, 64, 64, 4)
    assert not np.allclose(cal.target[:40], data.target)  # other galaxies
    train, test = split(40, seed=1)
    result = experiments.train_method(data, "random", train, test, epochs=1, seed=1,
                                      calibration=cal)
    knots = result["quantile_knots"]
    assert result["n_calibration"] == 50 and knots.shape == (1, 2, 27)
    reg, = fitted
    images, incl = experiments.ProjectionSelector(
        "random", random_state=experiments.calibration_seed(1)).fit(
        cal.images[:1]).select(cal.images)
    assert len(set(incl[:, 0])) > 1
    mean, std = reg.predict(images, return_std=True)
    pit = Normal(mean, std / reg.std_scale_).cdf(cal.target)
    # each knot (u, v): the share of the calibration galaxies' PITs below u is v
    below = np.mean(pit[:, None] <= knots[0, 0][None, 1:-1] + 1e-12, axis=0)
    np.testing.assert_allclose(below, knots[0, 1][1:-1], atol=1.0 / 50 + 1e-9)


def test_reproduce_fits_the_quantile_maps_on_its_calibration_galaxies(tiny_run):
    out, summary = tiny_run
    cal = experiments.load_galaxy_dataset(str(out / experiments.CALIBRATION_NAME))
    assert cal.settings["n_galaxies"] == 40
    assert cal.settings["seed"] == experiments.calibration_seed(0)
    assert summary["settings"]["preset"]["n_calibration"] == 40
    assert experiments.PRESETS["paper"].n_calibration == 10_000


def test_reproduce_reuses_trained_methods_with_the_same_settings(tiny_run, monkeypatch):
    out, summary = tiny_run
    assert sorted(p.name for p in (out / "trained").iterdir()) == ["fixed-60.npz",
                                                                   "isotropic.npz",
                                                                   "random.npz"]

    def refuse(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(experiments, "train_method", refuse)
    again = reproduce(str(out), Preset(n_galaxies=80, epochs=2, n_calibration=40), seed=0, progress=False,
                      methods=("fixed-60", "random", "isotropic"))
    assert again["reused"] == ["fixed-60", "random", "isotropic"]
    assert again["table"] == summary["table"]  # the isotropic posteriors come back too
    assert again["joint_nll"] == summary["joint_nll"]
    assert again["history"] == summary["history"]

    # another preset or seed is another run: it trains (here, refuses to)
    with pytest.raises(AssertionError, match="trained again"):
        reproduce(str(out), Preset(n_galaxies=80, epochs=3, n_calibration=40), seed=0, progress=False,
                  methods=("fixed-60",))


def test_an_unreadable_checkpoint_is_trained_again(tmp_path):
    path = tmp_path / "trained" / "all.npz"
    path.parent.mkdir()
    path.write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match="unreadable"):
        assert experiments._load_trained(str(path), {"method": "all"}) is None
    # one kept before the quantile recalibration existed is trained again, and says why
    from skgal._runs import save_checkpoint
    old = {"mean": [0.5], "std": [0.1], "std_recalibrated": [0.1], "inclination": [0.0],
           "seconds": 1.0}
    save_checkpoint(str(path), {"method": "all"}, old,
                    ("mean", "std", "std_recalibrated", "inclination"))
    with pytest.warns(UserWarning, match="lacks quantile_knots"):
        assert experiments._load_trained(str(path), {"method": "all"}) is None


def test_reproduce_reuses_the_dataset_and_checks_it(tiny_run, monkeypatch):
    out, _ = tiny_run
    calls = []
    monkeypatch.setattr(experiments, "make_galaxy_dataset",
                        lambda *a, **k: calls.append(1))
    data = experiments.load_or_simulate(str(out), n_galaxies=80, seed=0)
    assert calls == [] and data.images.shape == (80, 64, 64, 4)
    with pytest.raises(experiments.DatasetError, match="other settings"):
        experiments.load_or_simulate(str(out), n_galaxies=80, seed=1)


def test_unknown_method():
    with pytest.raises(ValueError, match="method must be one of"):
        experiments._selector("fixed", 0, (0, 30, 60, 90))
