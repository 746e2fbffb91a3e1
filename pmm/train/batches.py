"""Training data and its minibatches: every epoch is a ``(steps, batch_size)`` grid of indices.

A ``Dataset`` holds inputs, targets and per-sample weights as given (PyTrees of arrays); batches
are gathered from it by index inside the compiled program. The last, partial batch is filled up
with repeated samples whose weight is zero, so every batch has the same shape (one compiled step)
and every sample counts exactly once per epoch.
"""

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pmm.train.arguments import arrays


class Dataset(NamedTuple):
    """Inputs, targets and per-sample weights, each with the same leading sample axis."""

    x: Any
    y: Any
    weight: jax.Array


def as_data(tree: Any, what: str) -> Any:
    """``tree`` with every leaf as a JAX array; ``ValueError`` naming ``what`` and the leaf if one
    is not numeric or has no batch axis."""
    arrays(tree, what, "give numeric arrays with a leading sample axis")
    tree = jax.tree.map(jnp.asarray, tree)
    for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        if leaf.ndim == 0:
            raise ValueError(
                f"{what}{jax.tree_util.keystr(path)} is a scalar; data needs a leading batch "
                "axis, e.g. shape (samples, ...)"
            )
    return tree


def sample_count(trees: dict[str, Any]) -> int:
    """The batch size shared by every leaf of ``trees`` (named by key in errors)."""
    sizes = {
        f"{name}{jax.tree_util.keystr(path)}": leaf.shape
        for name, tree in trees.items()
        for path, leaf in jax.tree_util.tree_leaves_with_path(tree)
    }
    if not sizes:
        raise ValueError(f"no arrays in {' / '.join(trees)}; give data with a leading batch axis")
    counts = {shape[0] for shape in sizes.values()}
    if len(counts) != 1:
        shown = ", ".join(f"{name}: {shape}" for name, shape in sizes.items())
        raise ValueError(
            f"every array must have the same number of samples (leading axis), got {shown}; "
            "give inputs and targets one entry per sample along axis 0"
        )
    return counts.pop()


def step_count(samples: int, batch_size: int) -> int:
    """Batches per pass over ``samples``: the last one may be partial."""
    return math.ceil(samples / batch_size)


def batch_grid(order: jax.Array, batch_size: int) -> tuple[jax.Array, jax.Array]:
    """Split sample indices ``order`` (shape ``(n,)``) into ``(steps, batch_size)`` batches.

    Returns ``(indices, mask)``, both ``(steps, batch_size)``; the padding at the end repeats
    ``order`` from its start and has ``mask`` False (True elsewhere).
    """
    samples = order.shape[0]
    padded = step_count(samples, batch_size) * batch_size
    indices = order[np.arange(padded) % samples] if padded > samples else order
    mask = np.arange(padded) < samples
    return indices.reshape(-1, batch_size), jnp.asarray(mask.reshape(-1, batch_size))


def batch_weights(
    weight: jax.Array, indices: jax.Array, mask: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """``(scales, counts)`` for a ``batch_grid``: each slot's sample weight over the batch's
    sample count times the mean weight of all samples, ``(steps, batch_size)`` (padding gets 0),
    and each batch's sample count, ``(steps,)``.

    A batch's loss is then ``sum(scale * values)``, an unbiased estimate of the weighted mean
    loss over all samples, and a sample's weight counts whichever batch it lands in (a batch of
    one is weighted too); ``weighted_mean`` of those batch losses is the exact weighted mean.
    """
    counts = jnp.sum(mask, axis=1).astype(weight.dtype)
    mean_weight = jnp.sum(weight) / weight.shape[0]
    return jnp.where(mask, weight[indices], 0) / (counts * mean_weight)[:, None], counts


def weighted_mean(means: jax.Array, counts: jax.Array) -> jax.Array:
    """The mean over all samples from per-batch ``means`` and sample ``counts``."""
    total = jnp.sum(counts)
    return jnp.sum(means * counts) / jnp.where(total > 0, total, 1)


def take(tree: Any, indices: jax.Array) -> Any:
    """The samples ``indices`` (any shape ``s``) of every leaf: ``(n, ...) -> (*s, ...)``."""
    return jax.tree.map(lambda leaf: leaf[indices], tree)


def dataset(x: Any, y: Any, weight: Any, what: str) -> Dataset:
    """The ``Dataset`` of ``x``, targets ``y`` (``None``: ``x`` itself) and ``weight`` (``None``:
    ones); ``what`` prefixes names in errors (``"validation "``)."""
    x = as_data(x, f"{what}x")
    y = x if y is None else as_data(y, f"{what}y")
    samples = sample_count({f"{what}x": x, f"{what}y": y})
    if samples == 0:
        raise ValueError(
            f"{what}x and {what}y hold 0 samples; give at least one (leading axis of length >= 1)"
        )
    dtype = jnp.result_type(float)
    if weight is None:
        return Dataset(x, y, jnp.ones(samples, dtype))
    weight = jnp.asarray(weight)
    if weight.shape != (samples,) or not jnp.issubdtype(weight.dtype, jnp.number):
        raise ValueError(
            f"{what}sample weights must be real numbers of shape ({samples},), one per sample; "
            f"got shape {weight.shape} dtype {weight.dtype}"
        )
    if jnp.iscomplexobj(weight):
        raise ValueError(f"{what}sample weights must be real, got dtype {weight.dtype}")
    negative, infinite = int(jnp.sum(weight < 0)), int(jnp.sum(~jnp.isfinite(weight)))
    if negative or infinite or not jnp.any(weight > 0):
        raise ValueError(
            f"{what}sample weights must be finite and non-negative with a positive sum; got "
            f"{negative} negative and {infinite} non-finite of {samples}"
            + ("" if negative or infinite else ", all zero")
            + "; give e.g. inverse variances, or drop the samples you do not want"
        )
    return Dataset(x, y, weight.astype(dtype))


def validation_parts(validation: Any) -> tuple[Any, Any, Any]:
    """``(x, y, weight)`` from ``(x, y)`` or ``(x, y, weight)``; ``ValueError`` otherwise."""
    if not isinstance(validation, tuple | list) or len(validation) not in (2, 3):
        raise ValueError(
            "validation must be a tuple (x_val, y_val) or (x_val, y_val, weights), got "
            f"{type(validation).__name__}"
            + (f" of {len(validation)}" if isinstance(validation, tuple | list) else "")
        )
    return validation[0], validation[1], validation[2] if len(validation) == 3 else None
