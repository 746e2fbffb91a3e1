"""``pmm.fit``: train a model with an optax optimizer, in compiled chunks of epochs."""

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh
from tqdm.auto import tqdm

from pmm.module import Module
from pmm.train.batches import dataset, validation_parts
from pmm.train.checkpoint import load_checkpoint, save_checkpoint
from pmm.train.epoch import (
    CHUNK_CAPACITY,
    STOP_REASONS,
    Carry,
    Program,
    strongly_typed,
)
from pmm.train.losses import LossFn, resolve_loss
from pmm.train.result import FitResult
from pmm.train.sharding import batch_constraint, check_batch_size, replicate
from pmm.train.trainable import Trainable, combine, partition, trainable_mask
from pmm.typing import Data, Params, State

#: Wall time one compiled chunk of epochs aims for: how often history, the progress bar and
#: Ctrl-C get their turn.
CHUNK_SECONDS = 0.25

#: ``optax.adam(1e-3)``, one object so that fits with the default reuse their compiled program.
DEFAULT_OPTIMIZER = optax.adam(1e-3)


def fit(
    model: Module,
    params: Params,
    state: State,
    x: Data,
    y: Data | None = None,
    *,
    loss: str | LossFn = "mse",
    optimizer: optax.GradientTransformation | None = None,
    epochs: int = 100,
    batch_size: int = 32,
    rng: Any = None,
    validation: tuple[Any, ...] | None = None,
    sample_weight: Any = None,
    patience: int | None = None,
    min_delta: float = 0.0,
    target_loss: float | None = None,
    restore_best: bool = True,
    trainable: Trainable | None = None,
    progress: bool = True,
    callback: Callable[[FitResult], bool | None] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    mesh: Mesh | None = None,
) -> FitResult:
    """Train ``model`` from ``params``/``state`` on inputs ``x`` and targets ``y``.

    Each epoch shuffles the samples (with ``rng``) into minibatches of ``batch_size`` (the last one
    partial, masked so every sample counts once) and takes one optimizer step per minibatch on the
    mean of its per-sample losses, each times its ``sample_weight`` over the mean weight. Epochs
    run on the device in compiled chunks; history and the progress bar are updated after each
    chunk.

    Parameters
    ----------
    model, params, state
        The model (called as ``model(params, x, True, state, rng)`` to train and with
        ``training=False`` to validate) and its ``init`` output.
    x, y
        Inputs and targets: arrays or PyTrees of arrays, all with the same leading sample axis
        ``(samples, ...)``. ``y=None`` trains towards ``x`` itself (autoencoders).
    loss
        ``"mse"``, ``"mae"``, ``"huber"``, ``"cross_entropy"``, ``"binary_cross_entropy"``
        (see ``pmm.train.losses``) or a callable ``loss(pred, y) -> (batch,)`` of real values.
    optimizer
        Any ``optax.GradientTransformation`` (schedules included); default ``optax.adam(1e-3)``.
        Complex params are trained as pairs of real ones (real and imaginary part).
    epochs, batch_size
        Epochs to run in total (a resumed run counts its checkpoint's), samples per step.
    rng
        PRNG key (or int seed) for shuffling and stochastic modules; default ``key(0)``. The
        same key gives bit-identical results.
    validation
        ``(x_val, y_val)`` or ``(x_val, y_val, weights)``, evaluated after every epoch in batches
        of ``batch_size``; ``y_val=None`` means the targets are ``x_val``.
    sample_weight
        ``(samples,)`` finite non-negative weights of the per-sample losses (e.g. inverse
        variances), not all zero. History losses are weighted means over all samples.
    patience, min_delta
        Stop when the monitored loss (``val_loss`` with validation data, else ``loss``) has not
        fallen by more than ``min_delta`` below its best for ``patience`` epochs.
    target_loss
        Stop once the monitored loss is at or below this value.
    restore_best
        Return the params and state of the epoch with the lowest monitored loss, not the last.
    trainable
        Which params to train: a bool PyTree over ``params`` (or a prefix of it), or a predicate
        on each leaf's ``pmm.ParamPath`` (its module path and keys), e.g. ``lambda path: not
        isinstance(path.module, pmm.nn.Linear)``. Frozen leaves are returned bit-identical.
    progress
        Show a tqdm bar (epoch, loss, val loss, ETA) when stderr is a terminal.
    callback
        Called after every epoch with a ``FitResult`` of the current params (``stopped=None``);
        returning ``True`` stops training. With a callback every epoch is its own chunk.
    checkpoint, checkpoint_every, resume
        Save the full training state to ``checkpoint`` every ``checkpoint_every`` epochs and when
        training ends for any reason (Ctrl-C included). With ``resume=True`` an existing
        checkpoint is continued (with its own ``rng``), ending bit-identical to an uninterrupted
        run; a missing file starts afresh. The file is a zip of ``.npy`` arrays and a JSON
        header (``pmm.train.checkpoint``), never a pickle.
    mesh
        A ``jax.sharding.Mesh``: minibatches are split over its ``"data"`` axis and everything
        else is replicated (see ``pmm.train.sharding`` for multi-host use).

    Returns
    -------
    FitResult
        Params, state, optimizer state, ``history`` (numpy arrays), ``best_epoch``,
        ``epochs_run`` and why training ``stopped``. Ctrl-C (``KeyboardInterrupt``) ends training
        and returns the result of the last completed chunk of epochs with
        ``stopped="interrupted"``; a non-finite loss returns the last finite params with
        ``stopped="non-finite loss"``.

    Notes
    -----
    Epochs run on the device in chunks of about ``CHUNK_SECONDS`` each (one compiled program,
    whatever the chunk length, so results do not depend on how a run is split); history, the
    progress bar, checkpoints and Ctrl-C act between chunks. The padding that fills the last
    partial batch repeats real samples with weight zero: it adds nothing to the loss or the
    gradients, but a module that computes batch statistics (``BatchNorm``) does see it.

    Examples
    --------
    >>> import jax, jax.numpy as jnp, pmm
    >>> model = pmm.nn.Linear(features=1)
    >>> params, state = model.init(jax.random.key(0), (2,))
    >>> x = jnp.ones((64, 2)); y = x.sum(axis=1, keepdims=True)
    >>> result = pmm.fit(model, params, state, x, y, epochs=5, progress=False)
    >>> result.history["loss"].shape
    (5,)
    """
    _check_arguments(epochs, batch_size, patience, checkpoint, checkpoint_every, resume)
    check_batch_size(mesh, batch_size)
    data = dataset(x, y, sample_weight, "")
    val = None if validation is None else dataset(*validation_parts(validation), "validation ")
    mask = trainable_mask(model, params, trainable)
    trained, frozen = partition(params, mask)
    frozen = strongly_typed(frozen)
    program = Program(
        model=model,
        loss=resolve_loss(loss),
        optimizer=optimizer if optimizer is not None else DEFAULT_OPTIMIZER,
        batch_size=batch_size,
        patience=patience,
        min_delta=min_delta,
        target_loss=target_loss,
        restore_best=restore_best,
        constrain=batch_constraint(mesh),
    )
    key = _as_key(rng)
    carry = program.start(trained, state)
    empty = np.zeros(0, carry.best_loss.dtype)
    history: dict[str, np.ndarray] = {"loss": empty, "val_loss": empty}
    setup = {"samples": int(data.weight.shape[0]), "batch_size": batch_size}
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        (carry, frozen), key, history = load_checkpoint(checkpoint, (carry, frozen), setup)
    carry, frozen, data, val, key = replicate((carry, frozen, data, val, key), mesh)
    run = _Run(program, frozen, data, val, key, validation is not None)
    carry, history, stopped = run.loop(
        carry, history, epochs, progress, callback, checkpoint_every, checkpoint, setup
    )
    return run.result(carry, history, stopped)


