"""``Standardize``: each sample to zero mean and unit variance, with no trainable parameters.

Examples
--------
>>> import jax.numpy as jnp
>>> Standardize()((), jnp.array([[1.0, 2.0, 3.0]]))[0].round(3)
Array([[-1.225,  0.   ,  1.225]], dtype=float32)
"""

from typing import Any

from jaxtyping import Array, Inexact

from pmm._validation import array_shape, check_axis, sample_axis
from pmm.errors import ShapeError
from pmm.module import Parameterless
from pmm.nn._normalize import moments
from pmm.nn.normalization import _check_epsilon
from pmm.typing import DataShape, State


class Standardize(Parameterless):
    """``(x - mean) / sqrt(var + epsilon)`` with ``mean`` and ``var`` taken per sample.

    Over every axis of the sample by default (``axis=None``), or over the axes ``axis`` names
    (an int or a tuple of ints counting the batch axis, never ``0``): ``axis=-1`` is ``LayerNorm``
    without its scale and bias. The variance is the biased one (the mean squared deviation);
    for complex data it is ``mean(|x - mean|^2)``. No params, no state. Shapes: kept.

    Examples
    --------
    >>> Standardize(axis=-1).output_shape((4, 3))
    (4, 3)
    """

    axis: int | tuple[int, ...] | None = None
    epsilon: float = 1e-5

    def __post_init__(self) -> None:
        super().__post_init__()
        for axis in self._axes_given():
            check_axis(axis, "axis", "Standardize")
        if isinstance(self.axis, tuple) and (
            not self.axis or len(set(self.axis)) != len(self.axis)
        ):
            raise ValueError(
                f"field 'axis' of Standardize is {self.axis!r}; give distinct axes, or None "
                "for every axis of the sample"
            )
        _check_epsilon(self.epsilon, "Standardize")

    def _axes_given(self) -> tuple[Any, ...]:
        if self.axis is None:
            return ()
        return self.axis if isinstance(self.axis, tuple) else (self.axis,)

    def apply(
        self,
        params: tuple[()],
        data: Inexact[Array, " batch_size ..."],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size ..."], State]:
        axes = self._axes_given() or tuple(range(1, data.ndim))
        mean, var = moments(data, axes)
        return (data - mean) / (var + self.epsilon) ** 0.5, state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        shape = array_shape(input_shape, "Standardize")
        indices = [sample_axis(axis, shape, "Standardize") for axis in self._axes_given()]
        if len(set(indices)) != len(indices):
            raise ShapeError(
                f"field 'axis' of Standardize, {self.axis!r}, names one axis twice for samples "
                f"of shape {shape!r}"
            )
        return shape
