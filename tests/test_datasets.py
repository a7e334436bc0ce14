import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
from joblib import parallel_config

import skgal.datasets as datasets
from skgal import SersicGalaxySimulator
from skgal.datasets import DatasetError, load_galaxy_dataset, make_galaxy_dataset

SIM = SersicGalaxySimulator(image_size=8, pixel_scale=8.0)


def _make(path, **kw):
    kw.setdefault("simulator", SIM)
    kw.setdefault("chunk_size", 4)
    kw.setdefault("random_state", 11)
    return make_galaxy_dataset(path, 18, **kw)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "ref.h5"
    _make(path)
    return load_galaxy_dataset(path)


def test_round_trip_is_self_describing(reference, tmp_path):
    data = reference
    assert data.images.shape == (18, 8, 8, 4) and data.images.dtype == np.float32
    assert data.feature_names == ["I_e", "R_e", "n", "q"]
    np.testing.assert_array_equal(data.target, data.params[:, 3])
    np.testing.assert_array_equal(data.inclinations, [0, 30, 60, 90])
    assert data.settings["seed"] == 11 and data.settings["parameters"]["image_size"] == 8
    assert "18 Sérsic discs" in data.DESCR
    # the parameters are the simulator's own draws, and the images its own renders
    X, y = SIM.sample(18, random_state=11)
    np.testing.assert_array_equal(data.params, X)
    np.testing.assert_array_equal(data.images, SIM.transform(X))


def test_return_X_y_and_lazy(reference, tmp_path):
    path = _make(tmp_path / "d.h5")
    images, target = load_galaxy_dataset(path, return_X_y=True)
    np.testing.assert_array_equal(images, reference.images)
    lazy = load_galaxy_dataset(path, lazy=True)
    assert isinstance(lazy.images, h5py.Dataset)
    np.testing.assert_array_equal(lazy.images[5:9], reference.images[5:9])
    lazy.file.close()


@pytest.mark.parametrize("n_jobs, backend", [(2, "loky"), (2, "threading"), (None, None)])
def test_identical_for_any_n_jobs_and_backend(reference, tmp_path, n_jobs, backend):
    path = tmp_path / "d.h5"
    if backend is None:
        _make(path, n_jobs=n_jobs, chunk_size=4)
    else:
        with parallel_config(backend=backend):
            _make(path, n_jobs=n_jobs)
    np.testing.assert_array_equal(load_galaxy_dataset(path).images, reference.images)


def test_identical_on_a_dask_cluster(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster), parallel_config(backend="dask"):
        _make(tmp_path / "d.h5", n_jobs=2)
    np.testing.assert_array_equal(load_galaxy_dataset(tmp_path / "d.h5").images,
                                  reference.images)


