"""pmm.register_function and pmm.nn.Function: pure functions as modules, found by registered name
only, so saved files never name code to import."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import functions, nn


def cube(x):
    return x**3


pmm.register_function(cube, "tests.functions.cube")


def test_a_function_module_applies_the_registered_function_to_the_data():
    module = nn.Function("tests.functions.cube")
    params, state = module.init(jax.random.key(0), (2,))
    assert (params, state) == ((), ())
    output, _ = jax.jit(module, static_argnums=2)(params, jnp.array([[2.0, -1.0]]), False, (), None)
    np.testing.assert_array_equal(output, [[8.0, -1.0]])
    assert module.output_shape((None, 2)) == (None, 2)


def test_the_function_receives_the_whole_pytree_with_its_batch_axis():
    pmm.register_function(lambda d: d["a"] * d["b"].sum(-1, keepdims=True), "tests.functions.mix")
    module = nn.Function("tests.functions.mix")
    assert module.output_shape({"a": (3,), "b": (4,)}) == (3,)
    data = {"a": jnp.ones((2, 3)), "b": jnp.full((2, 4), 0.5)}
    np.testing.assert_array_equal(module((), data, False, (), None)[0], np.full((2, 3), 2.0))


def test_an_unknown_name_fails_at_construction_saying_to_register_it():
    with pytest.raises(ValueError, match=r"register_function\(fn, 'lab.unknown'\)"):
        nn.Function("lab.unknown")


def test_registering_returns_the_function_and_the_same_function_may_register_twice():
    assert pmm.register_function(cube, "tests.functions.cube") is cube
    assert functions.registered_function("tests.functions.cube") is cube


def test_a_taken_name_is_refused_for_another_function():
    with pytest.raises(ValueError, match=r"'tests.functions.cube' is registered already.*cube"):
        pmm.register_function(lambda x: x, "tests.functions.cube")


@pytest.mark.parametrize(
    ("function", "name", "message"),
    [(3, "tests.three", "takes a callable first"), (cube, "", "non-empty string"), (cube, 7, "7")],
)
def test_registering_refuses_what_is_not_a_function_and_a_name(function, name, message):
    with pytest.raises(ValueError, match=message):
        pmm.register_function(function, name)


def test_a_file_naming_an_unregistered_function_does_not_load(tmp_path, monkeypatch):
    path = tmp_path / "model.pmm"
    pmm.save(path, nn.Function("tests.functions.cube"), (), input_shape=(2,))
    assert pmm.load(path)[0] == nn.Function("tests.functions.cube")
    monkeypatch.setattr(functions, "_FUNCTIONS", {})  # a fresh process that never registered it
    with pytest.raises(pmm.LoadError, match=r"register_function\(fn, 'tests.functions.cube'\)"):
        pmm.load(path)
