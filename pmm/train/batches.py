"""Minibatches by index: every epoch is a ``(steps, batch_size)`` grid of sample indices.

The last, partial batch is filled up with repeated samples whose weight is zero, so every batch
has the same shape (one compiled step) and every sample counts exactly once per epoch.
"""

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def as_data(tree: Any, what: str) -> Any:
    """``tree`` with every leaf as a JAX array; ``ValueError`` if a leaf has no batch axis."""
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
            f"every array must have the same number of samples (leading axis), got {shown}"
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


def take(tree: Any, indices: jax.Array) -> Any:
    """The samples ``indices`` (any shape ``s``) of every leaf: ``(n, ...) -> (*s, ...)``."""
    return jax.tree.map(lambda leaf: leaf[indices], tree)
