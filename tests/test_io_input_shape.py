"""Typed input shapes in files: ``jax.ShapeDtypeStruct`` leaves are stored with their dtype,
given back to ``init`` at load, and mixed freely with shape tuples in a tree."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from tests.modules import Scale
from tests.reliability import craft

IDS = jax.ShapeDtypeStruct((12,), jnp.int32)


class Embed(pmm.Module):
    """A user's lookup of integer ids; its init reads the typed input_shape's shape and dtype."""

    vocabulary: int = 10
    features: int = 4

    def init(self, rng, input_shape):
        if not jnp.issubdtype(input_shape.dtype, jnp.integer):
            raise TypeError(f"Embed looks up integer ids, not {input_shape.dtype}")
        table = jax.random.normal(rng, (self.vocabulary, self.features), jnp.float32)
        position = jnp.zeros((*input_shape.shape, self.features), jnp.float32)
        return {"table": table, "position": position}, ()

    def apply(self, params, data, training, state, rng):
        return params["table"][data] + params["position"], state


class Tagged(pmm.Module):
    """Takes ``{"ids": integer ids, "x": features}``: a tree with a struct and a tuple leaf."""

    def init(self, rng, input_shape):
        params, _ = Embed().init(rng, input_shape["ids"])
        return {**params, "scale": jnp.ones(input_shape["x"])}, ()

    def apply(self, params, data, training, state, rng):
        return params["table"][data["ids"]].sum(-1) * params["scale"].sum(), state


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "embed.pmm"
    params, state = Embed().init(jax.random.key(0), IDS)
    pmm.save(path, Embed(), params, state, input_shape=IDS)
    return path


def test_a_typed_input_shape_is_stored_with_its_dtype(saved):
    header = craft.header_json(craft.members(saved))
    assert header["format_version"] == pmm.io.FORMAT_VERSION == 3
    assert header["input_shape"] == {"struct": {"shape": [12], "dtype": "int32"}}


def test_a_file_with_a_typed_input_shape_loads_back(saved):
    module, params, _ = pmm.load(saved)
    assert module == Embed() and params["position"].shape == (12, 4)
    ids = jnp.arange(24).reshape(2, 12) % 10
    output, _ = module(params, ids)
    np.testing.assert_array_equal(output, np.asarray(params["table"])[np.asarray(ids)])


def test_load_checks_the_arrays_against_init_for_the_saved_dtype(saved):
    craft.with_header(saved, lambda h: h["input_shape"]["struct"].update(dtype="float32"))
    with pytest.raises(pmm.LoadError, match=r"Embed\.init fails .* integer ids, not float32"):
        pmm.load(saved)


def test_load_checks_the_arrays_against_init_for_the_saved_struct_shape(saved):
    craft.with_header(saved, lambda h: h["input_shape"]["struct"].update(shape=[13]))
    with pytest.raises(
        pmm.LoadError, match=r"params\['position'\] is float32\[12, 4\] in the file"
    ):
        pmm.load(saved)


def test_a_tree_input_shape_mixes_typed_and_plain_leaves(tmp_path):
    shape = {"ids": IDS, "x": (3,)}
    params, state = Tagged().init(jax.random.key(0), shape)
    pmm.save(tmp_path / "m.pmm", Tagged(), params, state, input_shape=shape)
    header = craft.header_json(craft.members(tmp_path / "m.pmm"))
    assert header["input_shape"] == {
        "dict": {"ids": {"struct": {"shape": [12], "dtype": "int32"}}, "x": {"shape": [3]}}
    }
    assert pmm.load(tmp_path / "m.pmm")[0] == Tagged()


def test_params_that_differ_from_init_for_a_typed_input_shape_are_refused_at_save(tmp_path):
    params, state = Embed().init(jax.random.key(0), jax.ShapeDtypeStruct((5,), jnp.int32))
    with pytest.raises(pmm.ShapeError, match=r"params\['position'\] is float32\[5, 4\] as given"):
        pmm.save(tmp_path / "m.pmm", Embed(), params, state, input_shape=IDS)


def test_a_64_bit_typed_input_shape_is_refused_while_x64_is_off(tmp_path):
    ids = jax.ShapeDtypeStruct((12,), jnp.int64)
    with pytest.raises(TypeError, match="input_shape has dtype int64, which JAX narrows"):
        pmm.save(tmp_path / "m.pmm", Scale(), {"s": jnp.ones(12)}, input_shape=ids)


def test_a_64_bit_typed_input_shape_needs_x64_to_load(tmp_path):
    with jax.enable_x64(True):
        ids = jax.ShapeDtypeStruct((12,), jnp.int64)
        params, state = Embed().init(jax.random.key(0), ids)
        pmm.save(tmp_path / "m.pmm", Embed(), params, state, input_shape=ids)
        assert pmm.load(tmp_path / "m.pmm")[0] == Embed()
    with pytest.raises(pmm.LoadError, match="input_shape is int64 data, which needs 64-bit JAX"):
        pmm.load(tmp_path / "m.pmm")


def test_a_format_version_2_file_still_loads(tmp_path):
    path = tmp_path / "m.pmm"
    pmm.save(path, Scale(), {"s": jnp.ones(3)}, input_shape=(3,))
    craft.with_header(path, lambda h: h.update(format_version=2))
    assert pmm.load(path)[0] == Scale()


def test_a_user_embedding_before_a_built_in_layer_round_trips_with_integer_ids(tmp_path):
    model = Embed() >> pmm.nn.Linear(features=2)
    params, state = model.init(jax.random.key(0), IDS)
    pmm.save(tmp_path / "m.pmm", model, params, state, input_shape=IDS)
    loaded, loaded_params, _ = pmm.load(tmp_path / "m.pmm")
    ids = jnp.arange(24).reshape(2, 12) % 10
    np.testing.assert_array_equal(loaded(loaded_params, ids)[0], model(params, ids)[0])
