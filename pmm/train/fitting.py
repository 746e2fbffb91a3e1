"""``pmm.fit``: train a model with an optax optimizer, in compiled chunks of epochs."""

import math
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from pmm.module import Module
from pmm.train import arguments
from pmm.train.batches import dataset, validation_parts
from pmm.train.checkpoint import load_checkpoint
from pmm.train.epoch import EpochCallback, Program, strongly_typed
from pmm.train.fingerprint import callable_name, run_setup
from pmm.train.loop import Checkpointing, HostCallback, Run, check_writable
from pmm.train.losses import LossFn, resolve_loss
from pmm.train.result import FitResult
from pmm.train.sharding import check_batch_size, fitted_batch_size, replicate
from pmm.train.step import DEFAULT_OPTIMIZER, TrainStep
from pmm.train.trainable import Trainable, partition, trainable_mask
from pmm.typing import Data, Params, State


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
    val_batch_size: int | None = None,
    rng: Any = None,
    validation: tuple[Any, ...] | None = None,
    sample_weight: Any = None,
    patience: int | None = None,
    min_delta: float = 0.0,
    target_loss: float | None = None,
    restore_best: bool | None = None,
    trainable: Trainable | None = None,
    progress: bool = True,
    callback: EpochCallback | None = None,
    host_callback: HostCallback | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    mesh: Mesh | None = None,
) -> FitResult:
    """Train ``model`` from ``params``/``state`` on inputs ``x`` and targets ``y``.

    Each epoch shuffles the samples (with ``rng``) into minibatches of ``batch_size`` (the last one
    partial, masked so every sample counts once) and takes one optimizer step per minibatch on the
    mean of its per-sample losses, each times its ``sample_weight`` over the mean weight: the step
    ``pmm.make_train_step`` builds. Epochs run on the device in compiled chunks; history and the
    progress bar are updated after each chunk. Every argument is checked before any work starts.

    Parameters
    ----------
    model, params, state
        The model (called as ``model(params, x, True, state, rng)`` to train and with
        ``training=False`` to evaluate) and its ``init`` output.
    x, y
        Inputs and targets: arrays or PyTrees of arrays, all with the same leading sample axis
        ``(samples, ...)``, at least one sample. ``y=None`` trains towards ``x`` itself
        (autoencoders).
    loss
        A name from ``pmm.train.losses.LOSSES`` (``"mse"``, ``"mae"``, ``"huber"``,
        ``"pseudo_huber"``, ``"mre"``, ``"cross_entropy"``, ``"binary_cross_entropy"``) or a
        callable ``loss(pred, y) -> (batch,)`` of real values. Losses are summed in at least
        float32, so a bfloat16 model's loss and history do not lose precision.
    optimizer
        Any ``optax.GradientTransformation`` (schedules included); default ``optax.adam(1e-3)``.
        Complex params are trained as pairs of real ones (``pmm.conjugate_complex_grads`` is
        applied before it: do not add it yourself).
    epochs, batch_size
        Epochs to run in total (a resumed run counts its checkpoint's), samples per step. A
        ``batch_size`` above the sample count is lowered to it (with a mesh, to the next
        multiple of its data devices), so a huge one costs nothing.
    val_batch_size
        Samples per evaluation call (validation data, and the training data when its loss is
        evaluated after each epoch); default ``batch_size``. Evaluation keeps no gradients, so
        it can often be larger.
    rng
        PRNG key (or int seed) for shuffling and stochastic modules; default ``key(0)``. The
        same key gives bit-identical results.
    validation
        ``(x_val, y_val)`` or ``(x_val, y_val, weights)``, evaluated after every epoch in
        batches; ``y_val=None`` means the targets are ``x_val``.
    sample_weight
        ``(samples,)`` finite non-negative weights of the per-sample losses (e.g. inverse
        variances), not all zero. History losses are weighted means over all samples.
    patience, min_delta
        Stop when the monitored loss has not fallen by more than ``min_delta`` (finite, >= 0)
        below its best for ``patience`` epochs.
    target_loss
        Stop once the monitored loss is at or below this (finite) value.
    restore_best
        Return the params, state and optimizer state of the epoch with the lowest monitored loss,
        not the last. Default ``None``: ``True`` with validation data, ``False`` without. The
        *monitored loss* is ``history["val_loss"]`` with validation data; without, and with
        ``restore_best=True``, it is ``history["epoch_end_loss"]``: the loss of the training data
        under the params at the end of each epoch, evaluated in evaluation mode (one more pass
        over the data per epoch, so that the best loss belongs to the params returned);
        otherwise it is ``history["loss"]``, the running mean over the epoch's steps.
    trainable
        Which params to train: a bool PyTree over ``params`` (or a prefix of it), or a predicate
        on each leaf's ``pmm.ParamPath`` (its module path and keys), e.g. ``lambda path: not
        isinstance(path.module, pmm.nn.Linear)``. Frozen leaves are returned bit-identical.
    progress
        Show a tqdm bar (epoch, losses, ETA) when stderr is a terminal.
    callback
        ``callback(epoch, logs) -> None | params``, traced into the compiled epochs and run on
        the device after every epoch, so it keeps them fast: ``epoch`` is the 0-based index of
        the epoch just run (an int32 array), ``logs`` holds ``"loss"``, the monitored loss under
        its history name, and the current ``"params"`` and ``"state"`` (arrays: use ``jnp`` and
        ``jax.lax.cond``, and ``jax.debug.print`` or ``jax.debug.callback`` to reach the host).
        Return ``None`` to change nothing, or params of the same structure, shapes and dtypes to
        continue training from (frozen leaves of them are ignored). It runs after the epoch's
        bookkeeping, so best params and early stopping see the params before it.
    host_callback
        ``host_callback(result) -> bool | None``, called on the host after every epoch with a
        ``FitResult`` of the current params (``stopped=None``); returning ``True`` stops
        training. With a host callback every epoch is its own chunk.
    checkpoint, checkpoint_every, resume
        Save the full training state to ``checkpoint`` every ``checkpoint_every`` epochs and when
        training ends for any reason (Ctrl-C included). The location is checked before the first
        epoch (``ValueError`` if no file can be written there); a write that fails later stops
        training, and the result says so (``stopped="checkpoint failed: ..."``). With
        ``resume=True`` an existing checkpoint is continued (with its own ``rng``), ending
        bit-identical to an uninterrupted run; a missing file starts afresh; a checkpoint of
        another setup (model, loss, optimizer and its settings, data, batch sizes, rng,
        trainable, stopping rules, callback: ``pmm.train.fingerprint``) is refused with a
        ``pmm.LoadError`` naming what differs. ``epochs`` may grow on resume. The file is a zip
        of ``.npy`` arrays and a JSON header (``pmm.train.checkpoint``), never a pickle.
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

    Raises
    ------
    ValueError
        For any argument that is not what it must be, naming it and the accepted values.

    Notes
    -----
    Epochs run on the device in chunks of about ``pmm.train.loop.CHUNK_SECONDS`` each (one
    compiled program, whatever the chunk length, so results do not depend on how a run is
    split); history, the progress bar, checkpoints, the host callback and Ctrl-C act between
    chunks. The padding that fills the last partial batch repeats real samples with weight zero:
    it adds nothing to the loss or the gradients, but a module that computes batch statistics
    (``BatchNorm``) does see it.

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
    model = arguments.module(model)
    arguments.arrays(params, "params", "give the params model.init returned")
    arguments.arrays(state, "state", "give the state model.init returned")
    epochs = arguments.count(epochs, "epochs", minimum=0)
    requested_batch_size = arguments.count(batch_size, "batch_size", minimum=1)
    evaluation_batch_size = arguments.count(val_batch_size, "val_batch_size", 1, optional=True)
    patience = arguments.count(patience, "patience", minimum=1, optional=True)
    min_delta = arguments.real(min_delta, "min_delta", "a finite number >= 0", _non_negative)
    target_loss = arguments.real(target_loss, "target_loss", optional=True)
    restore_best = arguments.flag(restore_best, "restore_best", optional=True)
    progress = arguments.flag(progress, "progress")
    callback = arguments.epoch_callback(callback)
    host_callback = arguments.function(host_callback, "host_callback")
    checkpoint = arguments.path(checkpoint, "checkpoint")
    checkpoint_every = arguments.count(checkpoint_every, "checkpoint_every", 1, optional=True)
    resume = arguments.flag(resume, "resume")
    mesh = arguments.mesh(mesh)
    if (resume or checkpoint_every is not None) and checkpoint is None:
        raise ValueError("resume and checkpoint_every need checkpoint=<path of the file>")
    step = TrainStep(
        model=model,
        loss=resolve_loss(loss, targets_are_inputs=y is None),
        optimizer=arguments.optimizer(optimizer, DEFAULT_OPTIMIZER),
        mesh=mesh,
    )
    key = _as_key(rng)
    if evaluation_batch_size is None:
        evaluation_batch_size = requested_batch_size
    check_batch_size(mesh, requested_batch_size)
    check_batch_size(mesh, evaluation_batch_size, "val_batch_size")
    data = dataset(x, y, sample_weight, "")
    val = None if validation is None else dataset(*validation_parts(validation), "validation ")
    mask = trainable_mask(model, params, trainable)
    trained, frozen = partition(params, mask)
    _check_trained(trained)
    frozen = strongly_typed(frozen)
    batch_size = fitted_batch_size(requested_batch_size, int(data.weight.shape[0]), mesh)
    restore_best = val is not None if restore_best is None else restore_best
    program = Program(
        step=step,
        batch_size=batch_size,
        val_batch_size=evaluation_batch_size,
        monitor="val_loss" if val is not None else "epoch_end_loss" if restore_best else "loss",
        patience=patience,
        min_delta=min_delta,
        target_loss=target_loss,
        restore_best=restore_best,
        callback=callback,
    )
    carry = program.start(trained, state)
    empty = np.zeros(0, carry.best_loss.dtype)
    history = {name: empty for name in dict.fromkeys(("loss", program.monitor))}
    saving = None
    if checkpoint is not None:
        check_writable(checkpoint)
        options = {
            "batch_size": batch_size,
            "val_batch_size": evaluation_batch_size,
            "patience": patience,
            "min_delta": min_delta,
            "target_loss": target_loss,
            "restore_best": restore_best,
            "callback": callable_name(callback),
        }
        setup = run_setup(
            model=model,
            loss=loss,
            optimizer=step.optimizer,
            opt_state=carry.opt_state,
            data=data,
            validation=val,
            mask=mask,
            key=key,
            options=options,
        )
        saving = Checkpointing(checkpoint, checkpoint_every, setup)
        if resume and os.path.exists(checkpoint):
            (carry, frozen), key, history = load_checkpoint(checkpoint, (carry, frozen), setup)
    carry, frozen, data, val, key = replicate((carry, frozen, data, val, key), mesh)
    run = Run(program, frozen, data, val, key)
    carry, history, stopped = run.loop(carry, history, epochs, progress, host_callback, saving)
    return run.result(carry, history, stopped)


def _non_negative(value: float) -> bool:
    return math.isfinite(value) and value >= 0


def _check_trained(trained: Any) -> None:
    """``ValueError`` for a trained params leaf that is not float or complex."""
    for path, leaf in jax.tree_util.tree_leaves_with_path(trained):
        if not jnp.issubdtype(jnp.result_type(leaf), jnp.inexact):
            raise ValueError(
                f"params{jax.tree_util.keystr(path)} has dtype {jnp.result_type(leaf)} and would "
                "be trained, but gradients need float or complex params; freeze it with "
                "trainable=... or store it as a float array"
            )


def _as_key(rng: Any) -> jax.Array:
    if rng is None:
        return jax.random.key(0)
    if isinstance(rng, bool | np.bool_):
        raise ValueError(f"rng must be a PRNG key (jax.random.key(seed)) or an int seed, got {rng}")
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
