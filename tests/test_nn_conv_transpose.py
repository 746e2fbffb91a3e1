"""pmm.nn.ConvTranspose: the scatter reference, output sizes, its relation to Conv, refusals."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.nn import Conv, ConvTranspose
from tests import window_references as ref
from tests.test_nn_conv import _compare, _random_params

PADDINGS = ["SAME", "VALID", "CIRCULAR", 1, ((2, 0), (0, 1))]


@pytest.mark.parametrize(
    ("padding", "strides", "dilation", "groups"),
    list(itertools.product(PADDINGS, [1, (2, 3)], [1, 2], [1, 2])),
)
def test_2d_conv_transpose_equals_scattering_each_entry_through_the_kernel(
    padding, strides, dilation, groups
):
    model = ConvTranspose(
        4, (3, 2), strides=strides, padding=padding, dilation=dilation, groups=groups
    )
    _compare(model, ref.conv_transpose, (4, 3, 2))


@pytest.mark.parametrize(("padding", "strides"), list(itertools.product(PADDINGS[:3], [1, 3])))
def test_1d_and_3d_conv_transpose_equal_the_scatter(padding, strides):
    _compare(ConvTranspose(3, (4,), strides=strides, padding=padding), ref.conv_transpose, (5, 2))
    model = ConvTranspose(2, (2, 1, 3), strides=strides, padding=padding, groups=2)
    _compare(model, ref.conv_transpose, (2, 3, 2, 2))


@pytest.mark.parametrize(
    ("padding", "expected"),
    [("SAME", (10, 6)), ("VALID", (11, 6)), ("CIRCULAR", (10, 6)), (0, (7, 6)), (2, (11, 6))],
)
def test_output_sizes_follow_the_documented_formulas(padding, expected):
    # n = 5, s = 2, k = 3: SAME n s, VALID n s + max(k - s, 0), explicit (n - 1) s + 2 p - k + 2
    assert ConvTranspose(6, (3,), strides=2, padding=padding).output_shape((5, 1)) == expected


def test_same_conv_transpose_upsamples_by_the_strides():
    assert ConvTranspose(8, (3, 3), strides=(2, 3)).output_shape((7, 5, 2)) == (14, 15, 8)


def test_stride_one_conv_transpose_is_conv_with_the_mirrored_padding():
    # Spreading by 1 adds nothing: VALID transposed convolution is the "full" convolution.
    transposed = ConvTranspose(2, (3,), padding="VALID")
    params = _random_params(transposed, (6, 3))
    x = jax.random.normal(jax.random.key(1), (2, 6, 3))
    full = Conv(2, (3,), padding=2)(params, x)[0]
    np.testing.assert_allclose(transposed(params, x)[0], full, rtol=1e-6)


def test_conv_transpose_with_the_flipped_kernel_is_the_gradient_of_conv():
    conv = Conv(3, (3, 2), strides=2, padding="VALID", use_bias=False)
    params = _random_params(conv, (7, 6, 2))
    x = jax.random.normal(jax.random.key(1), (1, 7, 6, 2))
    y, pullback = jax.vjp(lambda x: conv(params, x)[0], x)
    cotangent = jax.random.normal(jax.random.key(2), y.shape)
    flipped = {"kernel": jnp.flip(params["kernel"], (0, 1)).swapaxes(2, 3)}
    transposed = ConvTranspose(2, (3, 2), strides=2, padding="VALID", use_bias=False)
    output = transposed(flipped, cotangent)[0]
    np.testing.assert_allclose(output, pullback(cotangent)[0], rtol=1e-5, atol=1e-6)


def test_circular_conv_transpose_commutes_with_rolling_by_whole_input_entries():
    model = ConvTranspose(2, (3,), strides=2, padding="CIRCULAR")
    params = _random_params(model, (5, 2))
    x = jax.random.normal(jax.random.key(1), (1, 5, 2))
    rolled = model(params, jnp.roll(x, 2, axis=1))[0]
    np.testing.assert_allclose(rolled, jnp.roll(model(params, x)[0], 4, axis=1), atol=1e-5)


@pytest.mark.parametrize(("padding", "spatial"), [("SAME", 0), ("CIRCULAR", 0), (0, 1)])
def test_no_output_position_is_a_shape_error(key, padding, spatial):
    # n = 1, k = 3, s = 1 with no padding: (n - 1) s + 0 - 3 + 2 = -1 outputs.
    with pytest.raises(pmm.ShapeError, match="ConvTranspose gives no output"):
        ConvTranspose(2, (3,), padding=padding).init(key, (spatial, 1))


def test_shape_checks_catch_data_with_another_channel_count(key):
    model = ConvTranspose(4, (2, 2), strides=2)
    params, state = model.init(key, (4, 4, 3))
    with pmm.shape_checks(), pytest.raises(pmm.ShapeError, match="kernel"):
        model(params, jnp.ones((2, 4, 4, 2)), False, state, None)
