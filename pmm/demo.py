"""The pmm demo: build, train and evaluate an MLP on a synthetic regression (``python -m pmm.demo``).

It shows the whole life of a pmm model with nothing but JAX and optax around it: compose a spec,
``init`` its params, jit the module itself, train with a plain optax loop, and evaluate on held-out
data. Run ``python -m pmm.demo --help`` for the options.
"""

import argparse
import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax

import pmm


def make_data(rng: jax.Array, samples: int) -> tuple[jax.Array, jax.Array]:
    """``samples`` points of ``y = sin(3 x0) * cos(x1) + x2^2 / 2`` with ``x`` uniform in [-1, 1]^3."""
    x = jax.random.uniform(rng, (samples, 3), minval=-1.0, maxval=1.0)
    y = jnp.sin(3 * x[:, :1]) * jnp.cos(x[:, 1:2]) + 0.5 * x[:, 2:] ** 2
    return x, y


def train(model: pmm.Module, params, x, y, *, steps: int, learning_rate: float):
    """``steps`` full-batch Adam steps on the mean squared error; returns params and loss curve."""
    optimizer = optax.adam(learning_rate)

    def loss(p):
        return jnp.mean((model(p, x, True, (), None)[0] - y) ** 2)

    def step(carry, _):
        p, opt_state = carry
        value, grads = jax.value_and_grad(loss)(p)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return (optax.apply_updates(p, updates), opt_state), value

    (params, _), losses = jax.jit(
        lambda p: jax.lax.scan(step, (p, optimizer.init(p)), length=steps)
    )(params)
    return params, losses


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="Adam steps (default 2000)")
    parser.add_argument("--width", type=int, default=32, help="hidden width (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    args = parser.parse_args(argv)

    data_key, test_key, init_key = jax.random.split(jax.random.key(args.seed), 3)
    x, y = make_data(data_key, 256)
    x_test, y_test = make_data(test_key, 1024)
    model = pmm.nn.MLP(hidden=(args.width, args.width), features=1, activation="tanh")
    params, _ = model.init(init_key, (3,))
    count = sum(leaf.size for leaf in jax.tree.leaves(params))

    start = time.perf_counter()
    params, losses = train(model, params, x, y, steps=args.steps, learning_rate=3e-3)
    seconds = time.perf_counter() - start
    prediction, _ = jax.jit(model, static_argnums=2)(params, x_test, False, (), None)
    test_mse = float(jnp.mean((prediction - y_test) ** 2))

    print(f"model       {model}")
    print(f"parameters  {count}")
    print(f"training    {args.steps} Adam steps in {seconds:.1f} s (compile included)")
    print(f"train MSE   {float(losses[0]):.4f} -> {float(losses[-1]):.5f}")
    print(f"test MSE    {test_mse:.5f}  (variance of the target {float(jnp.var(y_test)):.4f})")


if __name__ == "__main__":
    main()
