"""The host side of ``fit``: run compiled chunks of epochs, keep history, checkpoint, report.

Between chunks the host appends the chunk's losses to the history, moves the progress bar,
writes checkpoints and calls the host callback; Ctrl-C and a failed checkpoint write end the run
with everything trained so far (nothing is lost: see ``Run.loop``).
"""

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from pmm.train.checkpoint import save_checkpoint
from pmm.train.epoch import CHUNK_CAPACITY, STOP_REASONS, Carry, Program
from pmm.train.result import FitResult
from pmm.train.trainable import combine

#: Wall time one compiled chunk of epochs aims for: how often history, the progress bar and
#: Ctrl-C get their turn.
CHUNK_SECONDS = 0.25

#: ``host_callback(result) -> bool | None``: called between epochs; ``True`` stops training.
HostCallback = Callable[[FitResult], bool | None]


class Run:
    """One call of ``fit``: the compiled chunk and the constant inputs it is called with."""

    def __init__(self, program: Program, frozen: Any, data: Any, val: Any, key: jax.Array) -> None:
        self.program, self.frozen, self.data, self.val, self.key = program, frozen, data, val, key
        self.chunk = program.compile()

    def loop(
        self,
        carry: Carry,
        history: dict[str, np.ndarray],
        epochs: int,
        progress: bool,
        host_callback: HostCallback | None,
        checkpoint: "Checkpointing | None",
    ) -> tuple[Carry, dict[str, np.ndarray], str | None]:
        """Run chunks until ``epochs`` or a stop; returns ``(carry, history, stopped)``.

        ``stopped`` is ``None`` when the compiled program decided (all epochs, patience, ...)
        and says why otherwise: Ctrl-C, the host callback, or a checkpoint that could not be
        written (training stops there and returns what it has).
        """
        done, code = int(carry.epoch), int(carry.stop)
        stopped = None
        size = 1
        bar = tqdm(
            total=epochs,
            initial=min(done, epochs),
            unit="epoch",
            dynamic_ncols=True,
            disable=not progress or not sys.stderr.isatty(),
        )
        try:
            while done < epochs and code == 0 and stopped is None:
                until = min(epochs, done + size, done + CHUNK_CAPACITY)
                if checkpoint is not None and checkpoint.every is not None:
                    until = min(until, (done // checkpoint.every + 1) * checkpoint.every)
                started = time.perf_counter()
                new, losses, monitored = self.chunk(
                    carry, self.frozen, self.data, self.val, self.key, jnp.int32(until)
                )
                epoch, code, losses, monitored = jax.device_get(
                    (new.epoch, new.stop, losses, monitored)
                )
                ran = int(epoch) - done
                carry, history = new, _extended(history, losses[:ran], monitored[:ran])
                if done > 0 or ran > 1:  # the first chunk's time is mostly compilation
                    seconds = (time.perf_counter() - started) / max(ran, 1)
                    size = max(1, int(CHUNK_SECONDS / seconds))
                done = int(epoch)
                bar.update(ran)
                bar.set_postfix(self._logs(history), refresh=False)
                if checkpoint is not None and checkpoint.due(done):
                    stopped = checkpoint.save((carry, self.frozen), self.key, history)
                if host_callback is not None and stopped is None:
                    size = 1
                    if host_callback(self.result(carry, history, None, current=True)):
                        stopped = "callback"
        except KeyboardInterrupt:
            stopped = "interrupted"
        finally:
            bar.close()
        if checkpoint is not None and not checkpoint.failed:
            stopped = checkpoint.save((carry, self.frozen), self.key, history) or stopped
        return carry, history, stopped

    def _logs(self, history: dict[str, np.ndarray]) -> dict[str, str]:
        return {name: f"{values[-1]:.4g}" for name, values in history.items() if len(values)}

    def result(self, carry: Carry, history, stopped: str | None, current: bool = False):
        """The ``FitResult`` for ``carry`` (its current params when ``current``)."""
        best = int(carry.best_epoch)
        use_best = self.program.restore_best and best >= 0 and not current
        if stopped is None and not current:
            code = int(carry.stop)
            stopped = STOP_REASONS[code] if code else "epochs"
        return FitResult(
            params=combine(carry.best_trainable if use_best else carry.trainable, self.frozen),
            state=carry.best_state if use_best else carry.model_state,
            opt_state=carry.best_opt_state if use_best else carry.opt_state,
            history=dict(history),
            best_epoch=best if best >= 0 else None,
            epochs_run=int(carry.epoch),
            stopped=stopped,
        )


def _extended(history: dict[str, np.ndarray], losses: np.ndarray, monitored: np.ndarray):
    """``history`` with one chunk's ``loss`` values and its monitored loss (if another) added."""
    added = dict(zip(history, (losses, monitored), strict=False))
    return {name: np.concatenate([values, added[name]]) for name, values in history.items()}


class Checkpointing:
    """Where and how often ``fit`` writes its checkpoint, and whether a write has failed."""

    def __init__(self, path: str, every: int | None, setup: dict[str, Any]) -> None:
        self.path, self.every, self.setup = path, every, setup
        self.failed = False

    def due(self, done: int) -> bool:
        """Whether a periodic checkpoint falls after ``done`` epochs."""
        return self.every is not None and done % self.every == 0

    def save(self, state: Any, key: jax.Array, history: dict[str, np.ndarray]) -> str | None:
        """Write the checkpoint; ``None`` on success, else why training stops."""
        try:
            save_checkpoint(self.path, state, key, history, self.setup)
        except OSError as error:
            self.failed = True
            return f"checkpoint failed: {type(error).__name__}: {error}"
        return None


def check_writable(path: str) -> None:
    """``ValueError`` naming ``checkpoint`` unless a file can be created where ``path`` is.

    Tries it: creates and removes a temporary file beside ``path``, which catches a missing
    directory, a read-only file system and missing permissions alike, before any training.
    In a multi-process run only process 0 writes, so only it checks.
    """
    if jax.process_index() != 0:
        return
    target = Path(path).absolute()
    if target.is_dir():
        raise ValueError(f"checkpoint={path!r} is a directory; give a file path inside it")
    try:
        descriptor, probe = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as error:
        raise ValueError(
            f"checkpoint={path!r} cannot be written: {type(error).__name__}: {error}; create "
            f"the directory {str(target.parent)!r} or choose a writable location"
        ) from error
    os.close(descriptor)
    os.unlink(probe)
