"""nn.Standardize: each sample to zero mean and unit variance."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pmm import ShapeError, nn


def reference(x, axes, epsilon=1e-5):
    mean = x.mean(axis=axes, keepdims=True)
    var = (np.abs(x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon)


@pytest.mark.parametrize(
    ("axis", "axes"), [(None, (1, 2)), (-1, (2,)), ((1, -1), (1, 2)), (1, (1,))]
)
def test_standardize_matches_the_formula(key, axis, axes):
    x = np.asarray(jax.random.normal(key, (3, 4, 5))) * 3 + 2
    output, _ = nn.Standardize(axis=axis)((), jnp.asarray(x))
    np.testing.assert_allclose(output, reference(x, axes), rtol=1e-4, atol=1e-5)


def test_each_sample_gets_zero_mean_and_unit_variance(key):
    x = jax.random.normal(key, (3, 6)) * 5 - 1
    output, _ = nn.Standardize(epsilon=1e-12)((), x)
    np.testing.assert_allclose(output.mean(axis=1), 0, atol=1e-6)
    np.testing.assert_allclose(output.var(axis=1), 1, rtol=1e-5)


def test_complex_data_uses_the_mean_squared_modulus(key):
    x = np.asarray(
        jax.random.normal(key, (2, 5)) + 1j * jax.random.normal(jax.random.key(1), (2, 5))
    )
    output, _ = nn.Standardize()((), jnp.asarray(x, jnp.complex64))
    np.testing.assert_allclose(output, reference(x, (1,)), rtol=1e-4, atol=1e-5)


def test_bad_fields_and_axes_are_refused(key):
    for axis in (0, (), (1, 1), "a"):
        with pytest.raises(ValueError, match="field 'axis' of Standardize"):
            nn.Standardize(axis=axis)
    with pytest.raises(ValueError, match="field 'epsilon'"):
        nn.Standardize(epsilon=0.0)
    with pytest.raises(ShapeError, match="names one axis twice"):
        nn.Standardize(axis=(1, -1)).init(key, (3,))
    with pytest.raises(ShapeError, match="acts on axis 2"):
        nn.Standardize(axis=2).init(key, (3,))
