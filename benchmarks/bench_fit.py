"""Case (c): ``pmm.fit`` against the same AEPMM fit as a hand-written ``lax.scan`` loop.

Both sides fit ``AEPMM(matrix_size=6)`` (its lowest eigenvalue) to a smooth function of two
features with ``optax.adam(1e-3)``, mean squared error, reshuffled minibatches and the same
number of epochs and steps. The forward pass is the module's own callable on both sides, so the
ratio measures the training loop alone:

- ``raw``: ``jax.jit`` of a ``lax.scan`` over epochs, each a ``lax.scan`` over the shuffled
  minibatches -- one program, no host work at all, the floor any loop can reach;
- ``pmm``: ``pmm.fit(..., progress=False)`` with its defaults (history, early-stopping
  bookkeeping, best-params tracking, chunked host syncs).

Each timed call is a whole fit *including compilation* (each builds a fresh optimizer or jitted
function, so nothing is reused between calls). The issue's reference size is 2000 epochs of 10
steps (``--full``); the default is shorter to keep runs quick. Target: pmm / raw <= 1.10.

Run ``python -m benchmarks.bench_fit [--quick | --full]``.
"""

import argparse
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

import pmm
from benchmarks.timing import Row, interleaved, require

TARGET = 1.10
LEARNING_RATE = 1e-3
BATCH_SIZE = 32
MATRIX_SIZE = 6


class Size(NamedTuple):
    """Epochs and optimizer steps per epoch of one fit."""

    epochs: int
    steps: int


FULL, DEFAULT, QUICK = Size(2000, 10), Size(500, 10), Size(50, 10)


def problem(steps: int) -> tuple[Any, Any, Any, jax.Array, jax.Array]:
    """``(model, params, state, x, y)``: ``steps * BATCH_SIZE`` samples of 2 features."""
    aepmm = require(require(pmm, "matrix"), "AEPMM")
    model = aepmm(matrix_size=MATRIX_SIZE, num_eig=1)
    params, state = model.init(jax.random.key(0), (2,))
    x = jax.random.uniform(jax.random.key(1), (steps * BATCH_SIZE, 2), minval=-1.0, maxval=1.0)
    y = jnp.sin(2.0 * x[:, :1]) + x[:, 1:] ** 2
    return model, params, state, x, y


def raw_fit(model, params, state, x, y, epochs: int, key: jax.Array):
    """The hand-written fit: one jitted program of nested scans; returns ``(params, losses)``."""
    optimizer = optax.adam(LEARNING_RATE)
    steps = x.shape[0] // BATCH_SIZE

    def loss(params, xb, yb):
        pred, _ = model(params, xb, True, state, None)
        return jnp.mean(jnp.abs(pred - yb) ** 2)

    def step(carry, batch):
        params, opt_state = carry
        value, grads = jax.value_and_grad(loss)(params, *batch)
        grads = jax.tree.map(lambda g: jnp.conj(g) if jnp.iscomplexobj(g) else g, grads)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), value

    def epoch(carry, epoch_key):
        order = jax.random.permutation(epoch_key, x.shape[0])
        batches = (x[order].reshape(steps, BATCH_SIZE, -1), y[order].reshape(steps, BATCH_SIZE, -1))
        carry, losses = jax.lax.scan(step, carry, batches)
        return carry, jnp.mean(losses)

    @jax.jit
    def train(params, key):
        carry = (params, optimizer.init(params))
        (params, _), losses = jax.lax.scan(epoch, carry, jax.random.split(key, epochs))
        return params, losses

    return train(params, key)


def pmm_fit(model, params, state, x, y, epochs: int, key: jax.Array):
    """The same fit through ``pmm.fit``; returns ``(params, losses)``."""
    result = pmm.fit(
        model,
        params,
        state,
        x,
        y,
        optimizer=optax.adam(LEARNING_RATE),
        epochs=epochs,
        batch_size=BATCH_SIZE,
        rng=key,
        progress=False,
    )
    return result.params, result.history["loss"]


def measure(size: Size, rounds: int) -> dict[str, float]:
    """Median seconds of a whole fit (compilation included) for ``pmm`` and ``raw``."""
    model, params, state, x, y = problem(size.steps)
    key = jax.random.key(2)
    return interleaved(
        {
            "pmm": lambda: pmm_fit(model, params, state, x, y, size.epochs, key),
            "raw": lambda: raw_fit(model, params, state, x, y, size.epochs, key),
        },
        warmup=1,
        rounds=rounds,
        number=1,
    )


def run(quick: bool = False, full: bool = False) -> list[Row]:
    """The case (c) row: whole-fit wall time of ``pmm.fit`` over the raw scan loop."""
    size = QUICK if quick else FULL if full else DEFAULT
    medians = measure(size, rounds=3 if quick else 7)
    title = (
        f"AEPMM {MATRIX_SIZE}x{MATRIX_SIZE} fit, {size.epochs} epochs of {size.steps} steps, "
        "compile included"
    )
    return [Row("c", title, medians, target=TARGET)]


def main(argv: Sequence[str] | None = None) -> None:
    """Print the medians and the pmm / raw ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help=f"{QUICK.epochs} epochs, 3 rounds")
    sizes.add_argument("--full", action="store_true", help=f"the reference {FULL.epochs} epochs")
    arguments = parser.parse_args(argv)
    for row in run(quick=arguments.quick, full=arguments.full):
        print(
            f"{row.title}: pmm {row.medians['pmm']:.3f} s, raw {row.medians['raw']:.3f} s, "
            f"ratio {row.ratio:.3f} (target <= {TARGET})"
        )


if __name__ == "__main__":
    main()
