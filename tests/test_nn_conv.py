"""pmm.nn.Conv: numerics against numpy loops, output sizes, fields, parameters, checks, files."""

import itertools

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

import pmm
from pmm.nn import Conv, ConvTranspose
from tests import window_references as ref

PADDINGS = ["SAME", "VALID", "CIRCULAR", 1, ((2, 0), (0, 1))]


def _random_params(model, input_shape):
    """Params of ``model`` with a random (non-zero) bias too."""
    key = jax.random.key(0)
    params, _ = model.init(key, input_shape)
    return jax.tree.map(lambda leaf: jax.random.normal(key, leaf.shape, leaf.dtype), params)


def _compare(model, reference, input_shape, x64=False):
    params = _random_params(model, input_shape)
    x = jax.random.normal(jax.random.key(1), (2, *input_shape), params["kernel"].dtype)
    output, _ = jax.jit(model)(params, x)
    expected = reference(
        np.asarray(x, np.float64),
        np.asarray(params["kernel"], np.float64),
        np.asarray(params.get("bias", 0.0), np.float64),
        model.strides,
        model.padding,
        model.dilation,
        model.groups,
    )
    assert output.shape == expected.shape == (2, *model.output_shape(input_shape))
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("padding", "strides", "dilation", "groups"),
    list(itertools.product(PADDINGS, [1, (2, 3)], [1, 2], [1, 2])),
)
def test_2d_conv_equals_the_tap_by_tap_sum(padding, strides, dilation, groups):
    model = Conv(4, (3, 2), strides=strides, padding=padding, dilation=dilation, groups=groups)
    _compare(model, ref.conv, (6, 7, 4))


@pytest.mark.parametrize("padding", ["SAME", "VALID", "CIRCULAR", (1,), ((0, 3),)])
def test_1d_strided_dilated_conv_equals_the_tap_by_tap_sum(padding):
    model = Conv(3, (3,), strides=3, padding=padding, dilation=2)
    _compare(model, ref.conv, (8, 2))


@pytest.mark.parametrize("padding", ["SAME", "VALID", "CIRCULAR", ((1, 0), (0, 0), (2, 1))])
def test_3d_grouped_strided_conv_equals_the_tap_by_tap_sum(padding):
    model = Conv(4, (2, 3, 2), strides=(1, 2, 1), padding=padding, dilation=(1, 1, 2), groups=2)
    _compare(model, ref.conv, (4, 5, 5, 2))


def test_conv_is_a_cross_correlation_centred_on_each_entry_with_same_padding():
    model = Conv(1, (3,), use_bias=False)
    params = {"kernel": jnp.array([1.0, 2.0, 3.0]).reshape(3, 1, 1)}
    impulse = jnp.zeros((1, 5, 1)).at[0, 2, 0].set(1.0)
    np.testing.assert_array_equal(model(params, impulse)[0][0, :, 0], [0, 3, 2, 1, 0])


def test_circular_conv_commutes_with_rolling_the_input():
    model = Conv(3, (3, 2), strides=1, padding="CIRCULAR")
    params = _random_params(model, (5, 4, 2))
    x = jax.random.normal(jax.random.key(1), (1, 5, 4, 2))
    rolled = model(params, jnp.roll(x, (2, 1), axis=(1, 2)))[0]
    np.testing.assert_allclose(
        rolled, jnp.roll(model(params, x)[0], (2, 1), axis=(1, 2)), atol=1e-5
    )


def test_depthwise_conv_convolves_each_channel_with_its_own_kernel():
    model = Conv(3, (3,), groups=3, use_bias=False)
    params = _random_params(model, (6, 3))
    x = jax.random.normal(jax.random.key(1), (2, 6, 3))
    output, _ = model(params, x)
    for channel in range(3):
        single = Conv(1, (3,), use_bias=False)
        kernel = params["kernel"][:, :, channel : channel + 1]
        alone = single({"kernel": kernel}, x[..., channel : channel + 1])[0]
        np.testing.assert_allclose(output[..., channel : channel + 1], alone, atol=1e-6)


def test_an_int_kernel_size_applies_to_every_spatial_axis_of_the_input(key):
    params, _ = Conv(8, 3).init(key, (10, 10, 2))
    assert params["kernel"].shape == (3, 3, 2, 8)
    assert Conv(8, 3).output_shape((10, 10, 10, 2)) == (10, 10, 10, 8)


def test_params_are_a_kernel_per_group_and_a_zero_bias(key):
    params, state = Conv(6, (3, 2), groups=3).init(key, (5, 5, 9))
    assert params["kernel"].shape == (3, 2, 3, 6) and state == ()
    np.testing.assert_array_equal(params["bias"], np.zeros(6))
    assert sorted(Conv(6, (3,), use_bias=False).init(key, (5, 2))[0]) == ["kernel"]


