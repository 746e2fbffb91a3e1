"""``ConvTranspose``: the transposed (fractionally strided) convolution, upsampling by the strides.

Examples
--------
>>> model = ConvTranspose(features=4, kernel_size=(3, 3), strides=2)
>>> params, state = model.init(jax.random.key(0), (7, 7, 8))
>>> params["kernel"].shape, model(params, jnp.ones((2, 7, 7, 8)))[0].shape
((3, 3, 8, 4), (2, 14, 14, 4))
"""

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Inexact

from pmm.errors import ShapeError
from pmm.nn._windows import Pads, circular_pad, effective_sizes, explicit_pads
from pmm.nn.conv import Convolution
from pmm.typing import DataShape, DictParams, State


class ConvTranspose(Convolution):
    r"""Transposed convolution of channels-last data, Flax's convention (``flax.linen``'s
    ``ConvTranspose`` with ``transpose_kernel=False``, i.e. ``jax.lax.conv_transpose``):
    ``(batch, *spatial, in)`` to ``(batch, *out_spatial, features)``, N = 1, 2 or 3.

    Per spatial axis, the input is spread out by the stride (``s - 1`` zeros between entries,
    ``(n - 1) s + 1`` entries), padded by ``(low, high)``, and convolved with stride 1 exactly
    as ``Conv`` does, with the same kernel layout and without flipping it. Equivalently each
    input entry is scattered through the kernel:

    .. math::  y[b, i s + \text{low} - j d, f] \mathrel{+}= x[b, i, c]\, \text{kernel}[j, c, f]

    (``i`` the input position, ``j`` the kernel offset, ``d`` the dilation, ``k_eff = (k - 1) d
    + 1``), plus the bias. The gradient of ``Conv`` with respect to its input is this with the
    kernel flipped along the spatial axes and its channel axes swapped.

    Padding and output size ``out`` for ``n`` input entries:

    - ``"SAME"``: ``out = n s``; ``low = k_eff - 1`` if ``s >= k_eff``, else
      ``(k_eff + s - 1) // 2``, and ``high = k_eff + s - 2 - low``;
    - ``"VALID"``: every position the kernel touches, ``out = n s + max(k_eff - s, 0)``;
      ``low = k_eff - 1``, ``high = max(k_eff, s) - 1``;
    - ``"CIRCULAR"``: ``out = n s``; the spread-out input is periodic with period ``n s`` (with
      ``s - 1`` zeros after the last entry too) and is wrapped around by ``SAME``'s ``low`` and
      ``k_eff - 1 - low`` (Flax's circular transposed convolution);
    - an int ``p`` or per-axis entries (an int or a ``(low, high)`` pair each), padding the
      spread-out input: ``out = (n - 1) s + low + high - k_eff + 2``.

    Every spatial axis needs at least one entry. Fields, parameters and initialisation are
    those of ``Conv``; ``groups`` splits the channels as there.

    Examples
    --------
    >>> ConvTranspose(features=2, kernel_size=(4,), strides=2, padding="VALID").output_shape((5, 3))
    (12, 2)
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
        extents = effective_sizes(kernel_size, dilation)
        pads = self._pads(extents, strides)
        ones = (1,) * len(pads)
        if self.padding != "CIRCULAR":
            output = self._convolve(params, data, pads, ones, strides, dilation)
            return output, state
        # One period of the spread-out input: each entry followed by s - 1 zeros.
        spread = jax.lax.pad(
            data,
            jnp.zeros((), data.dtype),
            ((0, 0, 0), *((0, s - 1, s - 1) for s in strides), (0, 0, 0)),
        )
        wrap = tuple((low, k - 1 - low) for (low, _), k in zip(pads, extents, strict=True))
        no_pads = ((0, 0),) * len(pads)
        output = self._convolve(params, circular_pad(spread, wrap), no_pads, ones, ones, dilation)
        return output, state

    def _pads(self, extents: tuple[int, ...], strides: tuple[int, ...]) -> Pads:
        """The ``(low, high)`` padding of each spread-out spatial axis (see the class docstring;
        ``CIRCULAR`` gives ``SAME``'s, whose ``low`` it uses)."""
        pads = explicit_pads(self.padding, len(extents))
        if pads is not None:
            return pads
        if self.padding == "VALID":
            return tuple((k - 1, max(k, s) - 1) for k, s in zip(extents, strides, strict=True))
        lows = [
            k - 1 if s >= k else (k + s - 1) // 2 for k, s in zip(extents, strides, strict=True)
        ]
        return tuple(
            (low, k + s - 2 - low) for low, k, s in zip(lows, extents, strides, strict=True)
        )

    def output_shape(self, input_shape: DataShape) -> DataShape:
        spatial, _, kernel_size, strides, dilation = self.geometry(input_shape)
        extents = effective_sizes(kernel_size, dilation)
        pads = self._pads(extents, strides)
        sizes = []
        for axis, (n, pad, k, s) in enumerate(zip(spatial, pads, extents, strides, strict=True)):
            if n is None:
                sizes.append(None)
                continue
            size = n * s if self.padding == "CIRCULAR" else (n - 1) * s + sum(pad) - k + 2
            if n == 0 or size < 1:
                raise ShapeError(
                    f"ConvTranspose gives no output along spatial axis {axis}, which has {n} "
                    f"input entries, padding {pad} and a kernel of extent {k}; give every spatial "
                    "axis at least one entry, and explicit padding with low + high >= "
                    "k_eff - 1 - (n - 1) * strides"
                )
            sizes.append(size)
        return (*sizes, self.features)
