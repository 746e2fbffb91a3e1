"""Precision switching: ``pmm.cast(model, params, state, dtype)`` moves a whole model to a dtype.

The spec, the params and the state change together, so the result is what ``init`` of the new
spec builds (a saved file records the new precision, and loads back with it):

- every module with a ``dtype`` field gets the new one, through combinators, composites and
  graphs at any depth: a real dtype becomes ``dtype``; a complex one becomes ``complex128`` for
  ``float64`` and ``complex64`` otherwise. **Complex numbers have no half precision**, so at
  ``float16`` and ``bfloat16`` complex layers (the PMM matrices) stay at ``complex64``, and their
  real parameters (the matrices' real storage) at ``float32``;
- each floating params and state leaf follows the module that owns it: complex leaves go to that
  module's complex dtype, real leaves to its real one (the target itself for modules without a
  ``dtype`` field), except that the real state of a half-precision module stays float32, as its
  ``init`` builds it (``BatchNorm`` keeps running statistics in float32);
- integer and bool leaves (counters, masks) are untouched.

Examples
--------
>>> import jax, pmm
>>> model = pmm.nn.Linear(features=2) >> pmm.nn.Tanh()
>>> params, state = model.init(jax.random.key(0), (3,))
>>> with jax.enable_x64(True):
...     model64, params64, state64 = pmm.cast(model, params, state, "float64")
...     model64, params64[0]["weight"].dtype
(Sequential(Linear(features=2, dtype='float64'), Tanh()), dtype('float64'))
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from pmm._dtypes import check_x64, real_dtype, statistics_dtype
from pmm.composite import Composite
from pmm.errors import module_label
from pmm.module import Module
from pmm.paths import ParamPath, parameter_paths
from pmm.typing import Params, State

#: The dtypes a model can be cast to.
TARGETS = ("float16", "bfloat16", "float32", "float64")


def cast(model: Module, params: Params, state: State, dtype: Any) -> tuple[Module, Params, State]:
    """``(model, params, state)`` at the precision ``dtype``: specs, params and state together.

    Parameters
    ----------
    model, params, state
        A model and the params and state its ``init`` built (or training produced).
    dtype
        ``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"`` (or the matching NumPy /
        JAX dtype). ``float64`` needs 64-bit JAX.

    Returns
    -------
    tuple
        The model with every module's ``dtype`` field moved (see the module docstring for
        complex layers), and params and state with their floating leaves cast to match.

    Raises
    ------
    ValueError
        For another ``dtype``, for ``float64`` while ``jax_enable_x64`` is off, and for a module
        that refuses the new dtype or whose dtype cast cannot reach (a composite without a
        ``dtype`` field that builds layers with one), naming the module.

    Examples
    --------
    >>> model = pmm.Parallel(pmm.nn.Linear(features=2), pmm.AEPMM(matrix_size=3))
    >>> params, state = model.init(jax.random.key(0), (2,))
    >>> with jax.enable_x64(True):
    ...     cast_model, cast_params, _ = pmm.cast(model, params, state, "float64")
    ...     cast_model.branches[1].dtype, cast_params[1][0]["matrices"].dtype
    ('complex128', dtype('float64'))
    """
    target = _target(dtype)
    if target == "float64":
        check_x64(target, "the target of pmm.cast")
    cast_model = _cast_module(model, target)
    return (
        cast_model,
        _cast_leaves(cast_model, params, target, in_state=False),
        _cast_leaves(cast_model, state, target, in_state=True),
    )


def _target(dtype: Any) -> str:
    try:
        name = jnp.dtype(dtype).name
    except TypeError:
        name = None
    if name not in TARGETS:
        raise ValueError(
            f"pmm.cast cannot cast to {dtype!r}; give one of {list(TARGETS)} (complex layers "
            "follow: complex128 for float64, complex64 otherwise)"
        )
    return name


def _cast_dtype(dtype: str, target: str) -> str:
    """What a module's ``dtype`` field becomes: ``target``, or its complex counterpart."""
    return _complex(target) if jnp.issubdtype(dtype, jnp.complexfloating) else target


def _complex(dtype: str) -> str:
    """The complex dtype of ``dtype``'s precision, ``complex64`` for half precision."""
    return "complex128" if dtype in ("float64", "complex128") else "complex64"


def _own_dtype(module: Module) -> str | None:
    """The ``dtype`` field of ``module`` when it has one holding a dtype name."""
    value = getattr(module, "dtype", None)
    fields = {field.name for field in dataclasses.fields(module)}  # type: ignore[arg-type]
    return value if "dtype" in fields and isinstance(value, str) else None


def _cast_module(module: Module, target: str) -> Module:
    """``module`` with its own ``dtype`` field and every module in its fields cast."""
    changes = {}
    for field in dataclasses.fields(module):  # type: ignore[arg-type]
        value = getattr(module, field.name)
        cast_value = _cast_field(value, target)
        if cast_value != value:
            changes[field.name] = cast_value
    own = _own_dtype(module)
    if own is not None and _cast_dtype(own, target) != own:
        changes["dtype"] = _cast_dtype(own, target)
    try:
        cast_module = dataclasses.replace(module, **changes) if changes else module  # type: ignore[type-var]
    except ValueError as error:
        raise ValueError(f"cannot cast {module_label(module)} to {target!r}: {error}") from error
    if isinstance(cast_module, Composite) and own is None:
        _check_reached(cast_module, cast_module.built, target)
    return cast_module


def _cast_field(value: Any, target: str) -> Any:
    if isinstance(value, Module):
        return _cast_module(value, target)
    if isinstance(value, tuple):
        return tuple(_cast_field(item, target) for item in value)
    return value


def _check_reached(composite: Composite, module: Module, target: str) -> None:
    """``ValueError`` when ``composite`` (without a ``dtype`` field) builds a module whose dtype
    the cast should have changed but could not: nothing in the composite's fields sets it."""
    own = _own_dtype(module)
    if own is not None and _cast_dtype(own, target) != own:
        name = type(composite).__name__
        raise ValueError(
            f"cannot cast {module_label(composite)} to {target!r}: it builds "
            f"{module_label(module)}, whose dtype is set by {name}.build rather than by a field "
            f"of {name}; give {name} a dtype field and pass it to the layers it builds"
        )
    for _, _, child in module.children():
        _check_reached(composite, child, target)


def _cast_leaves(model: Module, tree: Any, target: str, in_state: bool) -> Any:
    """``tree`` (params or state of ``model``) with each floating leaf in its owner's dtype (for
    state: the dtype its owner keeps statistics in)."""

    def cast_leaf(leaf: Any, path: ParamPath) -> Any:
        if not jnp.issubdtype(leaf.dtype, jnp.inexact):
            return leaf
        own = _own_dtype(path.module)
        owner = target if own is None else statistics_dtype(own) if in_state else own
        complex_leaf = jnp.issubdtype(leaf.dtype, jnp.complexfloating)
        return jnp.asarray(leaf).astype(_complex(owner) if complex_leaf else real_dtype(owner))

    return jax.tree.map(cast_leaf, tree, parameter_paths(model, tree))
