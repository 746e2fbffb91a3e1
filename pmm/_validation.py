"""Checks shared by the layers: hyperparameter fields at construction, input shapes at ``init``.

Field checks raise ``ValueError`` naming the field; shape checks raise ``pmm.ShapeError`` showing
the shape and saying what the layer needs.

Examples
--------
>>> check_int(3, "features", "Linear", minimum=1)
>>> feature_size((4, 3), "Linear")
3
"""

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from pmm.errors import ShapeError
from pmm.shapes import dims, is_shape, validate_shape
from pmm.typing import ArrayDataShape

#: No array larger than this (one pebibyte) can exist on any machine; XLA aborts the whole process
#: on sizes that overflow its 64-bit byte counts, so layers refuse such arrays before asking it.
MAX_ARRAY_BYTES = 2**50


def check_array_size(shape: tuple[int, ...], dtype: Any, what: str, cause: str) -> None:
    """Raise ``ValueError`` when an array of ``shape`` and ``dtype`` could not exist.

    ``what`` names the array (``"Linear's weight"``), ``cause`` the fields or input sizes that
    made it so large, so the message says what to lower.

    Examples
    --------
    >>> check_array_size((2**62, 3), "float32", "Linear's weight", "field 'features' (2**62)")
    Traceback (most recent call last):
    ValueError: Linear's weight would have shape (4611686018427387904, 3) ...
    """
    size = math.prod(shape) * np.dtype(dtype).itemsize
    if size > MAX_ARRAY_BYTES:
        raise ValueError(
            f"{what} would have shape {tuple(shape)} of {np.dtype(dtype).name}, {size:.3g} bytes, "
            f"which no machine can hold; lower {cause}"
        )


def check_int(value: Any, field: str, owner: str, minimum: int) -> None:
    """Raise ``ValueError`` unless ``value`` is an int (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"field {field!r} of {owner} is {value!r}; give an int >= {minimum}")


def check_number(
    value: Any,
    field: str,
    owner: str,
    valid: Callable[[float], bool] | None = None,
    expected: str = "a real number",
) -> None:
    """Raise ``ValueError`` unless ``value`` is a real number (not a bool) that ``valid`` accepts.

    ``expected`` describes the accepted values in the message, e.g. ``"a number in [0, 1)"``.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (valid is not None and not valid(value))
    ):
        raise ValueError(f"field {field!r} of {owner} is {value!r}; give {expected}")


def check_interval(
    value: Any, field: str, owner: str, bounds: tuple[float, float], expected: str
) -> None:
    """Raise ``ValueError`` unless ``value`` is a pair ``(low, high)`` of real numbers (not bools)
    with ``bounds[0] <= low < high <= bounds[1]``, both finite; ``expected`` describes them."""
    if not (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and all(map(math.isfinite, value))
        and bounds[0] <= value[0] < value[1] <= bounds[1]
    ):
        raise ValueError(f"field {field!r} of {owner} is {value!r}; give {expected}")


def check_axis(value: Any, field: str, owner: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a non-zero int (axis 0 is the batch axis)."""
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise ValueError(
            f"field {field!r} of {owner} is {value!r}; give a non-zero int "
            "(axes count the batch axis, which is axis 0)"
        )


def check_bool(value: Any, field: str, owner: str) -> None:
    """Raise ``ValueError`` unless ``value`` is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"field {field!r} of {owner} is {value!r}; give True or False")


def sample_axis(axis: int, shape: tuple[int | None, ...], owner: str) -> int:
    """The index in the per-sample ``shape`` of the data axis ``axis`` (which counts the batch
    axis, so ``1`` and ``-len(shape)`` are the first sample axis); ``ShapeError`` if none.

    Examples
    --------
    >>> sample_axis(-1, (4, 3), "MatMul"), sample_axis(1, (4, 3), "MatMul")
    (1, 0)
    """
    index = axis - 1 if axis > 0 else axis + len(shape)
    if not 0 <= index < len(shape):
        choices = (
            f"give an axis in 1..{len(shape)} or {-len(shape)}..-1"
            if shape
            else ("give samples of at least one axis, e.g. (1,)")
        )
        raise ShapeError(
            f"{owner} acts on axis {axis}, but samples of shape {shape!r} make data of "
            f"{len(shape) + 1} axes (the batch axis is axis 0); {choices}"
        )
    return index


def array_shape(input_shape: Any, owner: str) -> ArrayDataShape:
    """The sizes of ``input_shape`` if it is the shape of one array (a tuple, or the ``shape`` of
    a ``jax.ShapeDtypeStruct``); ``ShapeError`` for a tree of shapes."""
    validate_shape(input_shape)
    if not is_shape(input_shape):
        raise ShapeError(
            f"{owner} acts on one array, but input_shape is the tree {input_shape!r}; "
            "pick one leaf first (pmm.Select) or join the leaves (pmm.Concatenate)"
        )
    return dims(input_shape)


def feature_size(input_shape: Any, owner: str) -> int:
    """The known size of the last axis of ``input_shape``; ``ShapeError`` if none or ``None``."""
    shape = array_shape(input_shape, owner)
    if not shape or shape[-1] is None:
        raise ShapeError(
            f"{owner} acts on the last axis, which must have a known size, but input_shape is "
            f"{shape!r}; give per-sample shapes like (3,) (use (1,) for a scalar per sample)"
        )
    return shape[-1]


def known_shape(input_shape: Any, owner: str) -> tuple[int, ...]:
    """``input_shape`` as one array shape with every size known; ``ShapeError`` otherwise."""
    shape = array_shape(input_shape, owner)
    if None in shape:
        raise ShapeError(
            f"{owner} holds a parameter of the full per-sample shape, so every size must be "
            f"known, but input_shape is {shape!r}; give the sizes in place of None"
        )
    return shape  # type: ignore[return-value]
