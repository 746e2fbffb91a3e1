"""Shape checks off cost nothing: the eager call of a 10-layer ``Sequential`` against the same
``jnp`` operations chained by hand; and a model's hash, taken on every call where the model is a
static ``jax.jit`` argument, costs under a microsecond however deep the model is.

The model is ten ``pmm.nn.Linear(features=32)`` layers; the hand-written chain computes
``x @ weight + bias`` ten times on the same params. Both are called eagerly (no ``jax.jit``),
where every bit of Python on the call path shows, and timed interleaved after warm-up
(``benchmarks.timing.interleaved``). The first row is the contract (checks off, ratio about 1);
the second shows what debugging with checks on costs per eager call. The eager call also pays
for the per-thread check switch and the name-scope test (scopes are entered only while JAX
traces), so this row is where their cost would show. The last row times ``hash`` of a
201-layer Sequential against the issue's budget of one microsecond (a fixed reference, not a
measurement).

Run ``python -m benchmarks.bench_checks`` (``--quick`` for a short run).
"""

import argparse
from collections.abc import Callable, Sequence

import jax

import pmm
from benchmarks.timing import Row, interleaved

LAYERS, WIDTH, BATCH = 10, 32, 64
#: The depth of the model whose hash is timed, and the budget its hash must stay under.
HASHED_LAYERS, HASH_BUDGET = 201, 1e-6


def contenders(layers: int, width: int, batch: int) -> dict[str, Callable[[], jax.Array]]:
    """``"pmm"``: the Sequential's eager call; ``"raw"``: the same ops by hand, same params."""
    model = pmm.Sequential(*(pmm.nn.Linear(features=width) for _ in range(layers)))
    params, state = model.init(jax.random.key(0), (width,))
    data = jax.random.normal(jax.random.key(1), (batch, width))

    def by_hand() -> jax.Array:
        x = data
        for layer in params:
            x = x @ layer["weight"] + layer["bias"]
        return x

    return {"pmm": lambda: model(params, data, False, state, None)[0], "raw": by_hand}


def run(quick: bool = False) -> list[Row]:
    """Rows for the eager call with shape checks off (the contract) and on (the debugging cost)."""
    rounds = 3 if quick else 31
    timed = contenders(LAYERS, WIDTH, BATCH)
    rows = []
    for enabled in (False, True):
        with pmm.shape_checks(enabled):
            medians = interleaved(timed, rounds=rounds)
        title = (
            f"eager call, Sequential of {LAYERS} Linear({WIDTH}), batch {BATCH}, "
            f"shape checks {'on' if enabled else 'off'}"
        )
        rows.append(Row("d", title, medians, target=None if enabled else 1.10))
    rows.append(hash_row(rounds))
    return rows


def hash_row(rounds: int) -> Row:
    """``hash(model)`` of a deep Sequential, repeated, against the fixed one-microsecond budget."""
    model = pmm.Sequential(*(pmm.nn.Linear(features=WIDTH) for _ in range(HASHED_LAYERS)))
    repeats = 1000  # per timed call, so the timing loop's own cost per call is negligible

    def hashes() -> None:
        for _ in range(repeats):
            hash(model)

    medians = {"pmm": interleaved({"pmm": hashes}, rounds=rounds)["pmm"] / repeats}
    return Row(
        "d",
        f"hash of a {HASHED_LAYERS}-layer Sequential, repeated",
        {**medians, "budget": HASH_BUDGET},
        reference="budget",
        target=1.0,
        note="reference: the 1 us budget",
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Print each row's medians and the pmm / hand-written ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few rounds only")
    arguments = parser.parse_args(argv)
    for row in run(quick=arguments.quick):
        print(
            f"{row.title}: pmm {row.medians['pmm'] * 1e6:.3f} us, "
            f"{row.reference} {row.medians[row.reference] * 1e6:.3f} us, ratio {row.ratio:.3f}"
        )


if __name__ == "__main__":
    main()
