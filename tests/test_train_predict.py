"""pmm.predict: jitted, batched evaluation equal to one call of the model."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pmm
from tests.modules import Counter, Dense, Noise


def test_batched_prediction_equals_one_call_including_a_partial_batch():
    model = Dense(features=2)
    params, state = model.init(jax.random.key(0), (3,))
    x = jax.random.normal(jax.random.key(1), (10, 3))
    expected, _ = model(params, x, False, state, None)
    np.testing.assert_allclose(
        pmm.predict(model, params, state, x, batch_size=4), expected, rtol=1e-6
    )


def test_prediction_without_batch_size_is_one_call():
    model = Dense(features=2)
    params, state = model.init(jax.random.key(0), (3,))
    x = jnp.ones((5, 3))
    np.testing.assert_array_equal(
        pmm.predict(model, params, state, x), model(params, x, False, state, None)[0]
    )


def test_prediction_runs_in_evaluation_mode():
    model = Counter() >> Noise()
    params, state = model.init(None, (2,))
    x = jnp.ones((6, 2))
    np.testing.assert_array_equal(pmm.predict(model, params, state, x, batch_size=4), x)


def test_pytree_inputs_give_pytree_outputs():
    model = pmm.Parallel(a=pmm.Select("a"), b=pmm.Select("b"))
    x = {"a": jnp.arange(10.0).reshape(5, 2), "b": jnp.ones((5, 1))}
    params, state = model.init(None, {"a": (2,), "b": (1,)})
    out = pmm.predict(model, params, state, x, batch_size=2)
    np.testing.assert_array_equal(out["a"], x["a"])
    assert out["b"].shape == (5, 1)


@pytest.mark.parametrize("batch_size", [0, 2.5])
def test_a_bad_batch_size_is_refused(batch_size):
    with pytest.raises(ValueError, match="batch_size must be an int >= 1 or None"):
        pmm.predict(Noise(), (), (), jnp.ones((3, 1)), batch_size=batch_size)


@settings(max_examples=20, deadline=None)
@given(samples=st.integers(1, 23), batch_size=st.integers(1, 30))
def test_every_row_comes_back_once_and_in_order_whatever_the_batch_size(samples, batch_size):
    x = jnp.arange(2.0 * samples).reshape(samples, 2)
    out = pmm.predict(Noise(), (), (), x, batch_size=batch_size)
    np.testing.assert_array_equal(out, x)
