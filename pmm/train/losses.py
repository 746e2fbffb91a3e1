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


def _pseudo_huber(pred: jax.Array, y: jax.Array) -> jax.Array:
    """``sqrt(1 + |pred - y|**2) - 1``: quadratic near 0, linear far out, smooth everywhere."""
    return _per_sample(jnp.sqrt(1 + jnp.abs(pred - y) ** 2) - 1)


def _relative_error(pred: jax.Array, y: jax.Array) -> jax.Array:
    """``|pred - y| / |y|``; where ``y == 0`` it is 0 if ``pred == 0`` too, else ``inf``.

    The denominator is made safe before dividing, so the gradient stays finite wherever the value
    is (a ``jnp.where`` alone would let the unused ``0 / 0`` branch turn it NaN).
    """
    error, size = jnp.abs(pred - y), jnp.abs(y)
    zero = size == 0
    relative = error / jnp.where(zero, 1, size)
    return _per_sample(jnp.where(zero, jnp.where(error == 0, 0.0, jnp.inf), relative))


def _cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    """Softmax cross entropy over the last axis; ``y`` is integer labels or probabilities."""
    if jnp.issubdtype(y.dtype, jnp.integer):
        values = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    else:
        values = optax.softmax_cross_entropy(logits, y)
    return values if values.ndim == 1 else _per_sample(values)


def _binary_cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    return _per_sample(optax.sigmoid_binary_cross_entropy(logits, y))


#: The named losses, each averaged over a sample's elements: ``mse`` (mean squared error,
#: ``|pred - y|**2``, complex included), ``mae`` (``|pred - y|``), ``huber`` (delta 1:
#: ``d**2 / 2`` for ``|d| <= 1``, else ``|d| - 1/2``), ``pseudo_huber`` (delta 1:
#: ``sqrt(1 + |d|**2) - 1``, Huber's smooth cousin), ``mre`` (mean relative error
#: ``|pred - y| / |y|``: where a target is 0 the term is 0 if the prediction is 0 too, else
#: ``inf``, so that ``fit`` stops with ``"non-finite loss"``; use it for targets that are never
#: 0), ``cross_entropy`` (softmax over the last axis of logits; integer labels or probabilities)
#: and ``binary_cross_entropy`` (sigmoid of logits; targets in [0, 1]).
LOSSES: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "mse": _squared_error,
    "mae": _absolute_error,
    "huber": _huber,
    "pseudo_huber": _pseudo_huber,
    "mre": _relative_error,
    "cross_entropy": _cross_entropy,
    "binary_cross_entropy": _binary_cross_entropy,
}


def resolve_loss(loss: str | LossFn, targets_are_inputs: bool = False) -> LossFn:
    """The per-sample loss function for ``loss``: a name from ``LOSSES`` or a callable.

    Named losses accept PyTree ``pred`` and ``y`` of the same structure: the per-sample values of
    the leaves are summed. Raises ``ValueError`` for an unknown name or a value that is neither.
    ``targets_are_inputs`` says that ``fit`` got ``y=None``: a named loss's target-shape errors
    then say so.
    """
    if callable(loss):
        return loss
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(
            f"loss must be one of {sorted(LOSSES)} or a callable loss(pred, y) returning one "
            f"value per sample, got {loss!r}"
        )
    return _named_loss(loss, targets_are_inputs)


@functools.cache
def _named_loss(loss: str, targets_are_inputs: bool) -> LossFn:
    """One function object per name, so compiled training programs are reused across fits."""
    leaf_loss = LOSSES[loss]
    fix = _FIX_TARGETS + (_TARGETS_ARE_INPUTS if targets_are_inputs else "")

    def named(pred: Any, y: Any) -> jax.Array:
        _check_targets(loss, pred, y, fix)
        return functools.reduce(jnp.add, jax.tree.leaves(jax.tree.map(leaf_loss, pred, y)))

    named.__name__ = loss
    return named


_FIX_TARGETS = "give targets y shaped like the model's output"
_TARGETS_ARE_INPUTS = " (y=None uses x as the targets: pass the targets as y)"


def _check_targets(name: str, pred: Any, y: Any, fix: str) -> None:
    """``ValueError`` unless ``y`` fits ``pred`` leaf by leaf (no silent broadcasting)."""
    if jax.tree.structure(pred) != jax.tree.structure(y):
        raise ValueError(
            f"loss {name!r} needs targets of the predictions' tree structure "
            f"{jax.tree.structure(pred)}, but y has {jax.tree.structure(y)}; {fix}"
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
                f"predictions {leaf.shape[1:]}; {fix}"
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
