"""pmm: pure-functional, typed modules for JAX, with Parametric Matrix Models.

Every module is a frozen spec of hyperparameters and is itself the pure callable
``(params, data, training, state, rng) -> (data, state)``; ``module.init(rng, input_shape)``
builds ``(params, state)``.
"""

from pmm import conformal, matrix, nn, preprocessing, typing
from pmm.checked import Checked, checked
from pmm.checks import set_shape_checks, shape_checks, shape_checks_enabled
from pmm.combinators import Concatenate, Parallel, Residual, Select, Sequential
from pmm.composite import Composite
from pmm.errors import LoadError, PmmError, RngError, ShapeError
from pmm.functions import register_function
from pmm.graph import Graph
from pmm.io import load, save
from pmm.matrix import (
    AEPMM,
    AOPMM,
    AffineEigenvaluePMM,
    AffineHermitianMatrix,
    AffineObservablePMM,
    Eigensystem,
    Eigenvalues,
    Eigenvectors,
    ExpectationValueSum,
    LowRankAffineHermitianMatrix,
    TransitionAmplitudeSum,
)
from pmm.module import Module, Parameterless, register, registered_class, registry_name
from pmm.paths import ParamPath, parameter_paths
from pmm.precision import cast
from pmm.summary import Summary, SummaryRow, count_params, summary
from pmm.train import (
    FitResult,
    TrainStep,
    conjugate_complex_grads,
    fit,
    make_train_step,
    predict,
)

__version__ = "0.2.0"

__all__ = [
    "AEPMM",
    "AOPMM",
    "AffineEigenvaluePMM",
    "AffineHermitianMatrix",
    "AffineObservablePMM",
    "Eigensystem",
    "Eigenvalues",
    "Eigenvectors",
    "ExpectationValueSum",
    "LowRankAffineHermitianMatrix",
    "TransitionAmplitudeSum",
    "matrix",
    "Checked",
    "Composite",
    "Concatenate",
    "FitResult",
    "Graph",
    "LoadError",
    "Module",
    "Parallel",
    "ParamPath",
    "Parameterless",
    "PmmError",
    "Residual",
    "RngError",
    "Select",
    "Sequential",
    "ShapeError",
    "Summary",
    "SummaryRow",
    "TrainStep",
    "__version__",
    "cast",
    "checked",
    "conformal",
    "conjugate_complex_grads",
    "count_params",
    "fit",
    "load",
    "make_train_step",
    "nn",
    "parameter_paths",
    "predict",
    "preprocessing",
    "register",
    "register_function",
    "registered_class",
    "registry_name",
    "save",
    "set_shape_checks",
    "shape_checks",
    "shape_checks_enabled",
    "summary",
    "typing",
]
