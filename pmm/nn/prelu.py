"""``PReLU``: a rectifier whose negative slope is learned (He et al., 2015).

Examples
--------
>>> params, state = PReLU().init(jax.random.key(0), (3,))
>>> PReLU()(params, jnp.array([[-4.0, 0.0, 2.0]]))[0]
Array([[-1.,  0.,  2.]], dtype=float32)
"""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Float

from pmm._dtypes import as_dtype, canonical_real_dtype, check_x64, compute_dtype
from pmm._validation import array_shape, check_bool, check_number, feature_size
from pmm.module import Module
from pmm.typing import DataShape, DictParams, State


class PReLU(Module):
    """``x`` where ``x >= 0``, else ``slope * x``, with a trainable ``slope``.

    ``per_feature=True`` (default) learns one slope per feature, the last axis (the
    channel-wise PReLU of He et al., 2015, "Delving deep into rectifiers"); ``per_feature=False``
    learns one scalar slope shared by every entry (PyTorch's ``nn.PReLU()`` default, Flax's
    ``nnx.PReLU``). Every slope starts at ``initial_slope`` (0.25, as in the paper and PyTorch).
    The slope is not constrained: a slope above one is allowed, as in the paper.

    Parameters ``{"slope": (features,)}``, or ``{"slope": ()}`` when shared. Real dtypes only
    (the sign of a complex number is not defined). Shapes: ``(batch, *rest, features)`` to the
    same.

    Examples
    --------
    >>> PReLU(per_feature=False).init(jax.random.key(0), (4,))[0]["slope"]
    Array(0.25, dtype=float32)
    """

    initial_slope: float = 0.25
    per_feature: bool = True
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_real_dtype(self.dtype, "dtype", "PReLU"))
        super().__post_init__()
        check_number(self.initial_slope, "initial_slope", "PReLU")
        check_bool(self.per_feature, "per_feature", "PReLU")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        size = feature_size(input_shape, "PReLU")
        shape = (size,) if self.per_feature else ()
        return {"slope": jnp.full(shape, self.initial_slope, self.dtype)}, ()

    def apply(
        self,
        params: DictParams,
        data: Float[Array, " batch_size *rest features"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Float[Array, " batch_size *rest features"], State]:
        data = as_dtype(data, compute_dtype(data, self.dtype))
        return jnp.where(data >= 0, data, as_dtype(params["slope"], data.dtype) * data), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        feature_size(input_shape, "PReLU")
        return array_shape(input_shape, "PReLU")
