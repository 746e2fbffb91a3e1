"""How shape checks turn on (DESIGN.md section 4): per thread, by model, and at no cost when off."""

import os
import subprocess
import sys
import threading

import jax
import jax.numpy as jnp
import pytest

import pmm
from tests.modules import Counter, Scale


class CallerRecorder(pmm.Module):
    """Records the code object that called its ``apply``."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        CALLERS.append(sys._getframe(1).f_code)
        return data, state


CALLERS = []


class TraceCounter(pmm.Module):
    """Counts how often JAX traces (or eagerly runs) its ``apply``."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        TRACES.append(pmm.shape_checks_enabled())
        return data, state

    def output_shape(self, input_shape):  # so that the checks need not trace apply to know it
        return input_shape


TRACES = []


def nested_model():
    return pmm.nn.Linear(features=4) >> pmm.Parallel(a=Scale(), b=Counter() >> pmm.nn.Tanh())


def mismatched(key):
    """A model and params built for 1 feature in its second layer, fed 3 features."""
    model = Scale() >> Scale()
    params, state = model.init(key, (3,))
    return model, (params[0], Scale().init(key, (1,))[0]), state


def test_checks_are_off_by_default():
    assert not pmm.shape_checks_enabled()


def test_set_shape_checks_switches_them_on_and_off():
    pmm.set_shape_checks(True)
    try:
        assert pmm.shape_checks_enabled()
    finally:
        pmm.set_shape_checks(False)
    assert not pmm.shape_checks_enabled()


def test_the_context_restores_the_previous_setting_even_after_an_error():
    with pytest.raises(pmm.ShapeError), pmm.shape_checks():
        assert pmm.shape_checks_enabled()
        with pmm.shape_checks(False):
            assert not pmm.shape_checks_enabled()
        assert pmm.shape_checks_enabled()
        Counter()((), jnp.ones(()), False, (), None)
    assert not pmm.shape_checks_enabled()


