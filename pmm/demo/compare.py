"""Train each contender with ``pmm.fit``; measure errors in and out of the training range."""

import dataclasses
from collections.abc import Sequence

import jax
import numpy as np
import optax

import pmm
from pmm.typing import Params, State


@dataclasses.dataclass(frozen=True)
class Trained:
    """A fitted contender: its name, spec, params, state and final training loss."""

    name: str
    model: pmm.Module
    params: Params
    state: State
    train_loss: float

    @property
    def parameter_count(self) -> int:
        return sum(leaf.size for leaf in jax.tree.leaves(self.params))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions for ``x`` of shape ``(samples, features)`` as a numpy array."""
        return np.asarray(pmm.predict(self.model, self.params, self.state, x))


def train_best(
    name: str,
    model: pmm.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    restarts: int,
    epochs: int,
    learning_rate: float,
    seed: int,
    progress: bool,
) -> Trained:
    """Fit ``model`` from ``restarts`` random inits (full batch, Adam); keep the lowest loss."""
    best: Trained | None = None
    for restart in range(restarts):
        print(f"Training {name}, init {restart + 1} of {restarts}")
        init_key, fit_key = jax.random.split(jax.random.fold_in(jax.random.key(seed), restart))
        params, state = model.init(init_key, x.shape[1:])
        result = pmm.fit(
            model, params, state, x, y,
            optimizer=optax.adam(learning_rate), epochs=epochs, batch_size=len(x),
            rng=fit_key, progress=progress, restore_best=True,
        )  # fmt: skip
        loss = float(result.history["epoch_end_loss"][result.best_epoch])
        if best is None or loss < best.train_loss:
            best = Trained(name, model, result.params, result.state, loss)
    assert best is not None, "restarts must be at least 1"
    return best


def error_row(trained: Trained, x: np.ndarray, truth: np.ndarray, regions: dict) -> list[str]:
    """One table row: name, parameter count, then RMSE and max error in each named region."""
    error = np.abs(trained.predict(x)[:, 0] - truth)
    cells = [trained.name, str(trained.parameter_count)]
    for mask in regions.values():
        cells += [f"{np.sqrt(np.mean(error[mask] ** 2)):.4f}", f"{error[mask].max():.4f}"]
    return cells


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, columns padded to their widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return (
            "| " + " | ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)) + " |"
        )

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