def test_interrupted_run_is_detectable_and_resumes(reference, tmp_path, monkeypatch):
    path = tmp_path / "d.h5"
    calls = []
    real = datasets._render_chunk

    def crash_after_two(simulator, steps, params, columns):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(len(params))
        return real(simulator, steps, params, columns)

    monkeypatch.setattr(datasets, "_render_chunk", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        _make(path)
    assert not path.exists()  # nothing at `path` looks complete
    with pytest.raises(FileNotFoundError, match="interrupted"):
        load_galaxy_dataset(path)
    with h5py.File(str(path) + ".partial", "r") as f:
        assert not f.attrs["complete"] and f["chunks_done"][...].sum() == 2

    resumed = []
    monkeypatch.setattr(datasets, "_render_chunk",
                        lambda s, o, p, c: resumed.append(len(p)) or real(s, o, p, c))
    _make(path)
    assert sum(resumed) == 18 - 8  # only the missing chunks were rendered
    np.testing.assert_array_equal(load_galaxy_dataset(path).images, reference.images)
    assert not os.path.exists(str(path) + ".partial")


def test_kill_9_then_resume(tmp_path):
    path = tmp_path / "big.h5"
    sim = "SersicGalaxySimulator(image_size=32, pixel_scale=2.0)"
    code = (
        "from skgal import SersicGalaxySimulator\n"
        "from skgal.datasets import make_galaxy_dataset\n"
        f"make_galaxy_dataset({str(path)!r}, 400, simulator={sim}, chunk_size=2, "
        "random_state=5)\n")
    proc = subprocess.Popen([sys.executable, "-c", code])
    partial = str(path) + ".partial"
    deadline = time.time() + 120
    while time.time() < deadline and not (os.path.exists(partial)
                                          and os.path.getsize(partial) > 200_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.path.exists(partial) and not path.exists()
    with pytest.raises(FileNotFoundError, match="interrupted"):
        load_galaxy_dataset(path)
    simulator = SersicGalaxySimulator(image_size=32, pixel_scale=2.0)
    # resumes the partial file, or starts over if the kill left it unreadable
    make_galaxy_dataset(path, 400, simulator=simulator, chunk_size=2, random_state=5)
    data = load_galaxy_dataset(path)
    X, _ = simulator.sample(400, random_state=5)
    np.testing.assert_array_equal(data.params, X)
    for rows in (slice(0, 6), slice(190, 196), slice(394, 400)):  # spot checks
        np.testing.assert_array_equal(data.images[rows], simulator.transform(X[rows]))


def test_refuses_to_overwrite(tmp_path):
    path = _make(tmp_path / "d.h5")
    before = os.path.getmtime(path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        _make(path)
    assert os.path.getmtime(path) == before
    _make(path, overwrite=True, random_state=12)
    assert load_galaxy_dataset(path).settings["seed"] == 12


def test_partial_with_other_settings_is_not_mixed(tmp_path, monkeypatch):
    path = tmp_path / "d.h5"
    monkeypatch.setattr(datasets, "_render_chunk", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        _make(path)
    monkeypatch.undo()
    with pytest.raises(DatasetError, match="other settings"):
        _make(path, random_state=99)
    _make(path, random_state=99, overwrite=True)
    assert load_galaxy_dataset(path).settings["seed"] == 99


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no dataset"):
        load_galaxy_dataset(tmp_path / "missing.h5")
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(os.urandom(4096))
    with pytest.raises(DatasetError, match="not a readable HDF5"):
        load_galaxy_dataset(corrupt)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["images"] = np.zeros(3)
    with pytest.raises(DatasetError, match="not an skgal"):
        load_galaxy_dataset(foreign)
    incomplete = _make(tmp_path / "incomplete.h5")
    with h5py.File(incomplete, "a") as f:
        f.attrs["complete"] = False
    with pytest.raises(DatasetError, match="incomplete"):
        load_galaxy_dataset(incomplete)
    broken = _make(tmp_path / "broken.h5")
    with h5py.File(broken, "a") as f:
        del f["target"]
    with pytest.raises(DatasetError, match="corrupt"):
        load_galaxy_dataset(broken)


@pytest.mark.parametrize("kw, error, message", [
    (dict(n_galaxies=0), ValueError, "n_galaxies"),
    (dict(n_galaxies=2.5), ValueError, "n_galaxies"),
    (dict(chunk_size=0), ValueError, "chunk_size"),
    (dict(simulator="sim"), ValueError, "simulator: unknown observing conditions 'sim'"),
    (dict(simulator=3), TypeError, "SersicGalaxySimulator, a Pipeline"),
    (dict(simulator=SersicGalaxySimulator(image_size=4)), ValueError, "image_size"),
])
def test_bad_arguments(tmp_path, kw, error, message):
    args = dict(n_galaxies=3, simulator=SIM)
    args.update(kw)
    with pytest.raises(error, match=message):
        make_galaxy_dataset(tmp_path / "d.h5", args.pop("n_galaxies"), **args)
    assert not os.listdir(tmp_path)


def _observed():
    from sklearn.pipeline import Pipeline

    from skgal import GaussianPSF, GaussianSNRNoise, ToMagnitudes
    return Pipeline([
        ("render", SersicGalaxySimulator(image_size=12, pixel_scale=2.0, output="flux",
                                         psf=GaussianPSF(3.0), inclinations=(30, 90),
                                         position_angle="uniform", max_offset=1.0)),
        ("noise", GaussianSNRNoise(snr=(20, 50))),
        ("photometry", ToMagnitudes(kind="asinh"))])


def test_a_forward_model_is_recorded_and_reproducible(tmp_path):
    first = make_galaxy_dataset(tmp_path / "a.h5", 7, simulator=_observed(), chunk_size=3,
                                random_state=4)
    again = make_galaxy_dataset(tmp_path / "b.h5", 7, simulator=_observed(), chunk_size=3,
                                random_state=4, n_jobs=2)
    a, b = load_galaxy_dataset(first), load_galaxy_dataset(again)
    np.testing.assert_array_equal(a.images, b.images)  # noise included: seeded per file
    steps = a.settings["observation"]
    assert [s["step"] for s in steps] == ["GaussianSNRNoise", "ToMagnitudes"]
    assert isinstance(steps[0]["parameters"]["random_state"], int)  # derived and recorded
    assert a.settings["parameters"]["psf"] == {"type": "GaussianPSF", "fwhm": 3.0}
    assert a.feature_names == ["I_e", "R_e", "n", "q", "position_angle", "x_offset",
                               "y_offset"]
    assert list(a.frame.columns[-4:]) == ["light_fraction_30", "light_fraction_90",
                                          "noise_sigma_30", "noise_sigma_90"]
    assert np.all((a.light_fraction > 0) & (a.light_fraction <= 1))
    # the recorded noise level is the GREAT08 one of the noiseless image
    sim = _observed().steps[0][1]
    table = a.frame[a.feature_names]
    flux = sim.transform(table).astype(np.float64)
    nu = np.sqrt((flux ** 2).sum(axis=(1, 2))) / a.noise_sigma
    assert np.all((nu >= 20 - 1e-9) & (nu <= 50 + 1e-9))
    np.testing.assert_allclose(nu[:, 0], nu[:, 1])  # one draw per galaxy
    np.testing.assert_allclose(a.light_fraction, sim.light_fraction(flux, table))


def test_light_fraction_shows_the_cropping():
    # the thesis's prior: R_e up to 30 pixels in a 64-pixel stamp loses much light
    sim = SersicGalaxySimulator(output="flux", inclinations=(0,), sampling="center")
    X = np.array([[0.5, 5.0, 0.5, 0.5], [0.5, 30.0, 2.0, 0.5]])
    fraction = sim.light_fraction(sim.transform(X), X)[:, 0]
    assert fraction[0] == pytest.approx(1.0, abs=1e-6)
    # n = 2: the light within R of the centre is P(4, b (R/R_e)^(1/2)); a 64-pixel
    # square holds more than its inscribed circle and less than its circumscribed one
    from scipy.special import gammainc
    b = 3.672060748850897
    inner, outer = gammainc(4, b * (32 / 30) ** 0.5), gammainc(4, b * (32 * 2 ** 0.5 / 30) ** 0.5)
    assert inner < fraction[1] < outer < 0.7


@pytest.mark.parametrize("model, error, message", [
    (lambda: __import__("sklearn.pipeline").pipeline.make_pipeline(
        __import__("skgal").ToMagnitudes()), TypeError, "must start with a Sersic"),
    (lambda: __import__("sklearn.pipeline").pipeline.make_pipeline(
        SersicGalaxySimulator(), __import__("skgal").ToMagnitudes()), ValueError,
     "output='flux'"),
])
def test_bad_forward_models(tmp_path, model, error, message):
    with pytest.raises(error, match=message):
        make_galaxy_dataset(tmp_path / "x.h5", 2, simulator=model())
    assert not list(tmp_path.iterdir())


def test_dataset_batches_visit_every_row_once_per_epoch_in_a_new_order(tmp_path):
    from skgal import ProjectionSelector
    from skgal.datasets import DatasetBatches

    path = make_galaxy_dataset(tmp_path / "g.h5", 130, random_state=0,
                               simulator=SersicGalaxySimulator(image_size=8),
                               chunk_size=65)
    source = DatasetBatches(path, rows=(5, 120),
                            transform=ProjectionSelector("random", random_state=0))
    data = load_galaxy_dataset(path)
    n = source.n_batches(32)
    assert n == 4  # 8 blocks of 16 rows, [5, 16) to [112, 120), 2 per batch
    orders = []
    for epoch in range(2):
        seen = np.concatenate([source.batch((0, epoch, i), 32)[1] for i in range(n)])
        assert sorted(seen) == sorted(data.target[5:120].astype(np.float32))
        orders.append(seen)
    assert not np.array_equal(*orders)  # another epoch, another order of the blocks
    X, y = source.batch((0, 0, 0), 32)
    np.testing.assert_array_equal(source.batch((0, 0, 0), 32)[0], X)
    # each row's image is one of its own four views
    rows = [int(np.flatnonzero(data.target.astype(np.float32) == v)[0]) for v in y]
    for image, r in zip(X, rows):
        assert any(np.array_equal(image[..., 0], data.images[r, ..., c]) for c in range(4))
    with pytest.raises(ValueError, match="rows must be"):
        DatasetBatches(path, rows=(10, 140))
    with pytest.raises(ValueError, match="targets must name columns of the dataset"):
        DatasetBatches(path, targets=("inclination",))


def test_training_from_a_file_larger_than_memory(tmp_path):
    pytest.importorskip("tensorflow")
    from skgal import ProbabilisticQRegressor, ProjectionSelector
    from skgal.datasets import DatasetBatches

    path = make_galaxy_dataset(tmp_path / "g.h5", 96, random_state=0,
                               simulator=SersicGalaxySimulator(image_size=8))
    source = DatasetBatches(path, rows=(0, 64),
                            transform=ProjectionSelector("fixed", inclination=90))
    lazy = load_galaxy_dataset(path, lazy=True)
    try:  # only the validation rows are read into memory
        X_val = lazy.images[64:, :, :, 3:4]
        y_val = lazy.target[64:]
    finally:
        lazy.file.close()
    reg = ProbabilisticQRegressor(epochs=2, batch_size=16, random_state=0,
                                  training_source=source).fit(X_val, y_val)
    assert len(reg.history_["loss"]) == 2 and reg.predict(X_val).shape == (32,)


def test_resume_rebuilds_a_partial_file_with_a_damaged_chunk(tmp_path):
    # kill -9 while a gzip chunk is written can leave it corrupt: the resumed run must not
    # stop at it, nor keep the rows it held, and must end with the uninterrupted content
    sim = SersicGalaxySimulator(image_size=8, pixel_scale=8.0)
    clean = make_galaxy_dataset(tmp_path / "clean.h5", 40, simulator=sim, chunk_size=4,
                                random_state=3, progress=False)
    path = tmp_path / "d.h5"
    partial = str(path) + ".partial"
    make_galaxy_dataset(path, 40, simulator=sim, chunk_size=4, random_state=3,
                        progress=False)
    os.replace(path, partial)  # a finished file, then its second stored chunk damaged
    with h5py.File(partial, "r+") as f:
        f.attrs["complete"] = False
        info = f["images"].id.get_chunk_info(1)
    with open(partial, "r+b") as raw:
        raw.seek(info.byte_offset + 8)
        raw.write(b"\xff" * 64)
    with h5py.File(partial, "r") as f, pytest.raises(OSError):
        f["images"][16:32]
    with pytest.warns(RuntimeWarning, match=r"rows 16-31 unreadable.*kept the 24"):
        make_galaxy_dataset(path, 40, simulator=sim, chunk_size=4, random_state=3,
                            progress=False)
    data, expected = load_galaxy_dataset(path), load_galaxy_dataset(clean)
    np.testing.assert_array_equal(data.images, expected.images)
    np.testing.assert_array_equal(data.params, expected.params)
    assert not os.path.exists(partial)


def test_conditions_by_name_make_their_forward_models_dataset(tmp_path):
    from skgal import observing_conditions

    named = make_galaxy_dataset(tmp_path / "named.h5", 2, simulator="ground", random_state=0)
    explicit = make_galaxy_dataset(tmp_path / "explicit.h5", 2, random_state=0,
                                   simulator=observing_conditions("ground").forward_model())
    a, b = load_galaxy_dataset(named), load_galaxy_dataset(explicit)
    assert a.images.shape == (2, 64, 64, 1)
    np.testing.assert_array_equal(a.images, b.images)
    assert a.settings == b.settings
    with pytest.raises(ValueError, match="simulator: unknown observing conditions 'moon'"):
        make_galaxy_dataset(tmp_path / "moon.h5", 2, simulator="moon")


def test_a_dataset_older_than_a_parameter_is_made_by_its_default(tmp_path):
    # reproduce and benchmark reuse a dataset their simulator made; one written before a
    # parameter existed (here: pixel_tolerance) was made as that parameter's default does
    from skgal import MoffatPSF
    from skgal.datasets import _made_by

    sim = SersicGalaxySimulator(image_size=8, psf=MoffatPSF(2.0, 3.0), output="flux")
    data = load_galaxy_dataset(make_galaxy_dataset(tmp_path / "a.h5", 2, simulator=sim,
                                                   random_state=0))
    assert data.settings["parameters"]["pixel_tolerance"] is None
    assert _made_by(data.settings, sim)
    parameters = {k: v for k, v in data.settings["parameters"].items()
                  if k != "pixel_tolerance"}
    older = {**data.settings, "parameters": parameters}
    assert _made_by(older, sim)
    assert not _made_by(older, sim.set_params(pixel_tolerance=1e-3))
    assert not _made_by(data.settings, sim)
