"""pmm's exceptions, and how an error learns where in the model it happened.

Every error raised while a model is initialised or called carries the *module path* from the
outermost combinator to the module that failed, for example
``Sequential[2] > Parallel['b'] > Linear(features=3)``. pmm's own errors print the path before
their message; errors from elsewhere (a ``TypeError`` from ``jnp.dot``, say) get it as a note.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_PATH_ATTRIBUTE = "pmm_module_path"
_NOTE_INDEX_ATTRIBUTE = "pmm_note_index"
_LONGEST_LABEL = 80


class PmmError(Exception):
    """Base class of pmm's errors; ``str(error)`` starts with the module path where it arose."""

    def __str__(self) -> str:
        message = super().__str__()
        path = module_path(self)
        return f"{path}: {message}" if path else message


class ShapeError(PmmError, ValueError):
    """Data, params or state whose shape, dtype or tree structure is not what the module expects."""


class RngError(PmmError, ValueError):
    """A stochastic module was called without the PRNG key it needs."""


class ApplyReturnError(PmmError, TypeError):
    """A module's ``apply`` returned something other than the pair ``(data, state)``."""


class LoadError(PmmError, OSError):
    """A file could not be loaded as a pmm model; the message names the file and the reason."""


def module_path(error: BaseException) -> str:
    """The module path recorded on ``error`` (``""`` when it arose outside any module)."""
    return " > ".join(getattr(error, _PATH_ATTRIBUTE, ()))


def locate(error: BaseException, segment: str) -> None:
    """Prepend ``segment`` (a module label or ``Combinator[key]``) to ``error``'s module path."""
    path: list[str] | None = getattr(error, _PATH_ATTRIBUTE, None)
    if path is None:
        path = []
        try:
            setattr(error, _PATH_ATTRIBUTE, path)
        except AttributeError:  # exceptions with __slots__ cannot carry a path
            return
        if not isinstance(error, PmmError):
            error.add_note("")
            setattr(error, _NOTE_INDEX_ATTRIBUTE, len(error.__notes__) - 1)
    path.insert(0, segment)
    if not isinstance(error, PmmError):
        error.__notes__[getattr(error, _NOTE_INDEX_ATTRIBUTE)] = (
            f"in pmm module {module_path(error)}"
        )


def module_label(module: Any) -> str:
    """How paths name ``module``: its repr, or ``Class(...)`` when that is longer than 80."""
    label = repr(module)
    return label if len(label) <= _LONGEST_LABEL else f"{type(module).__name__}(...)"


def label_origin(error: BaseException, module: Any) -> None:
    """Record ``module`` as where ``error`` arose, unless a module deeper down already did."""
    if not getattr(error, _PATH_ATTRIBUTE, None):
        locate(error, module_label(module))


@contextmanager
def located(segment: str, child: Any) -> Iterator[None]:
    """Within the block, errors are located at ``child`` reached through ``segment``.

    Used by combinators around a child's ``init`` and ``output_shape``; their ``apply`` inlines the
    same logic in a ``try`` block, which costs nothing when no error is raised.
    """
    try:
        yield
    except Exception as error:
        label_origin(error, child)
        locate(error, segment)
        raise
