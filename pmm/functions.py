"""The function registry: pure functions known by a name the user chose, for ``pmm.nn.Function``.

A saved model refers to a function by its registered name only; loading looks the name up here,
so no code is ever imported or evaluated from a file's text. A name, once taken, keeps its
function for the whole process: registering another function under it is refused (the same
function again is accepted, so re-running a notebook cell is harmless), which keeps a model's
meaning (and ``jax.jit``'s cache, keyed by the name) from changing under it.

Examples
--------
>>> import pmm
>>> def square(x):
...     return x**2
>>> pmm.register_function(square, "doc.square") is square
True
>>> registered_function("doc.square") is square
True
"""

from collections.abc import Callable
from typing import Any

_FUNCTIONS: dict[str, Callable[..., Any]] = {}


def register_function(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    """Make ``function`` available to ``pmm.nn.Function(name)`` (and to files that use it).

    Parameters
    ----------
    function
        A pure function of the data (batch axis included), e.g. ``lambda x: x**2``.
    name
        A non-empty string; a dotted name such as ``"lab.square"`` keeps projects apart.

    Returns
    -------
    Callable
        ``function`` itself.

    Raises
    ------
    ValueError
        When ``function`` is not callable, ``name`` is not a non-empty string, or ``name`` is
        registered already for another function.

    Examples
    --------
    >>> pmm.register_function(abs, "doc.abs") is abs
    True
    >>> pmm.register_function(round, "doc.abs")
    Traceback (most recent call last):
    ValueError: the function name 'doc.abs' is registered already, for ...
    """
    if not callable(function):
        raise ValueError(
            f"register_function takes a callable first, got {type(function).__name__}; "
            "call it as pmm.register_function(fn, 'lab.name')"
        )
    if not isinstance(name, str) or not name:
        raise ValueError(f"the function name is {name!r}; give a non-empty string like 'lab.name'")
    taken = _FUNCTIONS.get(name)
    if taken is not None and taken is not function:
        raise ValueError(
            f"the function name {name!r} is registered already, for {_describe(taken)}; a name "
            "keeps its function for the whole process, so choose another name"
        )
    _FUNCTIONS[name] = function
    return function


def registered_function(name: str) -> Callable[..., Any]:
    """The function registered as ``name``; ``ValueError`` saying how to register it otherwise.

    Examples
    --------
    >>> registered_function("doc.nowhere")
    Traceback (most recent call last):
    ValueError: no function is registered as 'doc.nowhere'; call ...
    """
    try:
        return _FUNCTIONS[name]
    except (KeyError, TypeError):
        known = sorted(_FUNCTIONS) or "none yet"
        raise ValueError(
            f"no function is registered as {name!r}; call pmm.register_function(fn, {name!r}) "
            f"first (before loading a file that uses it, too). Registered: {known}"
        ) from None


def _describe(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", type(function).__name__)
    return f"{module}.{qualname}" if module else qualname
