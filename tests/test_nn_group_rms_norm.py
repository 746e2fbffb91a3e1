"""GroupNorm and RMSNorm against their formulas written out in numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import nn
from tests.random_params import random_params


def group_norm(x, groups, scale, bias, epsilon):
    """For each sample and group: the channels of the group at every position, normalised."""
    output = np.empty_like(x)
    size = x.shape[-1] // groups
    for b in range(x.shape[0]):
        for g in range(groups):
            channels = slice(g * size, (g + 1) * size)
            values = x[b, ..., channels]
            output[b, ..., channels] = (values - values.mean()) / np.sqrt(values.var() + epsilon)
    return output * scale + bias


@pytest.mark.parametrize("groups", [1, 2, 6], ids=["layer-like", "two-groups", "instance-like"])
def test_group_norm_matches_the_formula(groups, x64):
    module = nn.GroupNorm(groups=groups, epsilon=1e-3, dtype="float64")
    params = random_params(module, (4, 5, 6))
    x = np.random.default_rng(1).normal(size=(3, 4, 5, 6)) * 3 + 1
    output, state = module(params, jnp.asarray(x), False, (), None)
    expected = group_norm(x, groups, np.asarray(params["scale"]), np.asarray(params["bias"]), 1e-3)
    np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-12)
    assert state == ()


def test_group_norm_does_the_same_in_training_and_without_spatial_axes(x64):
    module = nn.GroupNorm(groups=2, use_scale=False, use_bias=False, dtype="float64")
    x = np.random.default_rng(2).normal(size=(3, 4))
    assert module.init(jax.random.key(0), (4,))[0] == {}
    output = module({}, jnp.asarray(x), True, (), None)[0]
    np.testing.assert_allclose(output, group_norm(x, 2, 1.0, 0.0, 1e-5), rtol=1e-12)


def test_group_norm_refuses_channels_that_do_not_split_into_its_groups():
    with pytest.raises(pmm.ShapeError, match=r"into 4 equal groups.*has 6 channels"):
        nn.GroupNorm(groups=4).init(jax.random.key(0), (5, 6))


def test_the_checks_catch_a_wrong_channel_count_for_group_norm():
    module = pmm.checked(nn.GroupNorm(groups=2))
    params = random_params(module, (5, 4))
    with pytest.raises(pmm.ShapeError, match=r"^GroupNorm\(groups=2\): the input does not match"):
        module(params, jnp.ones((1, 5, 6)), False, (), None)


def test_rms_norm_matches_the_formula(x64):
    module = nn.RMSNorm(epsilon=1e-4, dtype="float64")
    params = random_params(module, (3, 5))
    x = np.random.default_rng(3).normal(size=(2, 3, 5)) + 2
    output, _ = module(params, jnp.asarray(x), False, (), None)
    rms = np.sqrt((x**2).mean(axis=-1, keepdims=True) + 1e-4)
    np.testing.assert_allclose(output, x / rms * np.asarray(params["scale"]), rtol=1e-12)


def test_rms_norm_of_complex_data_uses_the_squared_modulus(x64):
    module = nn.RMSNorm(use_scale=False, dtype="complex128")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 4)) + 1j * rng.normal(size=(2, 4))
    output, _ = module({}, jnp.asarray(x), False, (), None)
    rms = np.sqrt((np.abs(x) ** 2).mean(axis=-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(output, x / rms, rtol=1e-12)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: nn.GroupNorm(groups=0), "groups"),
        (lambda: nn.GroupNorm(groups=2, epsilon=0.0), "epsilon"),
        (lambda: nn.GroupNorm(groups=2, use_bias="yes"), "use_bias"),
        (lambda: nn.RMSNorm(epsilon=-1.0), "epsilon"),
        (lambda: nn.RMSNorm(use_scale=None), "use_scale"),
        (lambda: nn.RMSNorm(dtype="int8"), "dtype"),
    ],
)
def test_bad_norm_hyperparameters_fail_at_construction_naming_the_field(make, name):
    with pytest.raises(ValueError, match=f"field '{name}'"):
        make()
