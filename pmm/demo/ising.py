"""Exact diagonalisation of the transverse-field Ising ring, the demo's physics problem.

.. math::  H(g) = \\frac{1}{N}\\Big(-\\sum_{i=1}^{N} Z_i Z_{i+1} - g \\sum_{i=1}^{N} X_i\\Big),
           \\qquad Z_{N+1} = Z_1,

on :math:`N` spins 1/2. :math:`H(g)` is affine in the field :math:`g`, and its ground-state energy
per site :math:`E_0(g)` changes character at the quantum critical point :math:`|g| = 1`: the
problem a PMM is built for (an affine Hermitian family whose lowest eigenvalue is the target).

Examples
--------
>>> import numpy as np
>>> float(ground_state_energy(np.array([0.0]), sites=4)[0])
-1.0
"""

import functools

import numpy as np

_PAULI_X = np.array([[0.0, 1.0], [1.0, 0.0]])
_PAULI_Z = np.array([[1.0, 0.0], [0.0, -1.0]])


def _on_site(operator: np.ndarray, site: int, sites: int) -> np.ndarray:
    """``operator`` acting on spin ``site`` of ``sites``, the identity elsewhere (dense)."""
    return np.kron(np.kron(np.eye(2**site), operator), np.eye(2 ** (sites - site - 1)))


@functools.lru_cache(maxsize=8)
def ising_terms(sites: int) -> tuple[np.ndarray, np.ndarray]:
    """The coupling and field parts of ``H(g) = coupling + g * field``, each divided by ``sites``.

    Both are real symmetric ``(2**sites, 2**sites)`` arrays.
    """
    if sites < 2:
        raise ValueError(f"sites is {sites}; the Ising ring needs at least 2 spins")
    z = [_on_site(_PAULI_Z, i, sites) for i in range(sites)]
    coupling = -np.sum([z[i] @ z[(i + 1) % sites] for i in range(sites)], axis=0)
    field = -np.sum([_on_site(_PAULI_X, i, sites) for i in range(sites)], axis=0)
    return coupling / sites, field / sites


def ground_state_energy(fields: np.ndarray, sites: int) -> np.ndarray:
    """The ground-state energy per site :math:`E_0(g)` for each field in ``fields`` (any shape)."""
    coupling, field = ising_terms(sites)
    flat = np.ravel(fields)
    energies = [np.linalg.eigvalsh(coupling + g * field)[0] for g in flat]
    return np.reshape(energies, np.shape(fields))
