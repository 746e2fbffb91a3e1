"""pmm.make_train_step: a pure, jittable optimizer step with fit's weighting and freezing."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm
from tests.modules import Counter, Scale

SGD = optax.sgd(0.1)


def problem(samples=8):
    x = jax.random.normal(jax.random.key(0), (samples, 3))
    return x, x * jnp.array([1.0, -2.0, 3.0])


def test_one_step_is_plain_gradient_descent_on_the_mean_squared_error():
    x, y = problem()
    params = {"s": jnp.zeros(3)}
    step = pmm.make_train_step(Scale(), "mse", SGD)
    new, _, _, loss = step(params, (), step.init(params), x, y)
    # d/ds mean_i mean_j (x_ij s_j - y_ij)^2 = 2 / 3 * mean_i x_ij (x_ij s_j - y_ij), at s = 0:
    gradient = -2 / 3 * np.mean(np.asarray(x) * np.asarray(y), axis=0)
    np.testing.assert_allclose(new["s"], -0.1 * gradient, rtol=1e-5)
    np.testing.assert_allclose(loss, np.mean(np.asarray(y) ** 2), rtol=1e-6)


def test_fit_takes_the_same_step():
    x, y = problem()
    params = {"s": jnp.full(3, 0.5)}
    step = pmm.make_train_step(Scale(), "mse", SGD)
    by_step, _, _, _ = step(params, (), step.init(params), x, y)
    by_fit = pmm.fit(
        Scale(), params, (), x, y, optimizer=SGD, epochs=1, batch_size=8, progress=False
    )  # one full batch per epoch: the shuffle changes only the summation order
    np.testing.assert_allclose(by_fit.params["s"], by_step["s"], rtol=1e-6)


def test_weights_scale_each_sample_and_zero_weights_mask_padding():
    x, y = problem()
    params = {"s": jnp.zeros(3)}
    step = pmm.make_train_step(Scale(), "mse", SGD)
    opt_state = step.init(params)
    first_half = jnp.where(jnp.arange(8) < 4, 0.25, 0.0)
    masked, _, _, masked_loss = step(params, (), opt_state, x, y, weight=first_half)
    alone, _, _, alone_loss = step(params, (), opt_state, x[:4], y[:4])
    np.testing.assert_allclose(masked["s"], alone["s"], rtol=1e-6)
    np.testing.assert_allclose(masked_loss, alone_loss, rtol=1e-6)


def test_the_step_jits_and_equal_settings_give_equal_steps():
    x, y = problem()
    params = {"s": jnp.zeros(3)}
    step = pmm.make_train_step(Scale(), "mse", SGD, trainable={"s": True})
    assert step == pmm.make_train_step(Scale(), "mse", SGD, trainable={"s": True})
    assert hash(step) == hash(pmm.make_train_step(Scale(), "mse", SGD, trainable={"s": True}))
    eager = step(params, (), step.init(params), x, y)
    jitted = jax.jit(step)(params, (), step.init(params), x, y)
    for left, right in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted), strict=True):
        np.testing.assert_allclose(left, right, rtol=1e-6)


def test_frozen_leaves_come_back_unchanged_and_get_no_optimizer_state():
    model = Scale(factor=0.5) >> Scale(factor=1.5)
    params, state = model.init(None, (3,))
    x, y = problem()
    step = pmm.make_train_step(model, "mse", optax.adam(0.1), trainable=(False, True))
    opt_state = step.init(params)
    assert opt_state[0].mu[0]["s"] is None
    new, _, _, _ = step(params, state, opt_state, x, y)
    np.testing.assert_array_equal(new[0]["s"], params[0]["s"])
    assert not np.array_equal(new[1]["s"], params[1]["s"])


def test_the_model_state_is_threaded_through():
    model = Counter() >> Scale()
    params, state = model.init(None, (3,))
    step = pmm.make_train_step(model, "mse", SGD)
    _, state, _, _ = step(params, state, step.init(params), *problem())
    assert int(state[0]["calls"]) == 1


def test_evaluate_is_the_weighted_loss_in_evaluation_mode():
    x, y = problem()
    step = pmm.make_train_step(Scale(), "mae", SGD)
    params = {"s": jnp.ones(3)}
    expected = np.mean(np.abs(np.asarray(x) - np.asarray(y)))
    np.testing.assert_allclose(step.evaluate(params, (), x, y), expected, rtol=1e-6)


def test_a_weight_of_the_wrong_shape_is_refused():
    x, y = problem()
    step = pmm.make_train_step(Scale(), "mse", SGD)
    params = {"s": jnp.zeros(3)}
    with pytest.raises(ValueError, match=r"weight must be a float array of shape \(8,\)"):
        step(params, (), step.init(params), x, y, weight=jnp.ones(7))


def test_a_bad_optimizer_is_named():
    with pytest.raises(ValueError, match=r"optimizer must be an optax\.GradientTransformation"):
        pmm.make_train_step(Scale(), "mse", "adam")
