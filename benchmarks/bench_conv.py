"""Case (j): one Adam train step of a small CNN in four libraries, the same math everywhere.

``Conv(32, 3x3) -> ReLU -> MaxPool(2) -> Conv(64, 3x3) -> ReLU -> MaxPool(2) -> Flatten ->
Linear(10)`` on 28x28x1 images, batch 128, ``SAME`` convolutions with bias, 2x2 max pooling with
stride 2, mean squared error against random targets, ``optax.adam(1e-3)``:

- ``pmm``: that Sequential of ``pmm.nn`` layers, in ``bench_step.pmm_library``'s plain
  ``jax.jit`` step;
- ``raw``: the same written by hand with ``jax.lax.conv_general_dilated`` and
  ``jax.lax.reduce_window`` on a dict of arrays, the limit any library can reach;
- ``flax_nnx``: ``nnx.Conv``/``nnx.max_pool``/``nnx.Linear``, ``nnx.jit`` step;
- ``equinox``: ``eqx.nn.Conv2d``/``MaxPool2d``/``Linear`` per sample (channels first),
  vmapped over the batch, ``eqx.filter_jit`` step.

Run ``python -m benchmarks --only conv`` (``--quick`` for tiny sizes).
"""

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


class Size(NamedTuple):
    """Image side, channels of the two convolutions, classes and batch size."""

    side: int
    widths: tuple[int, int]
    classes: int
    batch: int

    @property
    def title(self) -> str:
        first, second = self.widths
        return (
            f"CNN conv{first}-pool-conv{second}-pool-dense{self.classes} on "
            f"{self.side}x{self.side}x1, batch {self.batch}"
        )

    @property
    def flat(self) -> int:
        """Features after the second pooling."""
        return (self.side // 4) ** 2 * self.widths[1]


FULL = Size(28, (32, 64), 10, 128)
QUICK = Size(8, (4, 8), 3, 8)


def pmm_cnn(size: Size) -> Library:
    """The CNN as a ``pmm.Sequential`` of ``pmm.nn`` layers."""
    conv, max_pool = require(pmm.nn, "Conv"), require(pmm.nn, "MaxPool")
    first, second = size.widths
    model = (
        conv(first, (3, 3))
        >> pmm.nn.ReLU()
        >> max_pool(2)
        >> conv(second, (3, 3))
        >> pmm.nn.ReLU()
        >> max_pool(2)
        >> pmm.nn.Flatten()
        >> pmm.nn.Linear(features=size.classes)
    )
    return pmm_library(model, (size.side, size.side, 1))


def raw_cnn(size: Size) -> Library:
    """The same CNN and step written by hand in JAX + optax."""
    first, second = size.widths

    def init_params(key: jax.Array) -> Any:
        keys = jax.random.split(key, 3)
        shapes = {"conv1": (3, 3, 1, first), "conv2": (3, 3, first, second)}
        params = {
            name: {
                "kernel": jax.random.normal(k, shape) / jnp.sqrt(9 * shape[2]),
                "bias": jnp.zeros(shape[-1]),
            }
            for k, (name, shape) in zip(keys[:2], shapes.items(), strict=True)
        }
        params["dense"] = {
            "weight": jax.random.normal(keys[2], (size.flat, size.classes)) / jnp.sqrt(size.flat),
            "bias": jnp.zeros(size.classes),
        }
        return params

    def block(layer: dict[str, jax.Array], x: jax.Array) -> jax.Array:
        x = jax.lax.conv_general_dilated(
            x, layer["kernel"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        x = jax.nn.relu(x + layer["bias"])
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def forward(params: Any, x: jax.Array) -> jax.Array:
        x = block(params["conv2"], block(params["conv1"], x))
        x = x.reshape(x.shape[0], -1)
        return x @ params["dense"]["weight"] + params["dense"]["bias"]

    return hand_written_library(init_params, forward)


def flax_nnx_cnn(size: Size) -> Library:
    """The CNN as an ``nnx.Module`` trained with an ``nnx.jit`` step and ``nnx.Optimizer``."""
    from flax import nnx

    first, second = size.widths

    class CNN(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.conv1 = nnx.Conv(1, first, (3, 3), rngs=rngs)
            self.conv2 = nnx.Conv(first, second, (3, 3), rngs=rngs)
            self.dense = nnx.Linear(size.flat, size.classes, rngs=rngs)

        def __call__(self, x: jax.Array) -> jax.Array:
            x = nnx.max_pool(nnx.relu(self.conv1(x)), (2, 2), (2, 2))
            x = nnx.max_pool(nnx.relu(self.conv2(x)), (2, 2), (2, 2))
            return self.dense(x.reshape(x.shape[0], -1))

    return flax_nnx_trained(CNN)


def equinox_cnn(size: Size) -> Library:
    """The CNN of ``eqx.nn`` layers on one channels-first sample, vmapped over the batch."""
    import equinox as eqx

    first, second = size.widths

    def build(key: jax.Array) -> Any:
        keys = jax.random.split(key, 3)
        return eqx.nn.Sequential(
            [
                eqx.nn.Lambda(lambda x: jnp.moveaxis(x, -1, 0)),  # channels first, as Equinox's
                eqx.nn.Conv2d(1, first, 3, padding="SAME", key=keys[0]),
                eqx.nn.Lambda(jax.nn.relu),
                eqx.nn.MaxPool2d(2, 2),
                eqx.nn.Conv2d(first, second, 3, padding="SAME", key=keys[1]),
                eqx.nn.Lambda(jax.nn.relu),
                eqx.nn.MaxPool2d(2, 2),
                eqx.nn.Lambda(jnp.ravel),
                eqx.nn.Linear(size.flat, size.classes, key=keys[2]),
            ]
        )

    return equinox_trained(build)


LIBRARIES = {"pmm": pmm_cnn, "raw": raw_cnn, "flax_nnx": flax_nnx_cnn, "equinox": equinox_cnn}


def run(quick: bool = False) -> list[Row]:
    """The CNN train-step row: median step time of each library, interleaved."""
    size = QUICK if quick else FULL
    built, note = available(size, LIBRARIES)
    kx, ky = jax.random.split(jax.random.key(1))
    x = jax.random.normal(kx, (size.batch, size.side, size.side, 1))
    y = jax.random.normal(ky, (size.batch, size.classes))
    medians = interleaved(
        {name: stepper(library, x, y) for name, library in built.items()},
        rounds=3 if quick else 31,
    )
    return [Row("j", f"Adam train step, {size.title}", medians, target=STEP_TARGET, note=note)]
