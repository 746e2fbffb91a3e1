"""pmm.save refuses, before writing anything, what a pmm file could not hold or load back."""

import collections
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from tests.modules import Counter, Scale


class Stateless(pmm.Module):
    """A parameterless identity with one free-form hyperparameter, for the save-time checks."""

    value: object = None

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        return data, state


class Derived(Stateless):
    """A field that ``__init__`` does not take, so ``from_hyperparams`` cannot rebuild it."""

    size: int = dataclasses.field(default=1, init=False)


class Renamed(Stateless, register_as="lab.Renamed"):
    """Registered under a chosen name."""


@pytest.mark.parametrize("value", [frozenset({1}), b"bytes", (1, object())])
def test_a_hyperparameter_of_an_unsupported_type_is_refused(tmp_path, value):
    with pytest.raises(TypeError, match=r"hyperparameter tests\.test_io_save\.Stateless\.value"):
        pmm.save(tmp_path / "m.pmm", Stateless(value), ())
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"s": 1.0}, r"params\['s'\] is a float"),
        ({"s": np.array(["text"])}, r"params\['s'\] has dtype <U4"),
        ({1: jnp.ones(3)}, r"params has a int key 1"),
        (collections.namedtuple("Pair", "a b")(jnp.ones(1), jnp.ones(1)), "params is a Pair"),
    ],
)
def test_a_params_tree_a_file_cannot_hold_is_refused(tmp_path, params, where):
    with pytest.raises(TypeError, match=where):
        pmm.save(tmp_path / "m.pmm", Scale(), params)
    assert not list(tmp_path.iterdir())


def test_params_that_differ_from_what_init_builds_for_input_shape_are_refused(tmp_path):
    with pytest.raises(
        pmm.ShapeError,
        match=r"params\['s'\] is float32\[4\] as given but "
        r"Scale.init builds float32\[3\] for input_shape \(3,\)",
    ):
        pmm.save(tmp_path / "m.pmm", Scale(), {"s": jnp.ones(4)}, input_shape=(3,))
    assert not list(tmp_path.iterdir())


def test_state_with_another_tree_than_init_builds_for_input_shape_is_refused(tmp_path):
    with pytest.raises(
        pmm.ShapeError, match=r"tree differs .*; only one of them has state\['calls'\]$"
    ):
        pmm.save(tmp_path / "m.pmm", Counter(), (), (), input_shape=(3,))


def test_a_module_that_does_not_rebuild_from_its_hyperparameters_is_refused(tmp_path):
    with pytest.raises(TypeError, match=r"would not load back: .*Derived .* rejects"):
        pmm.save(tmp_path / "m.pmm", Derived(), ())


def test_a_class_whose_registered_name_now_means_another_class_is_refused(tmp_path):
    class Shadowed(Stateless, register_as="lab.Shadowed"):
        pass

    first = Shadowed()

    class Shadowed(Stateless, register_as="lab.Shadowed"):
        pass

    with pytest.raises(TypeError, match=r"'lab\.Shadowed' does not load it back"):
        pmm.save(tmp_path / "m.pmm", first, ())
    pmm.save(tmp_path / "m.pmm", Shadowed(), ())
    assert type(pmm.load(tmp_path / "m.pmm")[0]) is Shadowed


def test_a_class_registered_under_a_chosen_name_round_trips(tmp_path):
    pmm.save(tmp_path / "m.pmm", Renamed(value=(1, "a")), ())
    assert pmm.load(tmp_path / "m.pmm") == (Renamed(value=(1, "a")), (), ())


def test_save_takes_params_and_state_positionally_with_empty_state_by_default(tmp_path):
    params, _ = Scale().init(jax.random.key(0), (2,))
    pmm.save(tmp_path / "m.pmm", Scale(), params)
    assert pmm.load(tmp_path / "m.pmm")[2] == ()


@pytest.mark.parametrize("dtype", ["float64", "int64", "uint64", "complex128"])
def test_a_64_bit_leaf_that_could_not_load_back_is_refused_naming_it(tmp_path, dtype):
    # With x64 off, pmm.load refuses 64-bit arrays rather than narrowing them, so save does too.
    with pytest.raises(TypeError, match=rf"params\['s'\] is {dtype}, which JAX narrows"):
        pmm.save(tmp_path / "m.pmm", Scale(), {"s": np.zeros(3, dtype)})
    assert not list(tmp_path.iterdir())


def test_a_64_bit_leaf_saves_and_loads_back_while_x64_is_on(tmp_path, x64):
    pmm.save(tmp_path / "m.pmm", Scale(), {"s": np.arange(3, dtype=np.int64)})
    assert pmm.load(tmp_path / "m.pmm")[1]["s"].dtype == np.int64


def test_saving_a_class_defined_in_main_warns_that_only_main_can_load_it(tmp_path):
    class Script(Stateless):
        __module__ = "__main__"

    with pytest.warns(UserWarning, match=r"Script is defined in __main__.*register_as="):
        pmm.save(tmp_path / "m.pmm", pmm.Sequential(Script(), Script()), ((), ()))
    assert type(pmm.load(tmp_path / "m.pmm")[0].layers[0]) is Script


def test_a_class_defined_in_main_with_a_chosen_name_saves_without_a_warning(tmp_path):
    class Named(Stateless, register_as="lab.Named"):
        __module__ = "__main__"

    pmm.save(tmp_path / "m.pmm", Named(), ())  # filterwarnings = error: a warning would fail


def test_a_checked_model_saves_as_the_plain_model_at_any_depth(tmp_path):
    model = pmm.checked(pmm.Sequential(pmm.checked(Scale(3.0)), pmm.nn.Tanh()))
    params, state = model.init(jax.random.key(0), (2,))
    pmm.save(tmp_path / "m.pmm", model, params, state, input_shape=(2,))
    assert pmm.load(tmp_path / "m.pmm")[0] == pmm.Sequential(Scale(3.0), pmm.nn.Tanh())
