"""PReLU: a learned negative slope, one per feature or one shared."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pmm import nn


def test_each_feature_has_its_own_slope_starting_at_a_quarter():
    params, state = nn.PReLU().init(jax.random.key(0), (2, 3))
    np.testing.assert_array_equal(params["slope"], [0.25, 0.25, 0.25])
    slopes = jnp.array([0.1, -2.0, 3.0])
    x = np.random.default_rng(0).normal(size=(4, 2, 3)).astype(np.float32)
    output, _ = nn.PReLU()({"slope": slopes}, jnp.asarray(x), False, state, None)
    expected = np.where(x >= 0, x, np.asarray(slopes) * x)
    np.testing.assert_allclose(output, expected, rtol=1e-6)


def test_one_shared_slope_scales_every_negative_entry():
    module = nn.PReLU(initial_slope=0.5, per_feature=False)
    params, _ = module.init(jax.random.key(0), (3,))
    assert params["slope"].shape == ()
    output, _ = module(params, jnp.array([[-2.0, 0.0, 4.0]]), False, (), None)
    np.testing.assert_array_equal(output, [[-1.0, 0.0, 4.0]])


def test_the_slope_gradient_is_the_sum_of_the_negative_entries():
    x = jnp.array([[-1.0, 2.0], [-3.0, -0.5]])
    grad = jax.grad(lambda p: nn.PReLU()(p, x, False, (), None)[0].sum())({"slope": jnp.ones(2)})
    np.testing.assert_array_equal(grad["slope"], [-4.0, -0.5])


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"dtype": "complex64"}, "dtype"),
        ({"initial_slope": "0.25"}, "initial_slope"),
        ({"per_feature": 1}, "per_feature"),
    ],
)
def test_bad_hyperparameters_fail_at_construction_naming_the_field(fields, name):
    with pytest.raises(ValueError, match=f"field '{name}'"):
        nn.PReLU(**fields)
