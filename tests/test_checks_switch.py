"""The shape-check switch (DESIGN.md section 4): how checks turn on, and that off costs nothing."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

import pmm
from benchmarks import bench_checks
from tests.modules import Counter, Scale


class CallerRecorder(pmm.Module):
    """Records the code object that called its ``apply``."""

    def init(self, rng, input_shape):
        return (), ()

    def apply(self, params, data, training, state, rng):
        CALLERS.append(sys._getframe(1).f_code)
        return data, state


CALLERS = []


def nested_model():
    return pmm.nn.Linear(features=4) >> pmm.Parallel(a=Scale(), b=Counter() >> pmm.nn.Tanh())


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


def test_the_environment_variable_turns_checks_on_from_import():
    program = "import pmm; print(pmm.shape_checks_enabled())"
    environment = {**os.environ, "PMM_SHAPE_CHECKS": "1"}
    result = subprocess.run(
        [sys.executable, "-c", program], env=environment, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"
    assert result.stderr == ""


def test_an_unclear_environment_value_is_refused_naming_the_variable():
    with pytest.raises(ValueError, match=r"PMM_SHAPE_CHECKS='yes please' is not understood"):
        pmm.checks._enabled_by("yes please")


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
    model = Scale() >> Scale()
    params, state = model.init(key, (3,))
    wrong = (params[0], Scale().init(key, (1,))[0])
    jitted = jax.jit(model, static_argnums=2)
    assert jitted(wrong, jnp.ones((5, 3)), False, state, None)[0].shape == (5, 3)
    with pmm.shape_checks(), pytest.raises(pmm.ShapeError, match=r"^Sequential\[1\] > Scale\(\)"):
        jitted(wrong, jnp.ones((5, 3)), False, state, None)


def test_the_benchmark_measures_the_ratio_with_checks_off_and_on():
    off, on = bench_checks.run(quick=True)
    assert off.title.endswith("shape checks off")
    assert on.title.endswith("shape checks on")
    assert off.ratio > 0
    assert on.ratio > 0
    assert not pmm.shape_checks_enabled()
