"""The central claim of Cook et al.: an AE-PMM fitted on c in [-1, 1] extrapolates to [1, 2]."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pmm


def transverse_field_ising(sites=4):
    """``H(c) = (-sum Z_i Z_{i+1} - c sum X_i) / sites`` on a ring, as ``(H0, H1)``."""
    pauli_x, pauli_z = np.array([[0.0, 1.0], [1.0, 0.0]]), np.diag([1.0, -1.0])

    def on(site_ops):
        out = np.ones((1, 1))
        for site in range(sites):
            out = np.kron(out, site_ops.get(site, np.eye(2)))
        return out

    h0 = -sum(on({i: pauli_z, (i + 1) % sites: pauli_z}) for i in range(sites))
    h1 = -sum(on({i: pauli_x}) for i in range(sites))
    return h0 / sites, h1 / sites


def ground_energy(couplings):
    h0, h1 = transverse_field_ising()
    return np.array([[np.linalg.eigvalsh(h0 + c * h1)[0]] for c in couplings], np.float32)


def fit(model, x, y, steps=3000, learning_rate=0.02):
    params, state = model.init(jax.random.key(0), (1,))
    optimizer = optax.adam(learning_rate)

    def loss(params):
        return jnp.mean((model(params, x, False, state, None)[0] - y) ** 2)

    def step(carry, _):
        params, opt_state = carry
        updates, opt_state = optimizer.update(jax.grad(loss)(params), opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), None

    run = jax.jit(functools.partial(jax.lax.scan, step, xs=None, length=steps))
    (params, _), _ = run((params, optimizer.init(params)))
    return lambda data: np.asarray(model(params, data, False, state, None)[0])


@pytest.mark.slow
def test_aepmm_extrapolates_the_ground_state_energy_where_an_mlp_does_not():
    train = np.linspace(-1.0, 1.0, 40, dtype=np.float32)[:, None]
    test = np.linspace(1.0, 2.0, 40, dtype=np.float32)[:, None]
    x, y = jnp.asarray(train), jnp.asarray(ground_energy(train[:, 0]))
    truth = ground_energy(test[:, 0])
    pmm_model = pmm.AEPMM(matrix_size=4, num_eig=1, which="SA")  # 32 real parameters
    mlp = pmm.nn.MLP(hidden=(5, 5), features=1, activation="tanh")  # 46 real parameters
    pmm_error = np.max(np.abs(fit(pmm_model, x, y)(jnp.asarray(test)) - truth))
    mlp_error = np.max(np.abs(fit(mlp, x, y)(jnp.asarray(test)) - truth))
    assert pmm_error < 0.03  # the energy changes by 0.83 over [1, 2]
    assert mlp_error > 5 * pmm_error
