"""nn.TreeFlatten and its inverse nn.TreeUnflatten."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import ShapeError, nn

SHAPE = {"b": [(2, 2), ()], "a": (3,)}


def sample_data(key):
    keys = jax.random.split(key, 3)
    return {
        "b": [jax.random.normal(keys[0], (4, 2, 2)), jax.random.normal(keys[1], (4,))],
        "a": jax.random.normal(keys[2], (4, 3)),
    }


def test_tree_flatten_concatenates_the_leaves_in_sorted_key_order(key):
    data = sample_data(key)
    output, _ = nn.TreeFlatten()((), data)
    expected = np.concatenate(
        [
            np.asarray(data["a"]),
            np.asarray(data["b"][0]).reshape(4, 4),
            np.asarray(data["b"][1])[:, None],
        ],
        axis=1,
    )
    np.testing.assert_array_equal(output, expected)
    assert nn.TreeFlatten().output_shape(SHAPE) == (8,)


def test_the_inverse_gives_the_tree_back(key):
    data = sample_data(key)
    flat, _ = nn.TreeFlatten()((), data)
    inverse = nn.TreeFlatten().inverse(SHAPE)
    restored, _ = inverse((), flat)
    assert jax.tree.structure(restored) == jax.tree.structure(data)
    jax.tree.map(np.testing.assert_array_equal, restored, data)
    assert inverse.output_shape((8,)) == {"a": (3,), "b": [(2, 2), ()]}


def test_typed_shapes_flatten_and_the_inverse_keeps_only_sizes():
    shape = {
        "n": jax.ShapeDtypeStruct((2,), jnp.int32),
        "x": jax.ShapeDtypeStruct((3,), jnp.float32),
    }
    assert nn.TreeFlatten().output_shape(shape) == jax.ShapeDtypeStruct((5,), jnp.float32)
    assert nn.TreeFlatten().inverse(shape) == nn.TreeUnflatten(shape={"n": (2,), "x": (3,)})


def test_an_unknown_size_gives_an_unknown_total():
    assert nn.TreeFlatten().output_shape(((None, 2), (3,))) == (None,)


def test_tree_unflatten_reads_back_from_its_repr_and_its_frozen_field():
    layer = nn.TreeUnflatten(shape=SHAPE)
    assert eval(repr(layer), vars(nn)) == layer
    assert nn.TreeUnflatten(shape=layer.shape) == layer
    assert layer.tree == {"a": (3,), "b": [(2, 2), ()]}


def test_tree_unflatten_refuses_unknown_sizes_bad_trees_and_wrong_inputs(key):
    with pytest.raises(ValueError, match="give every size"):
        nn.TreeUnflatten(shape={"a": (None,)})
    with pytest.raises(ValueError, match="field 'shape' of TreeUnflatten"):
        nn.TreeUnflatten(shape={"a": "wide"})
    with pytest.raises(ShapeError, match="splits 8 features"):
        nn.TreeUnflatten(shape=SHAPE).init(key, (7,))
    with pytest.raises(ShapeError, match="one feature axis"):
        nn.TreeUnflatten(shape=SHAPE).init(key, (2, 4))


def test_flatten_then_unflatten_saves_and_loads(key, tmp_path):
    model = nn.TreeFlatten() >> nn.TreeFlatten().inverse(SHAPE)
    pmm.save(tmp_path / "m.pmm", model, ((), ()))
    assert pmm.load(tmp_path / "m.pmm")[0] == model
