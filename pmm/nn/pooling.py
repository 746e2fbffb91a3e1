"""Pooling over the spatial axes of channels-last data: ``MaxPool``, ``AvgPool``, ``GlobalAvgPool``.

Examples
--------
>>> MaxPool(window=2).output_shape((28, 28, 32))
(14, 14, 32)
>>> GlobalAvgPool().output_shape((7, 7, 64))
(64,)
"""

import abc
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Inexact

from pmm._validation import check_bool
from pmm.errors import ShapeError
from pmm.module import Parameterless
from pmm.nn._windows import (
    Pads,
    canonical_padding,
    canonical_per_axis,
    check_per_axis,
    circular_pad,
    conv_output_shape,
    conv_pads,
    expand,
    explicit_pads,
    padding_rank,
    spatial_rank,
    split_input,
    tuple_length,
)
from pmm.typing import DataShape, State


class WindowPool(Parameterless):
    """The fields, checks and shapes ``MaxPool`` and ``AvgPool`` share: a window of ``window``
    entries per spatial axis sliding by ``strides`` over the (padded) spatial axes, each channel
    pooled separately.

    ``window`` and ``strides`` are an int for every spatial axis or a tuple with one entry per
    axis (``strides=None``, the default, is ``window``: windows that tile the input);
    ``padding`` is as for ``pmm.nn.Conv`` (``"VALID"`` by default), and explicit padding must
    be smaller than the window on each side, so that every window holds an entry of the input.
    Output sizes are those of ``Conv`` with this window as the kernel (dilation 1): ``SAME``
    and ``CIRCULAR`` give ``ceil(n / s)``, ``VALID`` ``floor((n - window) / s) + 1``. No params,
    no state. Shapes: ``(batch, *spatial, channels)`` to ``(batch, *out_spatial, channels)``.

    Examples
    --------
    >>> AvgPool(window=(3,), strides=1, padding="SAME").output_shape((10, 4))
    (10, 4)
    """

    window: int | tuple[int, ...]
    strides: int | tuple[int, ...] | None = None
    padding: str | int | tuple[Any, ...] = "VALID"

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        window_rank = check_per_axis(self.window, "window", owner, minimum=1)
        ranks = {"window": window_rank, "padding": padding_rank(self.padding, owner)}
        if self.strides is not None:
            ranks["strides"] = check_per_axis(self.strides, "strides", owner, minimum=1)
            object.__setattr__(self, "strides", canonical_per_axis(self.strides, window_rank))
        rank = spatial_rank(owner, **ranks)
        object.__setattr__(self, "padding", canonical_padding(self.padding, window_rank))
        pads = explicit_pads(self.padding, rank or 1)
        windows = expand(self.window, rank or 1)
        if pads is not None and any(max(pad) >= k for pad, k in zip(pads, windows, strict=True)):
            raise ValueError(
                f"field 'padding' of {owner} is {self.padding!r}, as wide as the window "
                f"{self.window!r} on some side, so a window could hold only padding; give padding "
                "smaller than the window on every side"
            )

    def _fields(self, input_shape: DataShape) -> tuple[Any, Any, tuple[int, ...], tuple[int, ...]]:
        """The spatial sizes and channels of ``input_shape``, and the window and the strides as
        one int per spatial axis."""
        spatial, channels = split_input(
            input_shape, tuple_length(self.window, self.strides, self.padding), type(self).__name__
        )
        window = expand(self.window, len(spatial))
        strides = window if self.strides is None else expand(self.strides, len(spatial))
        return spatial, channels, window, strides

    def output_shape(self, input_shape: DataShape) -> DataShape:
        spatial, channels, window, strides = self._fields(input_shape)
        ones = (1,) * len(spatial)
        owner = type(self).__name__
        sizes = conv_output_shape(owner, spatial, self.padding, window, strides, ones)
        return (*sizes, channels)

    def apply(
        self,
        params: tuple[()],
        data: Inexact[Array, " batch_size *spatial channels"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *out_spatial channels"], State]:
        spatial, _, window, strides = self._fields(tuple(data.shape[1:]))
        pads = conv_pads(self.padding, spatial, window, strides, (1,) * len(spatial))
        if self.padding == "CIRCULAR":
            data, pads = circular_pad(data, pads), ((0, 0),) * len(pads)
        return self._pool(data, window, strides, pads), state

    @abc.abstractmethod
    def _pool(
        self, data: Array, window: tuple[int, ...], strides: tuple[int, ...], pads: Pads
    ) -> Array:
        """Pool ``data`` (already wrapped around for ``CIRCULAR``) with explicit ``pads``."""


def _reduce(
    data: Array,
    initial: Any,
    operation: Any,
    window: tuple[int, ...],
    strides: tuple[int, ...],
    pads: Pads,
) -> Array:
    """``jax.lax.reduce_window`` over the spatial axes of channels-last ``data``."""
    return jax.lax.reduce_window(
        data,
        np.asarray(initial, data.dtype),
        operation,
        (1, *window, 1),
        (1, *strides, 1),
        ((0, 0), *pads, (0, 0)),
    )


class MaxPool(WindowPool):
    """The largest entry of each window, per channel.

    Padding is never the maximum: padded places count as ``-inf``. Real data only (complex
    numbers have no order). See ``WindowPool`` for the fields and shapes.

    Examples
    --------
    >>> x = jnp.arange(16.0).reshape(1, 4, 4, 1)
    >>> MaxPool(window=2)((), x)[0][0, :, :, 0]
    Array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """

    def _pool(
        self, data: Array, window: tuple[int, ...], strides: tuple[int, ...], pads: Pads
    ) -> Array:
        if jnp.iscomplexobj(data):
            raise ShapeError(
                f"MaxPool compares entries, which complex data {data.dtype}{list(data.shape)} "
                "cannot; pool a real quantity, e.g. jnp.abs of the data"
            )
        return _reduce(data, -jnp.inf, jax.lax.max, window, strides, pads)


class AvgPool(WindowPool):
    """The mean of each window, per channel.

    With zero padding (``SAME``, an int or pairs), a window at the edge holds fewer entries of
    the input: by default (``count_include_pad=False``, TensorFlow's ``SAME`` average and
    PyTorch's ``count_include_pad=False``) the mean is over those real entries only; with
    ``count_include_pad=True`` (Flax's ``avg_pool`` default) the zeros count too, so the sum is
    divided by the full window size. ``CIRCULAR`` padding holds real (wrapped) entries, which
    always count. See ``WindowPool`` for the other fields and shapes.

    Examples
    --------
    >>> x = jnp.ones((1, 3, 1))
    >>> AvgPool(window=2, strides=1, padding="SAME")((), x)[0][0, :, 0]
    Array([1., 1., 1.], dtype=float32)
    >>> AvgPool(window=2, strides=1, padding="SAME", count_include_pad=True)((), x)[0][0, :, 0]
    Array([1. , 1. , 0.5], dtype=float32)
    """

    count_include_pad: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        check_bool(self.count_include_pad, "count_include_pad", "AvgPool")

    def _pool(
        self, data: Array, window: tuple[int, ...], strides: tuple[int, ...], pads: Pads
    ) -> Array:
        sums = _reduce(data, 0, jax.lax.add, window, strides, pads)
        if self.count_include_pad or not any(map(any, pads)):
            return sums / math.prod(window)
        spatial = data.shape[1:-1]
        # The real entries of each window: a product over the axes of the entries along each.
        counts = np.ones(())
        for axis, (n, k, s, (low, _)) in enumerate(
            zip(spatial, window, strides, pads, strict=True)
        ):
            starts = np.arange(sums.shape[axis + 1]) * s - low
            counts = np.multiply.outer(counts, np.minimum(starts + k, n) - np.maximum(starts, 0))
        return sums / counts[..., None].astype(sums.real.dtype)


class GlobalAvgPool(Parameterless):
    """The mean over every spatial axis, per channel: ``(batch, *spatial, channels)`` to
    ``(batch, channels)``, for 1 to 3 spatial axes, each holding at least one entry.

    No params, no state. Half-precision data is summed in float32 (``jnp.mean`` does).

    Examples
    --------
    >>> GlobalAvgPool()((), jnp.ones((2, 5, 5, 3)))[0].shape
    (2, 3)
    """

    def apply(
        self,
        params: tuple[()],
        data: Inexact[Array, " batch_size *spatial channels"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size channels"], State]:
        return jnp.mean(data, axis=tuple(range(1, data.ndim - 1))), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        spatial, channels = split_input(input_shape, None, "GlobalAvgPool")
        if 0 in spatial:
            raise ShapeError(
                f"GlobalAvgPool averages over the spatial axes, but their sizes {spatial} include "
                "0, and the mean of nothing is undefined; give every spatial axis an entry"
            )
        return (channels,)
