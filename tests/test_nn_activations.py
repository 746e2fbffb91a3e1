"""The jax.nn activations as modules, checked against direct numpy formulas."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm import nn

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _erf(x):
    return np.vectorize(math.erf)(x)


REFERENCES = [
    (nn.CELU(alpha=0.5), lambda x: np.maximum(x, 0) + 0.5 * np.minimum(np.exp(x / 0.5) - 1, 0)),
    (nn.ELU(alpha=2.0), lambda x: np.where(x > 0, x, 2.0 * (np.exp(x) - 1))),
    (
        nn.GELU(),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    ),
    (nn.GELU(approximate=False), lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    (nn.GLU(), lambda x: x[..., :3] * _sigmoid(x[..., 3:])),
    (nn.HardSigmoid(), lambda x: np.clip(x + 3, 0, 6) / 6),
    (nn.HardSiLU(), lambda x: x * np.clip(x + 3, 0, 6) / 6),
    (nn.HardTanh(), lambda x: np.clip(x, -1, 1)),
    (nn.Identity(), lambda x: x),
    (nn.LeakyReLU(), lambda x: np.where(x >= 0, x, 0.01 * x)),
    (nn.LeakyReLU(negative_slope=0.2), lambda x: np.where(x >= 0, x, 0.2 * x)),
    (nn.LogSigmoid(), lambda x: -np.log1p(np.exp(-x))),
    (nn.LogSoftmax(), lambda x: np.log(_softmax(x))),
    (nn.Mish(), lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.ReLU6(), lambda x: np.clip(x, 0, 6)),
    (nn.SELU(), lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))),
    (nn.Sigmoid(), _sigmoid),
    (nn.SiLU(), lambda x: x * _sigmoid(x)),
    (nn.SoftSign(), lambda x: x / (np.abs(x) + 1)),
    (nn.Softmax(), _softmax),
    (nn.Softmax(axis=1), lambda x: _softmax(x.swapaxes(1, -1)).swapaxes(1, -1)),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.SparsePlus(), lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    (nn.SparseSigmoid(), lambda x: np.clip((x + 1) / 2, 0, 1)),
    (nn.Squareplus(), lambda x: (x + np.sqrt(x**2 + 4)) / 2),
    (nn.Squareplus(b=1.0), lambda x: (x + np.sqrt(x**2 + 1)) / 2),
    (nn.Tanh(), np.tanh),
]


@pytest.fixture(scope="module")
def data() -> jax.Array:
    """Values spread over [-4, 4], where every activation's pieces show."""
    return jax.random.uniform(jax.random.key(1), (5, 2, 6), minval=-4, maxval=4)


@pytest.mark.parametrize(
    ("module", "reference"), [pytest.param(m, r, id=repr(m)) for m, r in REFERENCES]
)
def test_activation_matches_its_formula(module, reference, data):
    output, state = module((), data)
    np.testing.assert_allclose(
        output, reference(np.asarray(data, np.float64)), rtol=2e-5, atol=2e-6
    )
    assert state == ()


def test_every_jax_nn_activation_has_a_module():
    functions = {"celu", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu", "hard_swish"}
    functions |= {"hard_tanh", "identity", "leaky_relu", "log_sigmoid", "log_softmax", "mish"}
    functions |= {"relu", "relu6", "selu", "sigmoid", "silu", "soft_sign", "softmax", "softplus"}
    functions |= {"sparse_plus", "sparse_sigmoid", "squareplus", "swish", "tanh"}
    assert set(nn.ACTIVATIONS) == functions
    assert all(callable(getattr(jax.nn, name)) for name in nn.ACTIVATIONS)


@pytest.mark.parametrize("name", list(nn.ACTIVATIONS))
def test_activation_by_name_computes_what_jax_nn_does(name, data):
    module = nn.Activation(name)
    np.testing.assert_allclose(module((), data)[0], getattr(jax.nn, name)(data), rtol=1e-6)
    assert module.output_shape((2, 6)) == nn.ACTIVATIONS[name]().output_shape((2, 6))


def test_activation_with_an_unknown_name_fails_listing_the_valid_names():
    with pytest.raises(ValueError, match="'name'") as caught:
        nn.Activation("rectifier")
    assert "'relu'" in str(caught.value) and "'gelu'" in str(caught.value)


def test_hard_swish_and_swish_are_aliases():
    assert nn.HardSwish is nn.HardSiLU and nn.Swish is nn.SiLU


@pytest.mark.parametrize(
    "module", [m for m, _ in REFERENCES if not isinstance(m, nn.GLU)], ids=repr
)
def test_shape_preserving_activations_pass_unknown_sizes_through(module):
    assert module.output_shape((None, 4)) == (None, 4)
    assert module.output_shape({"a": (None,), "b": ()}) == {"a": (None,), "b": ()}


def test_activations_apply_leaf_wise_to_pytree_data(data):
    output, _ = nn.ReLU()((), {"a": data, "b": (-data,)})
    np.testing.assert_array_equal(output["a"], jnp.maximum(data, 0))
    np.testing.assert_array_equal(output["b"][0], jnp.maximum(-data, 0))


def test_glu_halves_its_axis_and_keeps_unknown_sizes_unknown():
    assert nn.GLU().output_shape((2, 6)) == (2, 3)
    assert nn.GLU(axis=1).output_shape((6, 5)) == (3, 5)
    assert nn.GLU().output_shape((None,)) == (None,)


def test_glu_on_an_odd_axis_fails_at_init_with_the_shape(key):
    with pytest.raises(pmm.ShapeError, match=r"\(2, 5\)"):
        nn.GLU().init(key, (2, 5))


def test_smooth_activations_accept_complex_data():
    data = jnp.array([[0.5 + 1j, -1 - 0.25j]], jnp.complex64)
    output, _ = nn.Tanh()((), data)
    assert output.dtype == jnp.complex64
    np.testing.assert_allclose(output, np.tanh(np.asarray(data)), rtol=1e-6)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: nn.GLU(axis=0), "axis"),
        (lambda: nn.Softmax(axis=1.5), "axis"),
        (lambda: nn.CELU(alpha="1"), "alpha"),
        (lambda: nn.LeakyReLU(negative_slope=None), "negative_slope"),
        (lambda: nn.GELU(approximate=1), "approximate"),
        (lambda: nn.Squareplus(b=True), "b"),
    ],
)
def test_bad_activation_hyperparameters_fail_naming_the_field(make, field):
    with pytest.raises(ValueError, match=f"'{field}'"):
        make()
