"""Module calls run inside ``jax.named_scope`` of their module path, at trace time only."""

import jax
import jax.numpy as jnp
import pytest

import pmm


def lowered_text(model, input_shape, key):
    params, state = model.init(key, input_shape)
    data = jnp.ones((2, *input_shape))
    jitted = jax.jit(model, static_argnums=2)
    return jitted.lower(params, data, False, state, None).as_text(debug_info=True)


def test_the_lowered_program_names_each_layer_by_its_module_path(key):
    model = pmm.nn.Linear(features=4) >> pmm.Parallel(a=pmm.nn.Tanh(), b=pmm.nn.ReLU())
    text = lowered_text(model, (3,), key)
    assert "Sequential[0]/Linear(features=4)/dot_general" in text
    assert "Sequential[1]/Parallel['a']/Tanh()/tanh" in text
    assert "Sequential[1]/Parallel['b']/ReLU()/" in text


def test_composites_and_residuals_appear_as_in_error_paths(key):
    model = pmm.Residual(pmm.nn.MLP(hidden=(4,), features=3))
    text = lowered_text(model, (3,), key)
    assert "Residual/MLP(hidden=(4,), features=3)/Sequential[0]/Linear(features=4)" in text


def test_checked_calls_are_scoped_alike(key):
    model = pmm.nn.Linear(features=4) >> pmm.nn.Tanh()
    assert "Sequential[1]/Tanh()/tanh" in lowered_text(pmm.checked(model), (3,), key)


def test_eager_calls_enter_no_name_scope(key, monkeypatch):
    entered = []
    original = jax.named_scope
    monkeypatch.setattr(jax, "named_scope", lambda name: entered.append(name) or original(name))
    model = pmm.nn.Linear(features=4) >> pmm.Residual(pmm.nn.Tanh())
    params, state = model.init(key, (3,))
    model(params, jnp.ones((2, 3)), False, state, None)
    assert entered == []
    jax.jit(model, static_argnums=2)(params, jnp.ones((2, 3)), False, state, None)
    assert "Sequential[0]" in entered


@pytest.mark.parametrize("checks", [False, True])
def test_the_compiled_step_is_the_same_program_with_scopes(key, checks):
    model = pmm.nn.Linear(features=4) >> pmm.nn.Tanh()
    params, state = model.init(key, (3,))

    def by_hand(params, data):
        return jnp.tanh(data @ params[0]["weight"] + params[0]["bias"])

    data = jnp.ones((2, 3))
    with pmm.shape_checks(checks):
        ours = jax.jit(model, static_argnums=2).lower(params, data, False, state, None)
    theirs = jax.jit(by_hand).lower(params, data)
    strip = lambda text: [line for line in text.splitlines() if "loc" not in line]  # noqa: E731
    assert str(jax.make_jaxpr(lambda p, x: model(p, x, False, state, None)[0])(params, data)) == (
        str(jax.make_jaxpr(by_hand)(params, data))
    )
    assert len(strip(ours.as_text())) == len(strip(theirs.as_text()))
