"""``RMSNorm``: scale each sample's features by their root mean square (Zhang & Sennrich, 2019).

Examples
--------
>>> params, state = RMSNorm().init(jax.random.key(0), (2,))
>>> RMSNorm(epsilon=1e-12)(params, jnp.array([[1.0, 7.0]]))[0]
Array([[0.2, 1.4]], dtype=float32)
"""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Inexact

from pmm._dtypes import canonical_dtype, check_x64
from pmm._validation import array_shape, check_bool, check_number, feature_size
from pmm.module import Module
from pmm.nn._normalize import affine, scale_and_bias, statistics_view
from pmm.typing import DataShape, DictParams, State


class RMSNorm(Module):
    """Divide each sample by the root mean square of its last axis, then scale per feature.

    ``y = x / sqrt(mean(|x|^2) + epsilon) * scale``, the mean taken over the last axis of each
    sample (no centring, no bias: LayerNorm without its mean, as in T5 and Llama). Parameters
    ``{"scale": (features,)}`` (ones) when ``use_scale``, else none. ``epsilon`` defaults to
    ``1e-6`` (Flax, T5). Complex data uses ``|x|^2``. Shapes: ``(batch, *rest, features)`` to the
    same.

    Examples
    --------
    >>> RMSNorm(use_scale=False).init(jax.random.key(0), (3,))
    ({}, ())
    """

    epsilon: float = 1e-6
    use_scale: bool = True
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "RMSNorm"))
        super().__post_init__()
        check_number(self.epsilon, "epsilon", "RMSNorm", lambda e: e > 0, "a positive number")
        check_bool(self.use_scale, "use_scale", "RMSNorm")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        size = feature_size(input_shape, "RMSNorm")
        return scale_and_bias(size, self.dtype, self.use_scale, False, "RMSNorm"), ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size *rest features"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *rest features"], State]:
        values = statistics_view(data, self.dtype)
        mean_square = jnp.mean(jnp.real(values * jnp.conj(values)), axis=-1, keepdims=True)
        normalised = values / jnp.sqrt(mean_square + self.epsilon)
        scale, bias = params.get("scale"), params.get("bias")
        return affine(normalised, scale, bias, data, self.dtype), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        feature_size(input_shape, "RMSNorm")
        return array_shape(input_shape, "RMSNorm")
