"""Errors a newcomer meets in the first hour (issue 10 section 4), each with its message."""

import jax
import jax.numpy as jnp
import pytest

import pmm


class Forgetful(pmm.Module):
    """A user's module whose apply forgets to return the state."""

    def init(self, rng, input_shape):
        return {"w": jnp.ones(input_shape)}, ()

    def apply(self, params, data, training, state, rng):
        return data * params["w"]


RETURNS_PAIR = r"Forgetful.apply returned ArrayImpl|Forgetful.apply returned DynamicJaxprTracer"


def forgetful_model():
    return pmm.nn.Linear(features=3) >> Forgetful() >> pmm.nn.Tanh()


@pytest.mark.parametrize("checks", [False, True], ids=["unchecked", "checked"])
@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_apply_returning_only_the_data_is_named_with_its_path(key, jit, checks):
    model = forgetful_model()
    params = (model.layers[0].init(key, (2,))[0], {"w": jnp.ones(3)}, ())
    call = jax.jit(model, static_argnums=2) if jit else model
    with pmm.shape_checks(checks), pytest.raises(pmm.errors.ApplyReturnError) as caught:
        call(params, jnp.ones((4, 2)), False, ((), (), ()), None)
    message = str(caught.value)
    assert message.startswith("Sequential[1] > Forgetful(): Forgetful.apply returned ")
    assert "apply returns the pair (data, state)" in message
    assert isinstance(caught.value, TypeError)


def test_apply_returning_only_the_data_is_named_at_init_and_output_shape(key):
    with pytest.raises(pmm.errors.ApplyReturnError, match=r"^Sequential\[1\] > Forgetful\(\)"):
        forgetful_model().init(key, (2,))
    with pytest.raises(pmm.errors.ApplyReturnError, match="returns the pair"):
        Forgetful().output_shape((3,))


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_data_without_its_batch_axis_is_named_as_such(key, jit):
    model = pmm.nn.Linear(features=4) >> pmm.nn.Tanh() >> pmm.nn.Linear(features=1)
    params, state = model.init(key, (3,))
    call = jax.jit(pmm.checked(model), static_argnums=2) if jit else pmm.checked(model)
    with pytest.raises(pmm.ShapeError) as caught:
        call(params, jnp.ones(3), False, state, None)
    message = str(caught.value)
    assert message.startswith(
        "Sequential[0] > Linear(features=4): the data float32[3] has no batch"
    )
    assert "x[None]" in message and "input_shape is ()" not in message


def test_a_param_path_has_a_short_repr(key):
    model = pmm.nn.MLP(hidden=(64,) * 20) >> pmm.nn.Tanh()
    params, _ = model.init(key, (3,))
    path = jax.tree.leaves(pmm.parameter_paths(model, params))[0]
    assert repr(path) == 'ParamPath("Sequential[0] > MLP(...) > Sequential[0] > ' + (
        "Linear(features=64)['bias']\")"
    )
