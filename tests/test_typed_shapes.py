"""Input shapes that carry dtypes (issue 10 section 1): integer and bool data, end to end."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Int

import pmm
from pmm.typing import AnyData


class Embed(pmm.Module):
    """A user's integer lookup table: ids ``(batch, seq)`` to vectors ``(batch, seq, features)``."""

    vocabulary: int = 10
    features: int = 3

    def init(self, rng, input_shape):
        return {"table": jax.random.normal(rng, (self.vocabulary, self.features))}, ()

    def apply(self, params, data: Int[Array, "batch seq"], training, state, rng):
        return params["table"][data], state


class MaskedMean(pmm.Module):
    """Mean of ``x`` over the positions ``mask`` keeps: ``{"x", "mask"}`` to ``(batch, f)``."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data: AnyData, training, state, rng):
        weights = data["mask"][..., None].astype(data["x"].dtype)
        return (data["x"] * weights).sum(1) / jnp.maximum(weights.sum(1), 1), state


class UnannotatedEmbed(pmm.Module):
    """The same lookup without annotations: the checks cannot know it takes integers."""

    def init(self, rng, input_shape):
        return {"table": jnp.ones((10, 2))}, ()

    def apply(self, params, data, training, state, rng):
        return params["table"][data], state


class Count(pmm.Module):
    """Counts positive entries, answering ``output_shape`` in sizes only (the dtype is int32)."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        return jnp.sum(data > 0, axis=-1, keepdims=True, dtype=jnp.int32), state

    def output_shape(self, input_shape):
        return (1,)


IDS = jax.ShapeDtypeStruct((12,), jnp.int32)


def ids(batch=4):
    return jax.random.randint(jax.random.key(1), (batch, 12), 0, 10)


def test_output_shape_answers_a_typed_question_with_dtypes():
    assert Embed().output_shape(IDS) == jax.ShapeDtypeStruct((12, 3), jnp.float32)
    model = Embed() >> pmm.nn.Linear(features=2)
    assert model.output_shape(IDS) == jax.ShapeDtypeStruct((12, 2), jnp.float32)


def test_output_shape_answers_tuples_for_tuples():
    assert pmm.nn.Linear(features=2).output_shape((12, 3)) == (12, 2)
    assert (pmm.nn.Linear(features=2) >> pmm.nn.Tanh()).output_shape((None, 3)) == (None, 2)


def test_an_override_answering_in_sizes_gets_the_dtype_apply_gives():
    assert Count().output_shape((5,)) == (1,)
    typed = Count().output_shape(jax.ShapeDtypeStruct((5,), jnp.float32))
    assert typed == jax.ShapeDtypeStruct((1,), jnp.int32)


def test_unknown_sizes_in_a_typed_tree_stay_tuples():
    shape = {"ids": IDS, "x": (None, 4)}
    answer = pmm.Parallel(
        a=pmm.Select("ids") >> Embed(), b=pmm.Select("x") >> pmm.nn.Tanh()
    ).output_shape(shape)
    assert answer == {"a": jax.ShapeDtypeStruct((12, 3), jnp.float32), "b": (None, 4)}


def test_embed_then_linear_inits_and_runs_on_integer_ids(key):
    model = Embed() >> pmm.nn.Linear(features=2)
    params, state = model.init(key, IDS)
    assert params[1]["weight"].shape == (3, 2)
    output, _ = model(params, ids(), False, state, None)
    assert output.shape == (4, 12, 2)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_embed_then_linear_passes_the_checks(key, jit):
    model = Embed() >> pmm.nn.Linear(features=2)
    params, state = model.init(key, IDS)
    call = jax.jit(model, static_argnums=2) if jit else model
    expected = model(params, ids(), False, state, None)[0]
    with pmm.shape_checks():
        np.testing.assert_allclose(call(params, ids(), False, state, None)[0], expected)
    checked = pmm.checked(model)
    call = jax.jit(checked, static_argnums=2) if jit else checked
    np.testing.assert_allclose(call(params, ids(), False, state, None)[0], expected)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_the_checks_name_the_module_that_does_not_declare_integer_data(key, jit):
    model = Embed() >> pmm.nn.Tanh()
    params, state = model.init(key, IDS)
    wrong = pmm.Parallel(a=pmm.nn.Tanh())
    call = jax.jit(pmm.checked(wrong), static_argnums=2) if jit else pmm.checked(wrong)
    with pytest.raises(pmm.ShapeError, match=r"^Parallel\['a'\] > Tanh\(\): .*int32\[4,12\]"):
        call({"a": ()}, ids(), False, {"a": ()}, None)
    unannotated = pmm.checked(UnannotatedEmbed())
    params, state = unannotated.init(key, IDS)
    with pytest.raises(pmm.ShapeError, match=r"UnannotatedEmbed.apply does not declare int32"):
        unannotated(params, ids(), False, state, None)


def test_a_bool_mask_travels_in_pytree_data_through_select_and_parallel(key):
    shape = {"x": (5, 3), "mask": jax.ShapeDtypeStruct((5,), jnp.bool_)}
    model = MaskedMean() >> pmm.nn.Linear(features=2)
    assert model.output_shape(shape) == jax.ShapeDtypeStruct((2,), jnp.float32)
    params, state = model.init(key, shape)
    data = {"x": jnp.ones((4, 5, 3)), "mask": jnp.arange(5)[None].repeat(4, 0) < 2}
    with pmm.shape_checks():
        assert model(params, data, False, state, None)[0].shape == (4, 2)
    picked = pmm.Select("mask").output_shape(shape)
    assert picked == jax.ShapeDtypeStruct((5,), jnp.bool_)


def test_ids_without_their_batch_axis_are_refused_by_the_annotation(key):
    model = Embed() >> pmm.nn.Linear(features=2)
    params, state = model.init(key, IDS)
    expected = r"^Sequential\[0\] > Embed\(\): the argument 'data' of Embed.apply is int32\[12\]"
    with pytest.raises(pmm.ShapeError, match=expected), pmm.shape_checks():
        model(params, ids()[0], False, state, None)


def test_typed_shapes_validate_like_tuples():
    pmm.shapes.validate_shape({"ids": IDS, "x": (3,)})
    with pytest.raises(ValueError, match="not a shape"):
        pmm.shapes.validate_shape({"ids": [12]})


def test_identity_passes_integer_data_through_the_checks():
    ids_batch = ids()
    with pmm.shape_checks():
        output, _ = pmm.nn.Identity()((), ids_batch, False, (), None)
    assert output.dtype == jnp.int32 and (output == ids_batch).all()
