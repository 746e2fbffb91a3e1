"""bfloat16 and float16 on every layer with a dtype: params, computation, checks, jit and grad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import nn

HALF = ["bfloat16", "float16"]

#: (make(dtype), input_shape) for every layer that takes a dtype (MLP: see ``_every_layer``).
LAYERS = [
    pytest.param(lambda dtype: nn.Linear(features=3, dtype=dtype), (4,), id="Linear"),
    pytest.param(lambda dtype: nn.Bias(dtype=dtype), (2, 4), id="Bias"),
    pytest.param(lambda dtype: nn.BatchNorm(dtype=dtype), (4,), id="BatchNorm"),
    pytest.param(lambda dtype: nn.LayerNorm(dtype=dtype), (4,), id="LayerNorm"),
    pytest.param(
        lambda dtype: nn.Einsum(equation="bi,ij->bj", sizes={"j": 2}, dtype=dtype),
        (4,),
        id="Einsum",
    ),
    pytest.param(lambda dtype: nn.Conv(3, (3, 3), dtype=dtype), (5, 5, 2), id="Conv"),
    pytest.param(
        lambda dtype: nn.ConvTranspose(3, (2,), strides=2, dtype=dtype), (4, 2), id="ConvTranspose"
    ),
    pytest.param(lambda dtype: nn.GroupNorm(groups=2, dtype=dtype), (3, 4), id="GroupNorm"),
    pytest.param(lambda dtype: nn.RMSNorm(dtype=dtype), (4,), id="RMSNorm"),
    pytest.param(lambda dtype: nn.PReLU(dtype=dtype), (4,), id="PReLU"),
    pytest.param(
        lambda dtype: nn.MultiHeadAttention(num_heads=2, dtype=dtype), (5, 4), id="Attention"
    ),
    pytest.param(lambda dtype: nn.Scan(nn.GRUCell(3, dtype=dtype)), (5, 4), id="GRU"),
    pytest.param(lambda dtype: nn.Scan(nn.LSTMCell(3, dtype=dtype)), (5, 4), id="LSTM"),
]

#: How close a half-precision result must be to the float32 one (relative to its scale).
TOLERANCE = {"bfloat16": 3e-2, "float16": 3e-3}


def _data(input_shape, dtype="float32"):
    return jax.random.normal(jax.random.key(1), (6, *input_shape)).astype(dtype)


def _every_layer(dtype):
    """One model through every layer that takes a dtype, on (6, 6, 2) images."""
    return (
        nn.Conv(4, (3, 3), dtype=dtype)
        >> nn.ConvTranspose(2, (2, 2), strides=2, dtype=dtype)
        >> nn.BatchNorm(dtype=dtype)
        >> nn.LayerNorm(dtype=dtype)
        >> nn.Bias(dtype=dtype)
        >> nn.Flatten()
        >> nn.Einsum(equation="bi,ij->bj", sizes={"j": 8}, dtype=dtype)
        >> nn.MLP(hidden=(5,), features=3, dtype=dtype)
        >> nn.Linear(features=2, dtype=dtype)
    )


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize(("make", "input_shape"), LAYERS)
def test_half_precision_output_is_the_float32_output_to_its_precision(
    make, input_shape, dtype, key
):
    half, full = make(dtype), make("float32")
    params, state = half.init(key, input_shape)  # state, if any, is float32 already
    full_params = jax.tree.map(lambda leaf: leaf.astype(jnp.float32), params)
    data = _data(input_shape, dtype)
    output = half(params, data, True, state, None)[0]
    assert output.dtype == jnp.dtype(dtype)
    output = output.astype(jnp.float32)
    expected = full(full_params, data.astype(jnp.float32), True, state, None)[0]
    scale = float(jnp.abs(expected).max())
    np.testing.assert_allclose(output, expected, atol=TOLERANCE[dtype] * scale)


@pytest.mark.parametrize(("make", "input_shape"), LAYERS)
def test_each_half_precision_layer_computes_float32_data_in_its_own_dtype(make, input_shape, key):
    layer = make("bfloat16")
    params, state = layer.init(key, input_shape)
    output = layer(params, _data(input_shape), True, state, None)[0]
    assert output.dtype == jnp.bfloat16


@pytest.mark.parametrize("dtype", HALF)
def test_half_precision_layers_compute_float32_data_in_their_dtype_under_shape_checks(dtype, key):
    model = _every_layer(dtype)
    params, state = model.init(key, (6, 6, 2))
    assert {leaf.dtype for leaf in jax.tree.leaves(params)} == {jnp.dtype(dtype)}
    with pmm.shape_checks():
        output, _ = model(params, _data((6, 6, 2)), True, state, None)
    assert output.dtype == jnp.dtype(dtype) and output.shape == (6, 2)


@pytest.mark.parametrize("dtype", HALF)
def test_jit_and_grad_work_in_half_precision(dtype, key):
    model = _every_layer(dtype)
    params, state = model.init(key, (6, 6, 2))
    data = _data((6, 6, 2), dtype)

    def loss(params):
        output = model(params, data, True, state, None)[0]
        return jnp.mean(output.astype(jnp.float32) ** 2)

    grads = jax.jit(jax.grad(loss))(params)
    for grad in jax.tree.leaves(grads):
        assert grad.dtype == jnp.dtype(dtype) and bool(jnp.isfinite(grad).all())


@pytest.mark.parametrize("dtype", HALF)
def test_batch_norm_keeps_float32_running_statistics_that_move_by_small_steps(dtype, key):
    model = nn.BatchNorm(momentum=0.999, dtype=dtype)
    params, state = model.init(key, (3,))
    assert {leaf.dtype for leaf in jax.tree.leaves(state)} == {jnp.dtype("float32")}
    data = (jnp.ones((8, 3)) * jnp.arange(8.0)[:, None] + 1).astype(dtype)
    _, state = model(params, data, True, state, None)
    # 0.001 * batch mean 4.5: a step far below bfloat16's resolution at 1.0 but kept in float32
    np.testing.assert_allclose(state["mean"], 0.0045, rtol=1e-3)


def test_half_precision_draws_are_float32_draws_rounded(key):
    weight = nn.Linear(features=3, dtype="bfloat16").init(key, (4,))[0]["weight"]
    reference = nn.Linear(features=3).init(key, (4,))[0]["weight"]
    np.testing.assert_array_equal(weight, reference.astype(jnp.bfloat16))


def test_half_precision_layers_save_and_load_bit_exact(key, tmp_path):
    model = nn.Conv(2, (3,), dtype="bfloat16") >> nn.BatchNorm(dtype="float16")
    params, state = model.init(key, (5, 2))
    pmm.save(tmp_path / "half.pmm", model, params, state, input_shape=(5, 2))
    loaded, loaded_params, loaded_state = pmm.load(tmp_path / "half.pmm")
    assert loaded == model
    for a, b in zip(
        jax.tree.leaves((params, state)),
        jax.tree.leaves((loaded_params, loaded_state)),
        strict=True,
    ):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_complex_data_in_a_half_precision_layer_stays_complex(key):
    model = nn.Linear(features=2, dtype="bfloat16")
    params, _ = model.init(key, (3,))
    output, _ = model(params, jnp.ones((2, 3), jnp.complex64) * 1j)
    assert output.dtype == jnp.complex64
