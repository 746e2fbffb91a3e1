"""pmm.cast (issue 13 section 3): one call moves a model's specs, params and state to a dtype."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import nn
from tests.modules import Counter

FLOATS = ("float16", "bfloat16", "float32", "float64")


class HalfScale(pmm.Module):
    """Multiplies by a trainable array of its ``dtype``, which may be a half-precision one."""

    dtype: str = "float32"

    def __post_init__(self):
        super().__post_init__()
        if self.dtype not in FLOATS:
            raise ValueError(f"field 'dtype' of HalfScale is {self.dtype!r}; give one of {FLOATS}")

    def init(self, rng, input_shape):
        return {"s": jnp.ones(input_shape, self.dtype)}, ()

    def apply(self, params, data, training, state, rng):
        return data * params["s"], state


class SinglePrecision(pmm.Module):
    """Takes no dtype but float32: casting it elsewhere must fail and name it."""

    dtype: str = "float32"

    def __post_init__(self):
        super().__post_init__()
        if self.dtype != "float32":
            raise ValueError(f"field 'dtype' of SinglePrecision is {self.dtype!r}; give 'float32'")

    def init(self, rng, input_shape):
        return {"s": jnp.ones(input_shape)}, ()

    def apply(self, params, data, training, state, rng):
        return data * params["s"], state


class FixedWidth(pmm.Composite):
    """A composite that builds a float32 Linear whatever it is asked: cast cannot reach it."""

    width: int = 2

    def build(self):
        return nn.Linear(features=self.width)


def mixed_model():
    """Real and complex layers, float and integer state, a graph, a composite, a checked part."""
    return pmm.Graph(
        nodes={
            "mlp": (pmm.checked(nn.MLP(hidden=(4,), features=3)), "input"),
            "norm": (nn.BatchNorm(), "mlp"),
            "count": (Counter(), "norm"),
            "pmm": (pmm.AOPMM(matrix_size=3, num_eig=2), "count"),
        },
        output="pmm",
    )


def dtypes(tree):
    return jax.tree.map(lambda leaf: jnp.dtype(leaf.dtype), tree)


def assert_init_would_build(model, params, state, input_shape):
    """The cast params and state have the dtypes (and shapes) ``model.init`` gives."""
    built = jax.eval_shape(lambda: model.init(jax.random.key(0), input_shape))
    assert dtypes((params, state)) == dtypes(built)


def test_float64_moves_every_dtype_field_params_and_float_state(key, x64):
    model = mixed_model()
    with jax.enable_x64(False):
        params, state = model.init(key, (2,))
    cast_model, cast_params, cast_state = pmm.cast(model, params, state, "float64")
    wiring = cast_model.wiring
    assert wiring["mlp"][0] == pmm.checked(nn.MLP(hidden=(4,), features=3, dtype="float64"))
    assert wiring["norm"][0] == nn.BatchNorm(dtype="float64")
    assert wiring["pmm"][0].dtype == "complex128"
    assert cast_params["pmm"][0]["matrices"].dtype == jnp.float64  # the matrices' real storage
    assert cast_state["norm"]["var"].dtype == jnp.float64
    assert_init_would_build(cast_model, cast_params, cast_state, (2,))
    jax.tree.map(lambda a, b: np.testing.assert_array_equal(a, b), cast_params, params)


def test_integer_state_is_untouched(key, x64):
    model = Counter() >> nn.Linear(features=2)
    params, state = model.init(key, (3,))
    _, _, cast_state = pmm.cast(model, params, state, "float64")
    assert cast_state[0]["calls"].dtype == state[0]["calls"].dtype


def test_casting_back_to_float32_gives_the_model_back(key, x64):
    model = mixed_model()
    with jax.enable_x64(False):
        params, state = model.init(key, (2,))
    there = pmm.cast(model, params, state, "float64")
    back = pmm.cast(*there, jnp.float32)
    assert back[0] == model
    assert dtypes(back[1:]) == dtypes((params, state))
    jax.tree.map(np.testing.assert_array_equal, back[1:], (params, state))


def test_float64_with_x64_off_is_refused_saying_how_to_turn_it_on(key):
    params, state = nn.Linear(features=2).init(key, (3,))
    with pytest.raises(ValueError, match=r"needs 64-bit JAX; enable it with jax.config.update"):
        pmm.cast(nn.Linear(features=2), params, state, "float64")


@pytest.mark.parametrize("dtype", ["int32", "complex64", "not a dtype"])
def test_targets_other_than_the_four_floats_are_refused(key, dtype):
    params, state = nn.Linear(features=2).init(key, (3,))
    with pytest.raises(ValueError, match="give one of"):
        pmm.cast(nn.Linear(features=2), params, state, dtype)


@pytest.mark.parametrize("half", ["bfloat16", "float16"])
def test_half_precision_keeps_complex_layers_and_leaves_at_complex64(key, half):
    model = HalfScale() >> pmm.AEPMM(matrix_size=3) >> nn.Constant(value=1j, trainable=True)
    params, state = model.init(key, (2,))
    cast_model, cast_params, cast_state = pmm.cast(model, params, state, half)
    assert cast_model.layers[0].dtype == half and cast_params[0]["s"].dtype == half
    assert cast_model.layers[1].dtype == "complex64"
    assert cast_params[1][0]["matrices"].dtype == jnp.float32  # the complex64 layer's storage
    assert cast_params[2]["value"].dtype == jnp.complex64
    assert_init_would_build(cast_model, cast_params, cast_state, (2,))
    output, _ = cast_model(cast_params, jnp.ones((4, 2), half), False, cast_state)
    assert output.dtype == jnp.complex64


def test_a_linear_model_casts_to_bfloat16(key):
    model = nn.Linear(features=4) >> nn.Tanh() >> nn.Linear(features=1)
    params, state = model.init(key, (3,))
    cast_model, cast_params, cast_state = pmm.cast(model, params, state, "bfloat16")
    assert cast_model.layers[0].dtype == "bfloat16"
    assert {leaf.dtype for leaf in jax.tree.leaves(cast_params)} == {jnp.dtype("bfloat16")}
    assert_init_would_build(cast_model, cast_params, cast_state, (3,))


@pytest.mark.parametrize("half", ["bfloat16", "float16"])
def test_half_precision_batch_norm_keeps_float32_running_statistics(key, half):
    model = nn.Linear(features=3) >> nn.BatchNorm()
    params, state = model.init(key, (2,))
    cast_model, cast_params, cast_state = pmm.cast(model, params, state, half)
    assert cast_params[1]["scale"].dtype == half
    assert {leaf.dtype for leaf in jax.tree.leaves(cast_state)} == {jnp.dtype("float32")}
    assert_init_would_build(cast_model, cast_params, cast_state, (2,))


def test_a_module_that_refuses_the_dtype_is_named(key):
    model = nn.Tanh() >> SinglePrecision()
    params, state = model.init(key, (3,))
    with pytest.raises(ValueError, match=r"cannot cast SinglePrecision\(\) to 'float16': .*give"):
        pmm.cast(model, params, state, "float16")


def test_a_composite_building_layers_cast_cannot_reach_is_refused(key, x64):
    params, state = FixedWidth().init(key, (3,))
    with pytest.raises(ValueError, match=r"FixedWidth\(\) .*builds Linear\(features=2\).*field"):
        pmm.cast(FixedWidth(), params, state, "float64")


def test_a_cast_model_round_trips_through_save_and_load(key, tmp_path, x64):
    model = mixed_model()
    with jax.enable_x64(False):
        params, state = model.init(key, (2,))
    cast_model, cast_params, cast_state = pmm.cast(model, params, state, "float64")
    path = tmp_path / "model.pmm"
    pmm.save(path, cast_model, cast_params, cast_state, input_shape=(2,))
    loaded_model, loaded_params, loaded_state = pmm.load(path)
    loaded_nodes, cast_nodes = dict(loaded_model.wiring), dict(cast_model.wiring)
    assert pmm.checked(loaded_nodes.pop("mlp")[0]) == cast_nodes.pop("mlp")[0]  # saved unchecked
    assert loaded_nodes == cast_nodes
    assert dtypes((loaded_params, loaded_state)) == dtypes((cast_params, cast_state))
    jax.tree.map(np.testing.assert_array_equal, loaded_params, cast_params)
