"""pmm.nn.Constant: a fixed or trainable value broadcast over the batch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pmm.nn import Constant


def test_constant_broadcasts_its_value_over_the_batch_ignoring_input_values(key):
    layer = Constant(value=((1.0, 2.0), (3.0, 4.0)))
    params, state = layer.init(key, (5,))
    output, _ = layer(params, jax.random.normal(key, (3, 5)), False, state, None)
    np.testing.assert_array_equal(output, np.broadcast_to([[1.0, 2.0], [3.0, 4.0]], (3, 2, 2)))
    assert params == () and layer.output_shape((5,)) == (2, 2)


def test_constant_takes_the_batch_size_from_pytree_data():
    output, _ = Constant(value=7)((), {"a": jnp.zeros((4, 2)), "b": jnp.zeros((4,))})
    assert output.shape == (4,) and output.dtype == jnp.float32


def test_complex_values_give_complex_output():
    output, _ = Constant(value=(1 + 2j, 3.0))((), jnp.zeros((2, 1)))
    assert output.dtype == jnp.complex64
    np.testing.assert_array_equal(output[1], [1 + 2j, 3.0])


def test_trainable_constant_outputs_its_param_and_gets_gradients(key):
    layer = Constant(value=(1.0, 2.0), trainable=True)
    params, state = layer.init(key, (3,))
    np.testing.assert_array_equal(params["value"], [1.0, 2.0])
    grad = jax.grad(lambda p: jnp.sum(layer(p, jnp.zeros((4, 3)), False, state, None)[0]))(params)
    np.testing.assert_array_equal(grad["value"], [4.0, 4.0])


def test_a_list_value_is_frozen_to_a_tuple():
    assert Constant(value=[[1.0], [2.0]]).value == ((1.0,), (2.0,))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"value": "1.0"}, "value"),
        ({"value": ((1.0, 2.0), (3.0,))}, "value"),
        ({"value": True}, "value"),
        ({"value": 1.0, "trainable": 1}, "trainable"),
    ],
)
def test_bad_constant_hyperparameters_fail_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"'{field}'"):
        Constant(**kwargs)
