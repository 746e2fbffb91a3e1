"""Cases (k)-(m): the eigen layers with ``solver="auto"`` against ``solver="dense"`` (issue 15).

- (k) The transverse-field Ising ring of ``pmm.demo.ising``: ``H(g) = H0 + g H1`` (real float32,
  ``n = 2**sites``) at 16 fields in [-2, 2]; ``Eigenvalues(2)`` forward, then the gradients of
  both eigenvalues with respect to ``g`` (one backward pass per eigenvalue, vmapped). Targets:
  auto / dense <= 0.2 at 9 spins (n = 512) and <= 0.5 at 8 spins (n = 256), eigenvalues within
  1e-5 relative and gradients within 1e-4 of float64 exact diagonalisation (given in the note).
- (l) Random Hermitian complex64 matrices (crowded spectra: GUE-like, level spacing shrinking with
  n), batch 16, the same forward and backward, n from 4 to 512. Target: auto / dense <= 1.05 at
  every n. ``iterative`` (forced) is timed alongside to show the crossover ``"auto"`` uses.
- (m) ``pmm.fit`` of ``AEPMM(matrix_size=256)`` on the demo's task (the ground-state energy of
  the 8-spin ring for |g| <= 1), full batch, Adam, compilation included; the final losses are in
  the note.

The Ising and random sweeps also go into a log-log chart, ``eigensolver_scaling.png``.
Run ``python -m benchmarks --only eigensolver`` (``--quick`` for tiny sizes).
"""

import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

import pmm
from benchmarks.timing import Row, interleaved
from pmm.demo.ising import ground_state_energy, ising_terms
from pmm.matrix._solvers import iterative_chosen

#: ``run`` also writes a chart, so it takes the output directory.
WRITES_CHARTS = True
SOLVERS = ("auto", "dense", "iterative")
FIELDS = 16
COUNT = 2


class Work(NamedTuple):
    """A jitted function and its arguments: one timed call is ``function(*arguments)``."""

    function: Callable[..., Any]
    arguments: tuple[Any, ...]

    def __call__(self) -> Any:
        return self.function(*self.arguments)

    def program(self) -> str:
        """The traced program, to tell whether two contenders compute the same thing."""
        return str(jax.make_jaxpr(self.function)(*self.arguments))


class Point(NamedTuple):
    """The medians of every solver at one size of one sweep."""

    family: str
    size: int
    medians: dict[str, float]


