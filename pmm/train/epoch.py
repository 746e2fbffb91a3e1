"""The compiled training program: a chunk of epochs as one ``lax.while_loop`` on the device.

Each epoch shuffles the samples, scans the optimizer step (``TrainStep.update``, the step
``pmm.make_train_step`` builds) over the minibatches, evaluates the monitored loss batch by batch,
updates early stopping and calls the on-device callback, all without leaving the device. The
epoch count of a chunk is an argument, not a shape, so every chunk of a run (and of a resumed run)
executes the same compiled program, which is what makes results independent of how a run was
split into chunks.
"""

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from pmm.train.batches import Dataset, batch_grid, batch_weights, take, weighted_mean
from pmm.train.sharding import fitted_batch_size
from pmm.train.step import TrainStep
from pmm.train.trainable import combine

#: The most epochs one compiled call runs (the length of its loss buffers).
CHUNK_CAPACITY = 512

#: Why training stopped, as stored in ``Carry.stop`` (0 means still running).
STOP_REASONS = {1: "patience", 2: "target loss", 3: "non-finite loss"}


class Carry(NamedTuple):
    """Everything that changes during training; saved as a whole by checkpoints."""

    trainable: Any  # params with None at frozen leaves
    model_state: Any
    opt_state: Any
    epoch: jax.Array  # int32: epochs completed
    best_trainable: Any  # the next three are () unless restoring the best params
    best_state: Any
    best_opt_state: Any
    best_loss: jax.Array
    best_epoch: jax.Array  # int32, -1 before the first finite epoch
    wait: jax.Array  # int32: epochs since the last improvement
    stop: jax.Array  # int32: key of STOP_REASONS, 0 while running


#: ``callback(epoch, logs) -> params | None``, traced into the compiled epoch loop.
EpochCallback = Callable[[jax.Array, dict[str, Any]], Any]


