"""Every argument of fit and predict is checked before any work, and the error names it.

NumPy integer and float scalars are accepted wherever Python ones are; bools are not numbers;
data with no samples is refused naming the argument.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from tests.modules import Scale

X = jax.random.normal(jax.random.key(0), (12, 3))
Y = 2 * X
PARAMS = {"s": jnp.zeros(3)}


def fit(**options):
    arguments = {"model": Scale(), "params": PARAMS, "state": (), "x": X, "y": Y}
    arguments |= {"epochs": 2, "batch_size": 4, "progress": False} | options
    return pmm.fit(**arguments)


BAD = [
    ("model", "Scale", r"model must be a pmm.Module instance"),
    ("params", {"s": "abc"}, r"params\['s'\] must be a numeric array, got 'abc'"),
    ("state", {"c": object()}, r"state\['c'\] must be a numeric array"),
    ("x", np.array([["a", "b", "c"]] * 12), r"x must be a numeric array.*dtype <U1"),
    ("y", {"t": None, "u": "z"}, r"y\['u'\] must be a numeric array"),
    ("loss", 3, r"loss must be one of \[.*'mse'.*\] or a callable"),
    ("loss", "l2", r"loss must be one of .* got 'l2'"),
    ("optimizer", "adam", r"optimizer must be an optax.GradientTransformation .*got 'adam'"),
    ("epochs", True, r"epochs must be an int >= 0, got True"),
    ("epochs", None, r"epochs must be an int >= 0, got None"),
    ("epochs", 2.0, r"epochs must be an int >= 0, got 2.0"),
    ("epochs", -1, r"epochs must be an int >= 0, got -1"),
    ("batch_size", None, r"batch_size must be an int >= 1, got None"),
    ("batch_size", 0, r"batch_size must be an int >= 1, got 0"),
    ("batch_size", np.True_, r"batch_size must be an int >= 1, got .*True"),
    ("batch_size", "16", r"batch_size must be an int >= 1, got '16'"),
    ("val_batch_size", 0, r"val_batch_size must be an int >= 1 or None, got 0"),
    ("rng", True, r"rng must be a PRNG key .* or an int seed"),
    ("rng", "abc", r"rng must be a PRNG key"),
    ("validation", X, r"validation must be a tuple \(x_val, y_val\)"),
    ("sample_weight", jnp.ones(11), r"sample weights must be real numbers of shape \(12,\)"),
    ("patience", 0, r"patience must be an int >= 1 or None, got 0"),
    ("patience", False, r"patience must be an int >= 1 or None, got False"),
    ("min_delta", float("nan"), r"min_delta must be a finite number >= 0, got nan"),
    ("min_delta", -0.1, r"min_delta must be a finite number >= 0, got -0.1"),
    ("min_delta", None, r"min_delta must be a finite number >= 0, got None"),
    ("target_loss", "0.1", r"target_loss must be a finite real number or None, got '0.1'"),
    ("target_loss", float("inf"), r"target_loss must be a finite real number or None, got inf"),
    ("restore_best", 1, r"restore_best must be True or False or None, got 1"),
    ("trainable", {"s": "yes"}, r"trainable must be a bool PyTree.*got 'yes'"),
    (
        "trainable",
        lambda path: None,
        r"trainable\(Scale\(\)\['s'\]\) must be True or False, got None",
    ),
    ("progress", "yes", r"progress must be True or False, got 'yes'"),
    ("callback", 3, r"callback must be a callable or None, got 3"),
    ("host_callback", 3, r"host_callback must be a callable or None, got 3"),
    ("checkpoint", 3, r"checkpoint must be a file path \(str or os.PathLike\) or None, got 3"),
    ("checkpoint_every", 2, r"resume and checkpoint_every need checkpoint=<path"),
    ("resume", "yes", r"resume must be True or False, got 'yes'"),
    ("resume", True, r"resume and checkpoint_every need checkpoint=<path"),
    ("mesh", "data", r"mesh must be a jax.sharding.Mesh"),
]


@pytest.mark.parametrize(
    ("name", "value", "message"), BAD, ids=[f"{n}={v!r}"[:40] for n, v, _ in BAD]
)
def test_a_bad_argument_is_refused_by_name_before_training(name, value, message):
    with pytest.raises(ValueError, match=message):
        fit(**{name: value})


def test_a_trained_integer_param_is_refused_with_the_way_out():
    with pytest.raises(ValueError, match=r"params\['s'\] has dtype int32 .*trainable="):
        fit(params={"s": jnp.zeros(3, jnp.int32)})


def test_numpy_scalars_are_accepted_wherever_python_numbers_are(tmp_path):
    python = {
        "epochs": 3, "batch_size": 4, "val_batch_size": 6, "patience": 5, "min_delta": 0.0,
        "target_loss": 1e-9, "restore_best": True, "progress": False, "rng": 1,
    }  # fmt: skip
    numpy = {
        "epochs": np.int32(3), "batch_size": np.int64(4), "val_batch_size": np.int16(6),
        "patience": np.int64(5), "min_delta": np.float32(0.0), "target_loss": np.float64(1e-9),
        "restore_best": np.True_, "progress": np.False_, "rng": np.uint8(1),
    }  # fmt: skip
    by_python = fit(**python, validation=(X, Y))
    by_numpy = fit(
        **numpy, validation=(X, Y), checkpoint=tmp_path / "run", checkpoint_every=np.int64(1)
    )
    np.testing.assert_array_equal(by_numpy.history["loss"], by_python.history["loss"])
    np.testing.assert_array_equal(by_numpy.params["s"], by_python.params["s"])


def test_zero_samples_are_refused_naming_the_data():
    with pytest.raises(ValueError, match=r"x and y hold 0 samples; give at least one"):
        fit(x=X[:0], y=Y[:0])


def test_empty_validation_data_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"validation x and validation y hold 0 samples"):
        fit(validation=(X[:0], Y[:0]))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": lambda *a: a}, r"model must be a pmm.Module"),
        ({"batch_size": True}, r"batch_size must be an int >= 1 or None, got True"),
        ({"batch_size": 2.5}, r"batch_size must be an int >= 1 or None, got 2.5"),
        ({"x": np.array(["a"] * 4)}, r"x must be a numeric array"),
        ({"params": {"s": None, "t": "w"}}, r"params\['t'\] must be a numeric array"),
    ],
)
def test_a_bad_predict_argument_is_named(options, message):
    arguments = {"model": Scale(), "params": PARAMS, "state": (), "x": X} | options
    with pytest.raises(ValueError, match=message):
        pmm.predict(**arguments)


def test_predict_takes_a_numpy_batch_size():
    np.testing.assert_array_equal(
        pmm.predict(Scale(), PARAMS, (), X, batch_size=np.int64(5)), np.zeros((12, 3))
    )