def test_kernel_is_drawn_with_fans_of_the_receptive_field(key):
    kernel = Conv(4, (3, 2), groups=2, kernel_init="glorot_uniform").init(key, (5, 5, 6))[0]
    expected = pmm.nn.initializers.initialize(
        "glorot_uniform", key, (3, 2, 3, 4), "float32", fan_in=3 * 2 * 3, fan_out=3 * 2 * 4
    )
    np.testing.assert_array_equal(kernel["kernel"], expected)


def test_default_kernel_has_variance_one_over_fan_in(key):
    kernel = Conv(64, (3, 3)).init(key, (8, 8, 32))[0]["kernel"]
    assert float(jnp.var(kernel)) * 3 * 3 * 32 == pytest.approx(1, abs=0.03)


@st.composite
def _configurations(draw):
    """A window layer, an input shape and whether the window fits (the output is non-empty)."""
    rank = draw(st.integers(1, 3))
    sizes = st.integers(1, 4)
    per_axis = st.one_of(sizes, st.tuples(*[sizes] * rank))
    kernel = draw(st.tuples(*[st.integers(1, 3)] * rank))
    pad = st.one_of(st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)))
    padding = draw(
        st.sampled_from(["SAME", "VALID", "CIRCULAR"])
        | st.integers(0, 2)
        | st.tuples(*[pad] * rank)
    )
    groups = draw(st.sampled_from([1, 2]))
    cls = draw(st.sampled_from([Conv, ConvTranspose]))
    model = cls(
        2 * groups,
        kernel,
        strides=draw(per_axis),
        padding=padding,
        dilation=draw(per_axis),
        groups=groups,
    )
    spatial = draw(st.tuples(*[st.integers(1, 9)] * rank))
    return model, (*spatial, 2 * groups)


@settings(max_examples=100, deadline=None)
@given(_configurations())
def test_output_shape_is_the_shape_of_the_output_or_both_refuse(configuration):
    model, input_shape = configuration
    data = jax.ShapeDtypeStruct((3, *input_shape), jnp.float32)
    try:
        expected = model.output_shape(input_shape)
    except pmm.ShapeError:
        with pytest.raises(pmm.ShapeError):
            jax.eval_shape(lambda: model.init(jax.random.key(0), input_shape))
        return
    params = jax.eval_shape(lambda: model.init(jax.random.key(0), input_shape))[0]
    actual = jax.eval_shape(lambda p, x: model(p, x)[0], params, data)
    assert actual.shape == (3, *expected)


def test_output_shape_keeps_unknown_spatial_sizes_unknown():
    assert Conv(4, (3, 3), strides=2).output_shape((None, 9, 1)) == (None, 5, 4)
    assert Conv(4, (3, 3), padding="VALID").output_shape((9, None, None)) == (7, None, 4)


@pytest.mark.parametrize(
    ("padding", "spatial"), [("VALID", (2, 5)), (0, (5, 1)), ("CIRCULAR", (0, 5))]
)
def test_an_input_without_room_for_the_kernel_is_a_shape_error(key, padding, spatial):
    with pytest.raises(pmm.ShapeError, match="Conv"):
        Conv(2, (3, 3), padding=padding).init(key, (*spatial, 1))


@pytest.mark.parametrize("input_shape", [(28, 28), (4, 4, 4, 4, 1), ()])
def test_an_input_without_the_right_spatial_axes_is_a_shape_error_saying_channels_last(
    key, input_shape
):
    with pytest.raises(pmm.ShapeError, match="channels"):
        Conv(2, (3, 3)).init(key, input_shape)


def test_input_channels_that_groups_does_not_divide_are_a_shape_error(key):
    with pytest.raises(pmm.ShapeError, match="groups=2"):
        Conv(4, (3,), groups=2).init(key, (5, 3))


def test_shape_checks_catch_data_with_another_channel_count(key):
    model = Conv(4, (3, 3))
    params, state = model.init(key, (8, 8, 3))
    with pmm.shape_checks(), pytest.raises(pmm.ShapeError, match="kernel"):
        model(params, jnp.ones((2, 8, 8, 5)), False, state, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("features", 0),
        ("kernel_size", ()),
        ("kernel_size", (3, 0)),
        ("kernel_size", (1, 1, 1, 1)),
        ("kernel_size", 2.0),
        ("strides", 0),
        ("strides", (1, True)),
        ("dilation", -1),
        ("padding", "same-ish"),
        ("padding", -1),
        ("padding", ((1, 2, 3), (0, 0))),
        ("padding", ((1, -1), 0)),
        ("groups", 0),
        ("groups", 3),
        ("use_bias", 1),
        ("dtype", "int8"),
        ("kernel_init", "xavier"),
    ],
)
def test_a_bad_field_fails_at_construction_naming_it(field, value):
    fields = {"features": 4, "kernel_size": (3, 3)} | {field: value}
    with pytest.raises(ValueError, match=f"'{field}'"):
        Conv(**fields)


