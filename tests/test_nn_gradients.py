"""jax.grad of the differentiable layers, w.r.t. params and data, against central differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from pmm import nn

CASES = [
    pytest.param(nn.Linear(features=3, dtype="float64"), False, id="Linear"),
    pytest.param(nn.LayerNorm(dtype="float64"), False, id="LayerNorm"),
    pytest.param(nn.BatchNorm(dtype="float64"), True, id="BatchNorm-training"),
    pytest.param(nn.GELU(), False, id="GELU"),
    pytest.param(nn.MatMul(features=3, dtype="float64"), False, id="MatMul"),
    pytest.param(nn.AffineTensor(shape=(2, 2), dtype="float64"), False, id="AffineTensor"),
    pytest.param(nn.LogSumExp(), False, id="LogSumExp"),
    pytest.param(nn.Standardize(), False, id="Standardize"),
    pytest.param(
        nn.MLP(hidden=(5,), features=2, activation="tanh", dtype="float64"), False, id="MLP"
    ),
]


def _central_difference(function, x, step=1e-6):
    """The gradient of scalar ``function`` at PyTree ``x``, all directions in one vmapped call."""
    flat, unravel = ravel_pytree(x)
    along = jax.jit(jax.vmap(lambda point: function(unravel(point))))
    shifts = step * jnp.eye(flat.size, dtype=flat.dtype)
    return unravel((along(flat + shifts) - along(flat - shifts)) / (2 * step))


@pytest.mark.parametrize(("module", "training"), CASES)
def test_grad_wrt_params_and_data_matches_central_differences(module, training, x64):
    key = jax.random.key(0)
    params, state = module.init(key, (4,))
    params = jax.tree.map(
        lambda leaf: leaf + 0.1 * jax.random.normal(key, leaf.shape, leaf.dtype), params
    )
    data = jax.random.normal(jax.random.key(1), (3, 4), jnp.float64)
    probe = jax.random.normal(jax.random.key(2), module.output_shape((4,)), jnp.float64)

    def loss(p, x):
        return jnp.sum(jnp.sin(module(p, x, training, state, None)[0]) * probe)

    grad_params, grad_data = jax.grad(loss, argnums=(0, 1))(params, data)
    numeric_data = _central_difference(lambda x: loss(params, x), data)
    np.testing.assert_allclose(grad_data, numeric_data, rtol=1e-6, atol=1e-8)
    if jax.tree.leaves(params):
        numeric_params = _central_difference(lambda p: loss(p, data), params)
        jax.tree.map(
            lambda g, n: np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8),
            grad_params,
            numeric_params,
        )
