"""The maths normalisation layers share: moments, the dtype statistics are computed in, and the
trainable per-feature ``scale`` and ``bias`` they end with.

Half-precision layers compute their statistics and the normalisation in float32 and return their
own dtype (see ``pmm._dtypes.statistics_dtype``); other layers follow JAX's type promotion.

Examples
--------
>>> params = scale_and_bias(3, "float32", use_scale=True, use_bias=False, owner="RMSNorm")
>>> data = jnp.arange(6.0).reshape(2, 3)
>>> mean, var = moments(statistics_view(data, "bfloat16"), (-1,))
>>> affine((data - mean) / jnp.sqrt(var), params.get("scale"), None, data, "bfloat16").dtype
dtype(bfloat16)
"""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array

from pmm._dtypes import as_dtype, compute_dtype, statistics_dtype
from pmm._validation import check_array_size
from pmm.typing import DictParams


def check_feature_arrays(size: int, dtype: str, owner: str) -> None:
    """Refuse per-feature arrays no machine can hold, naming the input's last axis."""
    check_array_size(
        (size,), dtype, f"{owner}'s per-feature params", f"the input's last axis ({size})"
    )


def scale_and_bias(
    size: int, dtype: str, use_scale: bool, use_bias: bool, owner: str
) -> DictParams:
    """``{"scale": ones(size)}`` if ``use_scale``, ``{"bias": zeros(size)}`` if ``use_bias``;
    a size no machine can hold is a ``ValueError`` naming ``owner``."""
    check_feature_arrays(size, dtype, owner)
    params = {}
    if use_scale:
        params["scale"] = jnp.ones((size,), dtype)
    if use_bias:
        params["bias"] = jnp.zeros((size,), dtype)
    return params


def moments(data: Array, axes: tuple[int, ...]) -> tuple[Array, Array]:
    """Mean and (real, biased) variance of ``data`` over ``axes``, keeping those axes."""
    mean = jnp.mean(data, axis=axes, keepdims=True)
    centred = data - mean
    return mean, jnp.mean(jnp.real(centred * jnp.conj(centred)), axis=axes, keepdims=True)


def statistics_view(data: Array, dtype: str) -> Array:
    """``data`` in the dtype a normalisation layer of parameter ``dtype`` computes its
    statistics and the normalisation in: float32 for half-precision layers, else the layer's
    compute dtype (see ``pmm._dtypes``)."""
    return as_dtype(data, compute_dtype(data, statistics_dtype(dtype)))


def affine(normalised: Array, scale: Any, offset: Any, data: Array, dtype: str) -> Array:
    """``normalised * scale + offset`` (each optional: ``None``), returned in the compute dtype
    of the layer for ``data``."""
    output = normalised
    if scale is not None:
        output = output * as_dtype(scale, output.dtype)
    if offset is not None:
        output = output + as_dtype(offset, output.dtype)
    return as_dtype(output, compute_dtype(data, dtype))
