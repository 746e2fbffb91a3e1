"""pmm.nn.Flatten and pmm.nn.Reshape: per-sample reshaping that leaves the batch axis alone."""

import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.nn import Flatten, Reshape


def test_flatten_flattens_each_sample():
    data = jnp.arange(24.0).reshape(2, 3, 4)
    output, state = Flatten()((), data)
    np.testing.assert_array_equal(output, np.arange(24.0).reshape(2, 12))
    assert state == ()


@pytest.mark.parametrize(
    ("input_shape", "expected"), [((3, 4), (12,)), ((), (1,)), ((None, 4), (None,))]
)
def test_flatten_output_shape(input_shape, expected):
    assert Flatten().output_shape(input_shape) == expected


def test_reshape_reshapes_each_sample_in_row_major_order():
    data = jnp.arange(12.0).reshape(2, 6)
    output, _ = Reshape(shape=(3, 2))((), data)
    np.testing.assert_array_equal(output, np.arange(12.0).reshape(2, 3, 2))


@pytest.mark.parametrize(
    ("shape", "input_shape", "expected"),
    [((3, -1), (2, 3), (3, 2)), ((-1,), (2, 3), (6,)), ((2, -1), (None, 4), (2, None))],
)
def test_reshape_infers_the_minus_one_size(shape, input_shape, expected):
    assert Reshape(shape=shape).output_shape(input_shape) == expected


def test_reshape_to_a_different_number_of_entries_fails_with_both_shapes(key):
    with pytest.raises(pmm.ShapeError, match=r"\(2, 3\).*\(4, 2\)"):
        Reshape(shape=(4, 2)).init(key, (2, 3))


def test_reshape_accepts_a_list_and_stores_a_tuple():
    assert Reshape(shape=[2, 3]).shape == (2, 3)


@pytest.mark.parametrize("shape", [(-1, -1), (2, -2), (2.0,), 6, (True,)])
def test_bad_reshape_shape_fails_naming_the_field(shape):
    with pytest.raises(ValueError, match="'shape'"):
        Reshape(shape=shape)
