"""pmm.nn.MLP: the Sequential of Linear and Activation layers it stands for."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.nn import MLP, Activation, Linear


def test_mlp_params_and_output_equal_the_equivalent_sequential(key):
    mlp = MLP(hidden=(8, 4), features=2, activation="tanh")
    sequential = pmm.Sequential(
        Linear(features=8),
        Activation("tanh"),
        Linear(features=4),
        Activation("tanh"),
        Linear(features=2),
    )
    params, _ = mlp.init(key, (3,))
    jax.tree.map(np.testing.assert_array_equal, params, sequential.init(key, (3,))[0])
    data = jax.random.normal(key, (5, 3))
    np.testing.assert_array_equal(mlp(params, data)[0], sequential(params, data)[0])
    assert mlp.built == sequential and mlp.output_shape((None, 3)) == (None, 2)


def test_mlp_without_hidden_layers_is_one_linear_layer(key):
    assert MLP(hidden=(), features=3).built == pmm.Sequential(Linear(features=3))


def test_mlp_passes_use_bias_and_dtype_to_every_linear_layer():
    layers = MLP(hidden=(4,), use_bias=False, dtype="complex64").built.layers
    assert layers[0] == Linear(features=4, use_bias=False, dtype="complex64")
    assert layers[2] == Linear(features=1, use_bias=False, dtype="complex64")


def test_mlp_spec_holds_only_its_fields_and_shares_the_cached_sequential():
    mlp = MLP(hidden=[16])
    assert set(vars(mlp)) == {field.name for field in dataclasses.fields(mlp)}
    assert mlp.hidden == (16,) and mlp.built is MLP(hidden=(16,)).built


def test_errors_inside_an_mlp_name_the_mlp_and_the_layer(key):
    params, state = MLP(hidden=(4,)).init(key, (3,))
    with pytest.raises(TypeError) as caught:
        MLP(hidden=(4,))(params, jnp.ones((2, 5)), False, state, None)
    assert any(
        "MLP(hidden=(4,)) > Sequential[0] > Linear" in note for note in caught.value.__notes__
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hidden": (8, -1)}, "hidden"),
        ({"hidden": 8}, "hidden"),
        ({"features": 0}, "features"),
        ({"activation": "rectifier"}, "activation"),
        ({"use_bias": None}, "use_bias"),
        ({"dtype": "int8"}, "dtype"),
    ],
)
def test_bad_mlp_hyperparameters_fail_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"'{field}'"):
        MLP(**kwargs)
