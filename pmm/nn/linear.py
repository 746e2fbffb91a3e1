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

from pmm._dtypes import as_dtype, canonical_dtype, check_x64, compute_dtype
from pmm._validation import (
    array_shape,
    check_array_size,
    check_bool,
    check_int,
    feature_size,
    known_shape,
)
from pmm.module import Module
from pmm.nn.initializers import check_initializer, dense_weight
from pmm.typing import DataShape, DictParams, State


class Linear(Module):
    """``data @ weight + bias`` on the last axis of one array.

    Parameters ``{"weight": (in, features), "bias": (features,)}`` (no ``"bias"`` when
    ``use_bias=False``). The weight is drawn by ``kernel_init`` (a name from
    ``pmm.nn.initializers.INITIALIZERS``, with ``fan_in = in`` and ``fan_out = features``); the
    default ``"lecun_normal"`` has variance ``1 / in``, and complex dtypes draw the real and
    imaginary parts each with variance ``1 / (2 in)``. The bias starts at zero.

    Shapes: ``(batch, *rest, in)`` to ``(batch, *rest, features)``.

    Examples
    --------
    >>> Linear(features=4).output_shape((None, 3))
    (None, 4)
    >>> Linear(features=2, kernel_init="zeros").init(jax.random.key(0), (3,))[0]["weight"].sum()
    Array(0., dtype=float32)
    """

    features: int
    use_bias: bool = True
    dtype: str = "float32"
    kernel_init: str = "lecun_normal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "Linear"))
        super().__post_init__()
        check_int(self.features, "features", "Linear", minimum=1)
        check_bool(self.use_bias, "use_bias", "Linear")
        check_initializer(self.kernel_init, "kernel_init", "Linear")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        size = feature_size(input_shape, "Linear")
        weight = dense_weight(self, rng, size, "the input's last axis")
        params = {"weight": weight}
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
        weight = params["weight"]
        bias = params["bias"] if self.use_bias else None
        if data.dtype != weight.dtype:  # e.g. float32 data in a bfloat16 or complex layer
            dtype = compute_dtype(data, self.dtype)
            data, weight = as_dtype(data, dtype), as_dtype(weight, dtype)
            bias = None if bias is None else as_dtype(bias, dtype)
        output = data @ weight
        return (output if bias is None else output + bias), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        feature_size(input_shape, "Linear")
        return (*array_shape(input_shape, "Linear")[:-1], self.features)


class Bias(Module):
    """``data + bias`` with a trainable ``bias`` of the full per-sample shape, starting at zero;
    with ``scalar=True``, one trainable number added to every entry.

    Parameters ``{"bias": input_shape}`` (``{"bias": ()}`` when ``scalar``, for any input shape).
    Shapes: ``(batch, *shape)`` to ``(batch, *shape)``.

    Examples
    --------
    >>> import jax
    >>> Bias().init(jax.random.key(0), (2, 3))[0]["bias"].shape
    (2, 3)
    >>> Bias(scalar=True).init(jax.random.key(0), (2, None))[0]["bias"].shape
    ()
    """

    dtype: str = "float32"
    scalar: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "Bias"))
        super().__post_init__()
        check_bool(self.scalar, "scalar", "Bias")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        if self.scalar:
            array_shape(input_shape, "Bias")
            return {"bias": jnp.zeros((), self.dtype)}, ()
        shape = known_shape(input_shape, "Bias")
        check_array_size(shape, self.dtype, "Bias's bias", f"the input_shape {shape}")
        return {"bias": jnp.zeros(shape, self.dtype)}, ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size *shape"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *shape"], State]:
        dtype = compute_dtype(data, self.dtype)
        return as_dtype(data, dtype) + as_dtype(params["bias"], dtype), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        if self.scalar:
            return array_shape(input_shape, "Bias")
        return known_shape(input_shape, "Bias")
