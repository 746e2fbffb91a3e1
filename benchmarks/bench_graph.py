"""Case (g): a ``pmm.Graph`` costs no more than the same model built from combinators.

The model is the graph of issue 13 (a shared ``Linear`` encoder read by ``Tanh`` and ``ReLU``
branches, joined, then a ``Linear`` head), ``WIDTH`` features wide. The contenders compute the
same function on the same params:

- ``pmm``: the ``pmm.Graph``;
- ``combinators``: ``Linear >> Parallel(Tanh, ReLU) >> Concatenate >> Linear``;
- ``raw``: the same ``jnp`` operations by hand.

Two rows: eager calls (no ``jax.jit``: the Python of wiring by name shows) against
``combinators``, the structure a graph replaces; and the jitted call against ``raw`` (XLA sees
one program either way, so the ratio should be about 1).

Run ``python -m benchmarks.bench_graph`` (``--quick`` for a short run).
"""

import argparse
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

import pmm
from benchmarks.timing import Row, interleaved, require

WIDTH, BATCH = 64, 128


def contenders(width: int, batch: int, jitted: bool) -> dict[str, Callable[[], jax.Array]]:
    """The graph, the combinator chain and the hand-written chain, eager or jitted."""
    graph = require(pmm, "Graph")(
        nodes={
            "enc": (pmm.nn.Linear(features=width), "input"),
            "a": (pmm.nn.Tanh(), "enc"),
            "b": (pmm.nn.ReLU(), "enc"),
            "cat": (pmm.Concatenate(), ("a", "b")),
            "out": (pmm.nn.Linear(features=1), "cat"),
        },
        output="out",
    )
    chain = (
        pmm.nn.Linear(features=width)
        >> pmm.Parallel(pmm.nn.Tanh(), pmm.nn.ReLU())
        >> pmm.Concatenate()
        >> pmm.nn.Linear(features=1)
    )
    params, _ = graph.init(jax.random.key(0), (width,))
    chain_params = (params["enc"], ((), ()), (), params["out"])
    data = jax.random.normal(jax.random.key(1), (batch, width))

    def by_hand(params: dict, x: jax.Array) -> jax.Array:
        enc = x @ params["enc"]["weight"] + params["enc"]["bias"]
        joined = jnp.concatenate([jnp.tanh(enc), jnp.maximum(enc, 0.0)], axis=-1)
        return joined @ params["out"]["weight"] + params["out"]["bias"]

    def call(model: pmm.Module) -> Callable[[pmm.typing.Params, jax.Array], jax.Array]:
        return lambda p, x: model(p, x, False, (), None)[0]  # stateless: () for all

    functions = {"pmm": call(graph), "combinators": call(chain), "raw": by_hand}
    if jitted:
        functions = {name: jax.jit(function) for name, function in functions.items()}
    arguments = {"pmm": params, "combinators": chain_params, "raw": params}
    return {
        name: (lambda function=function, p=arguments[name]: function(p, data))
        for name, function in functions.items()
    }


def run(quick: bool = False) -> list[Row]:
    """The eager row (graph against combinators) and the jitted row (graph against raw JAX)."""
    rounds = 3 if quick else 31
    width, batch = (8, 4) if quick else (WIDTH, BATCH)
    eager = interleaved(contenders(width, batch, jitted=False), rounds=rounds)
    jitted = interleaved(contenders(width, batch, jitted=True), rounds=rounds)
    title = f"issue-13 graph, {width} wide, batch {batch}"
    return [
        Row("g", f"eager call, {title}", eager, reference="combinators", target=1.25),
        Row("g", f"jitted call, {title}", jitted, target=1.10),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Print the rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    for row in run(quick=parser.parse_args(argv).quick):
        ratios = ", ".join(f"{name} {row.ratio_to(name):.2f}" for name in row.medians)
        print(f"{row.title}: {ratios} (relative to {row.reference})")


if __name__ == "__main__":
    main()
