"""Loss functions: ``loss(pred, y) -> per-sample values`` of shape ``(batch,)``.

A named loss is applied leaf by leaf to PyTree predictions and targets, averaged over each leaf's
non-batch axes and summed over the leaves. Any callable with the same signature works as a loss;
``fit`` weights its per-sample values and averages them.

Examples
--------
>>> import jax.numpy as jnp
>>> from pmm.train.losses import resolve_loss
>>> resolve_loss("mse")(jnp.zeros((4, 3)), jnp.ones((4, 3))).shape
(4,)
"""

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

LossFn = Callable[[Any, Any], jax.Array]


def _per_sample(values: jax.Array) -> jax.Array:
    """Average over every axis but the leading (batch) one: ``(batch, ...) -> (batch,)``."""
    return jnp.mean(values.reshape(values.shape[0], -1), axis=1)


def _squared_error(pred: jax.Array, y: jax.Array) -> jax.Array:
    return _per_sample(jnp.abs(pred - y) ** 2)


def _absolute_error(pred: jax.Array, y: jax.Array) -> jax.Array:
    return _per_sample(jnp.abs(pred - y))


def _huber(pred: jax.Array, y: jax.Array) -> jax.Array:
    return _per_sample(optax.huber_loss(pred, y, delta=1.0))


def _cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """Softmax cross entropy over the last axis; ``y`` is integer labels or probabilities."""
    if jnp.issubdtype(y.dtype, jnp.integer):
        values = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    else:
        values = optax.softmax_cross_entropy(logits, y)
    return values if values.ndim == 1 else _per_sample(values)


def _binary_cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    return _per_sample(optax.sigmoid_binary_cross_entropy(logits, y))


#: The named losses: ``mse`` (mean squared error, ``|pred - y|**2`` for complex), ``mae``,
#: ``huber`` (delta 1), ``cross_entropy`` (softmax over the last axis of logits; integer labels or
#: probabilities) and ``binary_cross_entropy`` (sigmoid of logits; targets in [0, 1]).
LOSSES: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "mse": _squared_error,
    "mae": _absolute_error,
    "huber": _huber,
    "cross_entropy": _cross_entropy,
    "binary_cross_entropy": _binary_cross_entropy,
}


def resolve_loss(loss: str | LossFn) -> LossFn:
    """The per-sample loss function for ``loss``: a name from ``LOSSES`` or a callable.

    Named losses accept PyTree ``pred`` and ``y`` of the same structure: the per-sample values of
    the leaves are summed. Raises ``ValueError`` for an unknown name.
    """
    if callable(loss):
        return loss
    return _named_loss(loss)


@functools.cache
def _named_loss(loss: str) -> LossFn:
    """One function object per name, so compiled training programs are reused across fits."""
    if loss not in LOSSES:
        raise ValueError(
            f"unknown loss {loss!r}; give one of {sorted(LOSSES)} "
            "or a callable loss(pred, y) returning one value per sample"
        )
    leaf_loss = LOSSES[loss]

    def named(pred: Any, y: Any) -> jax.Array:
        _check_targets(loss, pred, y)
        return functools.reduce(jnp.add, jax.tree.leaves(jax.tree.map(leaf_loss, pred, y)))

    named.__name__ = loss
    return named


_FIX_TARGETS = (
    "give targets y shaped like the model's output (y=None uses x as the targets: pass the "
    "targets as y)"
)


def _check_targets(name: str, pred: Any, y: Any) -> None:
    """``ValueError`` unless ``y`` fits ``pred`` leaf by leaf (no silent broadcasting)."""
    if jax.tree.structure(pred) != jax.tree.structure(y):
        raise ValueError(
            f"loss {name!r} needs targets of the predictions' tree structure "
            f"{jax.tree.structure(pred)}, but y has {jax.tree.structure(y)}; {_FIX_TARGETS}"
        )
    for (path, leaf), target in zip(
        jax.tree_util.tree_leaves_with_path(pred), jax.tree.leaves(y), strict=True
    ):
        where = f"y{jax.tree_util.keystr(path)} has per-sample shape {target.shape[1:]}"
        if name == "cross_entropy" and jnp.issubdtype(target.dtype, jnp.integer):
            if target.shape[1:] != leaf.shape[1:-1]:
                raise ValueError(
                    f"loss 'cross_entropy' takes integer labels shaped like the logits without "
                    f"their last (class) axis, but {where} and the logits {leaf.shape[1:]}; give "
                    f"labels of per-sample shape {leaf.shape[1:-1]} or probabilities shaped "
                    "like the logits"
                )
        elif target.shape[1:] != leaf.shape[1:]:
            raise ValueError(
                f"loss {name!r} needs targets shaped like the predictions, but {where} and the "
                f"predictions {leaf.shape[1:]}; {_FIX_TARGETS}"
            )


def checked_per_sample(loss: LossFn, pred: Any, y: Any, batch: int) -> jax.Array:
    """``loss(pred, y)``, checked (at trace time) to be real with shape ``(batch,)``."""
    values = jnp.asarray(loss(pred, y))
    if values.shape != (batch,) or not jnp.issubdtype(values.dtype, jnp.floating):
        name = getattr(loss, "__name__", repr(loss))
        raise ValueError(
            f"loss {name} must return one real value per sample, shape ({batch},), but returned "
            f"shape {values.shape} dtype {values.dtype}; reduce over every axis but the first "
            "(and take abs or real parts of complex values)"
        )
    return values
