"""nn.Bias(scalar=True): one trainable number added to every entry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pmm import ShapeError, nn


def test_a_scalar_bias_is_one_number_added_everywhere(key):
    layer = nn.Bias(scalar=True)
    params, _ = layer.init(key, (2, 3))
    assert params["bias"].shape == ()
    x = jax.random.normal(key, (4, 2, 3))
    np.testing.assert_array_equal(layer({"bias": jnp.array(1.5)}, x)[0], np.asarray(x) + 1.5)


def test_a_scalar_bias_takes_unknown_sizes_but_a_full_one_does_not(key):
    assert nn.Bias(scalar=True).output_shape((None, 3)) == (None, 3)
    assert nn.Bias(scalar=True).init(key, (None,))[0]["bias"].shape == ()
    with pytest.raises(ShapeError, match="every size must be known"):
        nn.Bias().init(key, (None, 3))


def test_scalar_is_a_bool_field_off_by_default(key):
    assert nn.Bias().init(key, (2, 3))[0]["bias"].shape == (2, 3)
    with pytest.raises(ValueError, match="field 'scalar' of Bias"):
        nn.Bias(scalar=1)
