"""``GroupNorm``: normalise each sample over groups of channels (Wu & He, 2018).

Examples
--------
>>> params, state = GroupNorm(groups=2).init(jax.random.key(0), (5, 4))
>>> GroupNorm(groups=2)(params, jnp.ones((3, 5, 4)))[0].shape
(3, 5, 4)
"""

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Inexact

from pmm._dtypes import canonical_dtype, check_x64
from pmm._validation import array_shape, check_bool, check_int, check_number, feature_size
from pmm.errors import ShapeError
from pmm.module import Module
from pmm.nn._normalize import affine, moments, scale_and_bias, statistics_view
from pmm.typing import DataShape, DictParams, State


class GroupNorm(Module):
    """Split the channels (last axis) into ``groups`` groups of consecutive channels and
    normalise each group of each sample over its channels and every spatial axis.

    For data ``(batch, *spatial, channels)`` with ``channels = groups * size``, group ``g`` of a
    sample holds channels ``g * size`` to ``(g + 1) * size - 1`` at every spatial position, and
    ``y = (x - mean_g) / sqrt(var_g + epsilon) * scale + bias`` with the (biased) mean and
    variance of that group. No batch statistics and no state: the same in training and
    evaluation. ``groups=1`` normalises over all channels and positions (a LayerNorm over the
    whole sample); ``groups=channels`` is InstanceNorm. Parameters ``{"scale": (channels,)}``
    (ones) when ``use_scale`` and ``{"bias": (channels,)}`` (zeros) when ``use_bias``. For complex
    data the variance is ``mean(|x - mean|^2)``. Shapes: ``(batch, *spatial, channels)`` to the
    same.

    Examples
    --------
    >>> GroupNorm(groups=4).output_shape((8, 8, 16))
    (8, 8, 16)
    """

    groups: int
    epsilon: float = 1e-5
    use_scale: bool = True
    use_bias: bool = True
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "GroupNorm"))
        super().__post_init__()
        check_int(self.groups, "groups", "GroupNorm", minimum=1)
        check_number(self.epsilon, "epsilon", "GroupNorm", lambda e: e > 0, "a positive number")
        check_bool(self.use_scale, "use_scale", "GroupNorm")
        check_bool(self.use_bias, "use_bias", "GroupNorm")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        channels = self._channels(input_shape)
        return scale_and_bias(channels, self.dtype, self.use_scale, self.use_bias, "GroupNorm"), ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size *spatial channels"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *spatial channels"], State]:
        values = statistics_view(data, self.dtype)
        grouped = values.reshape(*data.shape[:-1], self.groups, data.shape[-1] // self.groups)
        spatial_and_channels = (*range(1, data.ndim - 1), -1)
        mean, var = moments(grouped, spatial_and_channels)
        normalised = ((grouped - mean) / jnp.sqrt(var + self.epsilon)).reshape(data.shape)
        scale, bias = params.get("scale"), params.get("bias")
        return affine(normalised, scale, bias, data, self.dtype), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        self._channels(input_shape)
        return array_shape(input_shape, "GroupNorm")

    def _channels(self, input_shape: DataShape) -> int:
        """The channel count of ``input_shape``; ``ShapeError`` unless ``groups`` divides it."""
        channels = feature_size(input_shape, "GroupNorm")
        if channels % self.groups:
            raise ShapeError(
                f"{self!r} splits the channels (last axis) into {self.groups} equal groups, but "
                f"input_shape {array_shape(input_shape, 'GroupNorm')} has {channels} channels; "
                f"give a number of groups that divides {channels}"
            )
        return channels
