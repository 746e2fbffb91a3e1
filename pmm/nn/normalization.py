"""Normalisation layers: ``BatchNorm`` (over the batch, with running statistics) and
``LayerNorm`` (over the features of each sample).

Both centre and scale the data, then apply a trainable ``scale`` and offset per feature (the last
axis). For complex data the variance is ``mean(|x - mean|^2)``.

Examples
--------
>>> import jax
>>> params, state = LayerNorm().init(jax.random.key(0), (3,))
>>> LayerNorm()(params, jax.numpy.arange(6.0).reshape(2, 3))[0].shape
(2, 3)
"""

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Inexact

from pmm._dtypes import canonical_dtype, check_x64, real_dtype, statistics_dtype
from pmm._validation import array_shape, check_bool, check_number, feature_size
from pmm.errors import ShapeError
from pmm.module import Module
from pmm.nn._normalize import (
    affine,
    check_feature_arrays,
    moments,
    scale_and_bias,
    statistics_view,
)
from pmm.typing import DataShape, DictParams, DictState, State


def _check_epsilon(epsilon: Any, owner: str) -> None:
    check_number(epsilon, "epsilon", owner, lambda e: e > 0, "a positive number")


class BatchNorm(Module):
    """Normalise each feature (last axis) over every other axis, batch included.

    ``y = (x - mean) / sqrt(var + epsilon) * scale + offset``. When training, ``mean`` and
    ``var`` are the statistics of the data (``var`` biased: the mean squared deviation, also in
    the running ``var``), and the running statistics in the state move towards them:
    ``running = momentum * running + (1 - momentum) * batch``, so ``momentum`` is the weight
    kept by the old value. Training needs at least two values per feature (a batch of one
    sample with no other axes has no variance); a batch with no values at all (0 samples)
    leaves the running statistics unchanged. Otherwise the running statistics are used and the
    state is returned unchanged. Complex data needs a complex ``dtype``.

    Parameters ``{"scale": (features,), "offset": (features,)}`` (ones and zeros); state
    ``{"mean": (features,), "var": (features,)}`` (zeros and ones; ``var`` has the real dtype of
    ``dtype``). With a half-precision ``dtype`` the state is float32, and the statistics and the
    normalisation are computed in float32 (a running average moving by 1% a step would stall
    in bfloat16's 8 significant bits); only the output is rounded to ``dtype``. Shapes:
    ``(batch, *rest, features)`` to the same.

    Examples
    --------
    >>> import jax
    >>> BatchNorm().init(jax.random.key(0), (3,))[1]["var"]
    Array([1., 1., 1.], dtype=float32)
    """

    momentum: float = 0.99
    epsilon: float = 1e-5
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "BatchNorm"))
        super().__post_init__()
        check_number(
            self.momentum, "momentum", "BatchNorm", lambda m: 0 <= m <= 1, "a number in [0, 1]"
        )
        _check_epsilon(self.epsilon, "BatchNorm")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, DictState]:
        check_x64(self.dtype, repr(self))
        size = feature_size(input_shape, "BatchNorm")
        check_feature_arrays(size, self.dtype, "BatchNorm")
        params = {"scale": jnp.ones(size, self.dtype), "offset": jnp.zeros(size, self.dtype)}
        statistics = statistics_dtype(self.dtype)
        state = {"mean": jnp.zeros(size, statistics), "var": jnp.ones(size, real_dtype(statistics))}
        return params, state

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size *rest features"],
        training: bool,
        state: DictState,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *rest features"], DictState]:
        if not isinstance(state, dict) or sorted(state) != ["mean", "var"]:
            raise ShapeError(
                f"{self!r} keeps running statistics in its state, so it needs the state its init "
                f"returned ({{'mean', 'var'}}), got {jax.tree.structure(state)}; call "
                "model(params, x, training, state, rng) with the state from model.init"
            )
        if jnp.iscomplexobj(data) and not jnp.iscomplexobj(state["mean"]):
            raise ShapeError(
                f"{self!r} keeps real running statistics, got complex data "
                f"{data.dtype}{list(data.shape)}; give BatchNorm a complex dtype, e.g. "
                "dtype='complex64'"
            )
        if training and 0 < data.size == data.shape[-1]:
            raise ShapeError(
                f"{self!r} in training normalises each feature over the batch and the other "
                f"non-feature axes, but data {data.dtype}{list(data.shape)} has one value per "
                "feature (no variance); train with batches of at least 2 samples"
            )
        values = statistics_view(data, self.dtype)
        if training and data.size:  # an empty batch has no statistics: keep the running ones
            mean, var = moments(values, tuple(range(data.ndim - 1)))
            mean, var = mean.reshape(-1), var.reshape(-1)
            new_state = {
                name: (self.momentum * state[name] + (1 - self.momentum) * batch).astype(
                    state[name].dtype
                )
                for name, batch in (("mean", mean), ("var", var))
            }
        else:
            mean, var, new_state = state["mean"], state["var"], state
        normalised = (values - mean) / jnp.sqrt(var + self.epsilon)
        output = affine(normalised, params["scale"], params["offset"], data, self.dtype)
        return output, new_state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        feature_size(input_shape, "BatchNorm")
        return array_shape(input_shape, "BatchNorm")


class LayerNorm(Module):
    """Normalise each sample over its last axis.

    ``y = (x - mean) / sqrt(var + epsilon) * scale + bias`` with ``mean`` and ``var`` taken over
    the last axis of each sample. Parameters ``{"scale": (features,)}`` (ones) when
    ``use_scale`` and ``{"bias": (features,)}`` (zeros) when ``use_bias``. With a
    half-precision ``dtype`` the statistics and the normalisation are computed in float32 and
    the output is rounded to ``dtype``. Shapes: ``(batch, *rest, features)`` to the same.

    Examples
    --------
    >>> import jax
    >>> sorted(LayerNorm(use_bias=False).init(jax.random.key(0), (3,))[0])
    ['scale']
    """

    epsilon: float = 1e-5
    use_scale: bool = True
    use_bias: bool = True
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "LayerNorm"))
        super().__post_init__()
        _check_epsilon(self.epsilon, "LayerNorm")
        check_bool(self.use_scale, "use_scale", "LayerNorm")
        check_bool(self.use_bias, "use_bias", "LayerNorm")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        size = feature_size(input_shape, "LayerNorm")
        return scale_and_bias(size, self.dtype, self.use_scale, self.use_bias, "LayerNorm"), ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size *rest features"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *rest features"], State]:
        values = statistics_view(data, self.dtype)
        mean, var = moments(values, (-1,))
        normalised = (values - mean) / jnp.sqrt(var + self.epsilon)
        scale, bias = params.get("scale"), params.get("bias")
        return affine(normalised, scale, bias, data, self.dtype), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        feature_size(input_shape, "LayerNorm")
        return array_shape(input_shape, "LayerNorm")
