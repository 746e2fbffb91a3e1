"""Eigenvalues, Eigenvectors and Eigensystem against numpy.linalg.eigh, for every ``which``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import pmm
from pmm.matrix import WHICH, Eigensystem, Eigenvalues, Eigenvectors


def random_hermitian(seed, batch=4, n=6):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(batch, n, n)) + 1j * rng.normal(size=(batch, n, n))
    return (a + np.conj(np.swapaxes(a, 1, 2))) / 2


def reference_indices(values, k, which):
    """The documented selection, written independently with numpy."""
    key = values if which[1] == "A" else np.abs(values)
    order = np.argsort(key, kind="stable")
    n = len(values)
    if which[0] == "S":
        return order[:k]
    if which[0] == "L":
        return order[n - k :]
    if which[0] == "E":
        return np.concatenate([order[: k // 2], order[n - (k - k // 2) :]])
    return order[n // 2 - k // 2 : n // 2 - k // 2 + k]


@pytest.mark.parametrize("which", list(WHICH))
@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_eigenvalues_match_numpy_for_every_which(which, k):
    matrices = random_hermitian(0)
    out, _ = Eigenvalues(k, which)({}, jnp.asarray(matrices, jnp.complex64))
    for values, got in zip(np.linalg.eigvalsh(matrices), np.asarray(out), strict=True):
        np.testing.assert_allclose(got, values[reference_indices(values, k, which)], atol=1e-5)


@pytest.mark.parametrize("which", list(WHICH))
def test_eigenvectors_match_numpy_up_to_phase(which):
    matrices = random_hermitian(1)
    out, _ = Eigenvectors(3, which)({}, jnp.asarray(matrices, jnp.complex64))
    for matrix, got in zip(matrices, np.asarray(out), strict=True):
        values, vectors = np.linalg.eigh(matrix)
        expected = vectors[:, reference_indices(values, 3, which)]
        overlaps = np.abs(np.sum(np.conj(expected) * got, axis=0))
        np.testing.assert_allclose(overlaps, 1.0, atol=1e-5)


def test_eigensystem_pairs_values_with_their_vectors():
    matrices = jnp.asarray(random_hermitian(2), jnp.complex64)
    (values, vectors), _ = Eigensystem(4, "LM")({}, matrices)
    np.testing.assert_allclose(matrices @ vectors, vectors * values[:, None, :], atol=1e-5)
    np.testing.assert_allclose(values, Eigenvalues(4, "LM")({}, matrices)[0])


def test_order_is_ascending_in_the_sort_key():
    matrices = jnp.diag(jnp.array([-5.0, -1.0, 0.5, 3.0]))[None].astype(jnp.complex64)
    assert Eigenvalues(2, "LA")({}, matrices)[0].tolist() == [[0.5, 3.0]]
    assert Eigenvalues(2, "LM")({}, matrices)[0].tolist() == [[3.0, -5.0]]
    assert Eigenvalues(3, "EA")({}, matrices)[0].tolist() == [[-5.0, 0.5, 3.0]]


def test_input_is_read_as_its_hermitian_part():
    matrices = random_hermitian(3) + np.triu(np.ones((6, 6)), 1)
    out, _ = Eigenvalues(6)({}, jnp.asarray(matrices, jnp.complex64))
    hermitian = (matrices + np.conj(np.swapaxes(matrices, 1, 2))) / 2
    np.testing.assert_allclose(out, np.linalg.eigvalsh(hermitian), atol=1e-5)


def test_invalid_which_names_the_field_and_the_valid_values():
    with pytest.raises(ValueError, match=r"'which'.*'SA', 'LA', 'SM', 'LM', 'EA', 'EM', 'IA'"):
        Eigenvectors(1, "smallest")


def test_more_eigenpairs_than_the_matrix_has_is_a_shape_error(key):
    with pytest.raises(pmm.ShapeError, match="num_eig=5"):
        Eigenvalues(5).init(key, (4, 4))


def test_output_shapes():
    assert Eigensystem(2, "IA").output_shape((5, 5)) == ((2,), (5, 2))


@pytest.mark.parametrize("which", ["SA", "LM", "IM"])
def test_eigen_gradients_match_finite_differences(which, x64):
    matrices = jnp.asarray(random_hermitian(4, batch=2, n=4))
    weights = jax.random.normal(jax.random.key(1), (2, 4, 2))

    def loss(matrices):
        (values, vectors), _ = Eigensystem(2, which)({}, matrices)
        # phase-invariant use of the eigenvectors: the squared moduli of their entries
        return jnp.sum(values**2) + jnp.sum(weights * jnp.abs(vectors) ** 2)

    check_grads(jax.jit(loss), (matrices,), order=1, modes=["rev"], eps=1e-6)


def test_eigenvalue_gradients_stay_finite_at_a_degenerate_spectrum(x64):
    matrices = jnp.diag(jnp.array([1.0, 1.0, 2.0]))[None].astype(jnp.complex128)

    def loss(matrices):
        (values, vectors), _ = Eigensystem(3)({}, matrices)
        return values[0, 0] + jnp.abs(vectors[0, 2, 2]) ** 2

    gradient = jax.grad(loss)(matrices)
    assert np.all(np.isfinite(gradient))
    # d(lambda_0)/dM picks a unit vector of the degenerate eigenspace: trace 1 there
    np.testing.assert_allclose(np.trace(np.asarray(gradient[0]))[()].real, 1.0, atol=1e-12)


def test_eigenvalue_gradients_at_a_rounding_level_degeneracy_in_complex64():
    # a rotated diag(1, 1, 2): eigh returns levels 0 and 1 a few eps apart, not equal
    rng = np.random.default_rng(5)
    basis = np.linalg.qr(rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)))[0]
    matrix = jnp.asarray(basis @ np.diag([1.0, 1.0, 2.0]) @ basis.conj().T, jnp.complex64)[None]
    weights = jnp.arange(9.0).reshape(1, 3, 3)

    def loss(matrices):
        (values, vectors), _ = Eigensystem(3)({}, matrices)
        return values[0, 0] + values[0, 1] + jnp.sum(weights * jnp.abs(vectors) ** 2)

    assert np.all(np.isfinite(np.asarray(jax.grad(loss)(matrix))))
    group = jax.grad(lambda m: jnp.sum(Eigenvalues(2)({}, m)[0]))(matrix)
    projector = basis[:, :2] @ basis[:, :2].conj().T
    # jax.grad of a real function of a complex input is the conjugate of d/dM
    np.testing.assert_allclose(group[0], projector.conj(), atol=1e-5)


def test_num_eig_none_selects_every_eigenpair_in_the_order_of_which():
    matrices = jnp.diag(jnp.array([-5.0, -1.0, 0.5, 3.0]))[None].astype(jnp.complex64)
    assert Eigenvalues(None, "LM").output_shape((4, 4)) == (4,)
    assert Eigenvalues(None, "LM")({}, matrices)[0].tolist() == [[0.5, -1.0, 3.0, -5.0]]
    assert Eigensystem(None).output_shape((4, 4)) == ((4,), (4, 4))


@pytest.mark.parametrize("num_eig", [0, 1.5, "all"])
def test_bad_num_eig_names_the_field_and_mentions_none(num_eig):
    with pytest.raises(ValueError, match="field 'num_eig'"):
        Eigenvalues(num_eig)


def test_unknown_solver_names_the_field_and_the_valid_values():
    with pytest.raises(ValueError, match=r"field 'solver'.*'auto', 'dense', 'iterative'"):
        Eigenvalues(1, solver="lapack")


@pytest.mark.parametrize(
    ("options", "problem"), [({"which": "LM"}, "which='LM'"), ({"num_eig": None}, "num_eig=None")]
)
def test_iterative_solver_refuses_what_it_cannot_compute(options, problem):
    with pytest.raises(ValueError, match=f"field 'solver'.*{problem}"):
        Eigensystem(**{"num_eig": 2, "solver": "iterative", **options})
