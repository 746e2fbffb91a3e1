"""pmm.conformal for classifiers: LAC and APS scores against numpy loops, prediction sets, and
the errors a user can trigger."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

import pmm

MODEL = pmm.nn.Linear(features=4)
PARAMS = {
    "weight": jnp.array([[2.0, -1.0, 0.5, 0.0], [0.0, 1.0, -1.0, 1.5]]),
    "bias": jnp.array([0.1, 0.0, -0.2, 0.3]),
}


def data(samples=49, seed=0):
    generator = np.random.default_rng(seed)
    x = generator.normal(size=(samples, 2)).astype(np.float32)
    return x, generator.integers(0, 4, samples).astype(np.int32)


def probabilities(x):
    logits = x @ np.asarray(PARAMS["weight"], np.float64) + np.asarray(PARAMS["bias"], np.float64)
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def test_lac_scores_are_one_minus_the_probability_of_the_label():
    x, labels = data()
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x, labels, "lac")
    expected = 1 - probabilities(x)[np.arange(len(x)), labels]
    np.testing.assert_allclose(pmm.conformal.scores(cal, x, labels), expected, rtol=1e-5)
    np.testing.assert_allclose(cal.scores, np.sort(expected), rtol=1e-5)


def test_lac_sets_hold_the_classes_whose_probability_clears_the_threshold():
    x_cal, labels = data()
    x, _ = data(10, seed=1)
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x_cal, labels, "lac")
    threshold = np.sort(1 - probabilities(x_cal)[np.arange(49), labels])[math.ceil(50 * 0.8) - 1]
    sets = pmm.conformal.prediction_set(cal, x, alpha=0.2)
    np.testing.assert_array_equal(sets, 1 - probabilities(x) <= threshold + 1e-6)


def mass_above(p, label):
    """The probability of the classes more likely than ``label``, by sorting."""
    order = np.argsort(-p)
    return p[order[: int(np.where(order == label)[0][0])]].sum()


def test_aps_scores_add_the_more_likely_classes_and_a_uniform_share_of_the_label():
    x, labels = data(400)
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x, labels, "aps", rng=3)
    found = np.asarray(pmm.conformal.scores(cal, x, labels, rng=5))
    p = probabilities(x)
    above = np.array([mass_above(p[i], labels[i]) for i in range(len(x))])
    shares = (found - above) / p[np.arange(len(x)), labels]
    assert shares.min() >= -1e-4 and shares.max() <= 1 + 1e-4
    assert abs(shares.mean() - 0.5) < 0.05 and abs(shares.var() - 1 / 12) < 0.02


def test_aps_counts_only_the_strictly_more_likely_classes_above_a_label():
    model = pmm.nn.Constant(value=(0.4, 0.4, 0.2))  # a tie between classes 0 and 1
    x = np.zeros((60, 1), np.float32)
    labels = np.repeat(np.array([0, 1, 2], np.int32), 20)
    cal = pmm.conformal.calibrate(model, (), (), x, labels, "aps", outputs="probabilities", rng=0)
    found = np.asarray(pmm.conformal.scores(cal, x, labels, rng=1))
    assert found[:40].min() >= 0 and found[:40].max() <= 0.4  # nothing above a tied first place
    assert found[40:].min() >= 0.8 and found[40:].max() <= 1.0  # 0.4 + 0.4 above class 2


def test_aps_sets_are_the_most_likely_classes_up_to_the_threshold():
    x_cal, labels = data()
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x_cal, labels, "aps", rng=1)
    x, _ = data(20, seed=2)
    sets = np.asarray(pmm.conformal.prediction_set(cal, x, alpha=0.2, rng=2))
    p = probabilities(x)
    for row, included in zip(p, sets, strict=True):  # a set is a top-k of the probabilities
        if included.any():
            assert row[included].min() >= row[~included].max(initial=0)


def test_probabilities_may_be_given_instead_of_logits():
    model = MODEL >> pmm.nn.Softmax()
    x, labels = data()
    from_logits = pmm.conformal.calibrate(MODEL, PARAMS, (), x, labels, "lac")
    from_probabilities = pmm.conformal.calibrate(
        model, (PARAMS, ()), (), x, labels, "lac", outputs="probabilities"
    )
    np.testing.assert_allclose(from_probabilities.scores, from_logits.scores, atol=1e-6)


def test_several_alphas_stack_the_sets_and_smaller_alphas_give_larger_sets():
    x_cal, labels = data()
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x_cal, labels, "lac")
    sets = np.asarray(pmm.conformal.prediction_set(cal, x_cal[:5], alpha=(0.5, 0.1)))
    assert sets.shape == (2, 5, 4)
    assert np.all(sets[1] >= sets[0])


def test_aps_without_rng_is_refused_naming_rng():
    x, labels = data()
    with pytest.raises(ValueError, match="score 'aps' is randomised: pass rng="):
        pmm.conformal.calibrate(MODEL, PARAMS, (), x, labels, "aps")
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x, labels, "aps", rng=0)
    with pytest.raises(ValueError, match="pass rng="):
        pmm.conformal.prediction_set(cal, x, 0.1)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.full(49, 4, np.int32), r"y_cal holds the class id 4, outside the model's 4 classes"),
        (np.zeros(49, np.float32), "y_cal is float32; classifier targets are integer class ids"),
        (np.zeros((49, 4), np.int32), r"y_cal has shape \(49, 4\), .* class ids of shape \(49,\)"),
    ],
    ids=["out-of-range", "floats", "one-hot"],
)
def test_bad_labels_are_refused_naming_y_cal(labels, message):
    with pytest.raises(ValueError, match=message):
        pmm.conformal.calibrate(MODEL, PARAMS, (), data()[0], labels, "lac")


def test_bad_outputs_option_is_refused():
    with pytest.raises(ValueError, match="outputs is 'softmax'; give one of"):
        pmm.conformal.calibrate(MODEL, PARAMS, (), *data(), "lac", outputs="softmax")


def test_a_classifier_calibration_does_not_give_intervals():
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), *data(), "lac")
    with pytest.raises(ValueError, match=r"use pmm\.conformal\.prediction_set"):
        pmm.conformal.interval(cal, data()[0], 0.1)
