"""``StandardScaler``: each feature to zero mean and unit variance.

The mean and variance are accumulated over blocks of samples in one pass: each block's own
mean and sum of squared deviations (two passes over the block, in float64), merged into the
running totals by the pairwise update of Chan, Golub and LeVeque (1979), the block form of
Welford's algorithm. For blocks ``a`` and ``b`` with counts ``n_a, n_b``, means ``m_a, m_b`` and
sums of squared deviations ``M_a, M_b``, with ``d = m_b - m_a`` and ``n = n_a + n_b``::

    m = m_a + d * n_b / n
    M = M_a + M_b + d**2 * n_a * n_b / n

It is as accurate as a two-pass computation over all the data, and needs one block in memory.

Examples
--------
>>> import numpy as np
>>> params, state = StandardScaler().fit(np.array([[1.0], [2.0], [3.0], [4.0]]), chunk_size=3)
>>> state["center"], state["scale"]
(Array([2.5], dtype=float32), Array([1.118034], dtype=float32))
"""

from collections.abc import Iterator

import numpy as np

from pmm.preprocessing.columns import constant_columns
from pmm.preprocessing.scaler import Scaler


class StandardScaler(Scaler):
    """``(x - mean) / std`` per feature, with the statistics of the data ``fit`` was given.

    ``std`` is the population standard deviation (divided by the sample count, as scikit-learn
    does). A constant column (``std`` zero, or rounding-small against its mean) gets scale 1, so
    it maps to 0. State ``{"center": mean, "scale": std}`` per data leaf, ``(features,)`` each;
    no params. Shapes: ``(batch, *rest, features)`` to the same, per leaf.

    Examples
    --------
    >>> scaler = StandardScaler()
    >>> params, state = scaler.fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> scaler(params, np.array([[2.0, 5.0]]), False, state)[0]
    Array([[0., 0.]], dtype=float32)
    """

    def summarise(self, chunks: Iterator[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        count, mean, squares = 0, np.zeros(()), np.zeros(())
        for block in chunks:
            block_mean = block.mean(axis=0)
            block_squares = ((block - block_mean) ** 2).sum(axis=0)
            total = count + len(block)
            delta = block_mean - mean
            mean = mean + delta * (len(block) / total)
            squares = squares + block_squares + delta**2 * (count * len(block) / total)
            count = total
        std = np.sqrt(squares / count)
        return mean, np.where(constant_columns(std, mean), 1.0, std)
