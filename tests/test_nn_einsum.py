"""pmm.nn.Einsum: a trainable contraction, validated at construction."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.nn import Einsum


def test_einsum_contracts_the_data_with_the_weight(key):
    layer = Einsum(equation="bxi,ij->bxj", sizes={"j": 4})
    params, state = layer.init(key, (2, 3))
    data = jax.random.normal(key, (5, 2, 3))
    output, _ = layer(params, data, False, state, None)
    expected = np.einsum("bxi,ij->bxj", np.asarray(data), np.asarray(params["weight"]))
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-6)


def test_weight_sizes_come_from_the_input_and_from_sizes(key):
    params, _ = Einsum(equation="bi,ijk->bk", sizes={"j": 2, "k": 5}).init(key, (3,))
    assert params["weight"].shape == (3, 2, 5)


def test_einsum_weight_variance_is_one_over_the_summed_sizes(key):
    weight = Einsum(equation="bxi,ij->bxj", sizes={"j": 400}).init(key, (7, 300))[0]["weight"]
    assert abs(float(jnp.var(weight)) * 300 - 1) < 0.03


def test_einsum_output_shape_follows_the_output_letters():
    layer = Einsum(equation="bxi,ij->bjx", sizes={"j": 4})
    assert layer.output_shape((None, 3)) == (4, None)


def test_sizes_given_as_a_dict_are_stored_as_sorted_pairs():
    layer = Einsum(equation="bi,ijk->bjk", sizes={"k": 2, "j": 3})
    assert layer.sizes == (("j", 3), ("k", 2))
    assert layer == Einsum(equation="bi,ijk->bjk", sizes=(("j", 3), ("k", 2)))
    assert hash(layer) == hash(Einsum(equation="bi,ijk->bjk", sizes={"j": 3, "k": 2}))


@pytest.mark.parametrize(
    "equation",
    [
        "bi,ij",
        "bi,ij,jk->bk",
        "bi,ij->jb",
        "bi,bj->bj",
        "b...i,ij->b...j",
        "bi,ij->bq",
        "b i,ij->bj",
    ],
)
def test_malformed_equations_fail_at_construction_naming_the_field(equation):
    with pytest.raises(ValueError, match="'equation'"):
        Einsum(equation=equation, sizes={"j": 2})


@pytest.mark.parametrize("sizes", [{}, {"j": 2, "q": 3}, {"j": 0}, {"j": 2, "i": 3}, {"j": 2.0}])
def test_missing_extra_or_bad_sizes_fail_naming_the_field(sizes):
    with pytest.raises(ValueError, match="'sizes'"):
        Einsum(equation="bi,ij->bj", sizes=sizes)


def test_input_rank_differing_from_the_equation_fails_with_the_shape(key):
    with pytest.raises(pmm.ShapeError, match=r"\(2, 3\)"):
        Einsum(equation="bi,ij->bj", sizes={"j": 2}).init(key, (2, 3))


def test_weight_size_taken_from_an_unknown_input_size_fails_at_init(key):
    with pytest.raises(pmm.ShapeError, match="None"):
        Einsum(equation="bi,ij->bj", sizes={"j": 2}).init(key, (None,))


def test_a_repeated_data_letter_takes_the_diagonal(key):
    layer = Einsum(equation="bii,ij->bj", sizes={"j": 2})
    params, _ = layer.init(key, (3, 3))
    data = jax.random.normal(key, (4, 3, 3))
    expected = np.einsum("bii,ij->bj", np.asarray(data), np.asarray(params["weight"]))
    np.testing.assert_allclose(layer(params, data)[0], expected, rtol=1e-5, atol=1e-6)


def test_a_repeated_data_letter_with_unequal_sizes_fails_at_init(key):
    with pytest.raises(pmm.ShapeError, match=r"repeats 'i'.*sizes 3 and 4"):
        Einsum(equation="bii,ij->bj", sizes={"j": 2}).init(key, (3, 4))
