"""ExpectationValueSum and TransitionAmplitudeSum against a direct numpy computation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import pmm
from pmm.matrix import ExpectationValueSum, TransitionAmplitudeSum


def states(seed, batch=3, n=5, r=2):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(batch, n, n)) + 1j * rng.normal(size=(batch, n, n))
    return np.linalg.qr(a)[0][:, :, :r]


def observables_np(params):
    raw = np.asarray(params["observables"], float)
    return ((1 + 1j) * raw + (1 - 1j) * np.swapaxes(raw, -1, -2)) / 2


def centering_np(d):
    return 0.5 * np.sum(np.linalg.norm(d, ord=2, axis=(-2, -1)) ** 2, axis=-1)


def expectation_np(d, v):
    return np.einsum("bai,klac,bci->bk", np.conj(v), d, v).real


def transition_np(d, v):
    return np.sum(np.abs(np.einsum("bai,klac,bcj->bklij", np.conj(v), d, v)) ** 2, axis=(2, 3, 4))


@pytest.mark.parametrize(
    ("layer_class", "direct"),
    [(ExpectationValueSum, expectation_np), (TransitionAmplitudeSum, transition_np)],
)
@pytest.mark.parametrize("centered", [True, False])
def test_outputs_match_numpy(layer_class, direct, centered, key):
    layer = layer_class(output_size=3, num_observables=2, centered=centered, init_magnitude=1.0)
    params, state = layer.init(key, (5, 2))
    v = states(0)
    out, _ = layer(params, jnp.asarray(v, jnp.complex64), False, state, None)
    d = observables_np(params)
    expected = direct(d, v) - (centering_np(d) if centered else 0.0)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("layer_class", [ExpectationValueSum, TransitionAmplitudeSum])
def test_outputs_do_not_depend_on_the_phases_of_the_states(layer_class, key):
    layer = layer_class(output_size=2, init_magnitude=1.0)
    params, state = layer.init(key, (5, 2))
    v = jnp.asarray(states(1), jnp.complex64)
    phased = v * jnp.exp(1j * jnp.array([0.7, -2.0]))
    first = layer(params, v, False, state, None)[0]
    np.testing.assert_allclose(first, layer(params, phased, False, state, None)[0], atol=1e-5)


def test_observables_are_hermitian_params_stored_real(key):
    params, _ = TransitionAmplitudeSum(output_size=2).init(key, (4, 1))
    assert params["observables"].shape == (2, 1, 4, 4)
    assert params["observables"].dtype == jnp.float32


def test_wrong_input_shape_is_a_shape_error(key):
    with pytest.raises(pmm.ShapeError, match=r"\(n, r\)"):
        ExpectationValueSum(output_size=1).init(key, (4,))


def test_bad_output_size_names_the_field():
    with pytest.raises(ValueError, match="output_size"):
        TransitionAmplitudeSum(output_size=0)


@pytest.mark.parametrize("layer_class", [ExpectationValueSum, TransitionAmplitudeSum])
def test_gradients_match_finite_differences(layer_class, key, x64):
    layer = layer_class(output_size=2, num_observables=2, init_magnitude=1.0, dtype="complex128")
    params, state = layer.init(key, (4, 2))

    def loss(params, vectors):
        return jnp.sum(jnp.sin(layer(params, vectors, False, state, None)[0]))

    vectors = jnp.asarray(states(2, n=4))
    check_grads(jax.jit(loss), (params, vectors), order=1, modes=["rev"], eps=1e-6)


def test_observables_no_machine_can_hold_are_refused_naming_the_fields(key):
    layer = ExpectationValueSum(output_size=2**40, num_observables=2**20)
    with pytest.raises(ValueError, match=r"lower field 'output_size' \(1099511627776\), field"):
        jax.eval_shape(lambda: layer.init(key, (2**10, 2)))
