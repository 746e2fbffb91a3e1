"""Cases (h) and (i): Adam train steps of sequence models, pmm against the same math in raw JAX.

- (h) a pre-norm transformer block, ``x + MHA(LN(x))`` then ``x + MLP(LN(x))`` with 4 heads and
  a GELU MLP four times as wide, on batch 32, sequence 128, features 128;
- (i) ``Scan(GRUCell(128))`` over 64 steps of 128 features, batch 64, every step's output
  trained.

Mean squared error against fixed random targets of the output's shape, ``optax.adam(1e-3)``.
The contenders are as in ``bench_step``: ``pmm`` (``jax.jit`` of the plain step), ``raw`` (the
same equations written by hand on dicts of arrays: ``jax.nn.dot_product_attention`` for the
attention, ``lax.scan`` for the recurrence), Flax NNX (``nnx.MultiHeadAttention``,
``nnx.RNN(nnx.GRUCell)``) and Equinox (``eqx.nn.MultiheadAttention``, ``eqx.nn.GRUCell``,
per sample and vmapped over the batch). Flax's and Equinox's layers differ in small details
(Flax's attention function, Equinox's LayerNorm epsilon): their rows are context, not the target.
Target: pmm / raw <= 1.05.

Run ``python -m benchmarks --only sequence [--quick]``.
"""

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

import pmm
from benchmarks.bench_step import (
    STEP_TARGET,
    Library,
    available,
    equinox_trained,
    flax_nnx_trained,
    hand_written_library,
    pmm_library,
    stepper,
)
from benchmarks.timing import Row, interleaved, require


class Shape(NamedTuple):
    """One sequence batch: ``batch`` sequences of ``length`` steps of ``features`` features, the
    model's width ``width`` and (for attention) ``heads``."""

    batch: int
    length: int
    features: int
    width: int
    heads: int = 1


FULL = {"transformer": Shape(32, 128, 128, 128, 4), "gru": Shape(64, 64, 128, 128)}
QUICK = {"transformer": Shape(2, 8, 16, 16, 4), "gru": Shape(3, 5, 4, 8)}
EPSILON = 1e-5


def dense_params(key: jax.Array, fan_in: int, fan_out: int) -> dict[str, jax.Array]:
    """A LeCun-normal weight and a zero bias."""
    weight = jax.random.normal(key, (fan_in, fan_out)) / math.sqrt(fan_in)
    return {"weight": weight, "bias": jnp.zeros((fan_out,))}


