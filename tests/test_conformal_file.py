"""Saving and loading a calibration: the same intervals after a round trip, a safe file that
numpy reads without pickles, and a clear refusal of any other model."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm

MODEL = pmm.nn.Linear(features=2)
PARAMS = {"weight": jnp.array([[1.0, -2.0]]), "bias": jnp.array([0.5, 0.0])}


def data(samples=30, seed=0):
    generator = np.random.default_rng(seed)
    x = generator.uniform(-1, 1, (samples, 1)).astype(np.float32)
    return x, (x * np.array([1.0, -2.0]) + generator.normal(size=(samples, 2))).astype(np.float32)


@pytest.fixture
def normalized():
    x_cal, y_cal = data()
    return pmm.conformal.calibrate(
        MODEL, PARAMS, (), x_cal, y_cal, "normalized", x_train=data(20, seed=1)[0], batch_size=8
    )


def test_a_saved_normalized_calibration_loads_back_to_the_same_intervals(normalized, tmp_path):
    pmm.conformal.save(tmp_path / "cal.pmmc", normalized)
    loaded = pmm.conformal.load(tmp_path / "cal.pmmc", MODEL, PARAMS, ())
    assert (loaded.score, loaded.batch_size, loaded.n) == ("normalized", 8, 30)
    x = data(6, seed=2)[0]
    for before, after in zip(
        pmm.conformal.interval(normalized, x, (0.2, 0.5)),
        pmm.conformal.interval(loaded, x, (0.2, 0.5)),
        strict=True,
    ):
        np.testing.assert_array_equal(after, before)


def test_a_saved_classifier_calibration_loads_back_to_the_same_sets(tmp_path):
    model = pmm.nn.Linear(features=3)
    params, _ = model.init(jax.random.key(0), (2,))
    x = jax.random.normal(jax.random.key(1), (25, 2))
    labels = jnp.arange(25) % 3
    cal = pmm.conformal.calibrate(model, params, (), x, labels, "aps", rng=0, outputs="logits")
    pmm.conformal.save(tmp_path / "cal.pmmc", cal)
    loaded = pmm.conformal.load(tmp_path / "cal.pmmc", model, params, ())
    np.testing.assert_array_equal(
        pmm.conformal.prediction_set(loaded, x, 0.1, rng=1),
        pmm.conformal.prediction_set(cal, x, 0.1, rng=1),
    )


def test_the_file_is_a_zip_of_npy_members_that_numpy_reads_without_pickles(normalized, tmp_path):
    pmm.conformal.save(tmp_path / "cal.pmmc", normalized)
    with np.load(tmp_path / "cal.pmmc", allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes())
        assert header["format"] == "pmm-conformal"
        assert header["fingerprint"] == normalized.fingerprint
        scores = [archive[name] for name, record in header["arrays"].items() if "scores" in name]
    np.testing.assert_array_equal(scores[0], normalized.scores)


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (MODEL, {"weight": PARAMS["weight"], "bias": PARAMS["bias"] + 1e-3}),
        (pmm.nn.Linear(features=2, kernel_init="zeros"), PARAMS),
    ],
    ids=["other-params", "other-spec"],
)
def test_loading_for_another_model_is_refused(normalized, tmp_path, model, params):
    pmm.conformal.save(tmp_path / "cal.pmmc", normalized)
    with pytest.raises(pmm.LoadError, match=r"cal.pmmc: it calibrates another model"):
        pmm.conformal.load(tmp_path / "cal.pmmc", model, params, ())


def test_a_model_file_is_not_a_calibration(tmp_path):
    pmm.save(tmp_path / "model.pmm", MODEL, PARAMS)
    with pytest.raises(pmm.LoadError, match=r"model\.pmm: header\.npy is not a pmm-conformal"):
        pmm.conformal.load(tmp_path / "model.pmm", MODEL, PARAMS, ())


def test_a_truncated_calibration_file_is_refused(normalized, tmp_path):
    path = tmp_path / "cal.pmmc"
    pmm.conformal.save(path, normalized)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(pmm.LoadError, match=r"cal\.pmmc"):
        pmm.conformal.load(path, MODEL, PARAMS, ())
