"""Freezing parts of a model: split params into a trainable and a frozen tree, and join them.

Both halves keep the params' tree structure with ``None`` where a leaf belongs to the other half,
so the optimizer only ever sees (and keeps state for) the trainable leaves, and frozen leaves pass
through training untouched.
"""

from collections.abc import Callable
from typing import Any

import jax

from pmm.module import Module
from pmm.paths import ParamPath, parameter_paths
from pmm.train.arguments import flag

#: A bool PyTree over params (a prefix of it is enough: ``(False, True)`` freezes the first layer
#: of a two-layer Sequential), or a predicate on each params leaf's ``pmm.ParamPath``: its
#: module path (``path.module``, ``path.modules``, ``str(path)``) and keys (``path.keys``).
Trainable = Any | Callable[[ParamPath], bool]


def trainable_mask(model: Module, params: Any, trainable: Trainable | None) -> Any:
    """A bool per params leaf (same tree as ``params``): ``True`` where the leaf is trained.

    The flags, and what a predicate returns, must be bools: a predicate that forgets to return
    (``None``) is an error, not a silent freeze.

    Examples
    --------
    >>> import jax, pmm
    >>> model = pmm.nn.Linear(features=2) >> pmm.nn.LayerNorm()
    >>> params, _ = model.init(jax.random.key(0), (3,))
    >>> trainable_mask(model, params, lambda path: isinstance(path.module, pmm.nn.LayerNorm))
    ({'bias': False, 'weight': False}, {'bias': True, 'scale': True})
    """
    if trainable is None:
        return jax.tree.map(lambda _: True, params)
    if callable(trainable):
        return jax.tree.map(
            lambda path: flag(trainable(path), f"trainable({path})"),
            parameter_paths(model, params),
            is_leaf=lambda node: isinstance(node, ParamPath),
        )
    try:
        return jax.tree.map(
            lambda leaf, sub: jax.tree.map(lambda _: flag(leaf, "a trainable leaf"), sub),
            trainable,
            params,
        )
    except ValueError as error:
        raise ValueError(
            f"trainable must be a bool PyTree shaped like params (or a prefix of it), or a "
            f"predicate on pmm.ParamPath; got structure {jax.tree.structure(trainable)} for params "
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
