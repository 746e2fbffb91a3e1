"""Parametric Matrix Models (Cook, Jammooa, Hjorth-Jensen, Lee, Lee, Nat. Commun. 16, 5929 (2025)).

A PMM computes its outputs from the eigensystem of a *primary* Hermitian matrix whose entries are
affine functions of the input features, read out directly (eigenvalues) or through trainable
*secondary* Hermitian matrices (expectation values, transition probabilities).

Primitives, chained with ``>>``:

- ``AffineHermitianMatrix``, ``LowRankAffineHermitianMatrix``: ``(batch, p)`` to ``(batch, n, n)``
- ``Eigenvalues``, ``Eigenvectors``, ``Eigensystem``: ``(batch, n, n)`` to ``(batch, k)`` /
  ``(batch, n, k)`` / both, selected by ``which`` (see ``pmm.matrix.eigen``), computed by the
  ``solver`` of ``SOLVERS`` (dense LAPACK ``eigh``, or iterative for the extremal pairs of
  large matrices)
- ``ExpectationValueSum``, ``TransitionAmplitudeSum``: ``(batch, n, r)`` to ``(batch, q)``

Models: ``AffineEigenvaluePMM`` (``AEPMM``) and ``AffineObservablePMM`` (``AOPMM``).

Examples
--------
>>> import jax, jax.numpy as jnp, pmm
>>> model = pmm.matrix.AffineHermitianMatrix(4) >> pmm.matrix.Eigenvalues(num_eig=1)
>>> params, state = model.init(jax.random.key(0), (1,))
>>> model(params, jnp.zeros((3, 1)), False, state, None)[0].shape
(3, 1)
"""

from pmm.matrix._solvers import SOLVERS
from pmm.matrix.affine import AffineHermitianMatrix
from pmm.matrix.composites import AEPMM, AOPMM, AffineEigenvaluePMM, AffineObservablePMM
from pmm.matrix.eigen import WHICH, Eigensystem, Eigenvalues, Eigenvectors
from pmm.matrix.lowrank import LowRankAffineHermitianMatrix
from pmm.matrix.observables import ExpectationValueSum, TransitionAmplitudeSum

__all__ = [
    "AEPMM",
    "AOPMM",
    "SOLVERS",
    "WHICH",
    "AffineEigenvaluePMM",
    "AffineHermitianMatrix",
    "AffineObservablePMM",
    "Eigensystem",
    "Eigenvalues",
    "Eigenvectors",
    "ExpectationValueSum",
    "LowRankAffineHermitianMatrix",
    "TransitionAmplitudeSum",
]
