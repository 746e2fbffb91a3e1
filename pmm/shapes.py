"""Data shapes: the one rule that tells a shape from a tree of shapes, and helpers built on it.

A ``DataShape`` is a PyTree whose leaves are shapes without the batch axis. **A shape leaf is a
tuple whose every element is an ``int`` (not a ``bool``) or ``None``**; the empty tuple ``()`` is
therefore the shape of a per-sample scalar, never an empty container. Any other tuple, and every
list or dict, is a container. Every ``jax.tree`` call on shapes in pmm passes ``is_leaf=is_shape``.

Examples
--------
>>> is_shape((3, None)), is_shape(()), is_shape(((3,), (4,)))
(True, True, False)
>>> map_shapes(lambda s: s + (2,), {"a": (3,), "b": ()})
{'a': (3, 2), 'b': (2,)}
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from pmm.typing import Data, DataShape


def is_shape(node: Any) -> bool:
    """Whether ``node`` is a shape leaf: a tuple of ints (not bools) and ``None``s."""
    return isinstance(node, tuple) and all(
        dim is None or (isinstance(dim, int) and not isinstance(dim, bool)) for dim in node
    )


def map_shapes(function: Callable[..., Any], shape: DataShape, *rest: Any) -> Any:
    """``jax.tree.map`` over the shape leaves of ``shape`` (and matching trees ``rest``)."""
    return jax.tree.map(function, shape, *rest, is_leaf=is_shape)


def shape_leaves(shape: DataShape) -> list[tuple[int | None, ...]]:
    """The shape leaves of ``shape`` in JAX's flattening order."""
    return jax.tree.leaves(shape, is_leaf=is_shape)


def validate_shape(shape: Any, where: str = "input_shape") -> None:
    """Raise ``ValueError`` unless ``shape`` is a ``DataShape`` with at least one leaf.

    Every leaf must be a shape; its sizes must be non-negative ints or ``None``.
    """
    leaves, _ = jax.tree.flatten(shape, is_leaf=is_shape)
    if not leaves:
        raise ValueError(f"{where} {shape!r} holds no shape; give e.g. (3,) for 3 features")
    for leaf in leaves:
        if not is_shape(leaf):
            raise ValueError(
                f"{where} {shape!r} has a leaf {leaf!r} that is not a shape: a shape is a tuple of "
                "ints and None without the batch axis, e.g. (3,) or () for a scalar per sample"
            )
        if any(dim is not None and dim < 0 for dim in leaf):
            raise ValueError(f"{where} {shape!r} has a negative size in {leaf!r}")


def shape_of(data: Data) -> DataShape:
    """The ``DataShape`` of ``data``: every leaf's shape without its leading batch axis."""
    return jax.tree.map(lambda leaf: tuple(leaf.shape[1:]), data)


def describe(data: Data) -> str:
    """Shapes and dtypes of ``data``'s leaves, e.g. ``float32[8,3]``; never the contents."""

    def one(leaf: Any) -> str:
        return f"{jnp.result_type(leaf)}[{','.join(map(str, jnp.shape(leaf)))}]"

    leaves = jax.tree.leaves(data)
    if len(leaves) == 1 and not jax.tree.structure(data).num_nodes > 1:
        return one(leaves[0])
    return str(jax.tree.map(one, data))


def probe_structs(shape: DataShape, batch_size: int, dtype: Any, unknown: int) -> Any:
    """``jax.ShapeDtypeStruct`` data for ``shape``, with ``None`` sizes replaced by ``unknown``."""
    return map_shapes(
        lambda leaf: jax.ShapeDtypeStruct(
            (batch_size, *(unknown if dim is None else dim for dim in leaf)), dtype
        ),
        shape,
    )
