"""Nonconformity scores: how badly a target disagrees with the model's prediction.

Regression (``interval``) scores are ``|y - f(x)| / u(x)``: ``u = 1`` for ``"absolute"``, the
uncertainty heuristic of ``pmm.conformal.heuristic`` for ``"normalized"``; the interval of a
threshold ``q`` is ``f(x) -+ q u(x)``. Classification (``prediction_set``) scores give every
class ``k`` a score from the class probabilities ``p`` (softmax of the logits, or the outputs as
they are), and a label's score is its class's:

- ``"lac"`` (least ambiguous set-valued classifier, Sadinle, Lei and Wasserman 2019):
  ``1 - p_k``. The sets are the smallest on average; they may be empty.
- ``"aps"`` (adaptive prediction sets, Romano, Sesia and Candes 2020), randomised:
  ``sum_j p_j [p_j > p_k] + U p_k``, the mass of the classes more likely than ``k`` plus a
  uniform ``U ~ U(0, 1)`` share of ``k``'s own (one ``U`` per prediction, drawn from ``rng``).
  The sets grow with the model's doubt, never are empty unless ``U`` is near 1 for a confident
  prediction, and the randomisation makes coverage exact rather than conservative. The same
  ``rng`` gives the same draws; calibration and prediction must use independent keys.

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=1)
>>> params = {"weight": jnp.array([[1.0]]), "bias": jnp.array([0.0])}
>>> x = jnp.array([[0.0], [1.0], [2.0]])
>>> cal = pmm.conformal.calibrate(model, params, (), x, x + 0.5)
>>> pmm.conformal.scores(cal, x, jnp.array([[1.0], [1.0], [1.0]]))
Array([[1.],
       [0.],
       [1.]], dtype=float32)
"""

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pmm.conformal.calibration import Calibration
from pmm.conformal.heuristic import uncertainty
from pmm.train import predict
from pmm.train.batches import as_data, sample_count


def scores(cal: Calibration, x: Any, y: Any, *, rng: Any = None) -> Any:
    """The nonconformity scores of the pairs ``(x, y)`` under ``cal``'s score function.

    Parameters
    ----------
    cal
        A ``Calibration``.
    x, y
        Inputs and targets, samples first: for regression ``y`` has the model output's
        structure and shapes; for classifiers each ``y`` leaf holds integer class ids, the
        output leaf's shape without its class axis.
    rng
        PRNG key (or int seed) for the randomised ``"aps"`` score; ignored by the others.

    Returns
    -------
    PyTree
        One score per sample and output element: ``(samples, ...)`` per output leaf (the class
        axis removed for classifiers). A target is covered at level ``alpha`` exactly when its
        score is at most the threshold ``interval`` and ``prediction_set`` use.

    Raises
    ------
    ValueError
        ``x`` and ``y`` differ in sample count or structure, ``y`` holds NaN or labels out of
        range, the model predicts NaN, or ``"aps"`` is given no ``rng``.
    """
    return score_pairs(cal, x, y, rng, ("x", "y"))


def score_pairs(cal: Calibration, x: Any, y: Any, rng: Any, names: tuple[str, str]) -> Any:
    """``scores``, with errors naming the inputs and targets ``names`` (e.g. ``x_cal``)."""
    x, y = as_data(x, names[0]), as_data(y, names[1])
    sample_count(dict(zip(names, (x, y), strict=True)))
    predictions = model_outputs(cal, x, names[0])
    check_targets(cal, predictions, y, names[1])
    if cal.classifier:
        chosen = [
            jnp.take_along_axis(s, label[..., None].astype(jnp.int32), -1)[..., 0]
            for s, label in zip(
                class_scores(cal, predictions, rng), jax.tree.leaves(y), strict=True
            )
        ]
        return _unflatten_like(predictions, chosen)
    widths = regression_widths(cal, x, predictions)
    return jax.tree.map(_residual_scores, predictions, widths, y)


@jax.jit
def _residual_scores(prediction: jax.Array, width: jax.Array, target: jax.Array) -> jax.Array:
    """``|target - prediction| / width``."""
    return jnp.abs(target - prediction) / width


def model_outputs(cal: Calibration, x: Any, name: str = "x") -> Any:
    """The model's outputs for ``x``, in batches of ``cal.batch_size``; ``ValueError`` naming
    ``name`` when one is NaN or inf."""
    outputs = predict(cal.model, cal.params, cal.state, x, cal.batch_size)
    for path, leaf in jax.tree_util.tree_leaves_with_path(outputs):
        sample = _first_non_finite(leaf)
        if sample is not None:
            raise ValueError(
                f"the model predicts NaN or inf for sample {sample} of {name} "
                f"(output leaf{jax.tree_util.keystr(path)}); check the inputs and the params"
            )
    return outputs


