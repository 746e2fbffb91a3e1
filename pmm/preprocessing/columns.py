"""The data side of fitting a scaler: columns read in chunks, columns left alone, constant columns.

A scaler's statistics are per feature (the last axis) of each data leaf, over every other axis.
``column_chunks`` reads one leaf as float64 blocks of ``(rows, features)``, a bounded number of
samples at a time, so that ``fit`` makes one pass over data larger than the device (or host)
can hold as float64 at once. ``check_passthrough`` and ``passthrough_per_leaf`` read the
``passthrough`` field (columns a scaler leaves alone); ``constant_columns`` is the rule for
constant columns.

Examples
--------
>>> import numpy as np
>>> [chunk.shape for chunk in column_chunks(np.ones((5, 2, 3)), 2, "x")]
[(4, 3), (4, 3), (2, 3)]
>>> constant_columns(np.array([0.0, 2.0, 1e-15]), np.array([7.0, 1.0, 3.0]))
array([ True, False,  True])
"""

from collections.abc import Iterator
from typing import Any

import numpy as np

from pmm.errors import ShapeError

#: A spread at most this fraction of its column's centre is rounding, not data: the column is
#: constant (float64 sums of a constant column are exact for float32 data and within a few
#: hundred float64 epsilons for float64 data).
CONSTANT_TOLERANCE = 1e-12


def column_chunks(leaf: Any, chunk_size: int, where: str) -> Iterator[np.ndarray]:
    """``leaf`` (samples first, features last) as float64 blocks of ``chunk_size`` samples.

    Each block is ``(chunk_size * prod(middle axes), features)``. Raises ``ValueError`` naming
    ``where`` (e.g. ``"x['a']"``) when the leaf is not real floating data or holds NaN or inf.
    """
    dtype = np.dtype(getattr(leaf, "dtype", np.asarray(leaf).dtype))
    if dtype.kind != "f" and dtype.name != "bfloat16":
        raise ValueError(
            f"{where} is {dtype.name} data; scalers take real floating data (cast it with "
            ".astype(float), or encode class ids with pmm.preprocessing.OneHot)"
        )
    samples = np.shape(leaf)[0]
    for start in range(0, samples, chunk_size):
        block = np.asarray(leaf[start : start + chunk_size], dtype=np.float64)
        block = block.reshape(-1, block.shape[-1])
        finite = np.isfinite(block)
        if not finite.all():
            row, column = np.argwhere(~finite)[0]
            raise ValueError(
                f"{where} holds {block[row, column]} in column {column}; scaler statistics need "
                "finite data: drop or impute the missing values first"
            )
        yield block


def constant_columns(spread: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Which columns are constant: spread at most ``CONSTANT_TOLERANCE`` times ``|center|``.

    Scalers give such a column scale 1, so that it is shifted by its centre, not divided by a
    zero (or rounding-sized) spread into NaN, inf or noise.
    """
    return spread <= CONSTANT_TOLERANCE * np.abs(center)


def check_passthrough(value: Any, owner: str) -> None:
    """Raise ``ValueError`` unless ``value`` is a valid ``passthrough`` field.

    Valid: ``()``; a tuple of column indices (ints >= 0) applied to every leaf; or a tuple with
    one tuple of column indices per data leaf (in ``jax.tree.leaves`` order).
    """
    per_leaf = all(isinstance(entry, tuple) for entry in value) if value else False
    entries = value if per_leaf else (value,)
    if not isinstance(value, tuple) or not all(
        isinstance(entry, tuple) and all(_is_index(i) for i in entry) for entry in entries
    ):
        raise ValueError(
            f"field 'passthrough' of {owner} is {value!r}; give a tuple of column indices to "
            "leave alone in every leaf, e.g. (0, 3), or one such tuple per data leaf, e.g. "
            "((0,), ()), in the order of jax.tree.leaves"
        )


def passthrough_per_leaf(value: tuple, sizes: list[int], owner: str) -> list[tuple[int, ...]]:
    """The columns to leave alone in each leaf (``sizes``: each leaf's feature count).

    Raises ``ShapeError`` when a per-leaf ``value`` has the wrong number of entries or an index
    is not a column of its leaf.
    """
    per_leaf = bool(value) and all(isinstance(entry, tuple) for entry in value)
    if per_leaf and len(value) != len(sizes):
        raise ShapeError(
            f"field 'passthrough' of {owner} has {len(value)} entries but the data has "
            f"{len(sizes)} leaves; give one tuple of column indices per leaf"
        )
    columns = list(value) if per_leaf else [value] * len(sizes)
    for leaf, (skip, size) in enumerate(zip(columns, sizes, strict=True)):
        if any(index >= size for index in skip):
            raise ShapeError(
                f"field 'passthrough' of {owner} names column {max(skip)} of data leaf {leaf}, "
                f"which has {size} features (columns 0 to {size - 1})"
            )
    return columns


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
