"""Per-sample reshaping: ``Flatten`` and ``Reshape``; the batch axis is never touched.

Examples
--------
>>> Flatten().output_shape((2, 3))
(6,)
>>> Reshape(shape=(3, -1)).output_shape((2, 3))
(3, 2)
"""

import math
from typing import Any

from jaxtyping import Array, Inexact

from pmm._validation import array_shape
from pmm.errors import ShapeError
from pmm.module import Parameterless
from pmm.typing import DataShape, State


class Flatten(Parameterless):
    """Flatten each sample into one axis: ``(batch, *shape)`` to ``(batch, prod(shape))``.

    A scalar per sample (shape ``()``) becomes ``(1,)``; an unknown (``None``) size gives an
    unknown flat size. No params, no state.

    Examples
    --------
    >>> Flatten().output_shape((None, 3))
    (None,)
    """

    def apply(
        self,
        params: tuple[()],
        data: Inexact[Array, " batch_size ..."],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size flat"], State]:
        return data.reshape(data.shape[0], math.prod(data.shape[1:])), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        shape = array_shape(input_shape, "Flatten")
        return (None,) if None in shape else (math.prod(shape),)  # type: ignore[arg-type]


class Reshape(Parameterless):
    """Reshape each sample to ``shape``: ``(batch, *in_shape)`` to ``(batch, *shape)``.

    One entry of ``shape`` may be ``-1``: it takes the size that keeps the number of entries.
    No params, no state.

    Examples
    --------
    >>> Reshape(shape=(-1,)).output_shape((2, 3))
    (6,)
    """

    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        super().__post_init__()
        shape = self.shape
        if (
            not isinstance(shape, tuple)
            or any(isinstance(n, bool) or not isinstance(n, int) or n < -1 for n in shape)
            or shape.count(-1) > 1
        ):
            raise ValueError(
                f"field 'shape' of Reshape is {shape!r}; give a tuple of sizes >= 0 without the "
                "batch axis, with at most one -1 for the size to infer, e.g. (3, -1)"
            )

    def apply(
        self,
        params: tuple[()],
        data: Inexact[Array, " batch_size ..."],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size ..."], State]:
        return data.reshape(data.shape[0], *self.output_shape(tuple(data.shape[1:]))), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        shape = array_shape(input_shape, "Reshape")
        known = math.prod(n for n in self.shape if n != -1)
        if None in shape:
            return tuple(None if n == -1 else n for n in self.shape)
        size = math.prod(shape)  # type: ignore[arg-type]
        if -1 in self.shape and known and size % known == 0:
            return tuple(size // known if n == -1 else n for n in self.shape)
        if -1 not in self.shape and known == size:
            return self.shape
        raise ShapeError(
            f"cannot reshape samples of shape {shape!r} ({size} entries) to {self.shape!r}; "
            "give a shape with the same number of entries, or -1 for one size to infer"
        )