@dataclasses.dataclass(frozen=True)
class Program:
    """The static configuration of a fit; ``compile()`` builds its jitted chunk function.

    ``monitor`` names the history entry that early stopping and ``restore_best`` watch:
    ``"val_loss"`` (the validation data after each epoch), ``"epoch_end_loss"`` (the training
    data after each epoch, in evaluation mode) or ``"loss"`` (the running mean over the epoch's
    steps, which needs no extra pass but belongs to no single set of params).
    """

    step: TrainStep
    batch_size: int
    val_batch_size: int
    monitor: str
    patience: int | None
    min_delta: float
    target_loss: float | None
    restore_best: bool
    callback: EpochCallback | None

    def start(self, trainable: Any, model_state: Any) -> Carry:
        """The carry before the first epoch."""
        keep = self.restore_best
        trainable, model_state = strongly_typed((trainable, model_state))
        opt_state = self.step.optimizer.init(trainable)
        return Carry(
            trainable=trainable,
            model_state=model_state,
            opt_state=opt_state,
            epoch=jnp.zeros((), jnp.int32),
            best_trainable=trainable if keep else (),
            best_state=model_state if keep else (),
            best_opt_state=opt_state if keep else (),
            best_loss=jnp.asarray(jnp.inf, jnp.result_type(float)),
            best_epoch=jnp.full((), -1, jnp.int32),
            wait=jnp.zeros((), jnp.int32),
            stop=jnp.zeros((), jnp.int32),
        )

    def _train_epoch(self, carry: Carry, frozen: Any, data: Dataset, rng: jax.Array):
        """One pass over ``data``: ``(trainable, model_state, opt_state), mean loss``."""
        # Keys 2 * epoch shuffle and 2 * epoch + 1 feed the model, folded in only where used.
        order = jax.random.permutation(jax.random.fold_in(rng, 2 * carry.epoch), len(data.weight))
        indices, mask = batch_grid(order, self.batch_size)
        scales, counts = batch_weights(data.weight, indices, mask)

        def step(inner, batch):
            trainable, model_state, opt_state = inner
            number, index, scale = batch
            key = jax.random.fold_in(jax.random.fold_in(rng, 2 * carry.epoch + 1), number)
            x, y = take((data.x, data.y), index)
            trainable, model_state, opt_state, loss = self.step.update(
                trainable, frozen, model_state, opt_state, x, y, scale, key
            )
            return (trainable, model_state, opt_state), loss

        inner = (carry.trainable, carry.model_state, carry.opt_state)
        numbers = jnp.arange(indices.shape[0])
        inner, losses = jax.lax.scan(step, inner, (numbers, indices, scales))
        return inner, weighted_mean(losses, counts)

    def evaluate(self, params: Any, model_state: Any, data: Dataset) -> jax.Array:
        """The weighted mean loss over ``data`` in evaluation mode, one batch at a time."""
        samples = data.weight.shape[0]
        size = fitted_batch_size(self.val_batch_size, samples, self.step.mesh)
        indices, mask = batch_grid(jnp.arange(samples), size)
        scales, counts = batch_weights(data.weight, indices, mask)

        def batch(_, inputs):
            index, scale = inputs
            x, y = take((data.x, data.y), index)
            return None, self.step.evaluate(params, model_state, x, y, scale)

        _, losses = jax.lax.scan(batch, None, (indices, scales))
        return weighted_mean(losses, counts)

    def _epoch(self, carry: Carry, frozen, data, validation, rng):
        """One epoch and its bookkeeping: ``(carry, loss, monitored loss)``."""
        (trainable, model_state, opt_state), loss = self._train_epoch(carry, frozen, data, rng)
        params = combine(trainable, frozen)
        watched = loss
        if self.monitor != "loss":
            checked = validation if self.monitor == "val_loss" else data
            watched = self.evaluate(params, model_state, checked)
        finite = jnp.isfinite(loss) & jnp.isfinite(watched) & _all_finite(trainable)
        improved = finite & (watched < carry.best_loss - self.min_delta)
        stop = jnp.where(finite, 0, 3)
        wait = jnp.where(improved, 0, carry.wait + 1)
        if self.patience is not None:
            stop = jnp.where(finite & (wait >= self.patience), 1, stop)
        if self.target_loss is not None:
            stop = jnp.where(finite & (watched <= self.target_loss), 2, stop)
        keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(finite, a, b), new, old)  # noqa: E731
        best = lambda new, old: (  # noqa: E731
            jax.tree.map(lambda a, b: jnp.where(improved, a, b), new, old)
            if self.restore_best
            else ()
        )
        best_trainable = best(trainable, carry.best_trainable)
        if self.callback is not None:
            logs = {"loss": loss, self.monitor: watched, "params": params, "state": model_state}
            trainable = _from_callback(self.callback(carry.epoch, logs), params, trainable)
        carry = Carry(
            trainable=keep(trainable, carry.trainable),
            model_state=keep(model_state, carry.model_state),
            opt_state=keep(opt_state, carry.opt_state),
            epoch=carry.epoch + 1,
            best_trainable=best_trainable,
            best_state=best(model_state, carry.best_state),
            best_opt_state=best(opt_state, carry.best_opt_state),
            best_loss=jnp.where(improved, watched, carry.best_loss).astype(carry.best_loss.dtype),
            best_epoch=jnp.where(improved, carry.epoch, carry.best_epoch),
            wait=wait,
            stop=stop.astype(jnp.int32),
        )
        dtype = carry.best_loss.dtype
        return carry, loss.astype(dtype), watched.astype(dtype)

    def chunk(self, carry, frozen, data, validation, rng, until):
        """Run epochs until ``carry.epoch == until`` (at most ``CHUNK_CAPACITY`` more) or a stop.

        Returns ``(carry, losses, monitored)``; the loss buffers hold one entry per epoch run in
        this chunk, from index 0, and NaN after.
        """
        first = carry.epoch
        buffer = jnp.full((CHUNK_CAPACITY,), jnp.nan, carry.best_loss.dtype)

        def running(loop):
            carry = loop[0]
            return (carry.epoch < until) & (carry.stop == 0)

        def body(loop):
            carry, losses, monitored = loop
            index = carry.epoch - first
            carry, loss, watched = self._epoch(carry, frozen, data, validation, rng)
            return carry, losses.at[index].set(loss), monitored.at[index].set(watched)

        return jax.lax.while_loop(running, body, (carry, buffer, buffer))

    def compile(self) -> Callable[..., tuple[Carry, jax.Array, jax.Array]]:
        """``chunk`` jitted: ``(carry, frozen, data, validation, rng, until) -> ...``.

        Compilations are cached on the (hashable) program, so fitting again with the same model,
        loss, optimizer object and settings reuses the compiled code.
        """
        return functools.partial(_compiled_chunk, self)


def _from_callback(returned: Any, params: Any, trainable: Any) -> Any:
    """The trainable leaves of the params a callback returned (``trainable`` for ``None``)."""
    if returned is None:
        return trainable
    expected, got = layout(params), layout(returned)
    if got != expected:
        raise ValueError(
            "callback(epoch, logs) must return None or new params of the tree structure, shapes "
            f"and dtypes of logs['params'], {expected}, but returned {got}"
        )
    return jax.tree.map(
        lambda old, new: None if old is None else new,
        trainable,
        returned,
        is_leaf=lambda leaf: leaf is None,
    )


_compiled_chunk = jax.jit(Program.chunk, static_argnums=0)


def layout(tree: Any) -> list[Any]:
    """``[structure, leaves]``: the tree structure of ``tree`` (as text) and each leaf's dtype and
    shape, e.g. ``"float32[3, 2]"``. Two trees of one layout can stand in for each other."""
    leaves = [
        f"{jnp.result_type(leaf).name}{list(jnp.shape(leaf))}" for leaf in jax.tree.leaves(tree)
    ]
    return [str(jax.tree.structure(tree)), leaves]


def strongly_typed(tree: Any) -> Any:
    """``tree`` with no weakly typed leaves (``jnp.full(3, 2.0)`` is one), so that the carry a
    chunk returns has the types it was given and the next chunk does not compile again."""
    return jax.tree.map(lambda leaf: jnp.asarray(leaf, dtype=jnp.asarray(leaf).dtype), tree)


def _all_finite(tree: Any) -> jax.Array:
    checks = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]
    return jnp.all(jnp.stack(checks)) if checks else jnp.asarray(True)
