"""``pmm.conformal``: prediction intervals and sets with a finite-sample coverage guarantee.

Split conformal prediction turns any trained model into one whose intervals (regression) or
class sets (classification) hold the truth with probability at least ``1 - alpha``, for data
exchangeable with a held-out calibration set, whatever the model and for any number of
calibration points. ``calibrate`` scores the calibration set once; ``interval`` and
``prediction_set`` use the finite-sample quantile of those scores. Files: ``calibrate.py``,
``calibration.py`` (the ``Calibration``), ``scores.py`` (the score functions), ``heuristic.py``
(the ``"normalized"`` score's uncertainty), ``quantile.py``, ``intervals.py``, ``file.py``
(``save``/``load``), ``fingerprint.py``. The guide is ``docs/uncertainty.md``.

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.nn.Linear(features=1)
>>> params = {"weight": jnp.array([[3.0]]), "bias": jnp.array([0.0])}
>>> x = jax.random.uniform(jax.random.key(0), (200, 1))
>>> y = 3 * x + 0.1 * jax.random.normal(jax.random.key(1), (200, 1))
>>> cal = pmm.conformal.calibrate(model, params, (), x[:100], y[:100])
>>> covered = pmm.conformal.coverage(cal, x[100:], y[100:], alpha=0.1)
>>> bool(covered[0] > 0.8)
True
"""

from pmm.conformal.calibrate import calibrate
from pmm.conformal.calibration import Calibration
from pmm.conformal.file import load, save
from pmm.conformal.intervals import coverage, interval, prediction_set
from pmm.conformal.scores import scores

__all__ = [
    "Calibration",
    "calibrate",
    "coverage",
    "interval",
    "load",
    "prediction_set",
    "save",
    "scores",
]
