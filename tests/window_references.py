"""Independent references for the window layers: numpy loops over output positions and kernel
taps, and the padding rules as the docstrings state them (for the tests, not for speed)."""

import itertools
import math

import numpy as np


def per_axis(value, rank):
    return (value,) * rank if isinstance(value, int) else tuple(value)


def extents(kernel_size, dilation):
    return [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation, strict=True)]


def pairs(padding, rank):
    """An int or per-axis entries as one (low, high) pair per axis."""
    if isinstance(padding, int):
        return [(padding, padding)] * rank
    return [(p, p) if isinstance(p, int) else tuple(p) for p in padding]


def conv_padding(padding, spatial, kernel_size, strides, dilation):
    """Conv's documented padding: SAME (TensorFlow's rule), VALID, CIRCULAR, explicit."""
    rank = len(spatial)
    if padding == "VALID":
        return [(0, 0)] * rank
    if padding == "CIRCULAR":
        return [((k - 1) // 2, k // 2) for k in extents(kernel_size, dilation)]
    if padding == "SAME":
        result = []
        for n, k, s in zip(spatial, extents(kernel_size, dilation), strides, strict=True):
            total = max((math.ceil(n / s) - 1) * s + k - n, 0)
            result.append((total // 2, total - total // 2))
        return result
    return pairs(padding, rank)


def conv(x, kernel, bias, strides, padding, dilation, groups):
    """Cross-correlation of channels-last ``x`` (batch, *spatial, in) with ``kernel``
    (*kernel_size, in // groups, features), summed tap by tap."""
    rank = x.ndim - 2
    kernel_size = kernel.shape[:rank]
    strides, dilation = per_axis(strides, rank), per_axis(dilation, rank)
    pads = conv_padding(padding, x.shape[1:-1], kernel_size, strides, dilation)
    mode = "wrap" if padding == "CIRCULAR" else "constant"
    padded = np.pad(x, [(0, 0), *pads, (0, 0)], mode=mode)
    sizes = [
        (n - k) // s + 1
        for n, k, s in zip(padded.shape[1:-1], extents(kernel_size, dilation), strides, strict=True)
    ]
    in_group, features = kernel.shape[-2], kernel.shape[-1]
    out_group = features // groups
    y = np.zeros((x.shape[0], *sizes, features), np.result_type(x, kernel))
    for out in itertools.product(*map(range, sizes)):
        for tap in itertools.product(*map(range, kernel_size)):
            where = tuple(
                o * s + j * d for o, j, s, d in zip(out, tap, strides, dilation, strict=True)
            )
            entry = padded[(slice(None), *where)]
            for g in range(groups):
                ins, outs = (
                    slice(g * in_group, (g + 1) * in_group),
                    slice(g * out_group, (g + 1) * out_group),
                )
                y[(slice(None), *out, outs)] += entry[:, ins] @ kernel[tap][:, outs]
    return y + bias


def conv_transpose_padding(padding, kernel_size, strides, dilation):
    """ConvTranspose's documented padding of the spread-out input (CIRCULAR: SAME's low)."""
    rank = len(kernel_size)
    if padding in ("SAME", "CIRCULAR"):
        result = []
        for k, s in zip(extents(kernel_size, dilation), strides, strict=True):
            low = k - 1 if s >= k else (k + s - 1) // 2
            result.append((low, k + s - 2 - low))
        return result
    if padding == "VALID":
        return [
            (k - 1, max(k, s) - 1)
            for k, s in zip(extents(kernel_size, dilation), strides, strict=True)
        ]
    return pairs(padding, rank)


def conv_transpose(x, kernel, bias, strides, padding, dilation, groups):
    """The transposed convolution as a scatter: input entry ``i`` through tap ``j`` lands on
    output ``i * s + low - j * d`` (modulo ``n * s`` for CIRCULAR)."""
    rank = x.ndim - 2
    spatial, kernel_size = x.shape[1:-1], kernel.shape[:rank]
    strides, dilation = per_axis(strides, rank), per_axis(dilation, rank)
    pads = conv_transpose_padding(padding, kernel_size, strides, dilation)
    if padding == "CIRCULAR":
        sizes = [n * s for n, s in zip(spatial, strides, strict=True)]
    else:
        sizes = [
            (n - 1) * s + low + high - k + 2
            for n, s, (low, high), k in zip(
                spatial, strides, pads, extents(kernel_size, dilation), strict=True
            )
        ]
    in_group, features = kernel.shape[-2], kernel.shape[-1]
    out_group = features // groups
    y = np.zeros((x.shape[0], *sizes, features), np.result_type(x, kernel))
    for i in itertools.product(*map(range, spatial)):
        for tap in itertools.product(*map(range, kernel_size)):
            where = [
                a * s + low - j * d
                for a, s, (low, _), j, d in zip(i, strides, pads, tap, dilation, strict=True)
            ]
            if padding == "CIRCULAR":
                where = [w % n for w, n in zip(where, sizes, strict=True)]
            if not all(0 <= w < n for w, n in zip(where, sizes, strict=True)):
                continue
            for g in range(groups):
                ins, outs = (
                    slice(g * in_group, (g + 1) * in_group),
                    slice(g * out_group, (g + 1) * out_group),
                )
                y[(slice(None), *where, outs)] += x[(slice(None), *i, ins)] @ kernel[tap][:, outs]
    return y + bias


def pool(x, reduce, window, strides, padding, count_include_pad=False):
    """Pooling by numpy loops: ``reduce`` (``"max"`` or ``"mean"``) over the real entries of
    each window (wrapped around for CIRCULAR); with ``count_include_pad`` the mean divides the
    sum by the full window size."""
    rank = x.ndim - 2
    spatial = x.shape[1:-1]
    window = per_axis(window, rank)
    strides = window if strides is None else per_axis(strides, rank)
    pads = conv_padding(padding, spatial, window, strides, (1,) * rank)
    sizes = [
        (n + low + high - k) // s + 1
        for n, (low, high), k, s in zip(spatial, pads, window, strides, strict=True)
    ]
    y = np.zeros((x.shape[0], *sizes, x.shape[-1]), x.dtype)
    for out in itertools.product(*map(range, sizes)):
        ranges = []
        for o, s, (low, _), k, n in zip(out, strides, pads, window, spatial, strict=True):
            start = o * s - low
            if padding == "CIRCULAR":
                ranges.append([t % n for t in range(start, start + k)])
            else:
                ranges.append([t for t in range(start, start + k) if 0 <= t < n])
        entries = np.stack([x[(slice(None), *where)] for where in itertools.product(*ranges)])
        if reduce == "max":
            y[(slice(None), *out)] = entries.max(axis=0)
        elif count_include_pad:
            y[(slice(None), *out)] = entries.sum(axis=0) / math.prod(window)
        else:
            y[(slice(None), *out)] = entries.mean(axis=0)
    return y
