"""``MinMaxScaler``: each feature onto ``feature_range`` (by default [0, 1]).

Examples
--------
>>> import numpy as np
>>> scaler = MinMaxScaler(feature_range=(-1, 1))
>>> params, state = scaler.fit(np.array([[0.0], [10.0]]))
>>> scaler(params, np.array([[5.0], [10.0]]), False, state)[0]
Array([[0.],
       [1.]], dtype=float32)
"""

import math
from collections.abc import Iterator

import numpy as np

from pmm._validation import check_interval
from pmm.preprocessing.columns import constant_columns
from pmm.preprocessing.scaler import Scaler


class MinMaxScaler(Scaler):
    """``low + (x - min) * (high - low) / (max - min)`` per feature, ``(low, high) =
    feature_range``, with the minimum and maximum of the data ``fit`` was given.

    Stored in the shared affine form ``(x - center) / scale``: ``scale = (max - min) / (high -
    low)`` and ``center = min - low * scale``. A constant column (``max == min``) gets scale 1,
    so it maps to ``low``. Data outside the fitted range maps outside ``feature_range`` (no
    clipping). State ``{"center", "scale"}`` per data leaf, ``(features,)`` each; no params.

    Examples
    --------
    >>> MinMaxScaler().fit(np.array([[2.0], [4.0]]))[1]["scale"]
    Array([2.], dtype=float32)
    """

    feature_range: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_interval(
            self.feature_range, "feature_range", "MinMaxScaler", (-math.inf, math.inf),
            "a pair of finite numbers (low, high) with low < high, e.g. (0, 1)",
        )  # fmt: skip

    def summarise(self, chunks: Iterator[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        low, high = self.feature_range
        blocks = iter(chunks)
        first = next(blocks)
        smallest, largest = first.min(axis=0), first.max(axis=0)
        for block in blocks:
            smallest = np.minimum(smallest, block.min(axis=0))
            largest = np.maximum(largest, block.max(axis=0))
        span = largest - smallest
        constant = constant_columns(span, np.maximum(abs(smallest), abs(largest)))
        scale = np.where(constant, 1.0, span / (high - low))
        return smallest - low * scale, scale
