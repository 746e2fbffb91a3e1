"""Initializers chosen by name: the table, the variances they promise, and kernel_init on layers."""

import jax
import numpy as np
import pytest

import pmm
from pmm.nn import Linear
from pmm.nn.initializers import INITIALIZERS, VARIANCE_SCALING, initialize

FAN_IN, FAN_OUT = 300, 500


def _draw(name, dtype="float32"):
    shape = (FAN_IN, FAN_OUT)
    return initialize(name, jax.random.key(0), shape, dtype, fan_in=FAN_IN, fan_out=FAN_OUT)


def _promised_variance(name):
    scale, mode, _ = VARIANCE_SCALING[name]
    fan = {"fan_in": FAN_IN, "fan_out": FAN_OUT, "fan_avg": (FAN_IN + FAN_OUT) / 2}[mode]
    return scale / fan


def test_the_names_are_the_jax_nn_initializers_of_the_same_name():
    assert all(hasattr(jax.nn.initializers, name) for name in INITIALIZERS)


@pytest.mark.parametrize("name", list(VARIANCE_SCALING))
def test_variance_scaling_draws_have_scale_over_fan_variance_and_zero_mean(name):
    weight = np.asarray(_draw(name))
    assert weight.var() / _promised_variance(name) == pytest.approx(1, abs=0.02)
    assert abs(weight.mean()) < 0.01 * _promised_variance(name) ** 0.5 * 3


@pytest.mark.parametrize("name", [name for name in VARIANCE_SCALING if name.endswith("uniform")])
def test_uniform_draws_stay_within_the_bound_of_their_variance(name):
    weight = np.asarray(_draw(name))
    bound = (3 * _promised_variance(name)) ** 0.5
    assert np.abs(weight).max() <= bound
    assert np.abs(weight).max() > 0.99 * bound


@pytest.mark.parametrize("name", list(VARIANCE_SCALING))
def test_complex_draws_split_the_variance_between_independent_real_and_imaginary_parts(name):
    weight = np.asarray(_draw(name, "complex64"))
    assert weight.dtype == np.complex64
    for part in (weight.real, weight.imag):
        assert part.var() * 2 / _promised_variance(name) == pytest.approx(1, abs=0.03)
    assert abs(np.corrcoef(weight.real.ravel(), weight.imag.ravel())[0, 1]) < 0.01


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_orthogonal_gives_orthonormal_rows_of_a_wide_array(dtype):
    weight = np.asarray(_draw("orthogonal", dtype))
    np.testing.assert_allclose(weight @ weight.conj().T, np.eye(FAN_IN), atol=1e-5)


def test_zeros_gives_zeros():
    np.testing.assert_array_equal(_draw("zeros"), np.zeros((FAN_IN, FAN_OUT)))


@pytest.mark.parametrize("name", INITIALIZERS)
def test_a_zero_fan_gives_an_empty_array_instead_of_dividing_by_zero(name):
    weight = initialize(name, jax.random.key(0), (0, 3), "float32", fan_in=0, fan_out=3)
    assert weight.shape == (0, 3)


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_linear_default_init_is_the_lecun_normal_linear_always_had(key, dtype):
    # The draw Linear made before initializers had names: normal(key) * sqrt(1 / in), complex
    # as two real draws of half the variance.
    weight = Linear(features=2, dtype=dtype).init(key, (3,))[0]["weight"]
    if dtype == "float32":
        expected = jax.random.normal(key, (3, 2)) * (1 / 3) ** 0.5
    else:
        parts = jax.random.normal(key, (2, 3, 2)) * (1 / 6) ** 0.5
        expected = parts[0] + 1j * parts[1]
    np.testing.assert_array_equal(weight, expected)


@pytest.mark.parametrize("name", INITIALIZERS)
def test_linear_draws_its_weight_with_fan_in_and_fan_out_of_the_weight(key, name):
    weight = Linear(features=5, kernel_init=name).init(key, (4,))[0]["weight"]
    expected = initialize(name, key, (4, 5), "float32", fan_in=4, fan_out=5)
    np.testing.assert_array_equal(weight, expected)


@pytest.mark.parametrize("name", ["kaiming_normal", "", None, 3, "Lecun_Normal"])
def test_an_unknown_initializer_fails_at_construction_listing_the_names(name):
    with pytest.raises(ValueError, match=r"'kernel_init' of Linear.*'lecun_normal', 'lecun_unif"):
        Linear(features=2, kernel_init=name)


def test_the_initializer_name_is_saved_with_the_model(key, tmp_path):
    model = Linear(features=2, kernel_init="he_uniform")
    params, state = model.init(key, (3,))
    pmm.save(tmp_path / "model.pmm", model, params, state, input_shape=(3,))
    loaded, _, _ = pmm.load(tmp_path / "model.pmm")
    assert loaded == model and loaded.kernel_init == "he_uniform"


def test_repr_shows_a_chosen_initializer_and_rebuilds_the_spec():
    model = Linear(features=2, kernel_init="glorot_normal")
    assert "kernel_init='glorot_normal'" in repr(model)
    assert eval(repr(model), {"Linear": Linear}) == model
    assert "kernel_init" not in repr(Linear(features=2))
