"""pmm.nn.MaxPool, AvgPool and GlobalAvgPool: windows of real entries, edges, shapes, fields."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.nn import AvgPool, GlobalAvgPool, MaxPool
from tests import window_references as ref

PADDINGS = ["SAME", "VALID", "CIRCULAR", 1, ((0, 1), (1, 0))]


def _compare(model, input_shape, reduce):
    x = jax.random.normal(jax.random.key(1), (2, *input_shape))
    output, _ = jax.jit(model)((), x)
    count_include_pad = getattr(model, "count_include_pad", False)
    expected = ref.pool(
        np.asarray(x), reduce, model.window, model.strides, model.padding, count_include_pad
    )
    assert output.shape == expected.shape == (2, *model.output_shape(input_shape))
    np.testing.assert_allclose(output, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("padding", "window", "strides"),
    list(itertools.product(PADDINGS, [(3, 2)], [None, 1, (2, 3)])),
)
def test_max_pool_takes_the_largest_real_entry_of_each_window(padding, window, strides):
    _compare(MaxPool(window, strides, padding), (7, 6, 3), "max")


@pytest.mark.parametrize(
    ("padding", "window", "strides", "count_include_pad"),
    list(itertools.product(PADDINGS, [(3, 2)], [None, 1, (2, 3)], [False, True])),
)
def test_avg_pool_averages_each_window(padding, window, strides, count_include_pad):
    _compare(AvgPool(window, strides, padding, count_include_pad), (7, 6, 3), "mean")


@pytest.mark.parametrize("padding", ["SAME", "VALID", "CIRCULAR", (1,)])
def test_1d_and_3d_pools_take_their_windows_on_every_spatial_axis(padding):
    _compare(MaxPool((3,), 2, padding), (8, 2), "max")
    _compare(
        AvgPool(2, 1, padding * 3 if isinstance(padding, tuple) else padding), (3, 4, 3, 2), "mean"
    )


def test_same_avg_pool_at_the_edges_averages_the_real_entries_only():
    x = jnp.arange(1.0, 6.0).reshape(1, 5, 1)
    output = AvgPool(3, strides=1, padding="SAME")((), x)[0]
    np.testing.assert_allclose(output[0, :, 0], [1.5, 2, 3, 4, 4.5])


def test_avg_pool_counting_padding_divides_by_the_window_size():
    x = jnp.arange(1.0, 6.0).reshape(1, 5, 1)
    output = AvgPool(3, strides=1, padding="SAME", count_include_pad=True)((), x)[0]
    np.testing.assert_allclose(output[0, :, 0], [1, 2, 3, 4, 3])


def test_same_max_pool_never_picks_padding_over_negative_entries():
    x = -jnp.arange(1.0, 4.0).reshape(1, 3, 1)
    output = MaxPool(2, strides=1, padding="SAME")((), x)[0]
    np.testing.assert_array_equal(output[0, :, 0], [-1, -2, -3])


def test_circular_pooling_wraps_the_windows_around():
    x = jnp.array([5.0, 0.0, 0.0, 1.0]).reshape(1, 4, 1)
    output = MaxPool(3, strides=2, padding="CIRCULAR")((), x)[0]
    np.testing.assert_array_equal(output[0, :, 0], [5, 1])


def test_strides_default_to_the_window_so_windows_tile_the_input():
    x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(MaxPool(2)((), x)[0], MaxPool(2, strides=2)((), x)[0])
    assert MaxPool((2, 2)).output_shape((28, 28, 32)) == (14, 14, 32)


def test_global_avg_pool_is_the_mean_over_every_spatial_axis():
    x = jax.random.normal(jax.random.key(0), (2, 3, 4, 5, 6))
    output, _ = GlobalAvgPool()((), x)
    np.testing.assert_allclose(output, np.asarray(x).mean(axis=(1, 2, 3)), rtol=1e-5)
    assert GlobalAvgPool().output_shape((None, 4, 6)) == (6,)


def test_avg_pool_of_complex_data_averages_real_and_imaginary_parts():
    x = jax.random.normal(jax.random.key(0), (2, 5, 2)) * (1 + 2j)
    output, _ = AvgPool(2, 1, "SAME")((), x)
    expected = ref.pool(np.asarray(x), "mean", 2, 1, "SAME")
    np.testing.assert_allclose(output, expected, rtol=1e-6)


def test_max_pool_refuses_complex_data_saying_what_to_pool():
    with pytest.raises(pmm.ShapeError, match="complex"):
        MaxPool(2)((), jnp.ones((1, 4, 1), jnp.complex64))


@pytest.mark.parametrize(
    ("model", "input_shape"),
    [
        (MaxPool(3), (2, 5, 1)),
        (AvgPool((2, 2)), (4, 4, 4, 1)),
        (MaxPool(2), (4,)),
        (GlobalAvgPool(), (4,)),
        (GlobalAvgPool(), (0, 3, 2)),
        (AvgPool(2, padding="CIRCULAR"), (0, 2)),
    ],
    ids=repr,
)
def test_an_input_the_pool_cannot_take_is_a_shape_error(model, input_shape):
    with pytest.raises(pmm.ShapeError, match=type(model).__name__):
        model.output_shape(input_shape)


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("window", {"window": 0}),
        ("window", {"window": (2, 2, 2, 2)}),
        ("strides", {"window": 2, "strides": 0}),
        ("padding", {"window": 2, "padding": "full"}),
        ("padding", {"window": 2, "padding": 2}),
        ("padding", {"window": (3, 2), "padding": ((0, 2), (0, 2))}),
        ("count_include_pad", {"window": 2, "count_include_pad": "yes"}),
    ],
)
def test_a_bad_field_fails_at_construction_naming_it(field, fields):
    cls = AvgPool if "count_include_pad" in fields else MaxPool
    with pytest.raises(ValueError, match=f"'{field}'"):
        cls(**fields)


def test_window_fields_are_stored_in_one_canonical_form():
    assert MaxPool((2, 2), (2, 2), "valid") == MaxPool((2, 2), 2)
    assert eval(repr(AvgPool((3, 2), 1, ((1, 1), (0, 1)))), vars(pmm.nn)) == AvgPool(
        (3, 2), 1, (1, (0, 1))
    )


@pytest.mark.parametrize("padding", ["SAME", "VALID", 1, ((0, 1), (1, 0))])
@pytest.mark.parametrize(
    ("model", "function", "options"),
    [
        (MaxPool, "max_pool", {}),
        (AvgPool, "avg_pool", {"count_include_pad": True}),
        (AvgPool, "avg_pool", {"count_include_pad": False}),
    ],
)
def test_pools_follow_flax_linen_with_its_strides_given(model, function, options, padding):
    linen = pytest.importorskip("flax.linen", reason="Flax is in the bench extra")
    x = jax.random.normal(jax.random.key(1), (2, 7, 6, 3))
    ours = model((3, 2), (2, 1), padding, **options)((), x)[0]
    flax_padding = ref.pairs(padding, 2) if not isinstance(padding, str) else padding
    expected = getattr(linen, function)(x, (3, 2), (2, 1), flax_padding, **options)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)
