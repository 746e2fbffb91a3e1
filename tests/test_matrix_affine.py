"""AffineHermitianMatrix and LowRankAffineHermitianMatrix against their numpy definitions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import pmm
from pmm.matrix import AffineHermitianMatrix, LowRankAffineHermitianMatrix


def hermitian_np(raw):
    return ((1 + 1j) * raw + (1 - 1j) * np.swapaxes(raw, -1, -2)) / 2


def smoothing_np(matrices):
    total = np.zeros(matrices.shape[1:], complex)
    for a in range(len(matrices)):
        for b in range(a):
            total += matrices[a] @ matrices[b] - matrices[b] @ matrices[a]
    return 1j * total


def test_matrices_equal_the_affine_definition_with_smoothing(key):
    layer = AffineHermitianMatrix(matrix_size=4, smoothing=0.3)
    params, state = layer.init(key, (3,))
    x = np.random.default_rng(0).normal(size=(5, 3))
    out, _ = layer(params, jnp.asarray(x, jnp.float32), False, state, None)
    m = hermitian_np(np.asarray(params["matrices"], float))
    expected = m[0] + np.einsum("bp,pij->bij", x, m[1:]) + 0.3 * smoothing_np(m)
    np.testing.assert_allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize(
    "layer", [AffineHermitianMatrix(5, smoothing=0.5), LowRankAffineHermitianMatrix(5, rank=2)]
)
def test_output_is_hermitian(layer, key):
    params, state = layer.init(key, (2,))
    out, _ = layer(params, jax.random.normal(key, (7, 2)), False, state, None)
    np.testing.assert_allclose(out, jnp.conj(jnp.swapaxes(out, 1, 2)), atol=1e-7)


@pytest.mark.parametrize("layer", [AffineHermitianMatrix(3), LowRankAffineHermitianMatrix(3, 2)])
def test_output_is_affine_in_the_features(layer, key):
    params, state = layer.init(key, (2,))
    x, y = jax.random.normal(key, (2, 4, 2))
    out = lambda data: layer(params, data, False, state, None)[0]  # noqa: E731
    np.testing.assert_allclose(out(0.3 * x + 0.7 * y), 0.3 * out(x) + 0.7 * out(y), atol=1e-6)


def test_without_bias_term_zero_features_give_the_smoothing_term_only(key):
    layer = AffineHermitianMatrix(3, bias_term=False, smoothing=2.0)
    params, state = layer.init(key, (2,))
    out, _ = layer(params, jnp.zeros((1, 2)), False, state, None)
    m = hermitian_np(np.asarray(params["matrices"], float))
    assert params["matrices"].shape == (2, 3, 3)
    np.testing.assert_allclose(out[0], 2.0 * smoothing_np(m), atol=1e-6)


def test_smoothing_of_sigma_z_and_sigma_x_is_two_sigma_y():
    layer = AffineHermitianMatrix(2, smoothing=1.0)
    # raw A reads as H = Re + i Im with Re = sym(A), Im = antisym(A): sigma_z, sigma_x are real.
    params = {"matrices": jnp.array([[[1.0, 0.0], [0.0, -1.0]], [[0.0, 1.0], [1.0, 0.0]]])}
    out, _ = layer(params, jnp.zeros((1, 1)), False, (), None)
    sigma_y = np.array([[0, -1j], [1j, 0]])
    np.testing.assert_allclose(out[0], np.diag([1.0, -1.0]) + 2 * sigma_y, atol=1e-6)


def test_low_rank_matrices_have_the_given_rank(key):
    layer = LowRankAffineHermitianMatrix(6, rank=2)
    params, _ = layer.init(key, (1,))
    ranks = np.linalg.matrix_rank(np.asarray(layer.matrices(params)), tol=1e-6)
    assert list(ranks) == [2, 2]


def test_params_are_real_and_outputs_have_the_dtype(key):
    layer = AffineHermitianMatrix(3)
    params, state = layer.init(key, (2,))
    assert params["matrices"].dtype == jnp.float32
    assert layer(params, jnp.ones((1, 2)), False, state, None)[0].dtype == jnp.complex64


@pytest.mark.parametrize(
    ("field", "value"),
    [("matrix_size", 0), ("dtype", "float32"), ("smoothing", float("nan")), ("bias_term", 1)],
)
def test_bad_hyperparameters_fail_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        AffineHermitianMatrix(**{"matrix_size": 3, field: value})


def test_non_vector_input_shape_is_a_shape_error(key):
    with pytest.raises(pmm.ShapeError, match=r"\(p,\)"):
        AffineHermitianMatrix(3).init(key, (2, 2))


def test_complex128_without_x64_says_how_to_enable_it(key):
    with pytest.raises(ValueError, match="jax_enable_x64"):
        AffineHermitianMatrix(3, dtype="complex128").init(key, (1,))


@pytest.mark.parametrize(
    "layer",
    [
        AffineHermitianMatrix(3, smoothing=0.2, dtype="complex128"),
        LowRankAffineHermitianMatrix(3, 2, smoothing=0.2, dtype="complex128"),
    ],
)
def test_gradients_match_finite_differences(layer, key, x64):
    params, state = layer.init(key, (2,))
    weights = jax.random.normal(key, (4, 3, 3))

    def loss(params, data):
        out = layer(params, data, False, state, None)[0]
        return jnp.sum(weights * (out.real + out.imag) ** 2)

    check_grads(jax.jit(loss), (params, jax.random.normal(key, (4, 2))), order=1, modes=["rev"])


def test_complex_features_are_a_shape_error(key):
    layer = AffineHermitianMatrix(3)
    params, state = layer.init(key, (2,))
    with pytest.raises(pmm.ShapeError, match=r"real features.*complex64\[4, 2\]"):
        layer(params, jnp.ones((4, 2), jnp.complex64), False, state, None)


@pytest.mark.parametrize(
    ("layer", "fields"),
    [
        (AffineHermitianMatrix(2**31), "field 'matrix_size' \\(2147483648\\)"),
        (LowRankAffineHermitianMatrix(2**40, rank=2**30), "field 'matrix_size'.*field 'rank'"),
    ],
)
def test_params_no_machine_can_hold_are_refused_naming_the_fields(layer, fields, key):
    # eval_shape: were the check missing, nothing would be allocated and the test fails cleanly
    with pytest.raises(ValueError, match=f"no machine can hold; lower {fields}"):
        jax.eval_shape(lambda: layer.init(key, (1,)))


def test_low_rank_refuses_a_rank_above_the_matrix_size():
    with pytest.raises(ValueError, match=r"field 'rank' .* is 5, above matrix_size=3.*rank <= 3"):
        LowRankAffineHermitianMatrix(matrix_size=3, rank=5)
