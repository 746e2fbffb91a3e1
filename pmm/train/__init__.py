"""Training: ``fit`` a model with an optax optimizer, ``predict`` with it in batches.

Files: ``fit.py`` (the host loop), ``epoch.py`` (the compiled chunk of epochs), ``losses.py``,
``batches.py``, ``trainable.py`` (freezing), ``checkpoint.py``, ``sharding.py`` (multi-device),
``predict.py``, ``result.py``.
"""

from pmm.train.fitting import fit
from pmm.train.predict import predict
from pmm.train.result import FitResult

__all__ = ["FitResult", "fit", "predict"]
