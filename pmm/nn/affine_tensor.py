"""``AffineTensor``: a tensor of any shape that is affine in the features, ``T0 + sum_i x_i T_i``.

Examples
--------
>>> import jax
>>> layer = AffineTensor(shape=(2, 2))
>>> params, _ = layer.init(jax.random.key(0), (3,))
>>> params["tensors"].shape, params["offset"].shape, layer.output_shape((3,))
((3, 2, 2), (2, 2), (2, 2))
"""

import math
from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Inexact

from pmm._dtypes import as_dtype, canonical_dtype, check_x64, compute_dtype
from pmm._validation import array_shape, check_array_size, check_bool, feature_size
from pmm.module import Module
from pmm.nn.initializers import check_initializer, initialize
from pmm.typing import DataShape, DictParams, State


class AffineTensor(Module):
    r"""The tensor :math:`T(x) = T_0 + \sum_{i=1}^{p} x_i T_i` of shape ``shape`` for features
    :math:`x \in \mathbb{R}^p` (the last axis).

    The general form of the affine families PMMs are built on, without the Hermitian structure
    of ``AffineHermitianMatrix``: a matrix, a vector of observables, a rank-3 coupling tensor.
    Parameters ``{"tensors": (p, *shape), "offset": shape}`` (no ``"offset"`` when
    ``bias_term=False``): the :math:`T_i` drawn by ``kernel_init`` (``fan_in = p``,
    ``fan_out = prod(shape)``; default LeCun normal, variance ``1 / p``) and :math:`T_0`
    starting at zero. Shapes: ``(batch, *rest, p)`` to ``(batch, *rest, *shape)``.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> layer = AffineTensor(shape=(2,), bias_term=False, kernel_init="zeros")
    >>> params, _ = layer.init(jax.random.key(0), (3,))
    >>> layer(params, jnp.ones((4, 3)))[0].shape
    (4, 2)
    """

    shape: tuple[int, ...]
    bias_term: bool = True
    dtype: str = "float32"
    kernel_init: str = "lecun_normal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "AffineTensor"))
        super().__post_init__()
        shape = self.shape
        if not isinstance(shape, tuple) or any(
            isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in shape
        ):
            raise ValueError(
                f"field 'shape' of AffineTensor is {shape!r}; give the tensor's shape as a tuple "
                "of sizes >= 0, e.g. (4, 4), or () for a scalar"
            )
        check_bool(self.bias_term, "bias_term", "AffineTensor")
        check_initializer(self.kernel_init, "kernel_init", "AffineTensor")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        features = feature_size(input_shape, "AffineTensor")
        check_array_size(
            (features, *self.shape),
            self.dtype,
            "AffineTensor's tensors",
            f"field 'shape' ({self.shape}) or the {features} input features",
        )
        tensors = initialize(
            self.kernel_init,
            rng,
            (features, *self.shape),
            self.dtype,
            fan_in=features,
            fan_out=math.prod(self.shape),
        )
        params = {"tensors": tensors}
        if self.bias_term:
            params["offset"] = jnp.zeros(self.shape, self.dtype)
        return params, ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size *rest features"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size ..."], State]:
        dtype = compute_dtype(data, self.dtype)
        output = jnp.tensordot(as_dtype(data, dtype), as_dtype(params["tensors"], dtype), axes=1)
        if self.bias_term:
            output = output + as_dtype(params["offset"], dtype)
        return output, state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        feature_size(input_shape, "AffineTensor")
        return (*array_shape(input_shape, "AffineTensor")[:-1], *self.shape)
