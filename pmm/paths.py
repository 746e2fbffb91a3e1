"""Which module owns each parameter: ``parameter_paths(model, params)``.

Every params leaf gets a ``ParamPath``: the modules from the model down to the layer that owns
the leaf, and the module path as error messages print it (``Sequential[2] > Linear(features=3)``)
followed by the leaf's key inside that layer. ``pmm.fit(trainable=predicate)`` calls the
predicate with these, so "freeze every Linear" is
``trainable=lambda path: not isinstance(path.module, pmm.nn.Linear)``.

Examples
--------
>>> import jax, pmm
>>> model = pmm.nn.Linear(features=2) >> pmm.nn.Tanh() >> pmm.nn.Linear(features=1)
>>> params, _ = model.init(jax.random.key(0), (3,))
>>> for path in jax.tree.leaves(parameter_paths(model, params)):
...     print(path)
Sequential[0] > Linear(features=2)['bias']
Sequential[0] > Linear(features=2)['weight']
Sequential[2] > Linear(features=1)['bias']
Sequential[2] > Linear(features=1)['weight']
"""

import dataclasses
from typing import Any

import jax

from pmm.module import Module
from pmm.typing import Params


@dataclasses.dataclass(frozen=True)
class ParamPath:
    """Where a params leaf sits: ``modules`` from the model down to its owner, and ``keys``.

    ``keys`` is the leaf's full key path in the params tree (e.g. ``(2, "weight")``); ``segments``
    are the module-path segments as error messages print them. ``str(path)`` joins both.
    """

    modules: tuple[Module, ...]
    segments: tuple[str, ...]
    keys: tuple[Any, ...]
    leaf_keys: str

    @property
    def module(self) -> Module:
        """The layer that owns the leaf (the innermost module)."""
        return self.modules[-1]

    def __str__(self) -> str:
        return " > ".join(self.segments) + self.leaf_keys

    def __repr__(self) -> str:
        """Short: the path as ``str`` gives it, not the whole model once per leaf."""
        return f"ParamPath({str(self)!r})"


def parameter_paths(model: Module, params: Params) -> Any:
    """A tree shaped like ``params`` holding the ``ParamPath`` of each leaf.

    Combinators and composites say which child owns which part of their params through
    ``Module.children``; the walk follows them down to the module that owns each leaf.
    """
    return _walk(model, params, (), (), ())


def _walk(module: Module, params: Any, modules: tuple, segments: tuple, keys: tuple) -> Any:
    children = module.children()
    if not jax.tree.leaves(params):
        return params  # includes the () that stands for all-empty children
    modules = (*modules, module)
    if not children:
        owner_segments = (*segments, repr(module))
        return jax.tree_util.tree_map_with_path(
            lambda path, _: ParamPath(
                modules, owner_segments, (*keys, *map(_key, path)), jax.tree_util.keystr(path)
            ),
            params,
        )
    if len(children) == 1 and children[0][0] is None:
        _, segment, child = children[0]
        return _walk(child, params, modules, (*segments, segment), keys)
    walked = {
        key: _walk(child, params[key], modules, (*segments, segment), (*keys, key))
        for key, segment, child in children
    }
    return walked if isinstance(params, dict) else type(params)(walked[k] for k, _, _ in children)


def _key(entry: Any) -> Any:
    for attribute in ("key", "idx", "name"):
        if hasattr(entry, attribute):
            return getattr(entry, attribute)
    return str(entry)
