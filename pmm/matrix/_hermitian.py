"""Hermitian matrices from unconstrained real parameters, and the checks on their dtype.

Every Hermitian matrix in ``pmm.matrix`` is stored as a real square array ``A`` and read as

.. math::  H = \\tfrac{1}{2}\\left[(1 + i) A + (1 - i) A^T\\right],

that is ``Re H = (A + A^T) / 2`` and ``Im H = (A - A^T) / 2``. The map is a bijection between real
``n x n`` arrays and Hermitian ``n x n`` matrices (``A = Re H + Im H``), so the parameters have no
redundant or constrained entries. Keeping them real also keeps gradients plain: ``jax.grad`` of a
real loss with respect to a *complex* leaf returns the conjugate of the descent direction, which
optimizers that are unaware of it follow the wrong way in the imaginary part.

Examples
--------
>>> h = hermitian(jnp.arange(4.0).reshape(2, 2), "complex64")
>>> bool(jnp.allclose(h, h.conj().T))
True
"""

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from pmm._dtypes import canonical_dtype, real_dtype


def hermitian(raw: Float[Array, "*lead n n"], dtype: str) -> Complex[Array, "*lead n n"]:
    """The Hermitian matrices ``((1 + i) A + (1 - i) A^T) / 2`` of ``dtype`` for real ``A``."""
    raw = raw.astype(real_dtype(dtype))
    transposed = jnp.swapaxes(raw, -1, -2)
    return jax.lax.complex(raw + transposed, raw - transposed).astype(dtype) / 2


def raw_normal(key: Any, shape: tuple[int, ...], dtype: str, magnitude: float) -> Array:
    """Real normal parameters whose ``hermitian`` matrices have ``E|H_ij|^2 = magnitude^2``."""
    return magnitude * jax.random.normal(key, shape, real_dtype(dtype))


def complex_dtype(value: Any, owner: str) -> str:
    """``value`` as ``"complex64"`` or ``"complex128"``; ``ValueError`` naming field ``dtype``."""
    name = canonical_dtype(value, "dtype", owner)
    if not name.startswith("complex"):
        raise ValueError(
            f"field 'dtype' of {owner} is {value!r}; the matrices are complex Hermitian, so give "
            "'complex64' or 'complex128' (the parameters are stored in the matching real dtype)"
        )
    return name
