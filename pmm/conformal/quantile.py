"""The finite-sample conformal quantile, and the ``alpha`` arguments it takes.

With ``n`` calibration scores ``s_1 <= ... <= s_n``, the threshold for miscoverage ``alpha`` is
the ``k``-th smallest score, ``k = ceil((n + 1) (1 - alpha))``: the empirical quantile at level
``k / n``, a little above ``1 - alpha``. If a new point's score is exchangeable with the
calibration scores, it is at most that threshold with probability at least ``1 - alpha`` (and,
without ties, at most ``1 - alpha + 1 / (n + 1)``). ``k <= n`` requires ``alpha >= 1 / (n +
1)``: a smaller ``alpha`` would need an infinite threshold, and is refused.

Examples
--------
>>> rank(9, 0.1), rank(99, 0.1), smallest_alpha(99)
(9, 90, 0.01)
>>> thresholds(jnp.arange(1.0, 10.0), (0.1, 0.5))
Array([9., 5.], dtype=float32)
"""

import math
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp

#: ``(n + 1) (1 - alpha)`` within this of an integer is that integer: float rounding of
#: ``1 - alpha`` must not raise ``k`` by one (``10 * (1 - 0.7)`` is ``3.0000000000000004``).
_ROUNDING = 1e-9


def alphas(alpha: Any) -> tuple[tuple[float, ...], bool]:
    """``(levels, stacked)``: ``alpha`` as a tuple of miscoverage levels, and whether it was a
    sequence (results then gain a leading axis, one entry per level).

    Raises ``ValueError`` naming ``alpha`` when a level is not a number in ``(0, 1)``.
    """
    stacked = isinstance(alpha, Sequence) or (hasattr(alpha, "ndim") and alpha.ndim > 0)
    levels: tuple[Any, ...] = tuple(alpha) if stacked else (alpha,)
    if stacked and not levels:
        raise ValueError("alpha is empty; give a miscoverage level in (0, 1), or several")
    values = []
    for level in levels:
        try:
            value = float(level)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(level, bool) or not 0 < value < 1:
            raise ValueError(
                f"alpha is {level!r}; give a miscoverage level in (0, 1), e.g. 0.1 for 90% "
                "coverage (or a sequence of them)"
            )
        values.append(value)
    return tuple(values), stacked


def rank(n: int, alpha: float) -> int:
    """``ceil((n + 1) (1 - alpha))``, the rank of the threshold among ``n`` sorted scores.

    Raises ``ValueError`` naming ``alpha`` when it exceeds ``n`` (``alpha < 1 / (n + 1)``).
    """
    k = math.ceil((n + 1) * (1 - alpha) - _ROUNDING)
    if k > n:
        raise ValueError(
            f"alpha={alpha:g} needs at least {math.ceil(1 / alpha - 1 - _ROUNDING)} calibration "
            f"points, but this calibration has n={n}: the smallest alpha it supports is "
            f"1/(n+1) = {smallest_alpha(n):.3g}. Calibrate on more points, or raise alpha"
        )
    return max(k, 1)


def smallest_alpha(n: int) -> float:
    """``1 / (n + 1)``: the smallest miscoverage level ``n`` calibration scores support."""
    return 1 / (n + 1)


def thresholds(sorted_scores: Any, levels: tuple[float, ...]) -> Any:
    """The threshold for each level: ``sorted_scores[rank(n, alpha) - 1]``, stacked on axis 0.

    ``sorted_scores`` is ``(n, ...)``, sorted along axis 0; the result is ``(len(levels), ...)``.
    """
    n = sorted_scores.shape[0]
    return jnp.stack([sorted_scores[rank(n, level) - 1] for level in levels])
