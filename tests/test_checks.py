"""Shape-checked mode (DESIGN.md section 4): each violation is a ``ShapeError`` naming the culprit.

Every case runs eagerly and under ``jax.jit`` (where the checks run at trace time), inside nested
combinators, and checks the module path that starts the message.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import pmm
from tests.modules import Counter, Dense, Scale

Linear = pmm.nn.Linear


class FeatureMean(pmm.Module):
    """A user's bug: meant to centre each sample, but averages over the batch axis."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        return data.mean(axis=0, keepdims=True), state


class Halves(pmm.Module):
    """Splits the batch into a dict of two halves: leaves with different batch sizes."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        return {"first": data[: len(data) // 2], "rest": data}, state


class ClaimsSameShape(pmm.Module):
    """Its ``output_shape`` says the shape is kept, but ``apply`` drops the last feature."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        return data[..., :-1], state

    def output_shape(self, input_shape):
        return input_shape


class FloatCounter(pmm.Module):
    """Its state starts as int32 but comes back as float32."""

    def init(self, rng, input_shape):
        return (), {"calls": jnp.zeros((), jnp.int32)}

    def apply(self, params, data, training, state, rng):
        return data, {"calls": state["calls"] + 1.0}


class Project(pmm.Module):
    """Annotated: ``data`` is ``"batch in"`` and the output ``"batch out"``; keeps one feature."""

    features: int = 2

    def init(self, rng, input_shape):
        return {"w": jnp.ones((*input_shape, self.features))}, ()

    def apply(
        self,
        params: dict[str, Float[Array, "in out"]],
        data: Float[Array, "batch in"],
        training,
        state,
        rng,
    ) -> tuple[Float[Array, "batch out"], tuple]:
        return (data @ params["w"])[:, :1], state

    def output_shape(self, input_shape):
        return (self.features,)


