"""``Conv``: N-d convolution (N = 1, 2 or 3) of channels-last data with a trainable kernel.

Examples
--------
>>> model = Conv(features=8, kernel_size=(3, 3))
>>> params, state = model.init(jax.random.key(0), (28, 28, 1))
>>> params["kernel"].shape, model(params, jnp.ones((4, 28, 28, 1)))[0].shape
((3, 3, 1, 8), (4, 28, 28, 8))
"""

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Inexact

from pmm._dtypes import as_dtype, canonical_dtype, check_x64, compute_dtype
from pmm._validation import check_array_size, check_bool, check_int
from pmm.errors import ShapeError
from pmm.module import Module
from pmm.nn._windows import (
    Pads,
    canonical_padding,
    canonical_per_axis,
    check_per_axis,
    circular_pad,
    conv_output_shape,
    conv_pads,
    expand,
    padding_rank,
    spatial_rank,
    split_input,
    tuple_length,
)
from pmm.nn.initializers import check_initializer, initialize
from pmm.typing import DataShape, DictParams, State


class Geometry(NamedTuple):
    """A convolution's per-axis fields for one input: spatial sizes, channels, and one int per
    spatial axis for the kernel size, strides and dilation."""

    spatial: tuple[int | None, ...]
    channels: int | None
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]