def dense(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    return x @ params["weight"] + params["bias"]


def pmm_transformer(shape: Shape) -> Library:
    """The block from pmm layers: two Residuals of LayerNorm and MultiHeadAttention / MLP."""
    attention = require(pmm.nn, "MultiHeadAttention")(num_heads=shape.heads)
    norm, linear = pmm.nn.LayerNorm, pmm.nn.Linear
    block = pmm.Residual(norm() >> attention) >> pmm.Residual(
        norm() >> linear(features=4 * shape.width) >> pmm.nn.GELU() >> linear(features=shape.width)
    )
    return pmm_library(block, (shape.length, shape.features))


def raw_transformer(shape: Shape) -> Library:
    """The same block by hand."""
    width, heads = shape.width, shape.heads

    def init_params(key: jax.Array) -> Any:
        keys = jax.random.split(key, 6)
        norm = {"scale": jnp.ones((width,)), "bias": jnp.zeros((width,))}
        projections = ("query", "key", "value", "output")
        params = {
            name: dense_params(k, width, width)
            for name, k in zip(projections, keys[:4], strict=True)
        }
        up, down = dense_params(keys[4], width, 4 * width), dense_params(keys[5], 4 * width, width)
        return {**params, "norm1": norm, "norm2": dict(norm), "up": up, "down": down}

    def layer_norm(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / jnp.sqrt(var + EPSILON) * params["scale"] + params["bias"]

    def forward(params: Any, x: jax.Array) -> jax.Array:
        batch, length, _ = x.shape
        h = layer_norm(params["norm1"], x)
        q, k, v = (
            dense(params[name], h).reshape(batch, length, heads, -1)
            for name in ("query", "key", "value")
        )
        attended = jax.nn.dot_product_attention(q, k, v).reshape(batch, length, width)
        x = x + dense(params["output"], attended)
        h = layer_norm(params["norm2"], x)
        return x + dense(params["down"], jax.nn.gelu(dense(params["up"], h)))

    return hand_written_library(init_params, forward)


def flax_transformer(shape: Shape) -> Library:
    """The block from Flax NNX layers."""
    from flax import nnx

    width = shape.width

    class Block(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.norm1 = nnx.LayerNorm(width, epsilon=EPSILON, rngs=rngs)
            self.attention = nnx.MultiHeadAttention(
                shape.heads, width, decode=False, deterministic=True, rngs=rngs
            )
            self.norm2 = nnx.LayerNorm(width, epsilon=EPSILON, rngs=rngs)
            self.up = nnx.Linear(width, 4 * width, rngs=rngs)
            self.down = nnx.Linear(4 * width, width, rngs=rngs)

        def __call__(self, x: jax.Array) -> jax.Array:
            x = x + self.attention(self.norm1(x))
            return x + self.down(nnx.gelu(self.up(self.norm2(x))))

    return flax_nnx_trained(Block)


def equinox_transformer(shape: Shape) -> Library:
    """The block from Equinox layers, per sample and vmapped over the batch."""
    import equinox as eqx

    width = shape.width

    class Block(eqx.Module):
        norm1: eqx.nn.LayerNorm
        attention: eqx.nn.MultiheadAttention
        norm2: eqx.nn.LayerNorm
        up: eqx.nn.Linear
        down: eqx.nn.Linear

        def __init__(self, key: jax.Array) -> None:
            keys = jax.random.split(key, 3)
            biases = {f"use_{name}_bias": True for name in ("query", "key", "value", "output")}
            self.norm1 = eqx.nn.LayerNorm(width, eps=EPSILON)
            self.attention = eqx.nn.MultiheadAttention(shape.heads, width, **biases, key=keys[0])
            self.norm2 = eqx.nn.LayerNorm(width, eps=EPSILON)
            self.up = eqx.nn.Linear(width, 4 * width, key=keys[1])
            self.down = eqx.nn.Linear(4 * width, width, key=keys[2])

        def __call__(self, x: jax.Array) -> jax.Array:
            h = jax.vmap(self.norm1)(x)
            x = x + self.attention(h, h, h)
            h = jax.vmap(self.norm2)(x)
            return x + jax.vmap(lambda row: self.down(jax.nn.gelu(self.up(row))))(h)

    return equinox_trained(Block)


def pmm_gru(shape: Shape) -> Library:
    """``pmm.nn.Scan(pmm.nn.GRUCell(width))``."""
    model = require(pmm.nn, "Scan")(require(pmm.nn, "GRUCell")(features=shape.width))
    return pmm_library(model, (shape.length, shape.features))


def raw_gru(shape: Shape) -> Library:
    """The GRU equations of ``pmm.nn.GRUCell`` in a hand-written ``lax.scan``."""

    def init_params(key: jax.Array) -> Any:
        input_key, hidden_key = jax.random.split(key)
        width = 3 * shape.width
        return {
            "input": dense_params(input_key, shape.features, width),
            "hidden": dense_params(hidden_key, shape.width, width),
        }

    def forward(params: Any, x: jax.Array) -> jax.Array:
        def step(h: jax.Array, x_t: jax.Array) -> tuple[jax.Array, jax.Array]:
            input_r, input_z, input_n = jnp.split(dense(params["input"], x_t), 3, axis=-1)
            hidden_r, hidden_z, hidden_n = jnp.split(dense(params["hidden"], h), 3, axis=-1)
            reset = jax.nn.sigmoid(input_r + hidden_r)
            update = jax.nn.sigmoid(input_z + hidden_z)
            h = (1 - update) * jnp.tanh(input_n + reset * hidden_n) + update * h
            return h, h

        start = jnp.zeros((x.shape[0], shape.width))
        return jnp.swapaxes(jax.lax.scan(step, start, jnp.swapaxes(x, 0, 1))[1], 0, 1)

    return hand_written_library(init_params, forward)


def flax_gru(shape: Shape) -> Library:
    """``nnx.RNN(nnx.GRUCell)``."""
    from flax import nnx

    class GRU(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.rnn = nnx.RNN(nnx.GRUCell(shape.features, shape.width, rngs=rngs))

        def __call__(self, x: jax.Array) -> jax.Array:
            return self.rnn(x)

    return flax_nnx_trained(GRU)


def equinox_gru(shape: Shape) -> Library:
    """``eqx.nn.GRUCell`` in a ``lax.scan`` per sequence, vmapped over the batch."""
    import equinox as eqx

    class GRU(eqx.Module):
        cell: eqx.nn.GRUCell

        def __init__(self, key: jax.Array) -> None:
            self.cell = eqx.nn.GRUCell(shape.features, shape.width, key=key)

        def __call__(self, xs: jax.Array) -> jax.Array:
            def step(h: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
                h = self.cell(x, h)
                return h, h

            return jax.lax.scan(step, jnp.zeros((shape.width,)), xs)[1]

    return equinox_trained(GRU)


#: Case letter -> (title, the shape key, the contenders' builders).
CASES: dict[str, tuple[str, str, dict[str, Callable[[Shape], Library]]]] = {
    "h": (
        "pre-norm transformer block (4 heads + MLP)",
        "transformer",
        {
            "pmm": pmm_transformer,
            "raw": raw_transformer,
            "flax_nnx": flax_transformer,
            "equinox": equinox_transformer,
        },
    ),
    "i": (
        "Scan(GRUCell)",
        "gru",
        {"pmm": pmm_gru, "raw": raw_gru, "flax_nnx": flax_gru, "equinox": equinox_gru},
    ),
}


def run(quick: bool = False) -> list[Row]:
    """One row per case: the median Adam step of every contender, interleaved."""
    shapes, rounds = (QUICK, 3) if quick else (FULL, 31)
    rows = []
    for letter, (name, shape_key, builders) in CASES.items():
        shape = shapes[shape_key]
        libraries, note = available(shape, builders)
        kx, ky = jax.random.split(jax.random.key(1))
        x = jax.random.normal(kx, (shape.batch, shape.length, shape.features))
        y = jax.random.normal(ky, (shape.batch, shape.length, shape.width))
        medians = interleaved(
            {n: stepper(lib, x, y) for n, lib in libraries.items()}, rounds=rounds
        )
        title = (
            f"Adam train step, {name}, batch {shape.batch}, sequence {shape.length}, "
            f"features {shape.features} -> {shape.width}"
        )
        rows.append(Row(letter, title, medians, target=STEP_TARGET, note=note))
    return rows
