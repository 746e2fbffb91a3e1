"""Cases (a) and (b): one Adam train step of an MLP, and its compile time, in four libraries.

The same math everywhere: an MLP with ReLU between layers (none after the last), mean squared
error, ``optax.adam(1e-3)``. The contenders are

- ``pmm``: the plain pattern a user writes, ``jax.jit`` of a function that calls the module and
  ``optimizer.update``;
- ``raw``: the same hand-written in JAX + optax on a list of ``{"weight", "bias"}`` dicts, the
  limit any library can reach;
- ``flax_nnx``: an ``nnx.Module`` of ``nnx.Linear`` layers, ``nnx.jit`` step, ``nnx.Optimizer``;
- ``equinox``: ``eqx.nn.MLP`` vmapped over the batch, ``eqx.filter_jit`` step.

Flax and Equinox are imported only here and skipped with a note when missing (``pip install
-e .[bench]``). Besides the two MLPs of case (a), a 100-layer MLP 16 wide shows dispatch
overhead: there a step costs Python and PyTree handling more than FLOPs.
"""

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

import pmm
from benchmarks.timing import Row, interleaved, require

LEARNING_RATE = 1e-3


class Size(NamedTuple):
    """One model and batch: a title, layer sizes from input to output, the batch size, and
    whether to time compilation too (case b)."""

    title: str
    sizes: tuple[int, ...]
    batch: int
    compile: bool


FULL_SIZES = (
    Size("MLP 16-64-64-4, batch 128", (16, 64, 64, 4), 128, True),
    Size("MLP 16-512-512-4, batch 1024", (16, 512, 512, 4), 1024, False),
    Size("100-layer MLP 16 wide, batch 128 (dispatch-bound)", (16,) * 100 + (4,), 128, True),
)
QUICK_SIZES = (
    Size("MLP 4-8-8-2, batch 8", (4, 8, 8, 2), 8, True),
    Size("5-layer MLP 4 wide, batch 8", (4,) * 5 + (2,), 8, False),
)
STEP_TARGET, COMPILE_TARGET = 1.05, 1.2

#: A train step: ``step(carry, x, y) -> (carry, loss)``; the carry holds params and optimizer.
Step = Callable[[Any, jax.Array, jax.Array], tuple[Any, jax.Array]]


class Library(NamedTuple):
    """How one library sets up a model (``init(key) -> carry``) and builds a fresh jitted step."""

    init: Callable[[jax.Array], Any]
    fresh_step: Callable[[], Step]


def mse(prediction: jax.Array, target: jax.Array) -> jax.Array:
    """Mean squared error over every element."""
    return jnp.mean((prediction - target) ** 2)


def pmm_library(model: pmm.Module, input_shape: Any) -> Library:
    """Any pmm model trained with ``jax.jit`` and optax, the plain pattern the README shows."""
    optimizer = optax.adam(LEARNING_RATE)

    def init(key: jax.Array) -> Any:
        params, state = model.init(key, input_shape)
        return params, state, optimizer.init(params)

    def fresh_step() -> Step:
        def step(carry: Any, x: jax.Array, y: jax.Array) -> tuple[Any, jax.Array]:
            params, state, opt_state = carry

            def loss_fn(params: Any) -> tuple[jax.Array, Any]:
                prediction, new_state = model(params, x, True, state, None)
                return mse(prediction, y), new_state

            (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), state, opt_state), loss

        return jax.jit(step)

    return Library(init, fresh_step)


def pmm_mlp_library(sizes: Sequence[int]) -> Library:
    """``pmm.nn.MLP`` of these layer sizes in ``pmm_library``."""
    mlp = require(pmm.nn, "MLP")(hidden=tuple(sizes[1:-1]), features=sizes[-1], activation="relu")
    return pmm_library(mlp, (sizes[0],))


def raw_library(sizes: Sequence[int]) -> Library:
    """The same MLP and step written by hand in JAX + optax: the limit."""

    def init_params(key: jax.Array) -> list[dict[str, jax.Array]]:
        keys = jax.random.split(key, len(sizes) - 1)
        return [
            {
                "weight": jax.random.normal(k, (m, n)) / jnp.sqrt(m),
                "bias": jnp.zeros((n,)),
            }
            for k, (m, n) in zip(keys, itertools.pairwise(sizes), strict=True)
        ]

    def forward(params: list[dict[str, jax.Array]], x: jax.Array) -> jax.Array:
        for layer in params[:-1]:
            x = jax.nn.relu(x @ layer["weight"] + layer["bias"])
        return x @ params[-1]["weight"] + params[-1]["bias"]

    return hand_written_library(init_params, forward)


def hand_written_library(
    init_params: Callable[[jax.Array], Any], forward: Callable[[Any, jax.Array], jax.Array]
) -> Library:
    """A model written by hand as ``init_params(key)`` and ``forward(params, x)``, trained by a
    plain jitted Adam step on the mean squared error."""
    optimizer = optax.adam(LEARNING_RATE)

    def init(key: jax.Array) -> Any:
        params = init_params(key)
        return params, optimizer.init(params)

    def fresh_step() -> Step:
        def step(carry: Any, x: jax.Array, y: jax.Array) -> tuple[Any, jax.Array]:
            params, opt_state = carry
            loss, grads = jax.value_and_grad(lambda p: mse(forward(p, x), y))(params)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        return jax.jit(step)

    return Library(init, fresh_step)


