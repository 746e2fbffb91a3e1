"""Training: ``fit`` a model with an optax optimizer, ``predict`` with it in batches, or write
your own loop around ``make_train_step``.

Files: ``fitting.py`` (``fit``: its arguments and setup), ``loop.py`` (the host loop), ``epoch.py``
(the compiled chunk of epochs), ``step.py`` (the train step), ``complex.py`` (complex gradients),
``losses.py``, ``batches.py``, ``trainable.py`` (freezing), ``checkpoint.py``, ``fingerprint.py``
(what identifies a run), ``sharding.py`` (multi-device), ``arguments.py``, ``predict.py``,
``result.py``. The guide is ``docs/training.md``.
"""

from pmm.train.complex import conjugate_complex_grads
from pmm.train.fitting import fit
from pmm.train.predict import predict
from pmm.train.result import FitResult
from pmm.train.step import TrainStep, make_train_step

__all__ = [
    "FitResult",
    "TrainStep",
    "conjugate_complex_grads",
    "fit",
    "make_train_step",
    "predict",
]
