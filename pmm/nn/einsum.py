"""``Einsum``: contract the data with a trainable weight, ``jnp.einsum(equation, data, weight)``.

Examples
--------
>>> layer = Einsum(equation="bi,ij->bj", sizes={"j": 4})
>>> layer.output_shape((3,))
(4,)
"""

from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Inexact

from pmm._dtypes import as_dtype, canonical_dtype, check_x64, compute_dtype, normal
from pmm._validation import array_shape, check_array_size
from pmm.errors import ShapeError
from pmm.module import Module
from pmm.typing import DataShape, DictParams, State


class Einsum(Module):
    """``jnp.einsum(equation, data, weight)`` with a trainable ``weight``.

    ``equation`` names the data's axes, batch axis first, then the weight's, then the output's,
    which must start with the batch letter: ``"bi,ij->bj"`` is a linear map on the last axis,
    ``"bxi,ij->bxj"`` the same applied at every ``x``. Only letters, no ``...``; the weight may
    not use the batch letter. Weight letters that appear in the data take their size from the
    input shape; the others take it from ``sizes`` (a dict, or pairs, letter -> size; stored as a
    sorted tuple of pairs so the module stays hashable).

    Parameters ``{"weight": weight_shape}``, LeCun-normal: variance ``1 / fan_in``, where
    ``fan_in`` is the product of the sizes of the weight letters summed over (in the data, not in
    the output); complex dtypes split the variance between real and imaginary parts. Shapes:
    ``(batch, *data letters)`` to ``(batch, *output letters)``.

    Examples
    --------
    >>> Einsum(equation="bxi,ij->bxj", sizes={"j": 2}).output_shape((None, 3))
    (None, 2)
    """

    equation: str
    sizes: Mapping[str, int] | tuple[tuple[str, int], ...] = ()
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if isinstance(self.sizes, Mapping):
            object.__setattr__(self, "sizes", tuple(sorted(self.sizes.items())))
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "Einsum"))
        super().__post_init__()
        data, weight, _ = self._operands()
        self._check_sizes(data, weight)

    def _operands(self) -> tuple[str, str, str]:
        """The letters of the data, weight and output in ``equation``; ``ValueError`` if bad."""
        equation = self.equation
        if not isinstance(equation, str):
            raise _bad_equation(equation, "is not a string")
        inputs, arrow, output = equation.partition("->")
        operands = inputs.split(",")
        if not arrow or len(operands) != 2:
            raise _bad_equation(equation, "needs the form 'data,weight->output'")
        data, weight = operands
        letters = data + weight + output
        if not (letters.isalpha() and letters.isascii()):
            raise _bad_equation(equation, "may hold only letters (no spaces, no '...')")
        if not data or output[:1] != data[0]:
            raise _bad_equation(equation, "needs the batch letter first in the data and output")
        if data[0] in weight:
            raise _bad_equation(equation, "uses the batch letter in the weight")
        if len(set(output)) != len(output) or not set(output) <= set(data + weight):
            raise _bad_equation(equation, "needs distinct output letters, each from an operand")
        return data, weight, output

    def _check_sizes(self, data: str, weight: str) -> None:
        sizes = self.sizes
        if not isinstance(sizes, tuple) or not all(
            isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
            for pair in sizes
        ):
            raise ValueError(f"field 'sizes' of Einsum is {sizes!r}; give a dict letter -> size")
        missing = sorted(set(weight) - set(data) - {letter for letter, _ in sizes})
        if missing:
            raise ValueError(
                f"field 'sizes' of Einsum has no size for the weight letters {missing} of "
                f"{self.equation!r}, which are not in the data; add them, e.g. sizes={{'j': 8}}"
            )
        for letter, size in sizes:
            if letter not in weight or letter in data:
                raise ValueError(
                    f"field 'sizes' of Einsum gives a size for {letter!r}, which is not a weight "
                    f"letter missing from the data in {self.equation!r}; give sizes only for those"
                )
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ValueError(
                    f"field 'sizes' of Einsum gives {letter!r} size {size!r}; give an int >= 1"
                )

    def _letter_sizes(self, input_shape: DataShape) -> dict[str, int | None]:
        """Sizes of every letter for ``input_shape``; ``ShapeError`` if the ranks disagree."""
        data, _, _ = self._operands()
        shape = array_shape(input_shape, "Einsum")
        if len(shape) != len(data) - 1:
            raise ShapeError(
                f"Einsum {self.equation!r} names {len(data) - 1} axes of each sample, but "
                f"input_shape {shape!r} has {len(shape)}; match the data operand to the input"
            )
        sizes: dict[str, int | None] = dict(self.sizes)
        for letter, size in zip(data[1:], shape, strict=True):
            if sizes.get(letter) not in (None, size) and size is not None:
                raise ShapeError(
                    f"Einsum {self.equation!r} repeats {letter!r} in the data, whose axes have "
                    f"sizes {sizes[letter]} and {size} in input_shape {shape!r}; a repeated "
                    "letter needs equal sizes"
                )
            sizes[letter] = size if size is not None else sizes.get(letter)
        return sizes

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        data, weight, output = self._operands()
        sizes = self._letter_sizes(input_shape)
        unknown = [letter for letter in weight if sizes[letter] is None]
        if unknown:
            raise ShapeError(
                f"the weight of Einsum {self.equation!r} takes the sizes of {unknown} from the "
                f"input, but input_shape {input_shape!r} leaves them None; give those sizes"
            )
        shape = tuple(int(sizes[letter]) for letter in weight)  # type: ignore[arg-type]
        cause = f"field 'sizes' ({dict(self.sizes)}) or the input sizes ({sizes})"
        check_array_size(shape, self.dtype, "Einsum's weight", cause)
        fan_in = 1
        for letter in set(weight) & set(data) - set(output):
            fan_in *= int(sizes[letter])  # type: ignore[arg-type]
        # An empty summed axis (fan_in 0) leaves the weight empty: any variance will do.
        return {"weight": normal(rng, shape, self.dtype, variance=1 / max(fan_in, 1))}, ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size ..."],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size ..."], State]:
        dtype = compute_dtype(data, self.dtype)
        return jnp.einsum(
            self.equation, as_dtype(data, dtype), as_dtype(params["weight"], dtype)
        ), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        _, _, output = self._operands()
        sizes = self._letter_sizes(input_shape)
        return tuple(sizes[letter] for letter in output[1:])


def _bad_equation(equation: Any, problem: str) -> ValueError:
    return ValueError(
        f"field 'equation' of Einsum is {equation!r}, which {problem}; "
        "e.g. 'bi,ij->bj' for a linear map on the last axis"
    )
