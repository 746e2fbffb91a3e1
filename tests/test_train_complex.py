"""Complex params train as pairs of real params: the conjugated gradient points downhill."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

import pmm

SGD = optax.sgd(0.05)


class ComplexScale(pmm.Module):
    """``x * z`` with one complex ``z`` per feature."""

    def init(self, rng, input_shape):
        return {"z": jnp.zeros(input_shape, jnp.complex64)}, ()

    def apply(self, params, data, training, state, rng):
        return data * params["z"], state


class SplitScale(pmm.Module):
    """The same model with ``z = re + 1j * im`` held as two real params."""

    def init(self, rng, input_shape):
        return {"re": jnp.zeros(input_shape), "im": jnp.zeros(input_shape)}, ()

    def apply(self, params, data, training, state, rng):
        return data * (params["re"] + 1j * params["im"]), state


def problem(samples=40):
    kx, kn = jax.random.split(jax.random.key(0))
    x = jax.random.normal(kx, (samples, 2), jnp.complex64)
    y = x * jnp.array([1.0 - 2.0j, -0.5 + 0.25j]) + 0.1 * jax.random.normal(kn, x.shape, x.dtype)
    optimum = jnp.sum(jnp.conj(x) * y, axis=0) / jnp.sum(jnp.abs(x) ** 2, axis=0)
    return x, y, optimum


def train(model, x, y, optimizer, epochs):
    params, state = model.init(None, (2,))
    return pmm.fit(
        model,
        params,
        state,
        x,
        y,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=40,
        progress=False,
        restore_best=False,
    )


def test_complex_least_squares_reaches_the_known_optimum():
    x, y, optimum = problem()
    result = train(ComplexScale(), x, y, optax.adam(5e-2), epochs=400)
    assert result.params["z"].dtype == jnp.complex64
    np.testing.assert_allclose(result.params["z"], optimum, atol=1e-3)


def test_complex_training_matches_the_real_and_imaginary_split():
    x, y, _ = problem()
    whole = train(ComplexScale(), x, y, SGD, epochs=20)
    split = train(SplitScale(), x, y, SGD, epochs=20)
    np.testing.assert_allclose(whole.params["z"].real, split.params["re"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole.params["z"].imag, split.params["im"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole.history["loss"], split.history["loss"], rtol=1e-5)


def test_real_leaves_stay_real_beside_complex_ones():
    x, y, _ = problem()

    class Mixed(pmm.Module):
        def init(self, rng, input_shape):
            return {"z": jnp.zeros(input_shape, jnp.complex64), "g": jnp.ones(())}, ()

        def apply(self, params, data, training, state, rng):
            return params["g"] * data * params["z"], state

    result = train(Mixed(), x, y, SGD, epochs=3)
    assert result.params["g"].dtype == jnp.float32
    assert result.params["z"].dtype == jnp.complex64


def linear_problem():
    """Complex ``y = x @ w + b`` with its exact ``w``, ``b``, and a complex ``pmm.nn.Linear``."""
    kx, kw = jax.random.split(jax.random.key(0))
    x = jax.random.normal(kx, (64, 3), jnp.complex64)
    w, b = jax.random.normal(kw, (3, 2), jnp.complex64), jnp.array([0.5 - 1j, 2j])
    model = pmm.nn.Linear(features=2, dtype="complex64")
    return model, x, x @ w + b, w, b


def hand_written_loop(optimizer, steps=200):
    model, x, y, _, _ = linear_problem()
    params, state = model.init(jax.random.key(1), (3,))

    def loss(params):
        return jnp.mean(jnp.abs(model(params, x, True, state, None)[0] - y) ** 2)

    @jax.jit
    def step(params, opt_state):
        updates, opt_state = optimizer.update(jax.grad(loss)(params), opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    opt_state = optimizer.init(params)
    for _ in range(steps):
        params, opt_state = step(params, opt_state)
    return params, float(loss(params))


def test_a_hand_written_loop_trains_complex_linear_params_with_the_conjugation_chained():
    _, _, _, w, b = linear_problem()
    params, loss = hand_written_loop(optax.chain(pmm.conjugate_complex_grads(), optax.sgd(0.1)))
    assert loss < 1e-8
    np.testing.assert_allclose(params["weight"], w, atol=1e-4)
    np.testing.assert_allclose(params["bias"], b, atol=1e-4)


def test_without_the_conjugation_the_imaginary_parts_climb():
    _, loss = hand_written_loop(optax.sgd(0.1))
    assert loss > 1e3


def test_fit_and_the_train_step_conjugate_the_complex_gradient_once():
    model, x, y, w, b = linear_problem()
    params, state = model.init(jax.random.key(1), (3,))
    step = pmm.make_train_step(model, "mse", optax.sgd(0.1))
    by_hand, _ = hand_written_loop(optax.chain(pmm.conjugate_complex_grads(), optax.sgd(0.1)), 1)
    by_step, _, _, _ = step(params, state, step.init(params), x, y)
    # "mse" averages over the 2 outputs as the hand-written loss does.
    np.testing.assert_allclose(by_step["weight"], by_hand["weight"], rtol=1e-5)
    result = pmm.fit(
        model, params, state, x, y, optimizer=optax.sgd(0.1), epochs=200, batch_size=64,
        progress=False,
    )  # fmt: skip
    np.testing.assert_allclose(result.params["weight"], w, atol=1e-4)
    np.testing.assert_allclose(result.params["bias"], b, atol=1e-4)
