"""Sliding windows on channels-last data: the per-axis fields of Conv, ConvTranspose and the pools.

A window layer reads samples ``(*spatial, channels)``. Its per-axis fields (``kernel_size`` or
``window``, ``strides``, ``dilation``) are each an int, meaning every spatial axis, or a tuple
with one entry per spatial axis; ``padding`` is ``"SAME"``, ``"VALID"``, ``"CIRCULAR"``, an int
(every side of every axis), or one entry per axis, each an int or a ``(low, high)`` pair.
A tuple fixes the number of spatial axes; when every field is an int, the input decides it.

Fields are kept in a canonical form, so that equal configurations make equal (and equally
printed) specs: padding names are upper case, per-axis pairs are tuples, and when the number of
axes is fixed, a tuple of equal entries becomes the int (``(2, 2)`` -> ``2``,
``((1, 1), (1, 1))`` -> ``1``).

Examples
--------
>>> canonical_padding("same", 2)
'SAME'
>>> canonical_padding(((1, 1), (1, 1)), 2), canonical_padding((1, (0, 2)), 2)
(1, ((1, 1), (0, 2)))
>>> conv_pads("SAME", (5,), (3,), (2,), (1,))
((1, 1),)
"""

import math
from typing import Any, TypeGuard

import jax.numpy as jnp
from jax import Array

from pmm._validation import array_shape
from pmm.errors import ShapeError

#: The padding names; anything else is an int or per-axis entries.
PADDING_NAMES = ("SAME", "VALID", "CIRCULAR")
#: The numbers of spatial axes the window layers support.
MAX_SPATIAL_AXES = 3

#: Per-axis padding, one ``(low, high)`` pair per spatial axis.
Pads = tuple[tuple[int, int], ...]


def _is_int(value: Any) -> TypeGuard[int]:
    """Whether ``value`` is an int and not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_per_axis(value: Any, field: str, owner: str, minimum: int) -> int | None:
    """Validate an int or a tuple of ints ``>= minimum``; the tuple's length, else ``None``."""
    if _is_int(value) and value >= minimum:
        return None
    if (
        isinstance(value, tuple)
        and 1 <= len(value) <= MAX_SPATIAL_AXES
        and all(_is_int(entry) and entry >= minimum for entry in value)
    ):
        return len(value)
    raise ValueError(
        f"field {field!r} of {owner} is {value!r}; give an int >= {minimum} for every spatial "
        f"axis, or a tuple of 1 to {MAX_SPATIAL_AXES} such ints, one per spatial axis"
    )


def padding_rank(value: Any, owner: str) -> int | None:
    """Validate ``padding`` (see the module docstring); its number of axes, or ``None``."""
    if isinstance(value, str) and value.upper() in PADDING_NAMES:
        return None
    if _is_int(value) and value >= 0:
        return None
    if (
        isinstance(value, tuple)
        and 1 <= len(value) <= MAX_SPATIAL_AXES
        and all(_is_pad(entry) for entry in value)
    ):
        return len(value)
    raise ValueError(
        f"field 'padding' of {owner} is {value!r}; give 'SAME', 'VALID', 'CIRCULAR', an int >= 0 "
        "for every side, or one entry per spatial axis, each an int >= 0 or a (low, high) pair, "
        "e.g. ((1, 1), (0, 2))"
    )


def _is_pad(entry: Any) -> bool:
    if _is_int(entry):
        return entry >= 0
    return (
        isinstance(entry, tuple)
        and len(entry) == 2
        and all(_is_int(side) and side >= 0 for side in entry)
    )


def spatial_rank(owner: str, **ranks: int | None) -> int | None:
    """The one number of spatial axes the fields' tuples fix (``None``: they are all ints).

    ``ranks`` maps each field name to its tuple length (``None`` for an int); ``ValueError``
    naming the fields when the lengths differ.
    """
    fixed = {field: rank for field, rank in ranks.items() if rank is not None}
    if len(set(fixed.values())) > 1:
        raise ValueError(
            f"fields {sorted(fixed)} of {owner} give different numbers of spatial axes "
            f"({fixed}); give every per-axis tuple one entry per spatial axis"
        )
    return next(iter(fixed.values()), None)


def tuple_length(*fields: Any) -> int | None:
    """The length of the first tuple among validated ``fields`` (all tuples agree), else None."""
    return next((len(field) for field in fields if isinstance(field, tuple)), None)


def canonical_per_axis(value: int | tuple[int, ...], rank: int | None) -> int | tuple[int, ...]:
    """``value`` with a tuple of equal entries collapsed to the int when ``rank`` is fixed."""
    if rank is not None and isinstance(value, tuple) and len(set(value)) == 1:
        return value[0]
    return value


def canonical_padding(value: Any, rank: int | None) -> str | int | Pads:
    """``value`` (already validated) in canonical form: an upper-case name, an int, or pairs."""
    if isinstance(value, str):
        return value.upper()
    if _is_int(value):
        return value
    pairs = tuple((entry, entry) if _is_int(entry) else tuple(entry) for entry in value)
    if rank is not None and len(set(pairs)) == 1 and pairs[0][0] == pairs[0][1]:
        return pairs[0][0]
    return pairs


