r"""``eigh``: the eigensystem of Hermitian matrices, with derivatives that stay finite.

``jnp.linalg.eigh`` differentiates eigenvectors with ``1 / (w_j - w_i)``; at an exactly
degenerate spectrum that is ``inf``, and reverse mode multiplies it by a zero cotangent, so even
the gradient of an *eigenvalue* becomes ``nan`` as soon as the eigenvectors are used too. Here
the JVP is first-order perturbation theory with degenerate pairs left out:

.. math::
    dw_i = \mathrm{Re}(V^\dagger dA\, V)_{ii}, \qquad dV = V (F \circ V^\dagger dA\, V),

where ``F[i, j] = 1 / (w[j] - w[i])`` for distinct levels, ``0`` for degenerate ones (gap <= tau),
with ``tau = n * eps * max|w|`` (eigenvalues closer than rounding noise count as degenerate).
Eigenvalue derivatives are then always finite. Eigenvector derivatives are exact for
non-degenerate levels and grow like ``1 / gap`` near a crossing; inside a degenerate eigenspace
the basis is arbitrary, and the rule leaves it still, which is exact for any output that does not
depend on the choice of basis there (a sum over the whole degenerate group, a projector).

Examples
--------
>>> w, v = eigh(jnp.eye(2, dtype=jnp.complex64))
>>> w.shape, v.shape
((2,), (2, 2))
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Inexact, Real


@jax.custom_jvp
def eigh(matrices: Inexact[Array, "*lead n n"]) -> tuple[Real[Array, "*lead n"], Array]:
    """Eigenvalues (ascending) and eigenvector columns of Hermitian ``matrices``.

    Only the lower triangle is read; pass matrices that are Hermitian already.
    """
    values, vectors = jnp.linalg.eigh(matrices, symmetrize_input=False)
    return values, vectors


@eigh.defjvp
def _eigh_jvp(primals: tuple[Array], tangents: tuple[Array]) -> tuple[tuple, tuple]:
    (matrices,), (tangent,) = primals, tangents
    values, vectors = eigh(matrices)
    projected = jnp.conj(jnp.swapaxes(vectors, -1, -2)) @ tangent @ vectors
    return (values, vectors), perturbation(values, vectors, projected)


def perturbation(
    values: Real[Array, "*lead k"], vectors: Inexact[Array, "*lead n k"], projected: Array
) -> tuple[Real[Array, "*lead k"], Inexact[Array, "*lead n k"]]:
    r"""First-order change ``(dw, dV)`` of eigenpairs ``(values, vectors)`` of ``A`` under ``dA``,
    given ``projected = V^dagger dA V``.

    The module's formulas with ``V`` the ``k`` given eigenvector columns. With all ``n`` columns
    they are the exact derivative; with fewer, ``dV`` keeps only its component in the span of the
    given columns (the sum over ``i`` runs over them), and ``dw`` stays exact.
    """
    size = vectors.shape[-2]
    gaps = values[..., None, :] - values[..., :, None]
    scale = jnp.max(jnp.abs(values), axis=-1, keepdims=True)[..., None]
    distinct = jnp.abs(gaps) > size * jnp.finfo(values.dtype).eps * scale
    inverse_gaps = jnp.where(distinct, 1 / jnp.where(distinct, gaps, 1), 0)
    values_dot = jnp.real(jnp.diagonal(projected, axis1=-2, axis2=-1))
    vectors_dot = vectors @ (inverse_gaps.astype(projected.dtype) * projected)
    return values_dot.astype(values.dtype), vectors_dot
