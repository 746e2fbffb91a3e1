"""``pmm.checked(model, input_shape=...)``: a declared sample shape catches data without its
batch axis, which a parameterless model (``Flatten``, ``Constant``) cannot tell from a batch
(issue 10 section 4: a per-example ``jax.vmap`` of such a model)."""

import dataclasses

import jax
import jax.numpy as jnp
import pytest

import pmm
from pmm import nn

NO_BATCH_AXIS = r"declared for samples of shape \(2, 3\).*no batch axis.*x\[None\]"
PARAMETERLESS = [nn.Flatten(), nn.Constant(value=(1.0, 2.0)), nn.Flatten() >> nn.Tanh()]
#: What a per-example vmap over 5 samples of shape (2, 3) silently gives without the declaration
#: (each sample's first axis taken as a batch), where (5, 6), (5, 2) and (5, 6) were meant.
SILENT_SHAPES = [(5, 2, 3), (5, 2, 2), (5, 2, 3)]


def per_example(model, jit):
    call = jax.vmap(lambda x: model((), x, False, (), None)[0])
    return jax.jit(call) if jit else call


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize(
    ("model", "silent"), list(zip(PARAMETERLESS, SILENT_SHAPES, strict=True)), ids=repr
)
def test_a_per_example_vmap_of_a_parameterless_model_is_caught(model, silent, jit):
    # Checked without a declared shape, it runs and gives a wrong shape.
    assert per_example(pmm.checked(model), jit)(jnp.ones((5, 2, 3))).shape == silent
    with pytest.raises(pmm.ShapeError, match=NO_BATCH_AXIS):
        per_example(pmm.checked(model, input_shape=(2, 3)), jit)(jnp.ones((5, 2, 3)))


@pytest.mark.parametrize(
    ("model", "meant"), list(zip(PARAMETERLESS, [(5, 6), (5, 2), (5, 6)], strict=True)), ids=repr
)
def test_the_documented_per_example_recipe_passes_and_gives_the_meant_shape(model, meant):
    checked = pmm.checked(model, input_shape=(2, 3))
    outputs = jax.vmap(lambda x: checked((), x[None], False, (), None)[0][0])(jnp.ones((5, 2, 3)))
    assert outputs.shape == meant


def test_a_vmap_over_a_leading_axis_of_batches_passes():
    checked = pmm.checked(nn.Flatten(), input_shape=(2, 3))
    batches = jnp.ones((4, 8, 2, 3))
    outputs = jax.vmap(lambda x: checked((), x, False, (), None)[0])(batches)
    assert outputs.shape == (4, 8, 6)


def test_none_in_the_declared_shape_matches_any_size_and_a_wrong_size_is_named():
    checked = pmm.checked(nn.Flatten(), input_shape=(None, 3))
    assert checked((), jnp.ones((4, 7, 3)), False, (), None)[0].shape == (4, 21)
    with pytest.raises(pmm.ShapeError, match=r"float32\[4,7,2\].*give data \(batch, \*input"):
        checked((), jnp.ones((4, 7, 2)), False, (), None)


def test_a_struct_declares_the_shape_and_pytree_data_is_refused_by_name():
    checked = pmm.checked(nn.Identity(), input_shape=jax.ShapeDtypeStruct((2,), jnp.int32))
    assert checked((), jnp.ones((3, 2), jnp.int32), False, (), None)[0].shape == (3, 2)
    with pytest.raises(pmm.ShapeError, match="declared for samples of shape"):
        checked((), {"x": jnp.ones((3, 2))}, False, (), None)


@pytest.mark.parametrize("shape", [{"x": (3,)}, (3, -1), "3"], ids=repr)
def test_an_input_shape_that_is_not_one_array_shape_is_refused(shape):
    with pytest.raises(ValueError, match="input_shape"):
        pmm.checked(nn.Flatten(), input_shape=shape)


def test_rewrapping_declares_the_shape_and_saving_writes_the_plain_model(tmp_path):
    model = nn.Linear(features=2)
    declared = pmm.checked(pmm.checked(model), input_shape=(3,))
    assert declared == pmm.Checked(model, (3,)) and pmm.checked(declared) is declared
    assert dataclasses.replace(declared, input_shape=None) == pmm.checked(model)
    params, state = declared.init(jax.random.key(0), (3,))
    pmm.save(tmp_path / "m.pmm", declared, params, state)
    assert pmm.load(tmp_path / "m.pmm")[0] == model
