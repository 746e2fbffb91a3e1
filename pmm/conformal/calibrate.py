"""``pmm.conformal.calibrate``: score a trained model on held-out data, once.

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=1)
>>> params = {"weight": jnp.array([[2.0]]), "bias": jnp.array([0.0])}
>>> x = jnp.linspace(0, 1, 99)[:, None]
>>> y = 2 * x + 0.1 * jnp.sin(40 * x)
>>> cal = pmm.conformal.calibrate(model, params, (), x, y)
>>> lower, upper = pmm.conformal.interval(cal, jnp.array([[0.5]]), alpha=0.1)
>>> float(upper[0, 0] - lower[0, 0]) < 0.21
True
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pmm.conformal.calibration import (
    CLASSIFICATION_SCORES,
    OUTPUTS,
    REGRESSION_SCORES,
    Calibration,
)
from pmm.conformal.fingerprint import fingerprint
from pmm.conformal.heuristic import fit_heuristic
from pmm.conformal.scores import score_pairs
from pmm.module import Module
from pmm.train.batches import as_data, sample_count
from pmm.typing import Data, Params, State


def calibrate(
    model: Module,
    params: Params,
    state: State,
    x_cal: Data,
    y_cal: Data,
    score: str = "absolute",
    *,
    x_train: Data | None = None,
    outputs: str = "logits",
    rng: Any = None,
    batch_size: int | None = None,
) -> Calibration:
    """Calibrate ``model`` on held-out data for conformal intervals or prediction sets.

    Split conformal prediction: the scores of ``n`` calibration points the model was not trained
    on set a threshold, and a new point's interval (or set) holds every target whose score is at
    most the threshold. If the calibration points and the new point are exchangeable (e.g. drawn
    independently from the same distribution), the target is covered with probability at least
    ``1 - alpha``, whatever the model, for any ``n``. It says nothing about points from another
    distribution: extrapolation, drifted data, other experiments.

    Parameters
    ----------
    model, params, state
        A trained model (its own training data must not be the calibration data).
    x_cal, y_cal
        Held-out inputs and targets, samples first. For regression ``y_cal`` has the model
        output's structure and shapes; for classifiers each leaf holds integer class ids, the
        output leaf's shape without its last (class) axis.
    score
        Regression: ``"absolute"`` (``|y - f(x)|``: intervals of one width everywhere) or
        ``"normalized"`` (``|y - f(x)| / u(x)``, ``u`` the uncertainty heuristic of
        ``pmm.conformal.heuristic``: wider where the model is unsure). Classification: ``"lac"``
        or ``"aps"`` (randomised; see ``pmm.conformal.scores``).
    x_train
        The training inputs, for ``"normalized"`` only (optional): adds the input sensitivity
        and the distance to the training data to the heuristic.
    outputs
        Classifiers: ``"logits"`` (softmax is applied) or ``"probabilities"``.
    rng
        PRNG key or int seed, for ``"aps"`` only (required there).
    batch_size
        Samples per model call, here and in every later use of the calibration.

    Returns
    -------
    Calibration
        Use it with ``interval`` (regression) or ``prediction_set`` (classification).

    Raises
    ------
    ValueError
        An unknown ``score`` or ``outputs``; ``x_cal``/``y_cal`` differ in sample count or do not
        fit the model's outputs; NaN targets or predictions; complex or integer outputs;
        ``x_train`` with a score other than ``"normalized"``; no ``rng`` for ``"aps"``.
    """
    if score not in REGRESSION_SCORES + CLASSIFICATION_SCORES:
        raise ValueError(
            f"score is {score!r}; give one of {list(REGRESSION_SCORES)} for regression or "
            f"{list(CLASSIFICATION_SCORES)} for classification"
        )
    if outputs not in OUTPUTS:
        raise ValueError(f"outputs is {outputs!r}; give one of {list(OUTPUTS)}")
    if x_train is not None and score != "normalized":
        raise ValueError(
            f"x_train is used by score='normalized' only (score is {score!r}); leave it out"
        )
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size is {batch_size!r}; give a positive int or None")
    x_cal, y_cal = as_data(x_cal, "x_cal"), as_data(y_cal, "y_cal")
    sample_count({"x_cal": x_cal, "y_cal": y_cal})
    classifier = score in CLASSIFICATION_SCORES
    _check_real_outputs(model, params, state, x_cal)
    heuristic = None
    if score == "normalized":
        reference = x_cal if x_train is None else _training_inputs(x_train, x_cal)
        heuristic = fit_heuristic(
            model, params, state, reference, training=x_train is not None, batch_size=batch_size
        )
    unscored = Calibration(
        model=model,
        params=params,
        state=state,
        score=score,
        scores=None,
        outputs=outputs if classifier else None,
        heuristic=heuristic,
        batch_size=batch_size,
        fingerprint=fingerprint(model, params, state),
    )
    found = score_pairs(unscored, x_cal, y_cal, rng, ("x_cal", "y_cal"))
    ordered = jax.tree.map(lambda s: jnp.asarray(np.sort(np.asarray(s), axis=0)), found)
    return dataclasses.replace(unscored, scores=ordered)


def _check_real_outputs(model: Module, params: Params, state: State, x: Data) -> None:
    """``ValueError`` unless every output leaf is real: intervals need an order, and class
    probabilities are real."""
    shapes = jax.eval_shape(lambda p, s, d: model(p, d, False, s, None)[0], params, state, x)
    for path, leaf in jax.tree_util.tree_leaves_with_path(shapes):
        if not jnp.issubdtype(leaf.dtype, jnp.floating):
            raise ValueError(
                f"the model's output{jax.tree_util.keystr(path)} is {leaf.dtype}; conformal "
                "scores need real floating outputs (take the real part, or the magnitude, in "
                "the model)"
            )


def _training_inputs(x_train: Data, x_cal: Data) -> Data:
    """``x_train`` as data, checked to have the calibration inputs' structure and shapes."""
    x_train = as_data(x_train, "x_train")
    shapes = [jax.tree.map(lambda leaf: leaf.shape[1:], x) for x in (x_train, x_cal)]
    if jax.tree.structure(x_train) != jax.tree.structure(x_cal) or shapes[0] != shapes[1]:
        raise ValueError(
            f"x_train has per-sample shapes {shapes[0]} but x_cal has {shapes[1]}; give the "
            "inputs the model was trained on"
        )
    return x_train
