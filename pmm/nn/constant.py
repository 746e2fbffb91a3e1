"""``Constant``: a fixed (or trainable) value for every sample, whatever the input.

Examples
--------
>>> Constant(value=(1.0, 2.0))((), jax.numpy.zeros((3, 5)))[0].shape
(3, 2)
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Inexact

from pmm._validation import check_bool
from pmm.module import Module
from pmm.shapes import validate_shape
from pmm.typing import Data, DataShape, DictParams, State


class Constant(Module):
    """Output ``value`` for every sample of the batch; the input's values are ignored.

    ``value`` is a number or a nested tuple of numbers (lists are frozen to tuples). Its dtype is
    JAX's default float (``float32``, or ``float64`` with x64 enabled), or the default complex
    dtype when it holds complex numbers. When ``trainable``, params are ``{"value": value}`` and
    the output is that param; otherwise params are ``()``. Shapes: any input (only its batch size
    is used) to ``(batch, *np.shape(value))``.

    Examples
    --------
    >>> Constant(value=((1.0, 0.0), (0.0, 1.0))).output_shape((3,))
    (2, 2)
    """

    value: Any
    trainable: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_bool(self.trainable, "trainable", "Constant")
        try:
            array = np.asarray(self.value) if _numbers_only(self.value) else None
        except ValueError:  # a ragged nest of tuples
            array = None
        if array is None or array.dtype.kind not in "iufc":
            raise ValueError(
                f"field 'value' of Constant is {self.value!r}; give a number or a nested tuple "
                "of numbers of rectangular shape, e.g. (1.0, 2.0)"
            )

    def _array(self) -> jax.Array:
        kind = complex if np.iscomplexobj(np.asarray(self.value)) else float
        return jnp.asarray(self.value, dtype=jnp.result_type(kind))

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams | tuple[()], State]:
        validate_shape(input_shape)
        return ({"value": self._array()} if self.trainable else ()), ()

    def apply(
        self,
        params: DictParams | tuple[()],
        data: Data,
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *value_shape"], State]:
        value = params["value"] if self.trainable else self._array()  # type: ignore[index]
        batch_size = jax.tree.leaves(data)[0].shape[0]
        return jnp.broadcast_to(value, (batch_size, *value.shape)), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        validate_shape(input_shape)
        return np.shape(self.value)


def _numbers_only(value: Any) -> bool:
    """Whether ``value`` is a number (not a bool) or a tuple tree of such numbers."""
    if isinstance(value, tuple):
        return all(_numbers_only(item) for item in value)
    return isinstance(value, int | float | complex) and not isinstance(value, bool)
