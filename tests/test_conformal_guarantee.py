"""The coverage guarantee, measured: over thousands of random calibration/test splits of a pool,
the mean coverage is k / (n + 1) >= 1 - alpha, within its sampling tolerance.

For a fixed pool of points whose scores are a fixed function of (x, y), a random split makes
the calibration and test points exchangeable, so the expected coverage of a test point is exactly
k / (n + 1), k = ceil((n + 1)(1 - alpha)) (no ties). One model is fitted; the pool is scored once
with pmm.conformal.scores; each split only sorts its calibration scores and compares, vectorised
over all splits, so thousands of splits take well under a second.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm
from pmm.conformal.quantile import thresholds

POOL, CALIBRATION, SPLITS, ALPHA = 1000, 20, 2000, 0.1


def heteroscedastic(samples, seed):
    """``y = 2 x + 1`` plus noise of standard deviation ``0.05 + 0.5 |x|``, ``x ~ U(-1, 1)``."""
    generator = np.random.default_rng(seed)
    x = generator.uniform(-1, 1, (samples, 1))
    y = 2 * x + 1 + (0.05 + 0.5 * np.abs(x)) * generator.normal(size=(samples, 1))
    return x.astype(np.float32), y.astype(np.float32)


def least_squares_line(x, y):
    """A ``Linear`` model and the least-squares params for ``y ~ w x + b``."""
    design = np.hstack([x, np.ones_like(x)])
    (weight, bias), *_ = np.linalg.lstsq(design, y[:, 0], rcond=None)
    params = {"weight": jnp.array([[weight]], jnp.float32), "bias": jnp.array([bias], jnp.float32)}
    return pmm.nn.Linear(features=1), params


MEANS = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]])


def blobs(samples, seed):
    """Three overlapping unit Gaussian classes in the plane; labels are the class ids."""
    generator = np.random.default_rng(seed)
    labels = generator.integers(0, 3, samples)
    x = MEANS[labels] + generator.normal(size=(samples, 2))
    return x.astype(np.float32), labels.astype(np.int32)


def bayes_classifier():
    """A ``Linear`` whose logits are the Bayes classifier's for the blobs (equal priors)."""
    params = {
        "weight": jnp.asarray(MEANS.T, jnp.float32),
        "bias": jnp.asarray(-0.5 * (MEANS**2).sum(1), jnp.float32),
    }
    return pmm.nn.Linear(features=3), params


@pytest.fixture(scope="module")
def regression():
    x_train, y_train = heteroscedastic(200, seed=0)
    model, params = least_squares_line(x_train, y_train)
    x, y = heteroscedastic(POOL, seed=1)
    return model, params, x_train, x, y


def pool_scores(model, params, x, y, score, **options):
    """The scores of every pool point: a calibration on the pool itself only supplies the score
    function, which (with x_train for "normalized") does not depend on the calibration data."""
    cal = pmm.conformal.calibrate(model, params, (), x, y, score, **options)
    found = pmm.conformal.scores(cal, x, y, rng=options.get("rng"))
    return np.asarray(found).reshape(len(x))


def split_coverages(scores, rule=thresholds):
    """Each random split's test coverage at ``ALPHA``, with ``rule`` giving its threshold."""
    order = np.argsort(np.random.default_rng(2).random((SPLITS, POOL)), axis=1)
    calibration = np.sort(scores[order[:, :CALIBRATION]], axis=1)
    threshold = np.asarray(jax.vmap(lambda s: rule(s, (ALPHA,))[0])(jnp.asarray(calibration)))
    return (scores[order[:, CALIBRATION:]] <= threshold[:, None]).mean(axis=1)


def assert_guaranteed(coverages):
    expected = math.ceil((CALIBRATION + 1) * (1 - ALPHA)) / (CALIBRATION + 1)  # 19/21
    tolerance = 4 * coverages.std() / math.sqrt(SPLITS)
    assert abs(coverages.mean() - expected) <= tolerance
    assert coverages.mean() >= 1 - ALPHA


@pytest.mark.parametrize("score", ["absolute", "normalized"])
def test_regression_intervals_cover_one_minus_alpha_on_average_over_random_splits(
    regression, score
):
    model, params, x_train, x, y = regression
    options = {"x_train": x_train} if score == "normalized" else {}
    assert_guaranteed(split_coverages(pool_scores(model, params, x, y, score, **options)))


@pytest.mark.parametrize("score", ["lac", "aps"])
def test_classification_sets_cover_one_minus_alpha_on_average_over_random_splits(score):
    model, params = bayes_classifier()
    x, labels = blobs(POOL, seed=3)
    assert_guaranteed(split_coverages(pool_scores(model, params, x, labels, score, rng=4)))


def test_the_naive_empirical_quantile_undercovers_where_the_finite_sample_rule_does_not(
    regression,
):
    model, params, _, x, y = regression
    scores = pool_scores(model, params, x, y, "absolute")

    def naive(sorted_scores, levels):  # the ceil(n (1 - alpha))-th smallest score
        return sorted_scores[None, math.ceil(CALIBRATION * (1 - levels[0])) - 1]

    coverages = split_coverages(scores, naive)
    assert coverages.mean() < 1 - ALPHA - 4 * coverages.std() / math.sqrt(SPLITS)


def test_normalized_intervals_are_narrow_where_the_noise_is_small_and_wide_where_it_is_large(
    regression,
):
    model, params, x_train, x, y = regression
    widths = {}
    for score, options in (("absolute", {}), ("normalized", {"x_train": x_train})):
        cal = pmm.conformal.calibrate(model, params, (), x[:500], y[:500], score, **options)
        lower, upper = pmm.conformal.interval(cal, x[500:], ALPHA)
        widths[score] = np.asarray(upper - lower)[:, 0]
    quiet, noisy = np.abs(x[500:, 0]) < 0.2, np.abs(x[500:, 0]) > 0.8
    np.testing.assert_allclose(widths["absolute"], widths["absolute"][0], rtol=1e-5)
    assert widths["normalized"][quiet].mean() < widths["absolute"][0]
    assert widths["normalized"][noisy].mean() > widths["absolute"][0]
    assert widths["normalized"][noisy].mean() > 1.3 * widths["normalized"][quiet].mean()


def test_the_same_seed_gives_the_same_aps_scores_and_sets_and_another_seed_does_not():
    model, params = bayes_classifier()
    x, labels = blobs(200, seed=5)

    def run(seed):
        cal = pmm.conformal.calibrate(model, params, (), x, labels, "aps", rng=seed)
        sets = pmm.conformal.prediction_set(cal, x, ALPHA, rng=seed + 1)
        return np.asarray(cal.scores), np.asarray(sets)

    first, again, other = run(0), run(0), run(7)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_the_same_data_gives_bit_identical_calibrations(regression):
    model, params, x_train, x, y = regression
    runs = [
        pmm.conformal.calibrate(model, params, (), x, y, "normalized", x_train=x_train)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].scores, runs[1].scores)
