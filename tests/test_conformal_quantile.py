"""The finite-sample conformal quantile: the k-th smallest score, k = ceil((n + 1)(1 - alpha)),
and the alpha arguments it accepts."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from pmm.conformal.quantile import alphas, rank, smallest_alpha, thresholds

#: Calibration sizes and levels that they support (alpha >= 1 / (n + 1)).
SUPPORTED = [
    (n, alpha)
    for n in (1, 9, 10, 19, 20, 99, 1000)
    for alpha in (0.5, 0.2, 0.1, 0.05, 0.01)
    if alpha >= 1 / (n + 1)
]


@pytest.mark.parametrize(("n", "alpha"), SUPPORTED)
def test_the_rank_is_the_smallest_k_with_k_over_n_plus_one_at_least_one_minus_alpha(n, alpha):
    k = rank(n, alpha)
    # Exact rational arithmetic: k/(n+1) >= 1 - alpha, and k - 1 would not do.
    alpha_hundredths = round(alpha * 100)
    assert 100 * k >= (n + 1) * (100 - alpha_hundredths)
    assert 100 * (k - 1) < (n + 1) * (100 - alpha_hundredths)


def test_float_rounding_of_one_minus_alpha_does_not_raise_the_rank():
    assert (9 + 1) * (1 - 0.7) > 3  # 3.0000000000000004: a bare ceil would give 4
    assert rank(9, 0.7) == 3


def test_thresholds_are_the_kth_smallest_score_for_each_level():
    scores = jnp.asarray(np.sort(np.random.default_rng(0).normal(size=(49, 2)), axis=0))
    found = thresholds(scores, (0.1, 0.5))
    for row, alpha in zip(found, (0.1, 0.5), strict=True):
        k = math.ceil(50 * (1 - alpha))
        np.testing.assert_array_equal(row, scores[k - 1])


def test_an_alpha_below_one_over_n_plus_one_is_refused_naming_the_smallest_supported():
    assert smallest_alpha(19) == 0.05
    assert rank(19, 0.05) == 19
    with pytest.raises(ValueError, match=r"alpha=0.04 .* n=19: the smallest alpha .* 0.05"):
        rank(19, 0.04)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, float("nan"), True, "0.1", None])
def test_alpha_outside_zero_one_is_refused_naming_alpha(bad):
    with pytest.raises(ValueError, match=r"alpha is .*; give a miscoverage level in"):
        alphas(bad)


def test_a_sequence_of_alphas_is_stacked_and_a_number_is_not():
    assert alphas(0.1) == ((0.1,), False)
    assert alphas([0.1, 0.2]) == ((0.1, 0.2), True)
    assert alphas(np.array([0.3])) == ((0.3,), True)
    with pytest.raises(ValueError, match="alpha is empty"):
        alphas([])
