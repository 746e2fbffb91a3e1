"""pmm.nn.Dropout: identity in evaluation, inverted dropout in training, clear missing-key error."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.nn import Dropout


def test_dropout_is_the_identity_when_not_training():
    data = jnp.arange(6.0).reshape(2, 3)
    output, state = Dropout(rate=0.5)((), data, False, (), None)
    np.testing.assert_array_equal(output, data)
    assert state == ()


def test_dropout_with_rate_zero_is_the_identity_in_training_and_needs_no_key():
    data = jnp.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(Dropout(rate=0.0)((), data, True, (), None)[0], data)


def test_training_without_a_key_raises_rng_error_naming_the_module_and_the_fix():
    with pytest.raises(pmm.RngError) as caught:
        Dropout(rate=0.5)((), jnp.ones((2, 3)), True, (), None)
    message = str(caught.value)
    assert "Dropout(rate=0.5)" in message and "rng=jax.random.key(0)" in message


def test_missing_key_error_inside_a_model_gives_the_path():
    model = pmm.nn.Linear(features=3) >> Dropout(rate=0.5)
    params, state = model.init(jax.random.key(0), (2,))
    with pytest.raises(pmm.RngError, match=r"Sequential\[1\] > Dropout\(rate=0.5\)"):
        model(params, jnp.ones((4, 2)), True, state, None)


def test_dropout_zeroes_a_rate_fraction_and_scales_the_rest_by_one_over_keep(key):
    output, _ = Dropout(rate=0.3)((), jnp.ones((200, 500)), True, (), key)
    dropped = np.asarray(output) == 0
    assert abs(dropped.mean() - 0.3) < 0.01
    np.testing.assert_allclose(np.asarray(output)[~dropped], 1 / 0.7, rtol=1e-6)
    assert abs(float(output.mean()) - 1) < 0.02


def test_dropout_keeps_complex_values_and_dtype(key):
    data = jnp.full((50, 40), 1 + 2j, jnp.complex64)
    output, _ = Dropout(rate=0.5)((), data, True, (), key)
    assert output.dtype == jnp.complex64
    values = set(np.asarray(output).ravel().tolist())
    assert values == {0j, (1 + 2j) / 0.5}


def test_dropout_masks_are_random_per_key_and_per_leaf(key):
    data = {"a": jnp.ones((20, 30)), "b": jnp.ones((20, 30))}
    first, _ = Dropout(rate=0.5)((), data, True, (), key)
    again, _ = Dropout(rate=0.5)((), data, True, (), key)
    other, _ = Dropout(rate=0.5)((), data, True, (), jax.random.key(1))
    np.testing.assert_array_equal(first["a"], again["a"])
    assert not np.array_equal(first["a"], first["b"])
    assert not np.array_equal(first["a"], other["a"])


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5", True])
def test_rate_outside_zero_to_one_fails_naming_the_field(rate):
    with pytest.raises(ValueError, match="'rate'"):
        Dropout(rate=rate)
