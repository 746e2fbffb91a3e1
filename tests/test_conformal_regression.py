"""pmm.conformal for regression: intervals against a hand-computed split conformal reference,
PyTree and multi-output models, several alphas at once, and every error a user can trigger."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pmm

MODEL = pmm.nn.Linear(features=2)
PARAMS = {"weight": jnp.array([[1.0, -2.0]]), "bias": jnp.array([0.5, 0.0])}


def data(samples=39, seed=0):
    generator = np.random.default_rng(seed)
    x = generator.uniform(-1, 1, (samples, 1)).astype(np.float32)
    noise = generator.normal(size=(samples, 2)) * np.array([0.1, 1.0])
    return x, (x @ np.array([[1.0, -2.0]]) + np.array([0.5, 0.0]) + noise).astype(np.float32)


def reference_interval(x_cal, y_cal, x, alpha):
    """Split conformal by hand: prediction -+ the ceil((n+1)(1-alpha))-th smallest |residual|."""
    predict = lambda inputs: inputs @ np.array([[1.0, -2.0]]) + np.array([0.5, 0.0])  # noqa: E731
    residuals = np.sort(np.abs(y_cal - predict(x_cal)), axis=0)
    k = math.ceil((len(x_cal) + 1) * (1 - alpha))
    return predict(x) - residuals[k - 1], predict(x) + residuals[k - 1]


def test_absolute_intervals_are_the_prediction_plus_minus_the_conformal_quantile():
    x_cal, y_cal = data()
    x, _ = data(5, seed=1)
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x_cal, y_cal)
    lower, upper = pmm.conformal.interval(cal, x, alpha=0.1)
    expected = reference_interval(x_cal, y_cal, x, 0.1)
    np.testing.assert_allclose(lower, expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(upper, expected[1], rtol=1e-5, atol=1e-6)


def test_each_output_element_gets_its_own_threshold():
    x_cal, y_cal = data()
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x_cal, y_cal)
    lower, upper = pmm.conformal.interval(cal, x_cal[:1], alpha=0.2)
    width = np.asarray(upper - lower)[0]
    assert width[1] > 5 * width[0]  # the second output is ten times noisier


def test_a_sequence_of_alphas_stacks_the_intervals_on_a_leading_axis():
    x_cal, y_cal = data()
    x, _ = data(4, seed=1)
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x_cal, y_cal)
    lower, upper = pmm.conformal.interval(cal, x, alpha=[0.5, 0.1])
    assert lower.shape == upper.shape == (2, 4, 2)
    for index, alpha in enumerate((0.5, 0.1)):
        single = pmm.conformal.interval(cal, x, alpha)
        np.testing.assert_array_equal(lower[index], single[0])
        np.testing.assert_array_equal(upper[index], single[1])
    assert np.all(upper[1] - lower[1] >= upper[0] - lower[0])


def test_pytree_outputs_get_intervals_leaf_by_leaf():
    model = pmm.Parallel(a=pmm.nn.Linear(features=1), b=pmm.nn.Linear(features=3))
    params, state = model.init(jax.random.key(0), (2,))
    x = jax.random.normal(jax.random.key(1), (30, 2))
    outputs = model(params, x, False, state, None)[0]
    y = jax.tree.map(lambda f: f + 0.1 * jax.random.normal(jax.random.key(2), f.shape), outputs)
    cal = pmm.conformal.calibrate(model, params, state, x, y)
    lower, upper = pmm.conformal.interval(cal, x[:3], alpha=0.2)
    assert jax.tree.map(jnp.shape, lower) == {"a": (3, 1), "b": (3, 3)}
    k = math.ceil(31 * 0.8)
    for name in ("a", "b"):
        residuals = np.sort(np.abs(np.asarray(y[name]) - np.asarray(outputs[name])), axis=0)
        expected = np.broadcast_to(residuals[k - 1], (3, residuals.shape[1]))
        np.testing.assert_allclose(upper[name] - outputs[name][:3], expected, rtol=1e-5)


def test_coverage_is_the_fraction_of_targets_inside_their_interval():
    x_cal, y_cal = data()
    x, y = data(200, seed=2)
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x_cal, y_cal)
    lower, upper = pmm.conformal.interval(cal, x, 0.1)
    inside = ((np.asarray(lower) <= y) & (y <= np.asarray(upper))).mean(axis=0)
    np.testing.assert_allclose(pmm.conformal.coverage(cal, x, y, 0.1), inside)


def test_a_target_is_inside_its_interval_exactly_when_its_score_is_at_most_the_threshold():
    x_train, _ = data(50, seed=3)
    x_cal, y_cal = data()
    x, y = data(100, seed=4)
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), x_cal, y_cal, "normalized", x_train=x_train)
    lower, upper = pmm.conformal.interval(cal, x, 0.2)
    threshold = np.sort(np.asarray(cal.scores), axis=0)[math.ceil(40 * 0.8) - 1]
    by_score = np.asarray(pmm.conformal.scores(cal, x, y)) <= threshold
    by_interval = (np.asarray(lower) <= y) & (y <= np.asarray(upper))
    assert (by_score == by_interval).mean() > 0.99  # equal up to float rounding at the edges


def test_a_scaled_model_gets_intervals_in_raw_units():
    x_scaler, y_scaler = pmm.preprocessing.StandardScaler(), pmm.preprocessing.StandardScaler()
    model = x_scaler >> pmm.nn.Linear(features=2) >> y_scaler.inverse()
    x_cal, y_cal = data()
    y_cal = 1000 * y_cal
    net_params = jax.tree.map(jnp.zeros_like, PARAMS)
    params = ((), net_params, ())
    state = (x_scaler.fit(x_cal)[1], (), y_scaler.fit(y_cal)[1])
    cal = pmm.conformal.calibrate(model, params, state, x_cal, y_cal, "normalized")
    lower, upper = pmm.conformal.interval(cal, x_cal, 0.1)
    assert pmm.conformal.coverage(cal, x_cal, y_cal, 0.1).min() > 0.85
    assert np.all(np.isfinite(upper - lower))


def test_alpha_outside_zero_one_is_refused_naming_alpha():
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), *data())
    with pytest.raises(ValueError, match=r"alpha is 1\.5; give a miscoverage level in"):
        pmm.conformal.interval(cal, data()[0], 1.5)


def test_a_calibration_set_too_small_for_alpha_names_the_smallest_alpha_it_supports():
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), *data(9))
    with pytest.raises(
        ValueError, match=r"n=9: the smallest alpha it supports is 1/\(n\+1\) = 0.1"
    ):
        pmm.conformal.interval(cal, data()[0], 0.05)


def test_mismatched_inputs_and_targets_are_refused_naming_both():
    x, y = data()
    with pytest.raises(ValueError, match=r"x_cal: \(39, 1\), y_cal: \(38, 2\)"):
        pmm.conformal.calibrate(MODEL, PARAMS, (), x, y[:-1])
    with pytest.raises(ValueError, match=r"y_cal has shape \(39, 1\), .* give targets of shape"):
        pmm.conformal.calibrate(MODEL, PARAMS, (), x, y[:, :1])


def test_nan_targets_are_refused_naming_the_argument_and_the_sample():
    x, y = data()
    y[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"y_cal holds NaN or inf \(sample 7\)"):
        pmm.conformal.calibrate(MODEL, PARAMS, (), x, y)


def test_nan_predictions_are_refused_naming_the_sample():
    x, y = data()
    x[3] = np.nan
    with pytest.raises(ValueError, match="the model predicts NaN or inf for sample 3 of x_cal"):
        pmm.conformal.calibrate(MODEL, PARAMS, (), x, y)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"score": "quantile"}, "score is 'quantile'; give one of"),
        ({"x_train": np.zeros((3, 1))}, "x_train is used by score='normalized' only"),
        ({"batch_size": 0}, "batch_size is 0"),
    ],
)
def test_bad_options_are_refused_naming_them(options, message):
    with pytest.raises(ValueError, match=message):
        pmm.conformal.calibrate(MODEL, PARAMS, (), *data(), **options)


def test_x_train_of_another_shape_is_refused():
    with pytest.raises(ValueError, match=r"x_train has per-sample shapes \(2,\) but x_cal has"):
        pmm.conformal.calibrate(
            MODEL, PARAMS, (), *data(), score="normalized", x_train=np.zeros((5, 2))
        )


def test_complex_outputs_are_refused():
    model = pmm.nn.Linear(features=1, dtype="complex64")
    params, _ = model.init(jax.random.key(0), (1,))
    x, y = data()
    with pytest.raises(ValueError, match="complex64; conformal scores need real floating"):
        pmm.conformal.calibrate(model, params, (), x, y[:, :1])


def test_a_regression_calibration_does_not_give_prediction_sets():
    cal = pmm.conformal.calibrate(MODEL, PARAMS, (), *data())
    with pytest.raises(ValueError, match=r"use pmm\.conformal\.interval"):
        pmm.conformal.prediction_set(cal, data()[0], 0.1)
