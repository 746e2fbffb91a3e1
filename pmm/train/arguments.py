"""Checks of the training functions' arguments, run before any work is done.

Each check raises ``ValueError`` naming the argument, the values it accepts and what it got, and
returns the value in canonical form: NumPy integer and float scalars count as the Python ones
(``batch_size=np.int64(16)`` is ``16``), while bools are refused where a number is expected
(``epochs=True`` is an error, not one epoch).

Examples
--------
>>> count(np.int64(16), "batch_size", minimum=1)
16
>>> count(True, "epochs", minimum=0)
Traceback (most recent call last):
ValueError: epochs must be an int >= 0, got True
"""

import inspect
import math
import numbers
import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from pmm.module import Module

_LONGEST_SHOWN = 60


def shown(value: Any) -> str:
    """``repr(value)`` when short, else its type: what error messages say was given."""
    text = repr(value)
    return text if len(text) <= _LONGEST_SHOWN else f"a {type(value).__name__}"


def _refuse(name: str, expected: str, value: Any) -> ValueError:
    return ValueError(f"{name} must be {expected}, got {shown(value)}")


def count(value: Any, name: str, minimum: int, optional: bool = False) -> Any:
    """``value`` as a Python int ``>= minimum`` (``None`` passes when ``optional``)."""
    if optional and value is None:
        return None
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        raise _refuse(name, f"an int >= {minimum}" + (" or None" if optional else ""), value)
    return int(value)


def real(
    value: Any,
    name: str,
    expected: str = "a finite real number",
    valid: Callable[[float], bool] = math.isfinite,
    optional: bool = False,
) -> Any:
    """``value`` as a Python float that ``valid`` accepts (``None`` passes when ``optional``)."""
    if optional and value is None:
        return None
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, numbers.Real)
        or not valid(float(value))
    ):
        raise _refuse(name, expected + (" or None" if optional else ""), value)
    return float(value)


def flag(value: Any, name: str, optional: bool = False) -> Any:
    """``value`` as a Python bool (``None`` passes when ``optional``)."""
    if optional and value is None:
        return None
    if not isinstance(value, bool | np.bool_):
        raise _refuse(name, "True or False" + (" or None" if optional else ""), value)
    return bool(value)


def function(value: Any, name: str) -> Any:
    """``value`` if it is callable or ``None``."""
    if value is not None and not callable(value):
        raise _refuse(name, "a callable or None", value)
    return value


def module(value: Any) -> Module:
    """``value`` if it is a ``pmm.Module`` instance."""
    if not isinstance(value, Module):
        raise _refuse("model", "a pmm.Module instance such as pmm.nn.MLP(hidden=(32,))", value)
    return value


def optimizer(value: Any, default: optax.GradientTransformation) -> optax.GradientTransformation:
    """``value`` if it has optax's ``init``/``update`` pair, ``default`` for ``None``."""
    if value is None:
        return default
    if not (callable(getattr(value, "init", None)) and callable(getattr(value, "update", None))):
        raise _refuse(
            "optimizer",
            "an optax.GradientTransformation such as optax.adam(1e-3) (or None for that)",
            value,
        )
    return value


def path(value: Any, name: str) -> str | None:
    """``value`` as a ``str`` path: ``str``, ``bytes`` or ``os.PathLike`` (``None`` passes)."""
    if value is None:
        return None
    if not isinstance(value, str | bytes | os.PathLike):
        raise _refuse(name, "a file path (str or os.PathLike) or None", value)
    return os.fsdecode(value)


def mesh(value: Any) -> Mesh | None:
    """``value`` if it is a ``jax.sharding.Mesh`` or ``None``."""
    if value is not None and not isinstance(value, Mesh):
        raise _refuse("mesh", "a jax.sharding.Mesh such as jax.make_mesh((4,), ('data',))", value)
    return value


def arrays(tree: Any, name: str, hint: str) -> None:
    """``ValueError`` naming the first leaf of ``tree`` that is not a numeric array or number;
    ``hint`` ends the message, saying what ``name`` should hold."""
    for key_path, leaf in jax.tree_util.tree_leaves_with_path(tree):
        dtype = getattr(leaf, "dtype", None)
        if dtype is None and isinstance(leaf, numbers.Number):
            continue
        if dtype is None or not (
            jnp.issubdtype(dtype, jnp.number) or jnp.issubdtype(dtype, jnp.bool_)
        ):
            raise ValueError(
                f"{name}{jax.tree_util.keystr(key_path)} must be a numeric array, got "
                f"{shown(leaf)}" + (f" of dtype {dtype}" if dtype is not None else "") + f"; {hint}"
            )


def epoch_callback(value: Any) -> Any:
    """``value`` if it is ``None`` or can be called as ``value(epoch, logs)``."""
    function(value, "callback")
    if value is None:
        return None
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):  # some builtins have no signature: trust them
        return value
    try:
        signature.bind(0, {})
    except TypeError:
        name = getattr(value, "__qualname__", shown(value))
        raise ValueError(
            f"callback is called as callback(epoch, logs) inside the compiled epochs, but {name} "
            f"takes {signature}; for a function of the FitResult called on the host between "
            "epochs (one that may stop training), pass it as host_callback="
        ) from None
    return value
