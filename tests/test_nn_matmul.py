"""nn.MatMul: data times a trainable matrix on a chosen axis, against numpy loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pmm import ShapeError, nn


def reference(x, weight, axis):
    """``y[..., j, ...] = sum_i x[..., i, ...] weight[i, j]`` with explicit loops over i and j."""
    moved = np.moveaxis(np.asarray(x), axis, -1)
    out = np.zeros((*moved.shape[:-1], weight.shape[1]), moved.dtype)
    for i in range(weight.shape[0]):
        for j in range(weight.shape[1]):
            out[..., j] += moved[..., i] * weight[i, j]
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize(
    ("axis", "sample"), [(-1, (4, 3)), (-2, (4, 3)), (1, (4, 3)), (2, (2, 4, 3))]
)
def test_matmul_contracts_the_chosen_axis(key, axis, sample):
    layer = nn.MatMul(features=5, axis=axis)
    params, _ = layer.init(key, sample)
    x = jax.random.normal(key, (2, *sample))
    output, _ = layer(params, x)
    expected = reference(x, np.asarray(params["weight"]), axis)
    assert output.shape == expected.shape == (2, *layer.output_shape(sample))
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-6)


def test_the_weight_is_in_by_features_and_axis_minus_two_mixes_rows(key):
    layer = nn.MatMul(features=2, axis=-2)
    params, _ = layer.init(key, (4, 3))
    assert params["weight"].shape == (4, 2)
    x = jax.random.normal(key, (1, 4, 3))
    np.testing.assert_allclose(layer(params, x)[0][0], params["weight"].T @ x[0], rtol=1e-6)


def test_complex_weights(key):
    params, _ = nn.MatMul(features=2, dtype="complex64").init(key, (3,))
    assert params["weight"].dtype == jnp.complex64


def test_bad_fields_and_shapes_are_refused(key):
    with pytest.raises(ValueError, match="field 'axis'"):
        nn.MatMul(features=2, axis=0)
    with pytest.raises(ValueError, match="field 'features'"):
        nn.MatMul(features=0)
    with pytest.raises(ShapeError, match="acts on axis 3"):
        nn.MatMul(features=2, axis=3).init(key, (4,))
    with pytest.raises(ShapeError, match="size must be known"):
        nn.MatMul(features=2, axis=1).init(key, (None, 3))
    assert nn.MatMul(features=2).output_shape((None, 3)) == (None, 2)