class _Run:
    """One call of ``fit``: the compiled chunk and the constant inputs it is called with."""

    def __init__(self, program: Program, frozen, data, val, key, validating: bool) -> None:
        self.program, self.frozen, self.data, self.val, self.key = program, frozen, data, val, key
        self.validating = validating
        self.chunk = program.compile()

    def loop(self, carry: Carry, history, epochs, progress, callback, every, checkpoint, setup):
        """Run chunks until ``epochs`` or a stop; returns ``(carry, history, stopped)``."""
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
                if every is not None:
                    until = min(until, (done // every + 1) * every)
                started = time.perf_counter()
                new, losses, val_losses = self.chunk(
                    carry, self.frozen, self.data, self.val, self.key, jnp.int32(until)
                )
                epoch, code, losses, val_losses = jax.device_get(
                    (new.epoch, new.stop, losses, val_losses)
                )
                ran = int(epoch) - done
                carry, history = (
                    new,
                    {
                        "loss": np.concatenate([history["loss"], losses[:ran]]),
                        "val_loss": np.concatenate([history["val_loss"], val_losses[:ran]]),
                    },
                )
                if done > 0 or ran > 1:  # the first chunk's time is mostly compilation
                    seconds = (time.perf_counter() - started) / max(ran, 1)
                    size = max(1, int(CHUNK_SECONDS / seconds))
                done = int(epoch)
                bar.update(ran)
                bar.set_postfix(self._logs(history), refresh=False)
                if checkpoint is not None and every is not None and done % every == 0:
                    save_checkpoint(checkpoint, (carry, self.frozen), self.key, history, setup)
                if callback is not None:
                    size = 1
                    if callback(self.result(carry, history, None, current=True)):
                        stopped = "callback"
        except KeyboardInterrupt:
            stopped = "interrupted"
        finally:
            bar.close()
        if checkpoint is not None:
            save_checkpoint(checkpoint, (carry, self.frozen), self.key, history, setup)
        return carry, history, stopped

    def _logs(self, history: dict[str, np.ndarray]) -> dict[str, str]:
        logs = {"loss": f"{history['loss'][-1]:.4g}"} if len(history["loss"]) else {}
        if self.validating and len(history["val_loss"]):
            logs["val_loss"] = f"{history['val_loss'][-1]:.4g}"
        return logs

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
            opt_state=carry.opt_state,
            history=history if self.validating else {"loss": history["loss"]},
            best_epoch=best if best >= 0 else None,
            epochs_run=int(carry.epoch),
            stopped=stopped,
        )


def _check_arguments(epochs, batch_size, patience, checkpoint, every, resume) -> None:
    for name, value, least in (
        ("epochs", epochs, 0),
        ("batch_size", batch_size, 1),
        ("patience", patience, 1),
        ("checkpoint_every", every, 1),
    ):
        if value is not None and (not isinstance(value, int) or value < least):
            raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
    if (resume or every is not None) and checkpoint is None:
        raise ValueError("resume and checkpoint_every need checkpoint=<path of the file>")


def _as_key(rng: Any) -> jax.Array:
    if rng is None:
        return jax.random.key(0)
    if isinstance(rng, int | np.integer):
        return jax.random.key(int(rng))
    shape, dtype = np.shape(rng), getattr(rng, "dtype", type(rng).__name__)
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return jnp.asarray(rng)
    if shape[-1:] != (2,) or dtype != np.uint32:
        raise ValueError(
            f"rng must be a PRNG key (jax.random.key(seed)) or an int seed, got {shape} {dtype}"
        )
    return jax.random.wrap_key_data(jnp.asarray(rng))
