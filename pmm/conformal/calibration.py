"""``Calibration``: what ``pmm.conformal.calibrate`` learns, and what intervals and sets use.

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=1)
>>> params, state = model.init(jax.random.key(0), (1,))
>>> x = jnp.linspace(0, 1, 20)[:, None]
>>> cal = pmm.conformal.calibrate(model, params, state, x, 2 * x)
>>> cal.score, cal.n
('absolute', 20)
"""

import dataclasses
from typing import Any

import jax

from pmm.conformal.heuristic import Heuristic
from pmm.module import Module
from pmm.typing import Params, State

#: The regression scores (``interval``) and the classification scores (``prediction_set``).
REGRESSION_SCORES = ("absolute", "normalized")
CLASSIFICATION_SCORES = ("lac", "aps")

#: How a classifier's outputs are read: ``"logits"`` (softmax over the last axis gives the class
#: probabilities) or ``"probabilities"`` (used as they are).
OUTPUTS = ("logits", "probabilities")


@dataclasses.dataclass(frozen=True, eq=False)
class Calibration:
    """A model calibrated for conformal prediction: its sorted calibration scores and the model.

    Build it with ``pmm.conformal.calibrate``; save it with ``pmm.conformal.save`` (the scores
    and a fingerprint of the model, not the model) and load it back, for the same model only,
    with ``pmm.conformal.load``.

    Attributes
    ----------
    model, params, state
        The model the scores are for.
    score
        ``"absolute"``, ``"normalized"``, ``"lac"`` or ``"aps"``.
    scores
        The calibration scores, sorted along the sample axis, one array per model output leaf:
        ``(n, *leaf_shape)`` for regression, ``(n, *leaf_shape[:-1])`` for classifiers (the class
        axis removed).
    outputs
        For classifiers, how the outputs are read (``OUTPUTS``); ``None`` for regression.
    heuristic
        The ``"normalized"`` score's uncertainty heuristic (``pmm.conformal.heuristic``), else
        ``None``.
    batch_size
        Samples per model call in every later use (``None``: all at once).
    fingerprint
        ``pmm.conformal.fingerprint.fingerprint(model, params, state)``.
    """

    model: Module
    params: Params
    state: State
    score: str
    scores: Any
    outputs: str | None
    heuristic: Heuristic | None
    batch_size: int | None
    fingerprint: str

    @property
    def n(self) -> int:
        """The number of calibration samples."""
        return jax.tree.leaves(self.scores)[0].shape[0]

    @property
    def classifier(self) -> bool:
        """Whether the score is a classification score (sets, not intervals)."""
        return self.score in CLASSIFICATION_SCORES

    def __repr__(self) -> str:
        return (
            f"Calibration(score={self.score!r}, n={self.n}, model={self.model!r}, "
            f"fingerprint={self.fingerprint[:12]!r}...)"
        )
