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
    params, state, opt_state
        The trained params, model state and optimizer state, all three of one epoch: the best
        one when ``restore_best`` was on and some epoch was finite, else the last epoch with a
        finite loss. ``opt_state`` covers the trainable leaves (``None`` at frozen ones), so
        training can continue from ``params`` with it.
    history
        Numpy arrays of shape ``(epochs_run,)``: ``"loss"``, the weighted mean training loss of
        each epoch (averaged over its minibatches as they were trained), and the monitored loss
        when it is another one: ``"val_loss"`` (validation data after each epoch) or
        ``"epoch_end_loss"`` (the training data after each epoch, in evaluation mode; without
        validation data and with ``restore_best=True``).
    best_epoch
        0-based index into ``history`` of the epoch with the lowest monitored loss (the last
        entry of ``history``); ``None`` if no epoch had a finite loss.
    epochs_run
        Epochs trained in total, a resumed checkpoint's included.
    stopped
        Why training ended: ``"epochs"`` (all run), ``"patience"``, ``"target loss"``,
        ``"non-finite loss"``, ``"interrupted"`` (Ctrl-C), ``"callback"`` (the host callback
        said so) or ``"checkpoint failed: <error>"`` (a checkpoint could not be written; the
        result holds everything trained until then); ``None`` in the result handed to a host
        callback while training runs.

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
