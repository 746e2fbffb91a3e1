"""``FitResult``: what ``pmm.fit`` returns."""

import dataclasses
from typing import Any

import numpy as np

from pmm.typing import Params, State


@dataclasses.dataclass(frozen=True)
class FitResult:
    """The outcome of ``pmm.fit``.

    Attributes
    ----------
    params, state
        The trained params and model state (of the best epoch when ``restore_best`` was set and
        some epoch was finite; else of the last epoch with a finite loss).
    opt_state
        The optimizer state after the last finite epoch, over the trainable leaves (``None`` at
        frozen ones).
    history
        ``{"loss": (epochs_run,), "val_loss": (epochs_run,)}`` numpy arrays: the weighted mean
        training loss of each epoch (averaged over its minibatches as they were trained) and, with
        validation data, the validation loss after it.
    best_epoch
        0-based index into ``history`` of the epoch with the lowest monitored loss (``val_loss``
        with validation data, else ``loss``); ``None`` if no epoch had a finite loss.
    epochs_run
        Epochs trained in total, a resumed checkpoint's included.
    stopped
        Why training ended: ``"epochs"`` (all run), ``"patience"``, ``"target loss"``,
        ``"non-finite loss"``, ``"interrupted"`` (Ctrl-C) or ``"callback"``; ``None`` in the
        result handed to a callback while training runs.

    Examples
    --------
    >>> result = pmm.fit(model, params, state, x, y, epochs=10)  # doctest: +SKIP
    >>> result.history["loss"].shape, result.stopped  # doctest: +SKIP
    ((10,), 'epochs')
    """

    params: Params
    state: State
    opt_state: Any
    history: dict[str, np.ndarray]
    best_epoch: int | None
    epochs_run: int
    stopped: str | None
