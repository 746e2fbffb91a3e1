"""Freezing parts of a model: split params into a trainable and a frozen tree, and join them.

Both halves keep the params' tree structure with ``None`` where a leaf belongs to the other half,
so the optimizer only ever sees (and keeps state for) the trainable leaves, and frozen leaves pass
through training untouched.
"""

from collections.abc import Callable
from typing import Any

import jax

#: A bool PyTree over params (a prefix of it is enough: ``(False, True)`` freezes the first layer
#: of a two-layer Sequential), or a predicate on a params leaf's path, a tuple of keys such as
#: ``(0, "w")``.
Trainable = Any | Callable[[tuple[Any, ...]], bool]


def _key(entry: Any) -> Any:
    for attribute in ("key", "idx", "name"):
        if hasattr(entry, attribute):
            return getattr(entry, attribute)
    return str(entry)


def trainable_mask(params: Any, trainable: Trainable | None) -> Any:
    """A bool per params leaf (same tree as ``params``): ``True`` where the leaf is trained."""
    if trainable is None:
        return jax.tree.map(lambda _: True, params)
    if callable(trainable):
        return jax.tree_util.tree_map_with_path(
            lambda path, _: bool(trainable(tuple(_key(entry) for entry in path))), params
        )
    try:
        return jax.tree.map(
            lambda flag, sub: jax.tree.map(lambda _: bool(flag), sub), trainable, params
        )
    except ValueError as error:
        raise ValueError(
            f"trainable must be a bool PyTree shaped like params (or a prefix of it), or a "
            f"predicate on leaf paths; got structure {jax.tree.structure(trainable)} for params "
            f"{jax.tree.structure(params)} ({error})"
        ) from None


def partition(params: Any, mask: Any) -> tuple[Any, Any]:
    """``(trainable, frozen)``: ``params`` with ``None`` in the frozen / trainable leaves."""
    trainable = jax.tree.map(lambda leaf, keep: leaf if keep else None, params, mask)
    frozen = jax.tree.map(lambda leaf, keep: None if keep else leaf, params, mask)
    return trainable, frozen


def combine(trainable: Any, frozen: Any) -> Any:
    """The inverse of ``partition``: the params with each leaf from whichever half holds it."""
    return jax.tree.map(
        lambda left, right: right if left is None else left,
        trainable,
        frozen,
        is_leaf=lambda leaf: leaf is None,
    )