def test_a_thread_that_did_not_ask_for_checks_never_gets_them(key):
    model, wrong, state = mismatched(key)
    inside, outcome = threading.Barrier(2), {}

    def checking():
        with pmm.shape_checks():
            inside.wait()  # both threads are now inside their blocks
            try:
                model(wrong, jnp.ones((5, 3)), False, state, None)
            except pmm.ShapeError:
                outcome["checking"] = "raised"
            inside.wait()

    def unchecked():
        inside.wait()
        outcome["enabled"] = pmm.shape_checks_enabled()
        outcome["unchecked"] = model(wrong, jnp.ones((5, 3)), False, state, None)[0].shape
        inside.wait()

    threads = [threading.Thread(target=checking), threading.Thread(target=unchecked)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcome == {"checking": "raised", "enabled": False, "unchecked": (5, 3)}


def test_set_shape_checks_in_one_thread_leaves_other_threads_unchecked():
    seen = {}

    def other():
        seen["other"] = pmm.shape_checks_enabled()

    pmm.set_shape_checks(True)
    try:
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    finally:
        pmm.set_shape_checks(False)
    assert seen == {"other": False}


def test_the_environment_variable_turns_checks_on_from_import_in_every_thread():
    program = (
        "import threading, pmm; seen = []\n"
        "thread = threading.Thread(target=lambda: seen.append(pmm.shape_checks_enabled()))\n"
        "thread.start(); thread.join(); print(pmm.shape_checks_enabled(), seen[0])"
    )
    environment = {**os.environ, "PMM_SHAPE_CHECKS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True True"
    assert result.stderr == ""


def test_an_unclear_environment_value_is_refused_naming_the_variable():
    environment = {**os.environ, "PMM_SHAPE_CHECKS": "yes please"}
    result = subprocess.run(
        [sys.executable, "-c", "import pmm"], env=environment, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "PMM_SHAPE_CHECKS='yes please' is not understood" in result.stderr


def test_off_the_module_calls_apply_directly_with_no_wrapper_between():
    CALLERS.clear()
    CallerRecorder()((), jnp.ones((2, 3)))
    with pmm.shape_checks():
        CallerRecorder()((), jnp.ones((2, 3)))
    assert CALLERS[0] is pmm.Module.__call__.__code__
    assert CALLERS[1] is not pmm.Module.__call__.__code__


def test_the_jaxpr_is_identical_with_checks_on_and_off(key):
    model = nested_model()
    params, state = model.init(key, (3,))
    trace = jax.make_jaxpr(model, static_argnums=2)
    arguments = (params, jnp.ones((5, 3)), True, state, None)
    unchecked = str(trace(*arguments))
    with pmm.shape_checks():
        checked = str(trace(*arguments))
    assert checked == unchecked


def test_switching_checks_on_retraces_functions_jitted_before(key):
    model, wrong, state = mismatched(key)
    jitted = jax.jit(model, static_argnums=2)
    assert jitted(wrong, jnp.ones((5, 3)), False, state, None)[0].shape == (5, 3)
    with pmm.shape_checks(), pytest.raises(pmm.ShapeError, match=r"^Sequential\[1\] > Scale\(\)"):
        jitted(wrong, jnp.ones((5, 3)), False, state, None)


def test_each_setting_is_traced_once_and_both_compilations_are_kept():
    TRACES.clear()
    jitted = jax.jit(TraceCounter(), static_argnums=2)
    for enabled in (False, True, False, True, False):
        with pmm.shape_checks(enabled):
            jitted((), jnp.ones((2, 3)), False, (), None)
    assert TRACES == [False, True]


def test_a_checked_model_raises_under_jit_while_the_plain_models_function_stays_unchecked(key):
    model, wrong, state = mismatched(key)
    plain = jax.jit(model, static_argnums=2)
    checked = jax.jit(pmm.checked(model), static_argnums=2)
    with pytest.raises(pmm.ShapeError, match=r"^Sequential\[1\] > Scale\(\): the input does not"):
        checked(wrong, jnp.ones((5, 3)), False, state, None)
    assert plain(wrong, jnp.ones((5, 3)), False, state, None)[0].shape == (5, 3)
    assert not pmm.shape_checks_enabled()


def test_a_checked_model_is_its_own_module_equal_only_to_another_checked_copy():
    model = nested_model()
    assert pmm.checked(model) == pmm.checked(nested_model())
    assert hash(pmm.checked(model)) == hash(pmm.checked(nested_model()))
    assert pmm.checked(model) != model and model != pmm.checked(model)
    assert pmm.checked(pmm.checked(model)) == pmm.checked(model)
    assert type(pmm.checked(model)) is pmm.Checked


def test_a_checked_model_has_the_models_params_shapes_and_results(key):
    model = nested_model()
    checked = pmm.checked(model)
    params, state = checked.init(key, (3,))
    assert jax.tree.structure(params) == jax.tree.structure(model.init(key, (3,))[0])
    assert checked.output_shape((3,)) == model.output_shape((3,))
    data = jax.random.normal(key, (5, 3))
    ours = checked(params, data, True, state, None)
    theirs = model(params, data, True, state, None)
    jax.tree.map(lambda a, b: pytest.approx(b) == a, ours, theirs)


def test_a_checked_model_composes_and_checks_only_its_own_subtree(key):
    model, wrong, state = mismatched(key)
    composed = pmm.checked(model) >> Scale()
    params, composed_state = composed.init(key, (3,))
    with pytest.raises(pmm.ShapeError, match=r"^Sequential\[0\] > Sequential\[1\] > Scale\(\)"):
        composed((wrong, params[1]), jnp.ones((5, 3)), False, composed_state, None)
    unchecked = Scale() >> pmm.checked(Scale())
    params, state = unchecked.init(key, (3,))
    bad_first = (Scale().init(key, (1,))[0], params[1])
    assert unchecked(bad_first, jnp.ones((5, 3)), False, state, None)[0].shape == (5, 3)
