"""AEPMM and AOPMM: Sequentials of the primitives, with the usual hyperparameters."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import pmm
from pmm.matrix import (
    AEPMM,
    AOPMM,
    AffineEigenvaluePMM,
    AffineHermitianMatrix,
    Eigenvalues,
    Eigenvectors,
    ExpectationValueSum,
    TransitionAmplitudeSum,
)


@pytest.mark.parametrize("solver", ["dense", "iterative"])
def test_aepmm_is_the_sequential_of_its_primitives(solver, key):
    model = AEPMM(matrix_size=4, num_eig=2, which="LA", smoothing=0.1, solver=solver)
    expected = AffineHermitianMatrix(4, smoothing=0.1) >> Eigenvalues(2, "LA", solver)
    assert model.built == expected
    params, state = model.init(key, (3,))
    x = jax.random.normal(key, (6, 3))
    np.testing.assert_array_equal(model(params, x)[0], expected(params, x, False, state, None)[0])


@pytest.mark.parametrize(
    ("options", "readout", "length"),
    [
        ({}, TransitionAmplitudeSum, 4),
        ({"use_expectation_values": True}, ExpectationValueSum, 4),
        ({"output_bias": False}, TransitionAmplitudeSum, 3),
    ],
)
def test_aopmm_chains_matrix_eigenvectors_readout_and_bias(options, readout, length):
    layers = AOPMM(matrix_size=5, num_eig=2, output_size=3, **options).built.layers
    assert len(layers) == length
    assert layers[1] == Eigenvectors(2, "LM", "auto")
    assert layers[2] == readout(output_size=3)


def test_aopmm_maps_features_to_outputs(key):
    model = AOPMM(matrix_size=5, num_eig=3, output_size=2, num_observables=2)
    params, state = model.init(key, (4,))
    out, _ = jax.jit(model, static_argnums=2)(params, jnp.ones((7, 4)), False, state, None)
    assert out.shape == (7, *model.output_shape((4,))) == (7, 2)


def test_aliases_are_the_same_classes():
    assert AEPMM is AffineEigenvaluePMM and pmm.AOPMM is pmm.matrix.AffineObservablePMM


def test_specs_hold_only_their_hyperparameters_and_share_the_cached_sequential():
    first, second = AEPMM(matrix_size=3), AEPMM(matrix_size=3)
    assert first == second and hash(first) == hash(second)
    assert first.built is second.built
    assert set(vars(first)) == set(first.hyperparams)


@pytest.mark.parametrize(
    ("field", "value"),
    [("num_eig", 4), ("which", "XX"), ("output_size", 0), ("smoothing", "a"), ("solver", "eigh")],
)
def test_bad_hyperparameters_fail_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        AOPMM(**{"matrix_size": 3, field: value})


def test_aopmm_gradients_match_finite_differences(key, x64):
    model = AOPMM(
        matrix_size=4,
        num_eig=2,
        output_size=2,
        smoothing=0.1,
        init_magnitude=0.5,
        dtype="complex128",
    )
    params, _ = model.init(key, (2,))
    x = jax.random.normal(key, (3, 2))
    check_grads(
        jax.jit(lambda p: jnp.sum(model(p, x)[0] ** 2)), (params,), order=1, modes=["rev"], eps=1e-6
    )


@pytest.mark.parametrize(
    "model",
    [
        AEPMM(matrix_size=3, num_eig=2),
        AEPMM(matrix_size=3, num_eig=2, solver="iterative"),
        AOPMM(matrix_size=3, num_eig=2, output_size=2),
    ],
)
def test_an_ensemble_over_stacked_params_equals_each_member(model):
    members = [model.init(key, (2,)) for key in jax.random.split(jax.random.key(0), 3)]
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *[p for p, _ in members])
    state = members[0][1]
    x = jax.random.normal(jax.random.key(1), (5, 2))
    ensemble = jax.vmap(model, in_axes=(0, None, None, None, None))
    outputs, _ = ensemble(stacked, x, False, state, None)
    for output, (params, _) in zip(outputs, members, strict=True):
        np.testing.assert_allclose(output, model(params, x, False, state)[0], rtol=1e-5, atol=1e-6)


def test_aopmm_which_defaults_to_largest_magnitude_without_smoothing_and_lowest_with_it():
    assert AOPMM(matrix_size=4).selection == "LM"
    assert AOPMM(matrix_size=4, smoothing=0.5).built.layers[1] == Eigenvectors(1, "SA")


def test_aopmm_default_which_follows_smoothing_through_dataclasses_replace():
    assert dataclasses.replace(AOPMM(matrix_size=4), smoothing=0.5).selection == "SA"


def test_aopmm_warns_naming_which_when_a_magnitude_selection_meets_smoothing():
    message = r"field 'which' of AffineObservablePMM is 'LM'.*smoothing=0.5"
    with pytest.warns(UserWarning, match=message):
        AOPMM(matrix_size=4, which="LM", smoothing=0.5)


@pytest.mark.parametrize("options", [{}, {"smoothing": 0.5}, {"which": "LA", "smoothing": 0.5}])
def test_aopmm_with_default_which_round_trips_through_repr_and_files(options, key, tmp_path):
    model = AOPMM(matrix_size=4, output_size=2, **options)
    assert eval(repr(model), vars(pmm.matrix)) == model
    params, state = model.init(key, (3,))
    pmm.save(tmp_path / "aopmm.pmm", model, params, state)
    loaded, _, _ = pmm.load(tmp_path / "aopmm.pmm")
    assert loaded == model and loaded.which == model.which


def test_aepmm_with_num_eig_none_gives_every_eigenvalue(key):
    model = AEPMM(matrix_size=5, num_eig=None)
    params, _ = model.init(key, (2,))
    x = jax.random.normal(key, (3, 2))
    assert model.output_shape((2,)) == (5,)
    matrices, _ = model.built.layers[0](params[0], x)
    np.testing.assert_allclose(
        model(params, x)[0], np.linalg.eigvalsh(np.asarray(matrices)), rtol=1e-5, atol=1e-6
    )
