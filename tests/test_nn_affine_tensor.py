"""nn.AffineTensor: T0 + sum_i x_i T_i for a tensor of any shape, against a numpy loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pmm import nn


def reference(params, x):
    """``T0 + sum_i x_i T_i`` for every sample, summed term by term."""
    tensors = np.asarray(params["tensors"])
    out = np.zeros((*x.shape[:-1], *tensors.shape[1:]), tensors.dtype)
    for index in np.ndindex(*x.shape[:-1]):
        out[index] = params.get("offset", 0) + sum(
            x[(*index, i)] * tensors[i] for i in range(x.shape[-1])
        )
    return out


@pytest.mark.parametrize("shape", [(2, 3), (4,), (), (2, 2, 2)])
def test_affine_tensor_matches_the_sum_term_by_term(key, shape):
    layer = nn.AffineTensor(shape=shape)
    params, _ = layer.init(key, (3,))
    params["offset"] = jax.random.normal(jax.random.key(1), shape)  # T0 starts at zero
    x = np.asarray(jax.random.normal(key, (4, 3)))
    output, _ = layer(params, jnp.asarray(x))
    assert output.shape == (4, *shape) == (4, *layer.output_shape((3,)))
    np.testing.assert_allclose(output, reference(params, x), rtol=1e-5, atol=1e-6)


def test_leading_axes_of_each_sample_are_kept(key):
    layer = nn.AffineTensor(shape=(2,), bias_term=False, dtype="complex64")
    params, _ = layer.init(key, (5, 3))
    assert set(params) == {"tensors"} and params["tensors"].dtype == jnp.complex64
    x = np.asarray(jax.random.normal(key, (2, 5, 3)))
    np.testing.assert_allclose(layer(params, jnp.asarray(x))[0], reference(params, x), rtol=1e-5)
    assert layer.output_shape((None, 3)) == (None, 2)


def test_the_offset_starts_at_zero_and_the_tensors_are_drawn(key):
    params, _ = nn.AffineTensor(shape=(30, 30)).init(key, (4,))
    assert not params["offset"].any()
    assert 0.2 < float(params["tensors"].var()) < 0.3  # LeCun normal: 1 / 4


@pytest.mark.parametrize("shape", [(-1,), (2.0,), 3, (True,)])
def test_a_bad_shape_is_refused(shape):
    with pytest.raises(ValueError, match="field 'shape' of AffineTensor"):
        nn.AffineTensor(shape=shape)
