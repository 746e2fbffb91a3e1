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
