"""Data shapes: the one rule that tells a shape from a tree of shapes, and helpers built on it.

A ``DataShape`` is a PyTree whose leaves are the shapes of the data's arrays without the batch
axis. **A shape leaf is either a tuple whose every element is an ``int`` (not a ``bool``) or
``None``, or a** ``jax.ShapeDtypeStruct``. The empty tuple ``()`` is therefore the shape of a
per-sample scalar, never an empty container; any other tuple, and every list or dict, is a
container. Every ``jax.tree`` call on shapes in pmm passes ``is_leaf=is_shape``.

A tuple means floating data of JAX's default float dtype (``float32``, or ``float64`` with x64
on); a ``jax.ShapeDtypeStruct`` (shape without the batch axis, all sizes known) carries its own
dtype, e.g. ``jax.ShapeDtypeStruct((12,), jnp.int32)`` for twelve integer ids per sample. A shape
holding at least one struct is *typed*; ``output_shape`` answers typed questions in structs.

Examples
--------
>>> is_shape((3, None)), is_shape(()), is_shape(((3,), (4,)))
(True, True, False)
>>> map_shapes(lambda s: s + (2,), {"a": (3,), "b": ()})
{'a': (3, 2), 'b': (2,)}
>>> dims(jax.ShapeDtypeStruct((12,), jnp.int32)), leaf_dtype((12,))
((12,), dtype('float32'))
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pmm.typing import Data, DataShape


def is_shape(node: Any) -> bool:
    """Whether ``node`` is a shape leaf: a tuple of ints (not bools) and ``None``s, or a
    ``jax.ShapeDtypeStruct``."""
    if isinstance(node, jax.ShapeDtypeStruct):
        return True
    return isinstance(node, tuple) and all(
        dim is None or (isinstance(dim, int) and not isinstance(dim, bool)) for dim in node
    )


def dims(leaf: Any) -> tuple[int | None, ...]:
    """The sizes of one shape leaf as a tuple (a struct's ``shape``, a tuple as it is)."""
    return tuple(leaf.shape) if isinstance(leaf, jax.ShapeDtypeStruct) else leaf


def leaf_dtype(leaf: Any) -> np.dtype:
    """The dtype of the data one shape leaf describes: a struct's own, else the default float."""
    if isinstance(leaf, jax.ShapeDtypeStruct):
        return np.dtype(leaf.dtype)
    return np.dtype(jnp.result_type(float))


def is_typed(shape: DataShape) -> bool:
    """Whether any leaf of ``shape`` is a ``jax.ShapeDtypeStruct``."""
    return any(isinstance(leaf, jax.ShapeDtypeStruct) for leaf in shape_leaves(shape))


def map_shapes(function: Callable[..., Any], shape: DataShape, *rest: Any) -> Any:
    """``jax.tree.map`` over the shape leaves of ``shape`` (and matching trees ``rest``)."""
    return jax.tree.map(function, shape, *rest, is_leaf=is_shape)


def shape_leaves(shape: DataShape) -> list[Any]:
    """The shape leaves of ``shape`` in JAX's flattening order."""
    return jax.tree.leaves(shape, is_leaf=is_shape)


def untyped(shape: DataShape) -> DataShape:
    """``shape`` with every leaf as a plain tuple of sizes (dtypes dropped)."""
    return map_shapes(dims, shape)


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
                "ints and None without the batch axis, e.g. (3,) or () for a scalar per sample, "
                "or a jax.ShapeDtypeStruct for data of another dtype (integer ids, masks)"
            )
        if any(dim is not None and dim < 0 for dim in dims(leaf)):
            raise ValueError(f"{where} {shape!r} has a negative size in {leaf!r}")


def shape_of(data: Data, typed: bool = False) -> DataShape:
    """The ``DataShape`` of ``data``: every leaf's shape without its leading batch axis.

    With ``typed``, leaves are ``jax.ShapeDtypeStruct`` carrying the data's dtypes.
    """
    if typed:
        return jax.tree.map(lambda leaf: jax.ShapeDtypeStruct(leaf.shape[1:], leaf.dtype), data)
    return jax.tree.map(lambda leaf: tuple(leaf.shape[1:]), data)


def describe(data: Data) -> str:
    """Shapes and dtypes of ``data``'s leaves, e.g. ``float32[8,3]``; never the contents."""

    def one(leaf: Any) -> str:
        return f"{jnp.result_type(leaf)}[{','.join(map(str, jnp.shape(leaf)))}]"

    leaves = jax.tree.leaves(data)
    if len(leaves) == 1 and not jax.tree.structure(data).num_nodes > 1:
        return one(leaves[0])
    return str(jax.tree.map(one, data))


def probe_structs(shape: DataShape, batch_size: int, unknown: int) -> Any:
    """``jax.ShapeDtypeStruct`` data for ``shape`` (each leaf's own dtype) with a batch axis of
    ``batch_size`` and ``None`` sizes replaced by ``unknown``."""
    return map_shapes(
        lambda leaf: jax.ShapeDtypeStruct(
            (batch_size, *(unknown if dim is None else dim for dim in dims(leaf))),
            leaf_dtype(leaf),
        ),
        shape,
    )
