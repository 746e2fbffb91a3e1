"""Affine layers: ``Linear`` (a dense map on the last axis) and ``Bias`` (a trainable offset).

Examples
--------
>>> import jax
>>> params, state = Linear(features=2).init(jax.random.key(0), (3,))
>>> Linear(features=2)(params, jnp.ones((5, 3)))[0].shape
(5, 2)
"""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Inexact

from pmm._dtypes import canonical_dtype, check_x64, normal
from pmm._validation import array_shape, check_bool, check_int, feature_size, known_shape
from pmm.module import Module
from pmm.typing import DataShape, DictParams, State


class Linear(Module):
    """``data @ weight + bias`` on the last axis of one array.

    Parameters ``{"weight": (in, features), "bias": (features,)}`` (no ``"bias"`` when
    ``use_bias=False``). The weight is LeCun-normal, variance ``1 / in``; complex dtypes draw the
    real and imaginary parts each with variance ``1 / (2 in)``. The bias starts at zero.

    Shapes: ``(batch, *rest, in)`` to ``(batch, *rest, features)``.

    Examples
    --------
    >>> Linear(features=4).output_shape((None, 3))
    (None, 4)
    """

    features: int
    use_bias: bool = True
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "Linear"))
        super().__post_init__()
        check_int(self.features, "features", "Linear", minimum=1)
        check_bool(self.use_bias, "use_bias", "Linear")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        size = feature_size(input_shape, "Linear")
        params = {"weight": normal(rng, (size, self.features), self.dtype, variance=1 / size)}
        if self.use_bias:
            params["bias"] = jnp.zeros((self.features,), self.dtype)
        return params, ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size *rest in_features"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *rest out_features"], State]:
        output = data @ params["weight"]
        if self.use_bias:
            output = output + params["bias"]
        return output, state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        feature_size(input_shape, "Linear")
        return (*array_shape(input_shape, "Linear")[:-1], self.features)


class Bias(Module):
    """``data + bias`` with a trainable ``bias`` of the full per-sample shape, starting at zero.

    Parameters ``{"bias": input_shape}``. Shapes: ``(batch, *shape)`` to ``(batch, *shape)``.

    Examples
    --------
    >>> import jax
    >>> Bias().init(jax.random.key(0), (2, 3))[0]["bias"].shape
    (2, 3)
    """

    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "Bias"))
        super().__post_init__()

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        return {"bias": jnp.zeros(known_shape(input_shape, "Bias"), self.dtype)}, ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size *shape"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *shape"], State]:
        return data + params["bias"], state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        return known_shape(input_shape, "Bias")