def test_per_axis_tuples_of_different_lengths_fail_naming_both_fields():
    with pytest.raises(ValueError, match=r"\['kernel_size', 'strides'\]"):
        Conv(4, (3, 3), strides=(1, 2, 1))


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ({"strides": (2, 2), "dilation": [1, 1], "padding": "same"}, {"strides": 2}),
        ({"padding": ((1, 1), (1, 1))}, {"padding": 1}),
        ({"padding": (1, 2)}, {"padding": ((1, 1), (2, 2))}),
        ({"padding": "circular"}, {"padding": "CIRCULAR"}),
    ],
)
def test_fields_are_stored_in_one_canonical_form(given, canonical):
    model = Conv(4, (3, 3), **given)
    assert model == Conv(4, (3, 3), **canonical)
    assert hash(model) == hash(Conv(4, (3, 3), **canonical))


def test_an_int_kernel_size_keeps_tuples_that_fix_the_number_of_axes(key):
    model = Conv(4, 3, strides=(1, 1))
    assert model.strides == (1, 1)
    with pytest.raises(pmm.ShapeError, match="2 spatial axes"):
        model.init(key, (5, 5, 5, 1))


@pytest.mark.parametrize(
    "model",
    [
        Conv(4, (3, 3)),
        Conv(4, (3,), strides=2, padding=((0, 1),), dilation=2, groups=2, use_bias=False),
        Conv(4, 3, padding="CIRCULAR", kernel_init="he_normal", dtype="complex64"),
        ConvTranspose(2, (2, 2), strides=(2, 1), padding="VALID"),
    ],
    ids=repr,
)
def test_repr_rebuilds_the_spec_and_save_load_restores_it(model, key, tmp_path):
    assert eval(repr(model), vars(pmm.nn)) == model
    input_shape = (6, 4) if model.kernel_size == (3,) else (6, 6, 4)
    params, state = model.init(key, input_shape)
    pmm.save(tmp_path / "conv.pmm", model, params, state, input_shape=input_shape)
    loaded, loaded_params, _ = pmm.load(tmp_path / "conv.pmm")
    assert loaded == model
    jax.tree.map(np.testing.assert_array_equal, loaded_params, params)


def test_complex_kernels_convolve_real_data_in_complex_arithmetic(key):
    model = Conv(2, (3,), dtype="complex64")
    params = _random_params(model, (5, 2))
    x = jax.random.normal(jax.random.key(1), (2, 5, 2))
    output, _ = model(params, x)
    assert output.dtype == jnp.complex64
    expected = ref.conv(
        np.asarray(x), np.asarray(params["kernel"]), np.asarray(params["bias"]), 1, "SAME", 1, 1
    )
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)


def test_a_cnn_built_from_conv_pool_flatten_and_linear_trains_one_step(key):
    model = (
        Conv(4, (3, 3))
        >> pmm.nn.ReLU()
        >> pmm.nn.MaxPool(2)
        >> pmm.nn.Flatten()
        >> pmm.nn.Linear(features=3)
    )
    params, state = model.init(key, (8, 8, 1))
    x = jax.random.normal(key, (5, 8, 8, 1))

    def loss(p):
        return jnp.mean(model(p, x, True, state, None)[0] ** 2)

    grads = jax.jit(jax.grad(loss))(params)
    assert jax.tree.structure(grads) == jax.tree.structure(params)
    assert all(bool(jnp.isfinite(g).all()) for g in jax.tree.leaves(grads))


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("cls", ["Conv", "ConvTranspose"])
def test_conv_and_conv_transpose_follow_flax_linen(cls, padding):
    linen = pytest.importorskip("flax.linen", reason="Flax is in the bench extra")
    model = getattr(pmm.nn, cls)(4, (3, 2), strides=(2, 1), padding=padding, dilation=(1, 2))
    params = _random_params(model, (5, 6, 3))
    x = jax.random.normal(jax.random.key(1), (2, 5, 6, 3))
    flax_padding = ref.pairs(padding, 2) if not isinstance(padding, str) else padding
    flax_layer = getattr(linen, cls)(
        4, (3, 2), strides=(2, 1), padding=flax_padding, kernel_dilation=(1, 2)
    )
    expected = flax_layer.apply({"params": params}, x)
    np.testing.assert_allclose(model(params, x)[0], expected, rtol=1e-5, atol=1e-5)


def test_per_axis_padding_alone_keeps_the_number_of_axes_it_fixes(key):
    model = Conv(4, 3, padding=(1, 1))
    assert model.padding == ((1, 1), (1, 1))
    with pytest.raises(pmm.ShapeError, match="2 spatial axes"):
        model.init(key, (5, 5, 5, 1))
