"""The trainable per-feature ``scale`` and ``bias`` that normalisation layers end with.

Examples
--------
>>> params = scale_and_bias(3, "float32", use_scale=True, use_bias=False)
>>> sorted(params), scaled_and_shifted(jnp.ones((2, 3)), params).shape
(['scale'], (2, 3))
"""

import jax
import jax.numpy as jnp

from pmm.typing import DictParams


def scale_and_bias(size: int, dtype: str, use_scale: bool, use_bias: bool) -> DictParams:
    """``{"scale": ones(size)}`` if ``use_scale``, ``{"bias": zeros(size)}`` if ``use_bias``."""
    params = {}
    if use_scale:
        params["scale"] = jnp.ones((size,), dtype)
    if use_bias:
        params["bias"] = jnp.zeros((size,), dtype)
    return params


def scaled_and_shifted(normalised: jax.Array, params: DictParams) -> jax.Array:
    """``normalised * scale + bias`` on the last axis, with whichever of the two ``params`` has."""
    if "scale" in params:
        normalised = normalised * params["scale"]
    if "bias" in params:
        normalised = normalised + params["bias"]
    return normalised
