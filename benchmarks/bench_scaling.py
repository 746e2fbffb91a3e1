"""Case (f): how an AE-PMM train step scales with the batch size and with the matrix size.

``pmm.matrix.AEPMM(matrix_size=n)`` on 2 input features, trained with the plain ``jax.jit`` +
optax step of ``bench_step.pmm_library``. One sweep varies the batch at a fixed matrix size, the
other the matrix size at a fixed batch; within a sweep every point is a contender of one
``interleaved`` measurement, so machine noise spreads over all of them alike. Each sweep becomes
a log-log PNG with the fitted power law; the slope of the largest points is the measured
exponent (about 1 in the batch; up to 3 in the matrix size, where ``eigh`` is O(n^3)).
"""

import os
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

import pmm
from benchmarks.bench_step import batch, pmm_library, stepper
from benchmarks.timing import interleaved, require

FEATURES = 2


class Sweep(NamedTuple):
    """Median step seconds at each value of one size, the other held fixed."""

    name: str
    label: str
    values: tuple[int, ...]
    seconds: tuple[float, ...]
    fixed: str

    @property
    def slope(self) -> float:
        """The log-log slope fitted to the upper half of the points (the asymptotic exponent)."""
        half = min(len(self.values) // 2, len(self.values) - 2)
        logs = np.log(self.values[half:]), np.log(self.seconds[half:])
        return float(np.polyfit(*logs, 1)[0])


def aepmm(matrix_size: int) -> pmm.Module:
    """The AE-PMM measured: ``matrix_size`` square, one eigenvalue out."""
    return require(pmm.matrix, "AEPMM")(matrix_size=matrix_size, num_eig=1)


def sweep(name: str, label: str, points: dict[int, tuple[int, int]], rounds: int) -> Sweep:
    """Time one step at each ``value -> (matrix_size, batch_size)`` point, interleaved."""
    contenders = {}
    for value, (matrix_size, batch_size) in points.items():
        x, y = batch((FEATURES, 1), batch_size)
        contenders[str(value)] = stepper(pmm_library(aepmm(matrix_size), (FEATURES,)), x, y)
    medians = interleaved(contenders, warmup=2, rounds=rounds)
    first_size, first_batch = next(iter(points.values()))
    fixed = f"matrix size {first_size}" if name == "batch" else f"batch {first_batch}"
    return Sweep(name, label, tuple(points), tuple(medians.values()), fixed)


def measure(quick: bool = False) -> list[Sweep]:
    """The batch sweep and the matrix-size sweep."""
    if quick:
        batches, sizes, fixed_size, fixed_batch, rounds = (4, 16), (2, 4), 2, 4, 1
    else:
        batches, sizes = (16, 64, 256, 1024, 4096), (4, 8, 16, 32, 64, 128)
        fixed_size, fixed_batch, rounds = 16, 64, 7
    return [
        sweep("batch", "batch size", {b: (fixed_size, b) for b in batches}, rounds),
        sweep("matrix", "matrix size n", {n: (n, fixed_batch) for n in sizes}, rounds),
    ]


def plot(sweeps: Sequence[Sweep], directory: str) -> list[str]:
    """One log-log PNG per sweep in ``directory`` (``scaling_<name>.png``); returns the names."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = []
    for one in sweeps:
        figure, axes = pyplot.subplots(figsize=(5, 3.6), layout="constrained")
        values, seconds = np.array(one.values), np.array(one.seconds)
        axes.loglog(values, seconds * 1e3, "o-", label="pmm AEPMM step (median)")
        fit = seconds[-1] * (values / values[-1]) ** one.slope * 1e3
        axes.loglog(values, fit, "--", color="gray", label=f"slope {one.slope:.2f} (upper half)")
        axes.set(xlabel=one.label, ylabel="ms per Adam step", title=f"AEPMM, {one.fixed}")
        axes.legend()
        names.append(f"scaling_{one.name}.png")
        figure.savefig(os.path.join(directory, names[-1]), dpi=120)
        pyplot.close(figure)
    return names


def section(sweeps: Sequence[Sweep], images: Sequence[str]) -> str:
    """The markdown for ``results.md``: each sweep's points, its slope and its chart."""
    lines = ["## (f) Scaling of an AEPMM train step", ""]
    for one, image in zip(sweeps, images, strict=True):
        points = ", ".join(
            f"{v}: {s * 1e3:.3g} ms" for v, s in zip(one.values, one.seconds, strict=True)
        )
        lines += [
            f"- vs {one.label} ({one.fixed}): {points}; log-log slope {one.slope:.2f}",
            "",
            f"![AEPMM step time vs {one.label}]({image})",
            "",
        ]
    return "\n".join(lines)


def run(quick: bool = False, directory: str = ".") -> str:
    """Measure both sweeps, write their PNGs into ``directory``, return the markdown section."""
    sweeps = measure(quick)
    return section(sweeps, plot(sweeps, directory))
