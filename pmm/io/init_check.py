"""Whether params and state are what ``module.init`` builds for an input shape (no FLOPs)."""

from typing import Any

import jax
import numpy as np

from pmm.io.header import encode_tree
from pmm.module import Module
from pmm.typing import DataShape


def init_mismatch(
    module: Module, input_shape: DataShape, params: Any, state: Any, source: str
) -> str:
    """How ``params``/``state`` (from ``source``) differ from what ``module.init`` builds.

    ``""`` when they match in tree structure and every leaf's shape and dtype.
    """
    expected = jax.eval_shape(lambda key: module.init(key, input_shape), jax.random.key(0))

    def described(trees: Any) -> tuple[Any, dict[str, str]]:
        leaves: dict[str, str] = {}

        def leaf(node: Any, where: str) -> str:
            leaves[where] = f"{np.dtype(node.dtype).name}{list(np.shape(node))}"
            return leaves[where]

        return encode_tree(trees, leaf, lambda _: False, ""), leaves

    (found_tree, found), (init_tree, built) = described((params, state)), described(expected)
    init = f"{type(module).__name__}.init"
    for path in sorted(found.keys() & built.keys()):
        if found[path] != built[path]:
            return (
                f"{_name(path)} is {found[path]} {source} but {init} builds {built[path]} "
                f"for input_shape {input_shape}"
            )
    if found_tree != init_tree:
        paths = sorted(map(_name, found.keys() ^ built.keys()))
        detail = f"; only one of them has {', '.join(paths[:4])}" if paths else ""
        return (
            f"the params/state tree differs from the one {init} builds for input_shape "
            f"{input_shape}{detail}"
        )
    return ""


def _name(path: str) -> str:
    """``[0]['w'][1]`` (a path in ``(params, state)``) as ``params['w'][1]``."""
    return ("params" if path.startswith("[0]") else "state") + path[3:]
