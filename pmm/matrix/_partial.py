r"""The ``count`` lowest or highest eigenpairs of Hermitian matrices by the iterative solver.

``extremal_eigh`` and its values-only twin ``extremal_eigvalsh`` run
``pmm.matrix._chebyshev.lowest_eigenpairs`` (on ``-A`` for the highest) and give every sample that
did not converge within the cycle cap to dense ``eigh`` instead, one matrix at a time, so the
result always meets the solver's tolerance and a batch pays for dense only in the samples that
need it. Nothing raises: a matrix with ``nan`` or ``inf`` entries falls back too and gets dense
``eigh``'s answer (which has ``nan`` in it).

Derivatives never go through the iterations (custom JVPs, so forward and reverse mode both work):

- **Eigenvalues**, Hellmann-Feynman: :math:`d\lambda_i = \mathrm{Re}\, v_i^\dagger\, dA\, v_i`.
  Exact for a converged pair; at a degenerate level it is the derivative along the computed
  vector (one valid choice; a sum over the whole degenerate group is exact). Always finite.
- **Eigenvectors**, restricted to the computed subspace :math:`V = [v_1 \ldots v_k]`:
  :math:`dv_j = \sum_{i \le k,\, i \ne j} v_i \frac{v_i^\dagger dA\, v_j}{\lambda_j - \lambda_i}`
  (degenerate pairs left out, as in ``pmm.matrix._eigh``). The exact derivative adds
  :math:`-(A - \lambda_j)^{+}_{\perp} P_\perp\, dA\, v_j`, the part that turns :math:`v_j` out of
  the subspace, with :math:`P_\perp = 1 - V V^\dagger`. The restricted form is therefore exact when
  ``dA`` maps the computed subspace into itself (:math:`P_\perp\, dA\, V = 0`, e.g. ``dA`` a
  function of ``A``, or ``k = n``), and for outputs that depend on the vectors only through
  :math:`V^\dagger B V` with :math:`P_\perp B V = 0`. It is **not** exact otherwise: outputs
  that depend on the subspace only (sums over all ``k`` states of expectation values or
  transition probabilities, as in an AO-PMM) get no derivative through ``A`` at all. That is why
  ``solver="auto"`` uses dense ``eigh`` whenever eigenvectors are returned.

Examples
--------
>>> import numpy as np
>>> matrices = jnp.asarray(np.diag(np.arange(40.0)))[None]
>>> extremal_eigvalsh(matrices, 2, True).round(3).tolist()
[[38.0, 39.0]]
"""

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jaxtyping import Array, Bool, Inexact, Real

from pmm.matrix._chebyshev import hermitian_part, lowest_eigenpairs
from pmm.matrix._eigh import perturbation


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def solve(
    matrices: Inexact[Array, "batch n n"], count: int, largest: bool, max_cycles: int | None = None
) -> tuple[Real[Array, "batch k"], Inexact[Array, "batch n k"]]:
    """The ``count`` lowest (``largest``: highest) eigenpairs of the Hermitian parts
    ``(M + M^dagger) / 2`` of ``matrices``, ascending; no derivative rule.

    Iterative, with dense ``eigh`` for the samples that do not converge in ``max_cycles`` (the
    solver's default cap when ``None``). Jitted, so that eager calls compile the loops once per
    shape rather than on every call.
    """
    hermitian = (matrices + jnp.conj(jnp.swapaxes(matrices, -1, -2))) / 2
    found = lowest_eigenpairs(hermitian, count, max_cycles, largest)
    values, vectors = _dense_unless(
        found.converged, hermitian, found.values, found.vectors, largest
    )
    if largest:
        return -values[..., ::-1], vectors[..., ::-1]
    return values, vectors


def _dense_unless(
    converged: Bool[Array, " batch"], matrices: Array, values: Array, vectors: Array, negated: bool
) -> tuple[Array, Array]:
    """``values, vectors`` with each sample that has not ``converged`` replaced by the lowest
    pairs of dense ``eigh`` of the Hermitian part ``A`` (of ``-A`` when ``negated``), one matrix
    per loop step (no step at all when every sample converged)."""
    count = values.shape[-1]

    def pending(carry: tuple[Array, Array, Array]) -> Array:
        return ~jnp.all(carry[2])

    def diagonalise_one(carry: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        values, vectors, done = carry
        index = jnp.argmin(done)
        matrix = hermitian_part(matrices[index])
        exact_values, exact_vectors = jnp.linalg.eigh(-matrix if negated else matrix)
        return (
            values.at[index].set(exact_values[:count]),
            vectors.at[index].set(exact_vectors[:, :count]),
            done.at[index].set(True),
        )

    values, vectors, _ = lax.while_loop(pending, diagonalise_one, (values, vectors, converged))
    return values, vectors


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def extremal_eigh(
    matrices: Inexact[Array, "batch n n"], count: int, largest: bool
) -> tuple[Real[Array, "batch k"], Inexact[Array, "batch n k"]]:
    """The ``count`` lowest (``largest``: highest) eigenpairs of the Hermitian parts of
    ``matrices``, ascending; derivatives as the module docstring says (eigenvectors: restricted
    to the computed subspace)."""
    return solve(matrices, count, largest)


@extremal_eigh.defjvp
def _extremal_eigh_jvp(
    count: int, largest: bool, primals: tuple[Array], tangents: tuple[Array]
) -> tuple[tuple, tuple]:
    (matrices,), (tangent,) = primals, tangents
    values, vectors = solve(matrices, count, largest)
    projected = jnp.conj(jnp.swapaxes(vectors, -1, -2)) @ tangent @ vectors
    projected = (
        projected + jnp.conj(jnp.swapaxes(projected, -1, -2))
    ) / 2  # V^H dA V, dA Hermitian
    return (values, vectors), perturbation(values, vectors, projected)


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2))
def extremal_eigvalsh(
    matrices: Inexact[Array, "batch n n"], count: int, largest: bool
) -> Real[Array, "batch k"]:
    """The ``count`` lowest (``largest``: highest) eigenvalues of the Hermitian parts of
    ``matrices``, ascending; Hellmann-Feynman derivatives."""
    return solve(matrices, count, largest)[0]


@extremal_eigvalsh.defjvp
def _extremal_eigvalsh_jvp(
    count: int, largest: bool, primals: tuple[Array], tangents: tuple[Array]
) -> tuple[Array, Array]:
    (matrices,), (tangent,) = primals, tangents
    values, vectors = solve(matrices, count, largest)
    # Re(v^H dM v) = v^H dA v for the Hermitian part dA = (dM + dM^H) / 2
    values_dot = jnp.einsum("bik,bij,bjk->bk", jnp.conj(vectors), tangent, vectors).real
    return values, values_dot.astype(values.dtype)
