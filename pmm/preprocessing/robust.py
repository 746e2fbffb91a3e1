"""``RobustScaler``: each feature centred on its median and divided by an interquantile range.

Quantiles are computed exactly: ``fit`` reads the leaf in blocks (one pass) but keeps every
value of it, as float64, to take the quantiles of the whole column (``numpy.quantile``, linear
interpolation, the definition scikit-learn uses). Memory is therefore ``8 * samples * features``
bytes per leaf; for data larger than that, fit on a random subsample (the quantiles of a
subsample of ``m`` rows are within about ``1/sqrt(m)`` in rank of the full data's).

Examples
--------
>>> import numpy as np
>>> params, state = RobustScaler().fit(np.array([[1.0], [2.0], [3.0], [4.0], [100.0]]))
>>> state["center"], state["scale"]
(Array([3.], dtype=float32), Array([2.], dtype=float32))
"""

from collections.abc import Iterator

import numpy as np

from pmm._validation import check_interval
from pmm.preprocessing.columns import constant_columns
from pmm.preprocessing.scaler import Scaler


class RobustScaler(Scaler):
    """``(x - median) / (q_high - q_low)`` per feature, ``(low, high) = quantile_range`` in
    percent, with the quantiles of the data ``fit`` was given; outliers barely move them.

    A constant column (zero interquantile range) gets scale 1, so it maps to ``x - median``, 0
    on the data's typical value. State ``{"center": median, "scale": range}`` per data leaf,
    ``(features,)`` each; no params. Shapes: ``(batch, *rest, features)`` to the same.

    Examples
    --------
    >>> RobustScaler(quantile_range=(10, 90)).quantile_range
    (10, 90)
    """

    quantile_range: tuple[float, float] = (25.0, 75.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_interval(
            self.quantile_range, "quantile_range", "RobustScaler", (0, 100),
            "two percentages (low, high) with 0 <= low < high <= 100, e.g. (25, 75)",
        )  # fmt: skip

    def summarise(self, chunks: Iterator[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        low, high = self.quantile_range
        values = np.concatenate(list(chunks))
        q_low, median, q_high = np.quantile(values, [low / 100, 0.5, high / 100], axis=0)
        spread = q_high - q_low
        return median, np.where(constant_columns(spread, median), 1.0, spread)
