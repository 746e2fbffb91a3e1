"""pmm.nn.BatchNorm and pmm.nn.LayerNorm against numpy, and BatchNorm's running statistics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.nn import BatchNorm, LayerNorm


def _random_params(key, params):
    keys = jax.random.split(key, len(params))
    return {
        name: jax.random.normal(k, value.shape)
        for k, (name, value) in zip(keys, params.items(), strict=True)
    }


def test_batchnorm_in_training_normalises_each_feature_over_all_other_axes(key):
    layer = BatchNorm(epsilon=1e-3)
    params, state = layer.init(key, (3, 4))
    params = _random_params(key, params)
    data = 2 + 3 * jax.random.normal(jax.random.key(1), (8, 3, 4))
    output, _ = layer(params, data, True, state, None)
    x = np.asarray(data, np.float64)
    mean, var = x.mean(axis=(0, 1)), x.var(axis=(0, 1))
    expected = (x - mean) / np.sqrt(var + 1e-3) * params["scale"] + params["offset"]
    np.testing.assert_allclose(output, expected, rtol=1e-4, atol=1e-5)


def test_batchnorm_training_moves_running_statistics_towards_the_batch(key):
    layer = BatchNorm(momentum=0.9)
    params, state = layer.init(key, (4,))
    data = 2 + 3 * jax.random.normal(key, (16, 4))
    _, new_state = layer(params, data, True, state, None)
    x = np.asarray(data, np.float64)
    np.testing.assert_allclose(new_state["mean"], 0.1 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(new_state["var"], 0.9 + 0.1 * x.var(axis=0), rtol=1e-5)


def test_batchnorm_in_evaluation_uses_running_statistics_and_keeps_the_state(key):
    layer = BatchNorm(epsilon=1e-3)
    params, _ = layer.init(key, (4,))
    state = {"mean": jnp.arange(4.0), "var": jnp.arange(1.0, 5.0)}
    data = jax.random.normal(key, (6, 4))
    output, new_state = layer(params, data, False, state, None)
    expected = (np.asarray(data) - np.arange(4.0)) / np.sqrt(np.arange(1.0, 5.0) + 1e-3)
    np.testing.assert_allclose(output, expected, rtol=1e-5)
    assert new_state is state


def test_batchnorm_state_threads_through_training_steps_under_jit(key):
    layer = BatchNorm(momentum=0.5)
    params, state = layer.init(key, (2,))
    step = jax.jit(layer, static_argnums=2)
    data = jnp.array([[1.0, 10.0], [3.0, 30.0]])
    for _ in range(3):
        _, state = step(params, data, True, state, None)
    np.testing.assert_allclose(state["mean"], (1 - 0.5**3) * np.array([2.0, 20.0]), rtol=1e-6)
    _, after_eval = step(params, data, False, state, None)
    jax.tree.map(np.testing.assert_array_equal, after_eval, state)


@pytest.mark.parametrize(("dtype", "var_dtype"), [("float32", "float32"), ("complex64", "float32")])
def test_batchnorm_state_keeps_its_dtypes_and_shapes_in_training(key, dtype, var_dtype):
    layer = BatchNorm(dtype=dtype)
    params, state = layer.init(key, (3,))
    data = jax.random.normal(key, (5, 3)).astype(dtype) * (1 + 1j if dtype == "complex64" else 1)
    _, new_state = layer(params, data, True, state, None)
    assert new_state["mean"].dtype == jnp.dtype(dtype)
    assert new_state["var"].dtype == jnp.dtype(var_dtype)
    assert jax.tree.map(jnp.shape, new_state) == jax.tree.map(jnp.shape, state)


def test_batchnorm_of_complex_data_uses_the_mean_squared_modulus(key):
    layer = BatchNorm(dtype="complex64", epsilon=1e-6)
    params, state = layer.init(key, (2,))
    data = jax.random.normal(key, (64, 2)) + 1j * jax.random.normal(jax.random.key(1), (64, 2))
    output, _ = layer(params, data.astype(jnp.complex64), True, state, None)
    np.testing.assert_allclose(np.mean(np.abs(np.asarray(output)) ** 2, axis=0), 1, rtol=1e-4)
    np.testing.assert_allclose(np.mean(np.asarray(output), axis=0), 0, atol=1e-5)


def test_layernorm_normalises_each_sample_over_the_last_axis(key):
    layer = LayerNorm(epsilon=1e-3)
    params, state = layer.init(key, (5,))
    params = _random_params(key, params)
    data = 1 + 4 * jax.random.normal(jax.random.key(1), (3, 2, 5))
    output, new_state = layer(params, data, False, state, None)
    x = np.asarray(data, np.float64)
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-3) * params["scale"] + params["bias"]
    np.testing.assert_allclose(output, expected, rtol=1e-4, atol=1e-5)
    assert new_state == ()


def test_layernorm_starts_as_plain_standardisation(key):
    params, _ = LayerNorm().init(key, (4,))
    output, _ = LayerNorm()(params, jnp.array([[1.0, 2.0, 3.0, 6.0]]))
    np.testing.assert_allclose(np.mean(output), 0, atol=1e-6)
    np.testing.assert_allclose(np.var(output), 1, rtol=1e-4)


@pytest.mark.parametrize(
    ("use_scale", "use_bias", "names"),
    [
        (True, True, ["bias", "scale"]),
        (False, True, ["bias"]),
        (True, False, ["scale"]),
        (False, False, []),
    ],
)
def test_layernorm_params_follow_use_scale_and_use_bias(key, use_scale, use_bias, names):
    layer = LayerNorm(use_scale=use_scale, use_bias=use_bias)
    params, _ = layer.init(key, (3,))
    assert sorted(params) == names
    assert layer(params, jnp.ones((2, 3)))[0].shape == (2, 3)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: BatchNorm(momentum=1.5), "momentum"),
        (lambda: BatchNorm(epsilon=0.0), "epsilon"),
        (lambda: LayerNorm(epsilon=-1.0), "epsilon"),
        (lambda: LayerNorm(use_scale="yes"), "use_scale"),
        (lambda: BatchNorm(dtype="int32"), "dtype"),
    ],
)
def test_bad_normalisation_hyperparameters_fail_naming_the_field(make, field):
    with pytest.raises(ValueError, match=f"'{field}'"):
        make()


def test_batchnorm_with_real_statistics_refuses_complex_data(key):
    layer = BatchNorm()
    params, state = layer.init(key, (2,))
    data = jnp.ones((4, 2), jnp.complex64)
    for training in (True, False):
        with pytest.raises(pmm.ShapeError, match=r"complex64\[4, 2\].*dtype='complex64'"):
            layer(params, data, training, state, None)


def test_batchnorm_training_on_one_value_per_feature_is_a_shape_error(key):
    layer = BatchNorm()
    params, state = layer.init(key, (3,))
    with pytest.raises(pmm.ShapeError, match=r"float32\[1, 3\].*at least 2 samples"):
        layer(params, jnp.ones((1, 3)), True, state, None)


def test_batchnorm_accepts_a_single_sample_in_evaluation_and_with_other_axes(key):
    layer = BatchNorm()
    params, state = layer.init(key, (2, 3))
    assert layer(params, jnp.ones((1, 2, 3)), True, state, None)[0].shape == (1, 2, 3)
    assert layer(params, jnp.ones((1, 2, 3)), False, state, None)[0].shape == (1, 2, 3)


def test_batchnorm_called_without_its_state_says_to_pass_it():
    model = pmm.nn.Linear(features=2) >> pmm.nn.BatchNorm()
    params, _ = model.init(jax.random.key(0), (3,))
    with pytest.raises(pmm.ShapeError, match=r"Sequential\[1\] > BatchNorm\(\).*state from model"):
        model(params, jnp.ones((4, 3)))
