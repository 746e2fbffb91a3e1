"""``LogSumExp``: ``log(sum(exp(x)))`` over one axis of each sample, computed stably.

Examples
--------
>>> LogSumExp(axis=-1).output_shape((4, 3))
(4,)
"""

from typing import Any

import jax
from jaxtyping import Array, Float

from pmm._validation import array_shape, check_axis, check_bool, sample_axis
from pmm.module import Parameterless
from pmm.typing import DataShape, State


class LogSumExp(Parameterless):
    r"""``log(sum_i exp(x_i))`` over axis ``axis`` of real data (``jax.nn.logsumexp``): a smooth
    maximum, and the log-partition function of the energies :math:`-x_i`.

    ``axis`` counts the batch axis (it may not be ``0``). The axis is removed, or kept with size
    one when ``keepdims``. Computed as ``m + log(sum(exp(x - m)))`` with ``m`` the maximum, so
    large values do not overflow. No params, no state. Shapes: ``(batch, *before, n, *after)`` to
    ``(batch, *before, *after)`` (``(batch, *before, 1, *after)`` with ``keepdims``).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> LogSumExp()((), jnp.log(jnp.array([[1.0, 2.0, 5.0]])))[0]
    Array([2.0794415], dtype=float32)
    """

    axis: int = -1
    keepdims: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_axis(self.axis, "axis", "LogSumExp")
        check_bool(self.keepdims, "keepdims", "LogSumExp")

    def apply(
        self,
        params: tuple[()],
        data: Float[Array, " batch_size ..."],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Float[Array, " batch_size ..."], State]:
        return jax.nn.logsumexp(data, axis=self.axis, keepdims=self.keepdims), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        shape = array_shape(input_shape, "LogSumExp")
        index = sample_axis(self.axis, shape, "LogSumExp")
        return (*shape[:index], *((1,) if self.keepdims else ()), *shape[index + 1 :])