def flax_nnx_trained(model_class: Any) -> Library:
    """An NNX model class (built by ``model_class(rngs)``) trained with an ``nnx.jit`` step and
    ``nnx.Optimizer``: the pattern the Flax documentation shows."""
    from flax import nnx

    def init(key: jax.Array) -> Any:
        model = model_class(nnx.Rngs(key))
        return model, nnx.Optimizer(model, optax.adam(LEARNING_RATE), wrt=nnx.Param)

    def fresh_step() -> Step:
        @nnx.jit
        def train(model: Any, optimizer: Any, x: jax.Array, y: jax.Array) -> jax.Array:
            loss, grads = nnx.value_and_grad(lambda m: mse(m(x), y))(model)
            optimizer.update(model, grads)
            return loss

        def step(carry: Any, x: jax.Array, y: jax.Array) -> tuple[Any, jax.Array]:
            return carry, train(*carry, x, y)  # the model and optimizer are updated in place

        return step

    return Library(init, fresh_step)


def equinox_trained(build: Callable[[jax.Array], Any]) -> Library:
    """An Equinox model (``build(key)``, called on one sample and vmapped over the batch)
    trained with an ``eqx.filter_jit`` step: the pattern the Equinox documentation shows."""
    import equinox as eqx

    optimizer = optax.adam(LEARNING_RATE)

    def init(key: jax.Array) -> Any:
        model = build(key)
        return model, optimizer.init(eqx.filter(model, eqx.is_array))

    def fresh_step() -> Step:
        @eqx.filter_jit
        def step(carry: Any, x: jax.Array, y: jax.Array) -> tuple[Any, jax.Array]:
            model, opt_state = carry
            loss, grads = eqx.filter_value_and_grad(lambda m: mse(jax.vmap(m)(x), y))(model)
            updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
            return (eqx.apply_updates(model, updates), opt_state), loss

        return step

    return Library(init, fresh_step)


def flax_nnx_library(sizes: Sequence[int]) -> Library:
    """An ``nnx.Module`` MLP trained with an ``nnx.jit`` step and ``nnx.Optimizer``."""
    from flax import nnx

    class MLP(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            pairs = itertools.pairwise(sizes)
            self.layers = nnx.List([nnx.Linear(m, n, rngs=rngs) for m, n in pairs])

        def __call__(self, x: jax.Array) -> jax.Array:
            for layer in self.layers[:-1]:
                x = nnx.relu(layer(x))
            return self.layers[-1](x)

    return flax_nnx_trained(MLP)


def equinox_library(sizes: Sequence[int]) -> Library:
    """``eqx.nn.MLP`` (per sample, vmapped over the batch) with an ``eqx.filter_jit`` step."""
    import equinox as eqx

    width = sizes[1] if len(sizes) > 2 else sizes[-1]
    return equinox_trained(
        lambda key: eqx.nn.MLP(sizes[0], sizes[-1], width, len(sizes) - 2, key=key)
    )


LIBRARIES: dict[str, Callable[[Sequence[int]], Library]] = {
    "pmm": pmm_mlp_library,
    "raw": raw_library,
    "flax_nnx": flax_nnx_library,
    "equinox": equinox_library,
}


def available(
    sizes: Any, libraries: Mapping[str, Callable[[Any], Library]] | None = None
) -> tuple[dict[str, Library], str]:
    """The ``libraries`` (default: the MLP's, ``LIBRARIES``) built for ``sizes`` that import,
    and a note naming those skipped."""
    built, missing = {}, []
    for name, build in (LIBRARIES if libraries is None else libraries).items():
        try:
            built[name] = build(sizes)
        except ImportError:
            missing.append(name)
    note = f"{', '.join(missing)} not installed (pip install -e .[bench])" if missing else ""
    return built, note


def batch(sizes: Sequence[int], batch_size: int) -> tuple[jax.Array, jax.Array]:
    """Random inputs ``(batch_size, sizes[0])`` and targets ``(batch_size, sizes[-1])``."""
    kx, ky = jax.random.split(jax.random.key(1))
    x = jax.random.normal(kx, (batch_size, sizes[0]))
    return x, jax.random.normal(ky, (batch_size, sizes[-1]))


def stepper(library: Library, x: jax.Array, y: jax.Array) -> Callable[[], jax.Array]:
    """A no-argument callable running one train step, carrying the params from call to call."""
    carry = library.init(jax.random.key(0))
    step = library.fresh_step()

    def one_step() -> jax.Array:
        nonlocal carry
        carry, loss = step(carry, x, y)
        return loss

    return one_step


def compiler(library: Library, x: jax.Array, y: jax.Array) -> Callable[[], jax.Array]:
    """A no-argument callable building a fresh jitted step and calling it once: trace, lower,
    compile and one run, as the first step of a training script."""
    carry = library.init(jax.random.key(0))
    return lambda: library.fresh_step()(carry, x, y)[1]


def run(quick: bool = False) -> list[Row]:
    """Rows for case (a) (step time), the dispatch-bound deep MLP, and case (b) (compile time)."""
    rounds, compile_rounds, compile_warmup = (3, 1, 0) if quick else (41, 11, 1)
    steps, compiles = [], []
    for size in QUICK_SIZES if quick else FULL_SIZES:
        libraries, note = available(size.sizes)
        x, y = batch(size.sizes, size.batch)
        timed = {name: stepper(lib, x, y) for name, lib in libraries.items()}
        medians = interleaved(timed, rounds=rounds)
        steps.append(
            Row("a", f"Adam train step, {size.title}", medians, target=STEP_TARGET, note=note)
        )
        if size.compile:
            built = {name: compiler(lib, x, y) for name, lib in libraries.items()}
            medians = interleaved(built, warmup=compile_warmup, rounds=compile_rounds, number=1)
            title = f"compile the step (first call), {size.title}"
            compiles.append(Row("b", title, medians, target=COMPILE_TARGET, note=note))
    return steps + compiles