def regression_widths(cal: Calibration, x: Any, predictions: Any) -> Any:
    """``u(x)`` in the outputs' structure: ones for ``"absolute"``, the heuristic otherwise."""
    if cal.heuristic is None:
        return jax.tree.map(jnp.ones_like, predictions)
    flat = uncertainty(cal.heuristic, cal.model, cal.params, cal.state, x, cal.batch_size)
    leaves = jax.tree.leaves(predictions)
    sizes = np.cumsum([int(np.prod(leaf.shape[1:])) for leaf in leaves])[:-1]
    parts = jnp.split(flat, sizes, axis=1)
    return _unflatten_like(
        predictions,
        [
            part.reshape(leaf.shape).astype(leaf.dtype)
            for part, leaf in zip(parts, leaves, strict=True)
        ],
    )


def class_scores(cal: Calibration, predictions: Any, rng: Any) -> list[jax.Array]:
    """Every class's score, ``(samples, ..., classes)``, for each output leaf (a list)."""
    leaves = jax.tree.leaves(predictions)
    keys: list[Any] = [None] * len(leaves)
    if cal.score == "aps":
        keys = list(jax.random.split(_key(rng), len(leaves)))
    logits = cal.outputs == "logits"
    return [
        _leaf_class_scores(cal.score, logits, leaf, key)
        for leaf, key in zip(leaves, keys, strict=True)
    ]


@functools.partial(jax.jit, static_argnums=(0, 1))
def _leaf_class_scores(score: str, logits: bool, leaf: jax.Array, key: Any) -> jax.Array:
    """``score``'s class scores for one output leaf, ``(samples, ..., classes)``."""
    p = jax.nn.softmax(leaf, axis=-1) if logits else leaf
    if score == "lac":
        return 1 - p
    share = jax.random.uniform(key, p.shape[:-1], p.dtype)
    return _mass_above(p) + share[..., None] * p


def _mass_above(p: jax.Array) -> jax.Array:
    """For each class, the total probability of the classes strictly more likely than it.

    By sorting (``O(K log K)`` time and ``O(K)`` memory per prediction, not ``O(K^2)``): with
    ``a`` the probabilities in ascending order, the classes above ``p_k`` are ``a[c:]``, ``c``
    the number of entries ``<= p_k``.
    """
    classes = p.shape[-1]
    ascending = jnp.sort(p, axis=-1).reshape(-1, classes)
    tails = jnp.cumsum(ascending[:, ::-1], axis=-1)[:, ::-1]  # tails[:, i] = sum(a[i:])
    tails = jnp.concatenate([tails, jnp.zeros_like(tails[:, :1])], axis=-1)
    counts = jax.vmap(lambda a, q: jnp.searchsorted(a, q, side="right"))(
        ascending, p.reshape(-1, classes)
    )
    return jnp.take_along_axis(tails, counts, axis=-1).reshape(p.shape)


def check_targets(cal: Calibration, predictions: Any, y: Any, name: str) -> None:
    """``ValueError`` naming ``name`` unless ``y`` fits the predictions: same structure, shapes
    (without the class axis for classifiers), finite values / class ids in range."""
    if jax.tree.structure(y) != jax.tree.structure(predictions):
        raise ValueError(
            f"{name} has the structure {jax.tree.structure(y)} but the model's outputs have "
            f"{jax.tree.structure(predictions)}; give one target leaf per output leaf"
        )
    for (path, target), output in zip(
        jax.tree_util.tree_leaves_with_path(y), jax.tree.leaves(predictions), strict=True
    ):
        where = f"{name}{jax.tree_util.keystr(path)}"
        expected = output.shape[:-1] if cal.classifier else output.shape
        if target.shape != expected:
            kind = "class ids of shape" if cal.classifier else "targets of shape"
            raise ValueError(
                f"{where} has shape {target.shape}, but the model's output is {output.shape}: "
                f"give {kind} {expected}"
            )
        if cal.classifier:
            _check_labels(target, output.shape[-1], where)
        elif (sample := _first_non_finite(target)) is not None:
            raise ValueError(
                f"{where} holds NaN or inf (sample {sample}); conformal scores need finite "
                "targets: drop those samples"
            )


def _first_non_finite(leaf: jax.Array) -> int | None:
    """The first sample of ``leaf`` holding NaN or inf, or ``None`` (checked on the host)."""
    rows = ~np.isfinite(np.asarray(leaf)).reshape(leaf.shape[0], -1).all(axis=1)
    return int(np.argmax(rows)) if rows.any() else None


def _check_labels(labels: jax.Array, classes: int, where: str) -> None:
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(
            f"{where} is {labels.dtype}; classifier targets are integer class ids in [0, {classes})"
        )
    values = np.asarray(labels)
    bad = (values < 0) | (values >= classes)
    if bad.any():
        raise ValueError(
            f"{where} holds the class id {values[bad][0]}, outside the model's {classes} "
            f"classes [0, {classes})"
        )


def _key(rng: Any) -> Any:
    """``rng`` as a PRNG key (ints are seeds); ``ValueError`` naming ``rng`` if it is missing."""
    if rng is None:
        raise ValueError(
            "score 'aps' is randomised: pass rng=jax.random.key(seed) (or an int seed), a "
            "different one for calibration and for each prediction, the same to reproduce a run"
        )
    if isinstance(rng, int) and not isinstance(rng, bool):
        return jax.random.key(rng)
    return rng


def _unflatten_like(tree: Any, leaves: list[Any]) -> Any:
    return jax.tree.unflatten(jax.tree.structure(tree), leaves)
