"""pmm: pure-functional, typed modules for JAX, with Parametric Matrix Models.

Every module is a frozen spec of hyperparameters and is itself the pure callable
``(params, data, training, state, rng) -> (data, state)``; ``module.init(rng, input_shape)``
builds ``(params, state)``.
"""

from pmm import nn, typing
from pmm.combinators import Concatenate, Parallel, Residual, Select, Sequential
from pmm.errors import LoadError, PmmError, RngError, ShapeError
from pmm.module import Module, register, registered_class, registry_name

__version__ = "0.1.0"

__all__ = [
    "Concatenate",
    "LoadError",
    "Module",
    "Parallel",
    "PmmError",
    "Residual",
    "RngError",
    "Select",
    "Sequential",
    "ShapeError",
    "__version__",
    "nn",
    "register",
    "registered_class",
    "registry_name",
    "typing",
]
