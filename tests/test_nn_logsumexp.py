"""nn.LogSumExp: log(sum(exp(x))) over one axis, stable for large values."""

import jax
import numpy as np
import pytest

from pmm import ShapeError, nn


def test_logsumexp_matches_the_formula(key):
    x = np.asarray(jax.random.normal(key, (2, 4, 3)), np.float64)
    output, _ = nn.LogSumExp(axis=-2)((), jax.numpy.asarray(x, "float32"))
    np.testing.assert_allclose(output, np.log(np.exp(x).sum(axis=1)), rtol=1e-5)
    assert nn.LogSumExp(axis=-2).output_shape((4, 3)) == (3,)


def test_large_values_do_not_overflow():
    x = jax.numpy.array([[1000.0, 1000.0]])
    np.testing.assert_allclose(nn.LogSumExp()((), x)[0], [1000.0 + np.log(2.0)], rtol=1e-6)


def test_keepdims_keeps_the_axis_with_size_one(key):
    layer = nn.LogSumExp(axis=1, keepdims=True)
    assert layer((), jax.numpy.ones((2, 4, 3)))[0].shape == (2, 1, 3)
    assert layer.output_shape((4, 3)) == (1, 3)


def test_bad_axes_are_refused(key):
    with pytest.raises(ValueError, match="field 'axis'"):
        nn.LogSumExp(axis=0)
    with pytest.raises(ShapeError, match="acts on axis -3"):
        nn.LogSumExp(axis=-3).init(key, (4,))