def expand(value: int | tuple[int, ...], rank: int) -> tuple[int, ...]:
    """A per-axis field as one int per spatial axis."""
    return (value,) * rank if isinstance(value, int) else value


def effective_sizes(window: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """The extent of each dilated window axis: ``(k - 1) * d + 1``."""
    return tuple((k - 1) * d + 1 for k, d in zip(window, dilation, strict=True))


def explicit_pads(padding: str | int | Pads, rank: int) -> Pads | None:
    """``padding`` as pairs when it is an int or pairs; ``None`` for a name."""
    if isinstance(padding, str):
        return None
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    return padding


def conv_pads(
    padding: str | int | Pads,
    spatial: tuple[int, ...],
    window: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Pads:
    """The ``(low, high)`` padding of each spatial axis before a strided window slides over it.

    ``VALID``: none. ``SAME``: the least total padding that gives ``ceil(n / s)`` outputs,
    ``max((ceil(n / s) - 1) * s + k_eff - n, 0)``, split with the odd entry at the high end (as
    TensorFlow, Flax and ``jax.lax`` do). ``CIRCULAR``: ``((k_eff - 1) // 2, k_eff // 2)``, the
    stride-1 ``SAME`` padding whatever the stride, so that output ``o`` is centred on input
    ``o * s`` (as Flax does); it also gives ``ceil(n / s)`` outputs.
    """
    pads = explicit_pads(padding, len(spatial))
    if pads is not None:
        return pads
    extents = effective_sizes(window, dilation)
    if padding == "VALID":
        return ((0, 0),) * len(spatial)
    if padding == "CIRCULAR":
        return tuple(((k - 1) // 2, k // 2) for k in extents)
    result = []
    for n, k, s in zip(spatial, extents, strides, strict=True):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        result.append((total // 2, total - total // 2))
    return tuple(result)


def conv_output_size(n: int | None, pads: tuple[int, int], k: int, s: int) -> int | None:
    """Outputs of a window of extent ``k`` sliding by ``s`` over ``n`` entries padded by ``pads``.

    ``floor((n + low + high - k) / s) + 1``; ``None`` when ``n`` is.
    """
    if n is None:
        return None
    return (n + sum(pads) - k) // s + 1


def conv_output_shape(
    owner: str,
    spatial: tuple[int | None, ...],
    padding: str | int | Pads,
    window: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[int | None, ...]:
    """The output's spatial sizes: ``ceil(n / s)`` for ``SAME`` and ``CIRCULAR``, else
    ``conv_output_size``; ``ShapeError`` where the padded input is shorter than the dilated
    window (no output position) or circular padding meets an empty axis."""
    if padding in ("SAME", "CIRCULAR"):
        if padding == "CIRCULAR" and 0 in spatial:
            raise ShapeError(
                f"{owner} wraps the spatial axes around (padding 'CIRCULAR'), which needs at "
                f"least one entry along each, but the spatial sizes are {spatial}"
            )
        return tuple(
            None if n is None else -(-n // s) for n, s in zip(spatial, strides, strict=True)
        )
    pads = explicit_pads(padding, len(spatial)) or ((0, 0),) * len(spatial)
    extents = effective_sizes(window, dilation)
    for axis, (n, pad, k) in enumerate(zip(spatial, pads, extents, strict=True)):
        if n is not None and n + sum(pad) < k:
            raise ShapeError(
                f"{owner} slides a window of extent {k} along spatial axis {axis}, but the input "
                f"has {n} entries there, {n + sum(pad)} with padding {pad}; pad more (e.g. "
                "padding='SAME'), or give a smaller kernel, window or dilation"
            )
    return tuple(map(conv_output_size, spatial, pads, extents, strides))


def split_input(
    input_shape: Any, rank: int | None, owner: str
) -> tuple[tuple[int | None, ...], int | None]:
    """``(spatial sizes, channels)`` of an ``input_shape`` ``(*spatial, channels)``.

    ``ShapeError`` unless it is one array shape with 1 to 3 spatial axes, ``rank`` of them when
    the layer's fields fix the number.
    """
    shape = array_shape(input_shape, owner)
    wanted = f"{rank}" if rank is not None else f"1 to {MAX_SPATIAL_AXES}"
    if not 1 <= len(shape) - 1 <= MAX_SPATIAL_AXES or len(shape) - 1 != (rank or len(shape) - 1):
        raise ShapeError(
            f"{owner} reads samples (*spatial, channels) with {wanted} spatial axes, but "
            f"input_shape is {shape!r}; give channels last (e.g. (28, 28, 1) for one grey "
            "28x28 image; pmm.nn.Reshape adds a channel axis)"
        )
    return tuple(shape[:-1]), shape[-1]


def circular_pad(data: Array, pads: Pads) -> Array:
    """``data`` of shape ``(batch, *spatial, channels)`` wrapped around by ``pads``."""
    return jnp.pad(data, ((0, 0), *pads, (0, 0)), mode="wrap")
