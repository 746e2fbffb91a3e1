"""Whether params and state are what ``module.init`` builds for an input shape (no FLOPs).

Tracing ``init`` costs time per module, and a small header can name a huge model
(``MLP(hidden=(1,) * 128_000)`` is a few hundred kilobytes). ``check_expansion`` first walks
the module tree through ``Module.children`` and refuses a tree that expands into many more modules
than the file's trees hold nodes, so the cost of loading stays proportional to the file's size.
"""

from typing import Any

import jax
import numpy as np

from pmm.io.header import encode_tree
from pmm.io.problem import FileProblem
from pmm.module import Module
from pmm.typing import DataShape

#: Modules the ``children`` walk may reach per node of the file's module, params and state trees
#: (a ``Sequential`` keeps one params and one state entry per layer; an ``MLP`` reaches about 3
#: modules per layer pair and its file holds about 9 nodes), plus a few for any file.
_MODULES_PER_NODE = 4
_FREE_MODULES = 64


def check_expansion(module: Module, params: Any, state: Any) -> None:
    """Raise ``FileProblem`` when ``module`` expands into far more modules than the file holds.

    Composites build their modules on the way (``MLP`` builds its ``Sequential``), so the walk
    costs about as much as building the model, and never traces anything.
    """
    nodes = _count_modules(module) + _count_nodes(params) + _count_nodes(state)
    budget = _MODULES_PER_NODE * nodes + _FREE_MODULES
    pending, reached = [module], 1
    while pending:
        current = pending.pop()
        try:
            children = [child for _, _, child in current.children()]
        except Exception as error:
            raise FileProblem(f"{type(current).__name__}.children() fails: {error}") from error
        reached += len(children)
        if reached > budget:
            raise FileProblem(
                f"{type(module).__name__} expands into more than {budget} modules (at "
                f"{type(current).__name__}), but the file's params and state hold only {nodes} "
                "nodes; it is not a file pmm wrote, and tracing its init would cost far more "
                "than the file's size"
            )
        pending += children


def _count_modules(value: Any) -> int:
    """Modules in the saved module tree: ``value`` and those among its hyperparameters."""
    if isinstance(value, Module):
        return 1 + sum(map(_count_modules, value.hyperparams.values()))
    if isinstance(value, tuple):
        return sum(map(_count_modules, value))
    return 0


def _count_nodes(tree: Any) -> int:
    return jax.tree_util.tree_structure(tree).num_nodes


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
