"""jax.grad of the differentiable layers, w.r.t. params and data, against central differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from pmm import nn

CASES = [
    pytest.param(nn.Linear(features=3, dtype="float64"), False, (4,), id="Linear"),
    pytest.param(nn.LayerNorm(dtype="float64"), False, (4,), id="LayerNorm"),
    pytest.param(nn.BatchNorm(dtype="float64"), True, (4,), id="BatchNorm-training"),
    pytest.param(nn.GELU(), False, (4,), id="GELU"),
    pytest.param(nn.MatMul(features=3, dtype="float64"), False, (4,), id="MatMul"),
    pytest.param(nn.AffineTensor(shape=(2, 2), dtype="float64"), False, (4,), id="AffineTensor"),
    pytest.param(nn.LogSumExp(), False, (4,), id="LogSumExp"),
    pytest.param(nn.Standardize(), False, (4,), id="Standardize"),
    pytest.param(
        nn.MLP(hidden=(5,), features=2, activation="tanh", dtype="float64"), False, (4,), id="MLP"
    ),
    pytest.param(nn.Conv(3, (3, 2), strides=2, dtype="float64"), False, (5, 4, 2), id="Conv"),
    pytest.param(
        nn.Conv(4, (2, 2), padding="CIRCULAR", dilation=2, groups=2, dtype="float64"),
        False,
        (4, 3, 2),
        id="Conv-circular-grouped",
    ),
    pytest.param(
        nn.ConvTranspose(2, (3,), strides=2, padding="VALID", dtype="float64"),
        False,
        (4, 3),
        id="ConvTranspose",
    ),
    pytest.param(
        nn.ConvTranspose(2, (2, 2), strides=2, padding="CIRCULAR", groups=2, dtype="float64"),
        False,
        (2, 3, 2),
        id="ConvTranspose-circular-grouped",
    ),
    pytest.param(nn.MaxPool(2, padding="SAME"), False, (5, 4, 2), id="MaxPool"),
    pytest.param(nn.AvgPool((2, 2), 1, "SAME"), False, (4, 3, 2), id="AvgPool"),
    pytest.param(nn.GlobalAvgPool(), False, (3, 3, 2), id="GlobalAvgPool"),
]


def _central_difference(function, x, step=1e-6):
    """The gradient of scalar ``function`` at PyTree ``x``, all directions in one vmapped call."""
    flat, unravel = ravel_pytree(x)
    along = jax.jit(jax.vmap(lambda point: function(unravel(point))))
    shifts = step * jnp.eye(flat.size, dtype=flat.dtype)
    return unravel((along(flat + shifts) - along(flat - shifts)) / (2 * step))


@pytest.mark.parametrize(("module", "training", "input_shape"), CASES)
def test_grad_wrt_params_and_data_matches_central_differences(module, training, input_shape, x64):
    key = jax.random.key(0)
    params, state = module.init(key, input_shape)
    params = jax.tree.map(
        lambda leaf: leaf + 0.1 * jax.random.normal(key, leaf.shape, leaf.dtype), params
    )
    data = jax.random.normal(jax.random.key(1), (3, *input_shape), jnp.float64)
    probe = jax.random.normal(jax.random.key(2), module.output_shape(input_shape), jnp.float64)

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