class RealOnly(pmm.Module):
    """Annotated to take real data of three features."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data: Float[Array, "batch 3"], training, state, rng):
        return data, state


@pytest.fixture(autouse=True, scope="module")
def checked():
    with pmm.shape_checks():
        yield


@pytest.fixture(params=["eager", "jit"])
def call(request):
    """Call a model eagerly or through ``jax.jit`` (``training`` static)."""
    if request.param == "eager":
        return lambda model, *arguments: model(*arguments)
    return lambda model, *arguments: jax.jit(model, static_argnums=2)(*arguments)


def shape_error(call, model, params, data, training=False, state=(), rng=None) -> str:
    with pytest.raises(pmm.ShapeError) as caught:
        call(model, params, data, training, state, rng)
    return str(caught.value)


def test_a_correct_nested_model_gives_the_same_result_checked(key, call):
    model = Dense(features=4) >> pmm.Parallel(a=Counter(), b=Scale() >> Linear(features=2))
    params, state = model.init(key, (3,))
    data = jax.random.normal(key, (5, 3))
    checked = call(model, params, data, True, state, None)
    with pmm.shape_checks(False):
        unchecked = model(params, data, True, state, None)
    jax.tree.map(np.testing.assert_allclose, checked, unchecked)


def test_input_leaves_with_different_batch_sizes_are_named_at_the_model(key, call):
    model = pmm.Parallel(x=pmm.Select("x") >> Scale(), y=pmm.Select("y"))
    params, state = model.init(key, {"x": (3,), "y": (2,)})
    data = {"x": jnp.ones((5, 3)), "y": jnp.ones((4, 2))}
    message = shape_error(call, model, params, data, state=state)
    assert message.startswith("Parallel(")
    assert "different batch sizes: {'x': float32[5,3], 'y': float32[4,2]}" in message


def test_a_child_whose_output_leaves_differ_in_batch_size_is_named(key, call):
    model = Scale() >> pmm.Parallel(a=Scale(), b=Halves())
    params, state = model.init(key, (3,))
    message = shape_error(call, model, params, jnp.ones((6, 3)), state=state)
    assert message.startswith("Sequential[1] > Parallel['b'] > Halves(): the output leaves have ")
    assert "{'first': float32[3,3], 'rest': float32[6,3]}" in message


def test_input_not_what_the_params_were_built_for_names_the_first_layer_it_reaches(key, call):
    model = Linear(features=4) >> pmm.Parallel(a=Scale(), b=Linear(features=3))
    params, state = model.init(key, (3,))
    message = shape_error(call, model, params, jnp.ones((5, 2)), state=state)
    assert message.startswith("Sequential[0] > Linear(features=4): the input does not match what ")
    assert "params['weight'] is float32[3,4], but init for input shape (2,) gives float32[2,4]" in (
        message
    )


def test_params_built_for_another_width_deep_inside_are_named(key, call):
    model = Linear(features=4) >> pmm.Parallel(a=Scale(), b=Scale() >> Linear(features=3))
    params, state = model.init(key, (3,))
    wrong_scale = Scale().init(key, (6,))[0]
    params = (params[0], {"a": params[1]["a"], "b": (wrong_scale, params[1]["b"][1])})
    message = shape_error(call, model, params, jnp.ones((5, 3)), state=state)
    assert message.startswith("Sequential[1] > Parallel['b'] > Sequential[0] > Scale(): ")
    assert "params['s'] is float32[6], but init for input shape (4,) gives float32[4]" in message


def test_params_without_the_structure_init_gives_are_named(key, call):
    model = Scale() >> pmm.Parallel(a=Scale(), b=Linear(features=3))
    params, state = model.init(key, (4,))
    params = (params[0], {"a": params[1]["a"], "b": {"weight": params[1]["b"]["weight"]}})
    message = shape_error(call, model, params, jnp.ones((5, 4)), state=state)
    assert message.startswith("Sequential[1] > Parallel['b'] > Linear(features=3): the params tree")
    assert "is {'weight': float32[4,3]}, but init gives {'bias': float32[3], 'weight'" in message


def test_a_layer_inside_a_composite_inside_a_sequential_is_named_by_its_full_path(key, call):
    model = Scale() >> pmm.nn.MLP(hidden=(4,), features=2)
    params, state = model.init(key, (3,))
    wrong_first_layer = Linear(features=4).init(key, (2,))[0]
    params = (params[0], (wrong_first_layer, *params[1][1:]))
    message = shape_error(call, model, params, jnp.ones((5, 3)), state=state)
    assert message.startswith(
        "Sequential[1] > MLP(hidden=(4,), features=2) > Sequential[0] > Linear(features=4): "
    )
    assert "params['weight'] is float32[2,4], but init for input shape (3,) gives float32[3,4]" in (
        message
    )


def test_an_output_that_disagrees_with_output_shape_is_named(key, call):
    model = pmm.Residual(Scale()) >> pmm.Parallel(ClaimsSameShape(), Scale())
    params, state = model.init(key, (3,))
    message = shape_error(call, model, params, jnp.ones((5, 3)), state=state)
    assert message.startswith("Sequential[1] > Parallel[0] > ClaimsSameShape(): the output is ")
    assert "float32[5,2], shape (2,) per sample, but output_shape((3,)) says (3,)" in message


def test_a_user_module_that_loses_the_batch_size_is_caught_and_named(key, call):
    model = pmm.Residual(Linear(features=4) >> FeatureMean()) >> Linear(features=1)
    params, state = model.init(key, (4,))
    data = jnp.full((8, 4), 123.456)
    with pmm.shape_checks(False):  # unchecked, the bug broadcasts silently
        assert call(model, params, data, False, state, None)[0].shape == (8, 1)
    message = shape_error(call, model, params, data, state=state)
    assert message.startswith("Sequential[0] > Residual > Sequential[1] > FeatureMean(): ")
    assert "output float32[1,4] has batch size 1, but the input float32[8,4] has 8" in message
    assert "123" not in message


def test_state_that_changes_dtype_is_named(key, call):
    model = Scale() >> pmm.Parallel(count=Counter(), float=FloatCounter())
    params, state = model.init(key, (3,))
    message = shape_error(call, model, params, jnp.ones((5, 3)), True, state)
    assert message.startswith("Sequential[1] > Parallel['float'] > FloatCounter(): the returned ")
    assert "state {'calls': float32[]} does not keep" in message
    assert "passed in, {'calls': int32[]}" in message


def test_state_missing_for_a_stateful_child_is_named(key, call):
    model = Scale() >> pmm.Parallel(count=Counter(), scale=Scale())
    params, _ = model.init(key, (3,))
    message = shape_error(call, model, params, jnp.ones((5, 3)), True, ())
    assert message.startswith("Sequential[1] > Parallel['count'] > Counter(): the state tree is ()")
    assert "init gives {'calls': int32[]}" in message


def test_a_violated_return_annotation_is_named_with_the_bound_sizes(key, call):
    model = pmm.Residual(Scale()) >> pmm.Parallel(Project(), Scale())
    params, state = model.init(key, (3,))
    message = shape_error(call, model, params, jnp.ones((5, 3)), state=state)
    assert message == (
        "Sequential[1] > Parallel[0] > Project(): the return value of Project.apply is "
        "(float32[5,1], ()), but the annotation wants tuple[Float[Array, 'batch out'], tuple] "
        "(with in=3, out=2, batch=5)"
    )


@pytest.mark.parametrize(
    ("data", "actual"),
    [(jnp.ones((5, 4)), "float32[5,4]"), (jnp.ones((5, 3), jnp.complex64), "complex64[5,3]")],
)
def test_a_violated_argument_annotation_is_named(key, call, data, actual):
    model = Scale() >> pmm.Parallel(Scale(), RealOnly())
    params, state = model.init(key, data.shape[1:])
    message = shape_error(call, model, params, data, state=state)
    assert message.startswith("Sequential[1] > Parallel[1] > RealOnly(): the argument 'data' ")
    assert f"of RealOnly.apply is {actual}, but the annotation wants Float[Array, 'batch 3']" in (
        message
    )


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (np.ones((5, 3), np.float32), "the input is a ndarray, not a JAX array"),
        (
            jnp.ones((5, 3), jnp.int32),
            "the input is int32[5,3], but Counter.apply does not declare int32 data",
        ),
        ({"x": jnp.ones(())}, "the input leaf data['x'] is float32[], with no batch axis"),
    ],
)
def test_data_that_is_not_batched_jax_arrays_or_undeclared_integers_is_refused(data, problem):
    message = shape_error(lambda model, *arguments: model(*arguments), Counter(), (), data)
    assert message.startswith(f"Counter(): {problem}")


def test_an_ensemble_over_stacked_params_is_checked_per_member(key):
    model = Linear(features=2) >> Scale()
    stacked = jax.vmap(lambda k: model.init(k, (3,))[0])(jax.random.split(key, 4))
    ensemble = jax.vmap(model, in_axes=(0, None, None, None, None))
    assert ensemble(stacked, jnp.ones((5, 3)), False, ((), ()), None)[0].shape == (4, 5, 2)
    with pytest.raises(pmm.ShapeError, match=r"^Sequential\[0\] > Linear\(features=2\)"):
        ensemble(stacked, jnp.ones((5, 4)), False, ((), ()), None)


def test_gradients_flow_through_checked_calls(key):
    model = Linear(features=3) >> Dense(features=1)
    params, state = model.init(key, (2,))
    grads = jax.grad(lambda p: model(p, jnp.ones((4, 2)), False, state, None)[0].sum())(params)
    assert jax.tree.structure(grads) == jax.tree.structure(params)
