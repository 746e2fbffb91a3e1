"""pmm.Module as a frozen spec and a pure ModuleCallable (DESIGN.md section 2)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from tests.modules import Counter, Dense, Scale, WrongWidth


def test_assigning_a_field_raises_frozen_instance_error():
    for module in (Scale(), Dense(features=3)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            module.factor = 3.0  # type: ignore[misc]


def test_specs_are_hashable_and_equal_by_class_and_hyperparameters():
    assert Scale(3.0) == Scale(3.0) and hash(Scale(3.0)) == hash(Scale(3.0))
    assert Scale(3.0) != Scale(2.0)
    assert len({Dense(features=2), Dense(features=2), Dense(features=3)}) == 2


def test_specs_holding_nan_equal_their_rebuilt_copies_and_hash_alike():
    class Offset(pmm.Module):  # not decorated: fields alone make it a dataclass
        value: float

        def init(self, rng, input_shape):
            return (), ()

        def apply(self, params, data, training, state, rng):
            return data + self.value, state

    for make in (Scale, Offset, lambda v: pmm.Residual(Scale((v, 1.0)))):
        first, second = make(float("nan")), make(float("nan"))
        assert first == second and hash(first) == hash(second)
        assert type(first).from_hyperparams(first.hyperparams) == first


def test_equal_fields_in_another_class_are_not_equal():
    @dataclasses.dataclass(frozen=True)
    class OtherScale(Scale):
        pass

    assert OtherScale(2.0) != Scale(2.0)


def test_hyperparams_are_the_fields_with_nested_modules_as_modules():
    model = pmm.Residual(Dense(features=3))
    assert Dense(features=3).hyperparams == {"features": 3}
    assert model.hyperparams == {"module": Dense(features=3)}
    assert pmm.Residual.from_hyperparams(model.hyperparams) == model


def test_bad_hyperparameters_fail_at_construction_naming_the_field():
    with pytest.raises(ValueError, match="'features'"):
        Dense(features=-1)
    with pytest.raises(ValueError, match="'axis'"):
        pmm.Concatenate(axis=0)


def test_list_hyperparameters_are_frozen_to_tuples():
    assert pmm.Select(["a", 0]).path == ("a", 0)
    hash(pmm.Select(["a", 0]))


def test_array_hyperparameters_are_refused():
    with pytest.raises(ValueError, match="'factor' is an array"):
        Scale(jnp.ones(3))  # type: ignore[arg-type]


def test_classes_register_under_stable_names():
    assert pmm.registry_name(pmm.Sequential) == "pmm.Sequential"
    assert pmm.registry_name(Scale) == "tests.modules.Scale"
    assert pmm.registered_class("tests.modules.Scale") is Scale

    class Named(Scale, register_as="lab.Named"):
        pass

    assert pmm.registered_class("lab.Named") is Named


def test_an_unknown_class_name_says_how_to_register_it():
    with pytest.raises(KeyError, match=r"pmm\.register"):
        pmm.registered_class("nowhere.Missing")


def test_repr_shows_only_fields_that_differ_from_defaults():
    assert repr(Scale()) == "Scale()"
    assert repr(Dense(features=3)) == "Dense(features=3)"
    assert repr(Scale() >> Dense(features=3)) == "Sequential(Scale(), Dense(features=3))"


def test_output_shape_is_found_by_tracing_without_computing():
    seen = []

    class Spy(pmm.Module):
        def init(self, rng, input_shape):
            return (), ()

        def apply(self, params, data, training, state, rng):
            seen.append(type(data))
            return data[..., :2], state

    assert Spy().output_shape((5,)) == (2,)
    assert all(issubclass(kind, jax.core.Tracer) for kind in seen)


def test_unknown_sizes_pass_through_output_shape_as_none():
    assert Scale().output_shape((3,)) == (3,)
    assert Dense(features=4).output_shape((None, 3)) == (None, 4)


def test_the_user_module_of_the_design_document_works(key):
    params, state = Scale().init(key, (3,))
    out, new_state = Scale()(params, jnp.ones((4, 3)), False, state, None)
    np.testing.assert_array_equal(out, 2 * np.ones((4, 3)))
    assert new_state == ()


def test_jit_with_static_training_equals_eager(key):
    model = Dense(features=5) >> Counter() >> Dense(features=2)
    params, state = model.init(key, (3,))
    data = jax.random.normal(key, (7, 3))
    for training in (False, True):
        eager = model(params, data, training, state, None)
        jitted = jax.jit(model, static_argnums=2)(params, data, training, state, None)
        jax.tree.map(np.testing.assert_allclose, jitted, eager)


def test_vmap_over_stacked_params_is_an_ensemble(key):
    model = Dense(features=4) >> Dense(features=1)
    members = [model.init(k, (3,))[0] for k in jax.random.split(key, 5)]
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *members)
    data = jax.random.normal(key, (6, 3))
    ensemble, _ = jax.vmap(model, in_axes=(0, None, None, None, None))(
        stacked, data, False, (), None
    )
    looped = jnp.stack([model(p, data, False, (), None)[0] for p in members])
    np.testing.assert_allclose(ensemble, looped, rtol=1e-6)


def test_vmap_over_stacked_params_of_a_stateful_model_shares_the_state(key):
    model = Dense(features=4) >> Counter() >> Dense(features=1)
    members = [model.init(k, (3,))[0] for k in jax.random.split(key, 3)]
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *members)
    _, state = model.init(key, (3,))
    data = jax.random.normal(key, (6, 3))
    ensemble, states = jax.vmap(model, in_axes=(0, None, None, None, None))(
        stacked, data, True, state, None
    )
    looped = jnp.stack([model(p, data, True, state, None)[0] for p in members])
    np.testing.assert_allclose(ensemble, looped, rtol=1e-6)
    np.testing.assert_array_equal(states[1]["calls"], [1, 1, 1])


def _finite_difference(function, x, step=1e-6):
    flat = np.asarray(x, dtype=np.float64).ravel()
    grad = np.zeros_like(flat)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (function(up.reshape(x.shape)) - function(down.reshape(x.shape))) / (2 * step)
    return grad.reshape(x.shape)


def test_grad_wrt_params_and_data_matches_finite_differences(key, x64):
    model = Dense(features=3) >> Scale(1.5) >> Dense(features=1)
    params, _ = model.init(key, (2,))
    params = jax.tree.map(lambda leaf: leaf.astype(jnp.float64), params)
    data = jax.random.normal(key, (4, 2), jnp.float64)

    def loss(p, x):
        return jnp.sum(model(p, x, False, (), None)[0] ** 2)

    grad_params, grad_data = jax.grad(loss, argnums=(0, 1))(params, data)
    np.testing.assert_allclose(
        grad_data, _finite_difference(lambda x: loss(params, x), data), rtol=1e-6
    )
    weight = params[0]["w"]
    numeric = _finite_difference(lambda w: loss((({"w": w}, *params[1:])), data), weight)
    np.testing.assert_allclose(grad_params[0]["w"], numeric, rtol=1e-6)


def test_calls_are_pure_same_output_twice_and_inputs_untouched(key):
    model = Dense(features=3) >> Counter()
    params, state = model.init(key, (2,))
    data = jax.random.normal(key, (4, 2))
    copies = jax.tree.map(np.array, (params, data, state))
    first = model(params, data, True, state, None)
    second = model(params, data, True, state, None)
    jax.tree.map(np.testing.assert_array_equal, first, second)
    jax.tree.map(np.testing.assert_array_equal, (params, data, state), copies)


def test_errors_from_jax_carry_the_module_path_as_a_note(key):
    model = Dense(features=3) >> pmm.Parallel(a=Scale(), b=WrongWidth())
    with pytest.raises(TypeError) as caught:
        model.init(key, (2,))
    assert "in pmm module Sequential[1] > Parallel['b'] > WrongWidth()" in caught.value.__notes__


def test_pmm_errors_print_the_module_path_first(key):
    model = Dense(features=3) >> pmm.Select("missing")
    with pytest.raises(pmm.ShapeError, match=r"^Sequential\[1\] > Select\(path=\('missing',\)\): "):
        model(model.init(key, (2,))[0], {"a": jnp.ones((2, 2))})


def test_a_parameterless_module_with_the_default_output_shape_inits(key):
    class Halve(pmm.Parameterless):  # no output_shape: the default probe must not call init
        def apply(self, params, data, training, state, rng):
            return data[..., ::2], state

    assert Halve().init(key, (6,)) == ((), ())
    assert Halve().output_shape((None, 6)) == (None, 3)


def test_output_shape_with_unknown_sizes_inits_the_probe_with_concrete_sizes():
    # Scale's init, like most user inits, builds arrays of the input shape: it needs real sizes.
    assert Scale().output_shape((None, 3)) == (None, 3)
    assert (Scale() >> Dense(features=2)).output_shape((None, 3)) == (None, 2)


def test_a_traced_training_flag_says_to_mark_it_static(key):
    model = Dense(features=2) >> Counter()
    params, state = model.init(key, (3,))
    with pytest.raises(TypeError, match=r"training must be a Python bool.*static_argnums=2"):
        jax.jit(model)(params, jnp.ones((2, 3)), True, state, None)


def test_numpy_bools_are_accepted_as_training_flags(key):
    params, state = Counter().init(key, (3,))
    _, state = Counter()(params, jnp.ones((2, 3)), np.True_, state, None)
    assert state["calls"] == 1
