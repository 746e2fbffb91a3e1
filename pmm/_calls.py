"""How module calls run: the ``(data, state)`` return rule, child calls, and name scopes.

Every module call made while JAX traces its data runs inside ``jax.named_scope`` of the module's
path, the same path errors print (``Sequential[2]/Linear(features=3)``), so jaxprs, lowered HLO
and profiles show the model's structure. Scopes are entered at trace time only: an eager call on
concrete arrays enters none, and a compiled program is the same with or without them.

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=2) >> pmm.nn.Tanh()
>>> params, state = model.init(jax.random.key(0), (3,))
>>> text = jax.jit(model, static_argnums=2).lower(params, jnp.ones((1, 3)), False, state,
...     None).as_text(debug_info=True)
>>> "Sequential[1]/Tanh()" in text
True
"""

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import jax
from jax.core import Tracer

from pmm.errors import ApplyReturnError, locate, module_label

#: The classes of concrete (not traced) JAX arrays seen so far: one set lookup tells an eager call
#: on an array, cheaper than ``isinstance(data, jax.Array)``, an abstract-class check.
_CONCRETE_ARRAYS: set[type] = set()


def traced(data: Any) -> bool:
    """Whether ``data`` (an array or PyTree of arrays) is being traced by JAX (jit, grad, vmap)."""
    if data.__class__ in _CONCRETE_ARRAYS:
        return False
    if isinstance(data, Tracer):
        return True
    if isinstance(data, jax.Array):
        _CONCRETE_ARRAYS.add(data.__class__)
        return False
    return any(isinstance(leaf, Tracer) for leaf in jax.tree.leaves(data))


def returned(module: Any, result: Any) -> tuple[Any, Any]:
    """``result`` of ``module.apply``, checked to be the pair ``(data, state)``."""
    if result.__class__ is tuple and len(result) == 2:
        return result
    kind = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
    raise ApplyReturnError(
        f"{type(module).__name__}.apply returned {kind}, but apply returns the pair "
        "(data, state); end it with `return output, state` (a stateless module passes the state "
        "it was given through)"
    )


def scoped_apply(module: Any, params: Any, data: Any, training: bool, state: Any, rng: Any):
    """``module.apply``, inside the name scope of the module's label when it has no children
    (combinators and composites scope each child under its segment instead)."""
    if module.children():
        return module.apply(params, data, training, state, rng)
    with jax.named_scope(module_label(module)):
        return module.apply(params, data, training, state, rng)


#: This thread's watcher of traced child calls (``watching``), if any.
_WATCHER = threading.local()

#: ``watcher(owner, key, child, arguments)`` makes the child call ``child(*arguments)`` itself.
Watcher = Callable[[Any, Any, Any, tuple[Any, ...]], tuple[Any, Any]]


@contextlib.contextmanager
def watching(watcher: Watcher) -> Iterator[None]:
    """Within the block, this thread's child calls made while tracing go through ``watcher``.

    ``pmm.summary`` records the module tree this way: each combinator's call of each child, with
    the arguments it passes, in call order. Eager calls are never watched.
    """
    previous = getattr(_WATCHER, "value", None)
    _WATCHER.value = watcher
    try:
        yield
    finally:
        _WATCHER.value = previous


def call_child(owner: Any, key: Any, child: Any, scoped: bool, *arguments: Any) -> tuple[Any, Any]:
    """``child(*arguments)`` for the combinator ``owner``: errors are located at the child's
    segment (``owner.segment(key)``), which is also its name scope when ``scoped`` (tracing)."""
    try:
        if scoped:
            with jax.named_scope(owner.segment(key)):
                watcher = getattr(_WATCHER, "value", None)
                if watcher is not None:
                    return watcher(owner, key, child, arguments)
                return child(*arguments)
        return child(*arguments)
    except Exception as error:
        locate(error, owner.segment(key))
        raise
