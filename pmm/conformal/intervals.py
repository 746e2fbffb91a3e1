"""Using a calibration: ``interval`` (regression), ``prediction_set`` (classification), and
``coverage`` (how often they hold the truth on labelled data).

Every function takes ``alpha`` as one miscoverage level or a sequence of them; a sequence adds a
leading axis to every result, one entry per level. Each output element (each entry of each
output leaf) has its own threshold: coverage is guaranteed per element (marginally), not for all
elements of a sample at once.

Examples
--------
>>> import jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=1)
>>> params = {"weight": jnp.array([[1.0]]), "bias": jnp.array([0.0])}
>>> x = jnp.arange(19.0)[:, None]
>>> cal = pmm.conformal.calibrate(model, params, (), x, x + jnp.arange(19.0)[:, None] % 5)
>>> lower, upper = pmm.conformal.interval(cal, jnp.array([[100.0]]), alpha=(0.5, 0.1))
>>> upper[:, 0, 0]
Array([102., 104.], dtype=float32)
"""

from typing import Any

import jax
import jax.numpy as jnp

from pmm.conformal.calibration import Calibration
from pmm.conformal.quantile import alphas, thresholds
from pmm.conformal.scores import class_scores, model_outputs, regression_widths, score_pairs
from pmm.train.batches import as_data
from pmm.typing import Data


def interval(cal: Calibration, x: Data, alpha: Any) -> tuple[Any, Any]:
    """The conformal prediction interval ``[lower, upper]`` of each output element at ``x``.

    ``f(x) -+ q u(x)``, with ``q`` the calibration scores' finite-sample quantile for ``alpha``
    (``pmm.conformal.quantile``) and ``u = 1`` (``"absolute"``) or the uncertainty heuristic
    (``"normalized"``). For a new point exchangeable with the calibration data, each output
    element's interval holds its target with probability at least ``1 - alpha``.

    Parameters
    ----------
    cal
        A regression ``Calibration`` (score ``"absolute"`` or ``"normalized"``).
    x
        Inputs, samples first.
    alpha
        Miscoverage level in ``(0, 1)`` (``0.1`` for 90% intervals), at least ``1 / (n + 1)``
        for ``n`` calibration points; or a sequence of levels.

    Returns
    -------
    tuple
        ``(lower, upper)``, each with the model output's structure: ``(samples, ...)`` per leaf,
        or ``(len(alpha), samples, ...)`` for a sequence of levels.

    Raises
    ------
    ValueError
        ``cal`` is a classifier's; ``alpha`` is outside ``(0, 1)`` or below ``1 / (n + 1)``.
    """
    _require(cal, classifier=False)
    levels, stacked = alphas(alpha)
    quantiles = jax.tree.map(lambda s: thresholds(s, levels), cal.scores)
    x = as_data(x, "x")
    predictions = model_outputs(cal, x)
    widths = regression_widths(cal, x, predictions)
    bands = jax.tree.map(_band, predictions, widths, quantiles)  # a (lower, upper) per leaf
    lower, upper = (jax.tree.map(lambda _, b, i=i: b[i], predictions, bands) for i in (0, 1))
    return _unstacked(lower, stacked), _unstacked(upper, stacked)


@jax.jit
def _band(prediction: jax.Array, width: jax.Array, quantiles: jax.Array) -> tuple[Any, Any]:
    """``prediction -+ quantile * width`` for each level: ``(levels, samples, ...)`` each."""
    half = _per_level(quantiles) * width[None]
    return prediction[None] - half, prediction[None] + half


def prediction_set(cal: Calibration, x: Data, alpha: Any, *, rng: Any = None) -> Any:
    """The conformal prediction set of each prediction at ``x``: a bool mask over the classes.

    Class ``k`` is in the set when its score (``pmm.conformal.scores``) is at most the
    calibration scores' finite-sample quantile for ``alpha``. For a new point exchangeable with
    the calibration data, the set holds the true class with probability at least ``1 - alpha``.

    Parameters
    ----------
    cal
        A classification ``Calibration`` (score ``"lac"`` or ``"aps"``).
    x
        Inputs, samples first.
    alpha
        Miscoverage level in ``(0, 1)``, at least ``1 / (n + 1)``; or a sequence of levels.
    rng
        PRNG key or int seed for ``"aps"`` (required there; use a key independent of the one
        given to ``calibrate``, and the same key to reproduce a result).

    Returns
    -------
    PyTree
        Bool masks with the output's structure and shapes, ``(samples, ..., classes)`` per
        leaf, or with a leading ``len(alpha)`` axis for a sequence of levels.

    Raises
    ------
    ValueError
        ``cal`` is a regression calibration; ``alpha`` is out of range; ``"aps"`` without
        ``rng``.
    """
    _require(cal, classifier=True)
    levels, stacked = alphas(alpha)
    quantiles = jax.tree.leaves(jax.tree.map(lambda s: thresholds(s, levels), cal.scores))
    predictions = model_outputs(cal, as_data(x, "x"))
    sets = [
        s[None] <= _per_level(q)[..., None]
        for s, q in zip(class_scores(cal, predictions, rng), quantiles, strict=True)
    ]
    return _unstacked(jax.tree.unflatten(jax.tree.structure(predictions), sets), stacked)


def coverage(cal: Calibration, x: Data, y: Data, alpha: Any, *, rng: Any = None) -> Any:
    """The fraction of the pairs ``(x, y)`` whose interval (or set) at ``alpha`` holds ``y``.

    Per output element, as ``interval`` and ``prediction_set`` guarantee it: for test data
    exchangeable with the calibration data its expectation is at least ``1 - alpha``.

    Returns
    -------
    PyTree
        One array per output leaf: the element shape (the class axis removed for classifiers),
        with a leading ``len(alpha)`` axis for a sequence of levels.
    """
    levels, stacked = alphas(alpha)
    quantiles = jax.tree.map(lambda s: thresholds(s, levels), cal.scores)
    found = score_pairs(cal, x, y, rng, ("x", "y"))
    covered = jax.tree.map(
        lambda s, q: jnp.mean(s[None] <= _per_level(q), axis=1), found, quantiles
    )
    return _unstacked(covered, stacked)


def _require(cal: Calibration, classifier: bool) -> None:
    """``ValueError`` pointing to the other function unless ``cal`` is of the kind asked for."""
    if cal.classifier != classifier:
        asked, other = (
            ("prediction_set", "interval") if classifier else ("interval", "prediction_set")
        )
        kind = "classification" if classifier else "regression"
        raise ValueError(
            f"{asked} is for {kind} scores, but this calibration's score is {cal.score!r}: use "
            f"pmm.conformal.{other}"
        )


def _per_level(quantiles: jax.Array) -> jax.Array:
    """``(levels, ...)`` thresholds with a sample axis added after the level axis."""
    return quantiles[:, None]


def _unstacked(tree: Any, stacked: bool) -> Any:
    """``tree`` as it is for a sequence of levels, else its only level."""
    return tree if stacked else jax.tree.map(lambda leaf: leaf[0], tree)
