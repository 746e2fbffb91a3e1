"""``MatMul``: multiply each sample by a trainable matrix along a chosen axis.

Examples
--------
>>> import jax
>>> layer = MatMul(features=2, axis=-2)
>>> params, _ = layer.init(jax.random.key(0), (4, 3))
>>> params["weight"].shape, layer.output_shape((4, 3))
((4, 2), (2, 3))
"""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Inexact

from pmm._dtypes import as_dtype, canonical_dtype, check_x64, compute_dtype
from pmm._validation import array_shape, check_axis, check_int, sample_axis
from pmm.errors import ShapeError
from pmm.module import Module
from pmm.nn.initializers import check_initializer, dense_weight
from pmm.typing import DataShape, DictParams, State


class MatMul(Module):
    """Contract axis ``axis`` of each sample with a trainable ``weight``: ``in`` becomes
    ``features`` in place, ``y[..., j, ...] = sum_i x[..., i, ...] weight[i, j]``.

    ``axis`` counts the batch axis (it may not be ``0``); ``-1`` is ``Linear`` without a bias,
    and for matrix samples ``X`` of shape ``(n, m)``, ``axis=-2`` gives ``weight^T X`` (mixing
    rows) where ``axis=-1`` gives ``X weight`` (mixing columns). Parameters
    ``{"weight": (in, features)}`` drawn by ``kernel_init`` (``fan_in = in``,
    ``fan_out = features``; default LeCun normal, variance ``1 / in``). Shapes:
    ``(batch, *before, in, *after)`` to ``(batch, *before, features, *after)``.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> layer = MatMul(features=1, kernel_init="zeros")
    >>> params, _ = layer.init(jax.random.key(0), (3,))
    >>> layer(params, jnp.ones((2, 3)))[0]
    Array([[0.],
           [0.]], dtype=float32)
    """

    features: int
    axis: int = -1
    dtype: str = "float32"
    kernel_init: str = "lecun_normal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "MatMul"))
        super().__post_init__()
        check_int(self.features, "features", "MatMul", minimum=1)
        check_axis(self.axis, "axis", "MatMul")
        check_initializer(self.kernel_init, "kernel_init", "MatMul")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        size = self._contracted(input_shape)
        weight = dense_weight(self, rng, size, "the size of the contracted axis")
        return {"weight": weight}, ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size ..."],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size ..."], State]:
        dtype = compute_dtype(data, self.dtype)
        weight = as_dtype(params["weight"], dtype)
        product = jnp.tensordot(as_dtype(data, dtype), weight, axes=((self.axis,), (0,)))
        return jnp.moveaxis(product, -1, self.axis), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        self._contracted(input_shape)
        shape = array_shape(input_shape, "MatMul")
        index = sample_axis(self.axis, shape, "MatMul")
        return (*shape[:index], self.features, *shape[index + 1 :])

    def _contracted(self, input_shape: DataShape) -> int:
        """The known size of the axis the weight contracts."""
        shape = array_shape(input_shape, "MatMul")
        size = shape[sample_axis(self.axis, shape, "MatMul")]
        if size is None:
            raise ShapeError(
                f"MatMul contracts axis {self.axis}, whose size must be known, but input_shape is "
                f"{shape!r}; give that size in place of None"
            )
        return size
