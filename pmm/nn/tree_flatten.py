"""``TreeFlatten``: every leaf of PyTree data on one feature axis; ``TreeUnflatten`` undoes it.

Examples
--------
>>> shape = {"x": (2, 2), "y": (3,)}
>>> TreeFlatten().output_shape(shape)
(7,)
>>> TreeFlatten().inverse(shape)
TreeUnflatten(shape={'x': (2, 2), 'y': (3,)})
"""

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Shaped

from pmm._trees import freeze_tree, thaw_tree
from pmm._validation import array_shape, check_array_size
from pmm.errors import ShapeError
from pmm.module import Parameterless
from pmm.shapes import dims, is_shape, shape_leaves, untyped, validate_shape
from pmm.typing import AnyData, DataShape, State


class TreeFlatten(Parameterless):
    """Flatten each leaf of the data to ``(batch, size)`` and concatenate them, in JAX's leaf
    order (dict keys sorted): ``(batch, sum of the leaves' sizes)``.

    The leaves' dtypes are promoted to one (``jnp.concatenate``). ``inverse(input_shape)`` is the
    ``TreeUnflatten`` that gives the tree back. An unknown (``None``) size gives an unknown total.
    No params, no state.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> data = {"x": jnp.ones((5, 2, 2)), "y": jnp.zeros((5, 3))}
    >>> TreeFlatten()((), data)[0][0]
    Array([1., 1., 1., 1., 0., 0., 0.], dtype=float32)
    """

    def apply(
        self, params: tuple[()], data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[Shaped[Array, " batch_size features"], State]:
        leaves = [
            leaf.reshape(leaf.shape[0], math.prod(leaf.shape[1:])) for leaf in jax.tree.leaves(data)
        ]
        return jnp.concatenate(leaves, axis=-1), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        validate_shape(input_shape)
        sizes = [_size(dims(leaf)) for leaf in shape_leaves(input_shape)]
        return (None,) if None in sizes else (sum(sizes),)  # type: ignore[arg-type]

    def inverse(self, input_shape: DataShape) -> "TreeUnflatten":
        """The module that turns this layer's output for ``input_shape`` back into the tree."""
        return TreeUnflatten(shape=untyped(input_shape))


class TreeUnflatten(Parameterless):
    """Split one feature axis into the leaves of the tree ``shape``: the inverse of
    ``TreeFlatten`` for data of that shape.

    ``shape`` is a ``DataShape`` with every size known (dicts, lists and tuples of shapes; stored
    in the hashable form of ``pmm._trees.freeze_tree``, shown as written). Shapes:
    ``(batch, total)`` to the tree of ``(batch, *leaf_shape)``, where ``total`` is the sum of the
    leaves' sizes. No params, no state.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> layer = TreeUnflatten(shape=((2,), {"a": ()}))
    >>> layer((), jnp.arange(6.0).reshape(2, 3))[0]
    (Array([[0., 1.],
           [3., 4.]], dtype=float32), {'a': Array([2., 5.], dtype=float32)})
    """

    shape: Any

    def __post_init__(self) -> None:
        where = "field 'shape' of TreeUnflatten"
        try:
            tree = thaw_tree(freeze_tree(self.shape, is_shape, where), is_shape)
            validate_shape(tree, where)
        except ValueError as error:
            raise ValueError(
                f"{error}; give the DataShape of the tree, e.g. {{'x': (2, 2), 'y': (3,)}}"
            ) from None
        tree = untyped(tree)
        if any(None in leaf for leaf in shape_leaves(tree)):
            raise ValueError(f"{where} is {tree!r}; give every size (no None)")
        for leaf in shape_leaves(tree):
            check_array_size(leaf, np.float32, "a TreeUnflatten leaf", f"{where} ({leaf})")
        object.__setattr__(self, "shape", freeze_tree(tree, is_shape, where))
        super().__post_init__()

    @property
    def tree(self) -> DataShape:
        """``shape`` as the tree of shapes it stands for."""
        return thaw_tree(self.shape, is_shape)

    def apply(
        self,
        params: tuple[()],
        data: Shaped[Array, " batch_size features"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[AnyData, State]:
        leaves, treedef = jax.tree.flatten(self.tree, is_leaf=is_shape)
        splits = np.cumsum([math.prod(leaf) for leaf in leaves])[:-1]
        parts = jnp.split(data, splits, axis=-1)
        return treedef.unflatten(
            [part.reshape(data.shape[0], *leaf) for part, leaf in zip(parts, leaves, strict=True)]
        ), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        (size,) = _one_axis(input_shape)
        total = sum(math.prod(leaf) for leaf in shape_leaves(self.tree))
        if size not in (None, total):
            raise ShapeError(
                f"TreeUnflatten splits {total} features into {self.tree!r}, but input_shape is "
                f"({size},); give the output of TreeFlatten for that tree"
            )
        return self.tree

    def __repr__(self) -> str:
        return f"TreeUnflatten(shape={self.tree!r})"


def _size(shape: tuple[int | None, ...]) -> int | None:
    return None if None in shape else math.prod(shape)  # type: ignore[arg-type]


def _one_axis(input_shape: DataShape) -> tuple[int | None]:
    shape = array_shape(input_shape, "TreeUnflatten")
    if len(shape) != 1:
        raise ShapeError(
            f"TreeUnflatten takes samples of one feature axis, but input_shape is {shape!r}; "
            "flatten them first (pmm.nn.Flatten)"
        )
    return shape  # type: ignore[return-value]
