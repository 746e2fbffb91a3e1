"""pmm.nn.Linear and pmm.nn.Bias: affine maps, their initialisation and dtypes."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.nn import Bias, Linear


def test_linear_computes_data_at_weight_plus_bias(key):
    layer = Linear(features=2)
    params, _ = layer.init(key, (3,))
    params = {"weight": params["weight"], "bias": jnp.array([0.5, -1.0])}
    data = jax.random.normal(key, (4, 3))
    expected = np.asarray(data) @ np.asarray(params["weight"]) + np.array([0.5, -1.0])
    np.testing.assert_allclose(layer(params, data)[0], expected, rtol=1e-6)


def test_linear_acts_on_the_last_axis_of_higher_rank_data(key):
    layer = Linear(features=5)
    params, _ = layer.init(key, (3,))
    data = jax.random.normal(key, (4, 2, 3))
    output, _ = layer(params, data)
    assert output.shape == (4, 2, 5)
    np.testing.assert_allclose(output[:, 1], layer(params, data[:, 1])[0], rtol=1e-6)


def test_linear_params_are_weight_in_by_features_and_zero_bias(key):
    params, state = Linear(features=2).init(key, (3,))
    assert params["weight"].shape == (3, 2) and state == ()
    np.testing.assert_array_equal(params["bias"], np.zeros(2))


def test_linear_without_bias_has_only_a_weight(key):
    params, _ = Linear(features=2, use_bias=False).init(key, (3,))
    assert sorted(params) == ["weight"]


def test_linear_weight_is_lecun_normal_with_variance_one_over_fan_in(key):
    weight = Linear(features=500).init(key, (400,))[0]["weight"]
    assert abs(float(jnp.var(weight)) * 400 - 1) < 0.02
    assert abs(float(jnp.mean(weight))) < 0.002


def test_complex_linear_draws_real_and_imaginary_parts_each_with_half_the_variance(key):
    weight = Linear(features=500, dtype="complex64").init(key, (400,))[0]["weight"]
    assert weight.dtype == jnp.complex64
    for part in (weight.real, weight.imag):
        assert abs(float(jnp.var(part)) * 2 * 400 - 1) < 0.03
    assert abs(float(jnp.corrcoef(weight.real.ravel(), weight.imag.ravel())[0, 1])) < 0.01


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_linear_params_and_output_take_the_dtype(key, dtype):
    layer = Linear(features=2, dtype=dtype)
    params, _ = layer.init(key, (3,))
    assert {leaf.dtype for leaf in jax.tree.leaves(params)} == {jnp.dtype(dtype)}
    assert layer(params, jnp.ones((4, 3), dtype))[0].dtype == jnp.dtype(dtype)


def test_float64_linear_works_with_x64_enabled(key, x64):
    layer = Linear(features=2, dtype="float64")
    params, _ = layer.init(key, (3,))
    assert layer(params, jnp.ones((4, 3), jnp.float64))[0].dtype == jnp.float64


@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_64_bit_dtype_without_x64_fails_at_init_saying_how_to_enable_it(key, dtype):
    with pytest.raises(ValueError, match="jax_enable_x64"):
        Linear(features=2, dtype=dtype).init(key, (3,))


@pytest.mark.parametrize("dtype", [jnp.float32, np.dtype("complex64"), "f4", "complex128"])
def test_dtype_is_stored_as_its_canonical_name(dtype):
    assert Linear(features=1, dtype=dtype).dtype == jnp.dtype(dtype).name


@pytest.mark.parametrize("input_shape", [(), (None,), {"a": (3,)}])
def test_linear_needs_one_array_with_a_known_last_axis(key, input_shape):
    with pytest.raises(pmm.ShapeError, match="Linear"):
        Linear(features=2).init(key, input_shape)


def test_linear_output_shape_keeps_unknown_leading_sizes():
    assert Linear(features=4).output_shape((None, 3)) == (None, 4)


def test_bias_adds_a_trainable_array_of_the_full_sample_shape(key):
    layer = Bias()
    params, _ = layer.init(key, (2, 3))
    assert params["bias"].shape == (2, 3)
    np.testing.assert_array_equal(params["bias"], np.zeros((2, 3)))
    bias = jax.random.normal(key, (2, 3))
    data = jnp.ones((4, 2, 3))
    expected = np.broadcast_to(1 + np.asarray(bias), (4, 2, 3))
    np.testing.assert_allclose(layer({"bias": bias}, data)[0], expected)


def test_bias_needs_every_size_known(key):
    with pytest.raises(pmm.ShapeError, match="None"):
        Bias().init(key, (None, 3))
