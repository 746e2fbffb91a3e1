"""The iterative eigensolver (``solver="iterative"``) against numpy's dense ``eigh``.

Matrices here have 64 rows, above the solver's warm-up subspace, so the Chebyshev cycles really
run; float64 cases check the derivative rules against central differences. The cases share
shapes, so that the solver compiles only a few times.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.demo.ising import ising_terms
from pmm.matrix import AEPMM, Eigensystem, Eigenvalues
from pmm.matrix._chebyshev import default_max_cycles, lowest_eigenpairs
from pmm.matrix._partial import extremal_eigh, solve
from pmm.matrix._solvers import iterative_chosen


def with_spectrum(spectra, seed=0, complex_=True):
    """Hermitian matrices ``U diag(w) U^dagger`` with Haar-like random ``U``, one per spectrum."""
    rng = np.random.default_rng(seed)
    spectra = np.asarray(spectra, float)
    size = spectra.shape[-1]
    gaussian = rng.normal(size=(len(spectra), size, size))
    if complex_:
        gaussian = gaussian + 1j * rng.normal(size=gaussian.shape)
    unitary = np.linalg.qr(gaussian)[0]
    return np.einsum("bij,bj,bkj->bik", unitary, spectra, np.conj(unitary))


def random_hermitian(batch, size, seed=0, complex_=True):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(batch, size, size))
    if complex_:
        a = a + 1j * rng.normal(size=a.shape)
    return (a + np.conj(np.swapaxes(a, 1, 2))) / 2


def ising(sites, fields):
    coupling, field = ising_terms(sites)
    return coupling[None] + np.asarray(fields)[:, None, None] * field[None]


SIZE = 64
SPECTRA = {
    "random": random_hermitian(3, SIZE, seed=1),
    # levels in clusters of three, 1e-3 wide: the wanted pairs split a cluster
    "clustered": with_spectrum(
        [np.repeat(np.arange(22.0), 3)[:SIZE] + 1e-3 * np.tile([0.0, 1.0, 2.0], 22)[:SIZE]] * 2
    ),
    # exact multiplicities 3, 2, 1, 1, ...: the second wanted pair is inside a triple
    "degenerate": with_spectrum([np.concatenate([[-2.0] * 3, [-1.0] * 2, np.arange(59.0)])] * 2),
    "random real": random_hermitian(3, SIZE, seed=2, complex_=False),
    "ising": ising(6, [-1.5, -0.5, 1.0, 1.7]),
}
KINDS = {"complex": ["random", "clustered", "degenerate"], "real": ["random real", "ising"]}


@functools.cache
def solved(kind, largest):
    """The iterative pairs of every spectrum of ``kind``, from one call (one compilation)."""
    names = KINDS[kind]
    stacked = np.concatenate([SPECTRA[name] for name in names])
    dtype = jnp.complex64 if kind == "complex" else jnp.float32
    values, vectors = extremal_eigh(jnp.asarray(stacked, dtype), 2, largest)
    bounds = np.cumsum([0] + [len(SPECTRA[name]) for name in names])
    return {
        name: (np.asarray(values[start:stop]), np.asarray(vectors[start:stop], complex))
        for name, start, stop in zip(names, bounds[:-1], bounds[1:], strict=True)
    }


def reference(matrices, count, largest):
    values, vectors = np.linalg.eigh(matrices)
    if largest:
        return values[:, -count:], vectors[:, :, -count:]
    return values[:, :count], vectors[:, :, :count]


@pytest.mark.parametrize("largest", [False, True], ids=["SA", "LA"])
@pytest.mark.parametrize("spectrum", list(SPECTRA))
def test_eigenpairs_match_dense_eigh(spectrum, largest):
    matrices = SPECTRA[spectrum]
    kind = "complex" if spectrum in KINDS["complex"] else "real"
    values, vectors = solved(kind, largest)[spectrum]
    expected, _ = reference(matrices, 2, largest)
    scale = np.max(np.abs(np.linalg.eigvalsh(matrices)), axis=-1, keepdims=True)
    np.testing.assert_array_less(np.abs(values - expected) / scale, 2e-6)
    residuals = matrices @ vectors - vectors * values[:, None, :]
    np.testing.assert_array_less(np.linalg.norm(residuals, axis=1) / scale, 1e-4)
    gram = np.conj(np.swapaxes(vectors, 1, 2)) @ vectors
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(2), gram.shape), atol=1e-5)


def test_a_complete_degenerate_group_is_spanned_in_float64(x64):
    matrices = SPECTRA["degenerate"]
    _, vectors = extremal_eigh(jnp.asarray(matrices), 3, False)
    _, expected = reference(matrices, 3, False)
    projector = vectors @ np.conj(np.swapaxes(vectors, 1, 2))
    expected_projector = expected @ np.conj(np.swapaxes(expected, 1, 2))
    np.testing.assert_allclose(projector, expected_projector, atol=1e-12)


def complex_stack():
    return np.concatenate([SPECTRA[name] for name in KINDS["complex"]])


@pytest.mark.parametrize("which", ["SA", "LA"])
def test_the_layers_give_the_dense_values_in_ascending_order(which):
    matrices = jnp.asarray(complex_stack(), jnp.complex64)
    iterative, _ = Eigenvalues(2, which, "iterative")({}, matrices)
    dense, _ = Eigenvalues(2, which, "dense")({}, matrices)
    np.testing.assert_allclose(iterative, dense, rtol=2e-5, atol=2e-5)
    assert np.all(np.diff(np.asarray(iterative), axis=-1) >= 0)


def test_samples_that_do_not_converge_fall_back_to_dense_and_are_exact():
    matrices = jnp.asarray(SPECTRA["random"], jnp.complex64)
    expected, _ = reference(SPECTRA["random"], 2, False)
    found = lowest_eigenpairs(matrices, 2, max_cycles=0)
    # the warm-up alone is not converged, and is visibly off
    assert not np.any(found.converged) and np.max(np.abs(found.values - expected)) > 1e-3
    values, _ = solve(matrices, 2, False, max_cycles=0)
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-5)


def test_a_null_space_wider_than_the_block_converges():
    # rank 16 of 64: the lowest 48 levels are all 0, and the block holds only 4 of them
    gaussian = np.random.default_rng(5).normal(size=(2, SIZE, 16))
    low_rank = jnp.asarray(gaussian @ np.swapaxes(gaussian, 1, 2), jnp.float32)
    found = lowest_eigenpairs(low_rank, 2)
    assert np.all(found.converged)
    np.testing.assert_allclose(found.values, 0.0, atol=1e-4)


def test_a_sample_that_converges_too_slowly_is_given_up_early_and_solved_dense():
    # the second level sits in a cluster of 29 within 0.1, the rest spread up to 100: the filter
    # separates it from its neighbours by about 1.4x per cycle, far too slowly
    spectrum = np.concatenate([[-1.0], np.linspace(0.0, 0.1, 29), np.linspace(1.0, 100.0, 34)])
    hard = with_spectrum([spectrum] * 3)
    found = lowest_eigenpairs(jnp.asarray(hard, jnp.complex64), 2)
    assert not np.any(found.converged)
    assert np.all(found.cycles < default_max_cycles(SIZE))  # given up before the cap
    values, _ = solve(jnp.asarray(hard, jnp.complex64), 2, False)
    np.testing.assert_allclose(values, reference(hard, 2, False)[0], rtol=1e-5, atol=1e-5)


def test_a_nan_matrix_falls_back_alone_to_dense_eigh():
    matrices = complex_stack()
    matrices[1, 3, 3] = np.nan
    values, _ = solve(jnp.asarray(matrices, jnp.complex64), 2, False)
    assert np.any(np.isnan(values[1]))
    dense = jnp.linalg.eigh(jnp.asarray(matrices[1], jnp.complex64))[0][:2]
    np.testing.assert_array_equal(values[1], dense)
    others = np.delete(np.arange(len(matrices)), 1)
    expected, _ = reference(matrices[others], 2, False)
    np.testing.assert_allclose(values[others], expected, rtol=1e-5, atol=1e-5)


def test_each_sample_stops_at_its_own_convergence_and_vmapped_members_are_locked():
    easy = with_spectrum([np.concatenate([[0.0, 1.0], np.linspace(50.0, 60.0, SIZE - 2)])])
    both = jnp.asarray(np.concatenate([easy, SPECTRA["random"][:1]]), jnp.complex64)
    alone = lowest_eigenpairs(both, 2)
    assert alone.cycles[0] < alone.cycles[1] and np.all(alone.converged)
    # vmapped, the members run in lockstep: the easy one is frozen once converged
    members = jax.vmap(lowest_eigenpairs, in_axes=(0, None))(both[:, None], 2)
    np.testing.assert_array_equal(members.cycles[:, 0], alone.cycles)
    np.testing.assert_allclose(members.values[:, 0], alone.values, rtol=1e-6)


def central_difference(function, x, step=1e-6):
    flat = x.reshape(-1)
    shifts = step * jnp.eye(flat.size, dtype=flat.dtype)
    along = jax.vmap(lambda point: function(point.reshape(x.shape)))
    return ((along(flat + shifts) - along(flat - shifts)) / (2 * step)).reshape(x.shape)


def test_eigenvalue_gradients_match_central_differences(x64):
    # matrices H(x) = H0 + x0 H1 + x1 H2: the gradient w.r.t. the features x
    terms = jnp.asarray(random_hermitian(3, SIZE, seed=3))
    lowest, highest = Eigenvalues(2, "SA", "iterative"), Eigenvalues(2, "LA", "iterative")

    def loss(x):
        matrices = terms[0] + jnp.einsum("bp,pij->bij", x.astype(terms.dtype), terms[1:])
        low, high = lowest({}, matrices)[0], highest({}, matrices)[0]
        return jnp.sum(low**2 * jnp.array([1.0, -0.7])) + jnp.sum(high * jnp.array([0.3, 2.0]))

    x = jax.random.normal(jax.random.key(0), (3, 2), jnp.float64)
    np.testing.assert_allclose(
        jax.jit(jax.grad(loss))(x), central_difference(jax.jit(loss), x), rtol=1e-6, atol=1e-8
    )


def test_gradients_stay_finite_at_a_degenerate_spectrum(x64):
    matrices = jnp.asarray(SPECTRA["degenerate"])

    def loss(matrices):
        (values, vectors), _ = Eigensystem(3, "SA", "iterative")({}, matrices)
        return jnp.sum(values) + jnp.sum(jnp.abs(vectors[:, :5]) ** 2)

    gradient = jax.grad(loss)(matrices)
    assert np.all(np.isfinite(np.asarray(gradient)))


def test_eigenvector_derivative_is_the_exact_one_projected_on_the_computed_vectors(x64):
    matrices = jnp.asarray(SPECTRA["random"])
    tangent = jnp.asarray(random_hermitian(3, SIZE, seed=4))
    dense = Eigensystem(3, "SA", "dense")
    iterative = Eigensystem(3, "SA", "iterative")
    (_, dense_vectors), (dense_values_dot, dense_dot) = jax.jvp(
        lambda m: dense({}, m)[0], (matrices,), (tangent,)
    )
    (_, vectors), (values_dot, vectors_dot) = jax.jvp(
        lambda m: iterative({}, m)[0], (matrices,), (tangent,)
    )
    np.testing.assert_allclose(values_dot, dense_values_dot, atol=1e-10)
    # the phases of the columns differ between the solvers: compare phase-free quantities
    phases = np.diagonal(np.conj(np.swapaxes(vectors, 1, 2)) @ dense_vectors, axis1=1, axis2=2)
    inside = np.conj(np.swapaxes(vectors, 1, 2)) @ vectors_dot
    dense_inside = np.conj(np.swapaxes(dense_vectors, 1, 2)) @ dense_dot
    expected = dense_inside * phases[:, :, None] * np.conj(phases)[:, None, :]
    np.testing.assert_allclose(inside, expected, atol=1e-9)


def test_eigenvector_derivative_is_exact_when_the_change_keeps_the_subspace(x64):
    # dM = M^2 commutes with M, so every eigenvector is unchanged to first order
    matrices = jnp.asarray(SPECTRA["random"])
    _, (_, vectors_dot) = jax.jvp(
        lambda m: Eigensystem(3, "SA", "iterative")({}, m)[0], (matrices,), (matrices @ matrices,)
    )
    np.testing.assert_allclose(vectors_dot, 0.0, atol=1e-9)


def test_an_ensemble_vmapped_over_params_equals_each_member():
    model = AEPMM(matrix_size=SIZE, num_eig=2, init_magnitude=1.0, solver="iterative")
    members = [model.init(key, (2,)) for key in jax.random.split(jax.random.key(0), 3)]
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *[p for p, _ in members])
    x = jax.random.normal(jax.random.key(1), (4, 2))
    ensemble = jax.jit(jax.vmap(model, in_axes=(0, None, None, None, None)), static_argnums=2)
    outputs, _ = ensemble(stacked, x, False, (), None)
    for output, (params, _) in zip(outputs, members, strict=True):
        dense = AEPMM(matrix_size=SIZE, num_eig=2, solver="dense")
        np.testing.assert_allclose(output, dense(params, x)[0], rtol=1e-5, atol=1e-5)


def test_the_solver_is_saved_and_loaded_with_the_model(tmp_path):
    model = AEPMM(matrix_size=SIZE, num_eig=2, solver="iterative")
    params, state = model.init(jax.random.key(0), (1,))
    pmm.save(tmp_path / "model.pmm", model, params, state)
    loaded, loaded_params, loaded_state = pmm.load(tmp_path / "model.pmm")
    assert loaded == model and loaded.solver == "iterative"
    x = jnp.linspace(-1.0, 1.0, len(complex_stack()))[:, None]  # the shape solved above
    np.testing.assert_array_equal(
        loaded(loaded_params, x, False, loaded_state)[0], model(params, x, False, state)[0]
    )


@pytest.mark.parametrize(
    ("size", "count", "which", "complex_", "vectors", "expected"),
    [
        (512, 2, "SA", False, False, True),
        (512, 2, "LA", True, False, True),
        (16, 2, "SA", True, False, False),
        (512, 2, "SA", True, True, False),
        (512, 2, "LM", True, False, False),
        (128, 32, "SA", True, False, False),
        (64, 2, "SA", False, False, False),
        (96, 2, "SA", False, False, True),
        (96, 4, "SA", True, False, False),
    ],
)
def test_auto_goes_iterative_only_for_large_matrices_few_pairs_and_eigenvalues_alone(
    size, count, which, complex_, vectors, expected
):
    assert iterative_chosen("auto", size, count, which, complex_, vectors) is expected