def ising_matrices(sites: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The fields and the two terms of ``H(g)`` for ``sites`` spins, float32."""
    coupling, field = ising_terms(sites)
    fields = jnp.linspace(-2.0, 2.0, FIELDS, dtype=jnp.float32)
    return fields, jnp.asarray(coupling, jnp.float32), jnp.asarray(field, jnp.float32)


def ising_work(solver: str, sites: int) -> Work:
    """Forward and backward of the two lowest levels of ``H(g)`` at every field."""
    fields, coupling, field = ising_matrices(sites)
    layer = pmm.matrix.Eigenvalues(COUNT, "SA", solver)

    def levels(fields: jax.Array) -> jax.Array:
        return layer({}, coupling + fields[:, None, None] * field)[0]

    @jax.jit
    def forward_backward(fields: jax.Array) -> tuple[jax.Array, jax.Array]:
        values, pullback = jax.vjp(levels, fields)
        cotangents = jnp.eye(COUNT, dtype=values.dtype)[:, None, :] * jnp.ones_like(values)
        return values, jax.vmap(pullback)(cotangents)[0]

    return Work(forward_backward, (fields,))


def ising_errors(sites: int) -> tuple[float, float]:
    """``"auto"``'s largest relative eigenvalue error and absolute gradient error against float64
    exact diagonalisation (gradients by Hellmann-Feynman, ``v^T H1 v``)."""
    values, gradients = ising_work("auto", sites)()
    coupling, field = ising_terms(sites)
    fields = np.linspace(-2.0, 2.0, FIELDS)
    exact_values, vectors = np.linalg.eigh(coupling + fields[:, None, None] * field)
    lowest = vectors[:, :, :COUNT]
    exact_gradients = np.einsum("bik,ij,bjk->kb", lowest, field, lowest)
    exact_values = exact_values[:, :COUNT]
    value_error = np.abs(np.asarray(values) - exact_values) / np.abs(exact_values)
    return float(value_error.max()), float(np.abs(np.asarray(gradients) - exact_gradients).max())


def random_work(solver: str, size: int) -> Work:
    """Forward and backward of the two lowest eigenvalues of 16 random Hermitian matrices."""
    rng = np.random.default_rng(size)
    gaussian = rng.standard_normal((FIELDS, size, size, 2)).view(np.complex128)[..., 0]
    matrices = jnp.asarray((gaussian + np.conj(np.swapaxes(gaussian, 1, 2))) / 2, jnp.complex64)
    layer = pmm.matrix.Eigenvalues(COUNT, "SA", solver)
    step = jax.jit(jax.value_and_grad(lambda m: jnp.sum(layer({}, m)[0])))
    return Work(step, (matrices,))


def sweep(family: str, sizes: Sequence[int], rounds: int) -> list[Point]:
    """Every solver at every size of ``family`` (``"ising"`` sizes are spin counts). Where
    ``"auto"`` traces to the very program ``"dense"`` does, it is not timed again: its median is
    dense's (timing one program twice only measures noise). Sizes below 128 take twice the
    rounds: their calls are short and noisier."""
    points = []
    for size in sizes:
        make = ising_work if family == "ising" else random_work
        contenders = {solver: make(solver, size) for solver in SOLVERS}
        same = contenders["auto"].program() == contenders["dense"].program()
        if same:
            del contenders["auto"]
        size = 2**size if family == "ising" else size
        repeats = rounds * 2 if size < 128 else rounds
        medians = interleaved(contenders, warmup=2, rounds=repeats)
        points.append(
            Point(family, size, {"auto": medians["dense"], **medians} if same else medians)
        )
    return points


def rows(points: Sequence[Point], ising_targets: dict[int, float]) -> list[Row]:
    """The (g) rows (Ising sizes with a target) and the (h) rows (every random size)."""
    found = []
    for point in points:
        medians = {solver: point.medians[solver] for solver in SOLVERS}
        if point.family == "ising":
            if point.size not in ising_targets:
                continue
            sites = point.size.bit_length() - 1
            value_error, gradient_error = ising_errors(sites)
            title = (
                f"Ising ring {sites} spins (n={point.size}), {FIELDS} fields, 2 lowest levels + "
                "d/dg, float32"
            )
            note = f"max eigenvalue error {value_error:.1e} relative, gradient {gradient_error:.1e}"
            found.append(Row("k", title, medians, "auto", "dense", ising_targets[point.size], note))
        else:
            title = f"random Hermitian n={point.size}, batch {FIELDS}, 2 lowest + grad, complex64"
            chosen = iterative_chosen("auto", point.size, COUNT, "SA", True, False)
            note = "auto runs iterative" if chosen else "auto traces to dense's very program here"
            found.append(Row("l", title, medians, "auto", "dense", 1.05, note))
    return found


def demo_task() -> tuple[np.ndarray, np.ndarray]:
    """The demo's training set: E0/N of the 8-spin ring at 41 fields with |g| <= 1."""
    fields = np.linspace(-2.0, 2.0, 401, dtype=np.float32)
    training = (np.abs(fields) <= 1.0) & (np.arange(fields.size) % 5 == 0)
    x = fields[training, None]
    return x, ground_state_energy(x, sites=8).astype(np.float32)


def fit_row(matrix_size: int, epochs: int, rounds: int) -> Row:
    """(i): whole ``pmm.fit`` runs of an AE-PMM, ``"auto"`` against ``"dense"``."""
    x, y = demo_task()
    losses: dict[str, float] = {}

    def fit(solver: str) -> Any:
        model = pmm.AEPMM(matrix_size=matrix_size, num_eig=1, solver=solver)
        params, state = model.init(jax.random.key(0), (1,))
        result = pmm.fit(
            model, params, state, x, y, optimizer=optax.adam(0.02), epochs=epochs,
            batch_size=len(x), rng=jax.random.key(1), progress=False,
        )  # fmt: skip
        losses[solver] = float(result.history["loss"][-1])
        return result.params

    medians = interleaved(
        {solver: lambda solver=solver: fit(solver) for solver in ("auto", "dense")},
        warmup=1,
        rounds=rounds,
        number=1,
    )
    title = (
        f"pmm.fit AEPMM matrix_size={matrix_size}, demo task, {epochs} full-batch epochs, "
        "compile included"
    )
    note = f"final loss auto {losses['auto']:.4e}, dense {losses['dense']:.4e}"
    return Row("m", title, medians, "auto", "dense", 1.0, note)


def plot(points: Sequence[Point], directory: str) -> str:
    """The log-log chart of every sweep; returns its file name."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6, 4.2), layout="constrained")
    colors = {"dense": "tab:blue", "iterative": "tab:orange", "auto": "tab:green"}
    markers = {"dense": "o", "iterative": "s", "auto": "^"}
    for family, label, line in (
        ("random", "random complex64", "-"),
        ("ising", "Ising float32", ":"),
    ):
        chosen = [point for point in points if point.family == family]
        sizes = [point.size for point in chosen]
        for solver in SOLVERS:
            seconds = [point.medians[solver] * 1e3 for point in chosen]
            style = {"color": colors[solver], "marker": markers[solver], "linestyle": line}
            axes.loglog(sizes, seconds, label=f"{solver}, {label}", **style)
    axes.set(
        xlabel="matrix size n",
        ylabel="ms per forward + backward (batch 16)",
        title="Two lowest eigenvalues and their gradients",
    )
    axes.legend(fontsize=7)
    name = "eigensolver_scaling.png"
    figure.savefig(os.path.join(directory, name), dpi=120)
    pyplot.close(figure)
    return name


def section(points: Sequence[Point], image: str) -> str:
    """The markdown for ``results.md``: every point of both sweeps and the chart."""
    lines = ["## (k, l) Eigensolvers: time per forward + backward", ""]
    for point in points:
        cells = ", ".join(f"{s} {point.medians[s] * 1e3:.3g} ms" for s in SOLVERS)
        lines.append(f"- {point.family} n={point.size}: {cells}")
    return "\n".join([*lines, "", f"![eigensolver scaling]({image})", ""])


def run(quick: bool = False, directory: str = ".") -> tuple[list[Row], str]:
    """Measure (k), (l), (m), write the chart into ``directory``; rows and markdown section."""
    if quick:
        spins, sizes, targets, rounds = (3,), (8,), {8: 0.5}, 1
        fitting = fit_row(matrix_size=8, epochs=2, rounds=1)
    else:
        spins, sizes, rounds = range(4, 10), (4, 8, 16, 32, 64, 128, 256, 512), 7
        targets = {512: 0.2, 256: 0.5}
        fitting = fit_row(matrix_size=256, epochs=30, rounds=3)
    points = sweep("ising", spins, rounds) + sweep("random", sizes, rounds)
    return [*rows(points, targets), fitting], section(points, plot(points, directory))