class Convolution(Module):
    """The fields, validation and parameters ``Conv`` and ``ConvTranspose`` share.

    Parameters ``{"kernel": (*kernel_size, in // groups, features), "bias": (features,)}`` (no
    bias when ``use_bias=False``); the kernel is drawn by ``kernel_init`` with
    ``fan_in = prod(kernel_size) * in // groups`` and ``fan_out = prod(kernel_size) * features``,
    the bias starts at zero.

    Examples
    --------
    >>> issubclass(Conv, Convolution)
    True
    """

    features: int
    kernel_size: int | tuple[int, ...]
    strides: int | tuple[int, ...] = 1
    padding: str | int | tuple[Any, ...] = "SAME"
    dilation: int | tuple[int, ...] = 1
    groups: int = 1
    use_bias: bool = True
    dtype: str = "float32"
    kernel_init: str = "lecun_normal"

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        check_int(self.features, "features", owner, minimum=1)
        ranks = {
            field: check_per_axis(getattr(self, field), field, owner, minimum=1)
            for field in ("kernel_size", "strides", "dilation")
        }
        ranks["padding"] = padding_rank(self.padding, owner)
        spatial_rank(owner, **ranks)
        # Only a tuple kernel_size fixes the rank for good: collapsing the other fields then
        # loses nothing.
        fixed = ranks["kernel_size"]
        for field in ("strides", "dilation"):
            object.__setattr__(self, field, canonical_per_axis(getattr(self, field), fixed))
        object.__setattr__(self, "padding", canonical_padding(self.padding, fixed))
        check_int(self.groups, "groups", owner, minimum=1)
        if self.features % self.groups:
            raise ValueError(
                f"field 'groups' of {owner} is {self.groups}, which does not divide field "
                f"'features' ({self.features}); each group needs as many output channels"
            )
        check_bool(self.use_bias, "use_bias", owner)
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", owner))
        check_initializer(self.kernel_init, "kernel_init", owner)

    def _fixed_rank(self) -> int | None:
        """The number of spatial axes the fields fix (``None``: the input decides)."""
        return tuple_length(self.kernel_size, self.strides, self.dilation, self.padding)

    def geometry(self, input_shape: DataShape) -> Geometry:
        """The fields as one int per spatial axis of ``input_shape``, with its sizes; checks
        that the input has the spatial axes the fields give and channels that ``groups``
        divides."""
        owner = type(self).__name__
        spatial, channels = split_input(input_shape, self._fixed_rank(), owner)
        if channels is not None and channels % self.groups:
            raise ShapeError(
                f"{owner} splits the {channels} input channels into groups={self.groups}, which "
                "does not divide them; give a number of channels that groups divides"
            )
        rank = len(spatial)
        return Geometry(
            spatial,
            channels,
            expand(self.kernel_size, rank),
            expand(self.strides, rank),
            expand(self.dilation, rank),
        )

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        owner = type(self).__name__
        geometry = self.geometry(input_shape)
        self.output_shape(input_shape)
        channels = geometry.channels
        if channels is None:
            raise ShapeError(
                f"{owner} builds a kernel for the input channels, the last axis, but input_shape "
                f"{input_shape!r} leaves it None; give the number of channels"
            )
        shape = (*geometry.kernel_size, channels // self.groups, self.features)
        features = f"field 'features' ({self.features})"
        check_array_size((self.features,), self.dtype, f"{owner}'s output channels", features)
        check_array_size(
            shape,
            self.dtype,
            f"{owner}'s kernel",
            f"{features}, field 'kernel_size' ({self.kernel_size}) or the input channels "
            f"({channels})",
        )
        receptive_field = math.prod(geometry.kernel_size)
        params = {
            "kernel": initialize(
                self.kernel_init,
                rng,
                shape,
                self.dtype,
                fan_in=receptive_field * (channels // self.groups),
                fan_out=receptive_field * self.features,
            )
        }
        if self.use_bias:
            params["bias"] = jnp.zeros((self.features,), self.dtype)
        return params, ()

    def _convolve(
        self,
        params: DictParams,
        data: Array,
        pads: Pads,
        window_strides: tuple[int, ...],
        input_dilation: tuple[int, ...],
        dilation: tuple[int, ...],
    ) -> Array:
        """``jax.lax.conv_general_dilated`` of channels-last ``data`` with the kernel, plus the
        bias, in the layer's compute dtype."""
        dtype = compute_dtype(data, self.dtype)
        rank = data.ndim - 2
        spatial = tuple(range(1, rank + 1))
        output = jax.lax.conv_general_dilated(
            as_dtype(data, dtype),
            as_dtype(params["kernel"], dtype),
            window_strides=window_strides,
            padding=pads,
            lhs_dilation=input_dilation,
            rhs_dilation=dilation,
            dimension_numbers=jax.lax.ConvDimensionNumbers(
                lhs_spec=(0, rank + 1, *spatial),
                rhs_spec=(rank + 1, rank, *range(rank)),
                out_spec=(0, rank + 1, *spatial),
            ),
            feature_group_count=self.groups,
        )
        if self.use_bias:
            output = output + as_dtype(params["bias"], dtype)
        return output


class Conv(Convolution):
    r"""N-d convolution (cross-correlation, as in every deep-learning library) of channels-last
    data: ``(batch, *spatial, in)`` to ``(batch, *out_spatial, features)``, N = 1, 2 or 3.

    .. math::  y[b, o, f] = \text{bias}[f] + \sum_{j} \sum_{c}
               x_{\text{pad}}[b, o s + j d, g \tfrac{in}{groups} + c]\, \text{kernel}[j, c, f]

    per spatial axis (``o`` the output position, ``j`` the kernel offset, ``s`` the stride,
    ``d`` the dilation), where output channel ``f`` belongs to group ``g = f // (features /
    groups)`` and reads only that group's ``in / groups`` input channels.

    Fields
    ------
    features
        Output channels.
    kernel_size
        A tuple, one size per spatial axis (its length is N), or an int for every spatial axis
        of the input (all axes between the batch and the channels).
    strides, dilation
        An int for every axis or one per axis; ``dilation`` spaces the kernel taps, so a kernel
        of size ``k`` spans ``k_eff = (k - 1) * dilation + 1`` entries.
    padding
        ``"SAME"``: zeros so that ``out = ceil(n / s)``, the total ``max((out - 1) * s + k_eff
        - n, 0)`` split with the odd entry at the end (TensorFlow's and Flax's rule).
        ``"VALID"``: none, ``out = floor((n - k_eff) / s) + 1``. ``"CIRCULAR"``: for periodic
        data, the data wrapped around by ``((k_eff - 1) // 2, k_eff // 2)`` whatever the
        stride, so output ``o`` is centred on input ``o * s`` and ``out = ceil(n / s)`` (Flax's
        rule; needs ``n >= 1``). An int ``p``: ``p`` zeros on both sides of every axis;
        per-axis entries, each an int or a ``(low, high)`` pair: ``out = floor((n + low + high
        - k_eff) / s) + 1``. Where the padded input is shorter than ``k_eff`` there is no
        output: ``init`` and ``output_shape`` raise ``pmm.ShapeError``.
    groups
        Splits the input and output channels into this many groups, each convolved with its
        own kernel slice (``groups == in`` is a depthwise convolution); divides ``features``
        and, at ``init``, the input channels.
    use_bias, dtype, kernel_init
        A trainable bias per output channel; the parameter dtype (see ``pmm.nn``); the
        initializer name of the kernel (``pmm.nn.INITIALIZERS``).

    Parameters ``{"kernel": (*kernel_size, in // groups, features), "bias": (features,)}``.

    Examples
    --------
    >>> conv = Conv(features=4, kernel_size=(3,), strides=2, padding="VALID")
    >>> conv.output_shape((9, 2))
    (4, 4)
    >>> Conv(features=16, kernel_size=3).output_shape((32, 32, 3))
    (32, 32, 16)
    """

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, " batch_size *spatial in_channels"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *out_spatial features"], State]:
        _, _, kernel_size, strides, dilation = self.geometry(tuple(data.shape[1:]))
        pads = conv_pads(self.padding, data.shape[1:-1], kernel_size, strides, dilation)
        if self.padding == "CIRCULAR":
            data, pads = circular_pad(data, pads), ((0, 0),) * len(pads)
        ones = (1,) * len(pads)
        return self._convolve(params, data, pads, strides, ones, dilation), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        spatial, _, kernel_size, strides, dilation = self.geometry(input_shape)
        owner = type(self).__name__
        sizes = conv_output_shape(owner, spatial, self.padding, kernel_size, strides, dilation)
        return (*sizes, self.features)
