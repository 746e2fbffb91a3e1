r"""The lowest eigenpairs of Hermitian matrices by Chebyshev-filtered subspace iteration.

``lowest_eigenpairs(matrices, count)`` finds the ``count`` lowest eigenpairs of each ``(n, n)``
Hermitian matrix of a ``(batch, n, n)`` stack in ``lax`` loops (jittable, vmappable) and says per
sample whether they converged. It never differentiates; the derivative rules live in
``pmm.matrix._partial``.

The samples are solved one after the other (``lax.map``), each until its own convergence: a
matrix then stays in the CPU's cache for all its steps instead of the whole batch streaming from
memory at every step, and no sample waits for the slowest (measured 1.6-2x faster than all
samples in lockstep). Under ``jax.vmap`` (ensembles) the vmapped members run in lockstep, and a
member that has converged is frozen while the others iterate.

Algorithm (Zhou & Saad, J. Comput. Phys. 219 (2006); SIAM J. Matrix Anal. Appl. 29 (2007)):

1. **Warm-up.** From a fixed random block :math:`X_0` of ``p = block_size(n, count)`` orthonormal
   columns, take an orthonormal basis :math:`Q` of the block Krylov space
   :math:`[X_0, A X_0, \ldots, A^{j-1} X_0]` (``j = WARMUP_BLOCKS``) and the Rayleigh-Ritz pairs
   of :math:`Q^\dagger A Q`. Its lowest ``p`` Ritz vectors start the iteration; its largest Ritz
   value plus the spectral norm of the remainder :math:`(1 - Q Q^\dagger) A Q`, capped by the
   Gershgorin bound, is the upper end ``b`` of the spectrum (the block form of the safeguarded
   Lanczos bound of Zhou & Li, Linear Algebra Appl. 435 (2011); it measured 1.3-1.5 times
   :math:`\lambda_{max}` on random and Ising matrices, never below it).
2. **Filter.** Each cycle applies :math:`T_d((A - c)/e)` to the block, :math:`T_d` the Chebyshev
   polynomial of degree ``d = DEGREE``, :math:`c \pm e` the interval ``[a, b]`` to damp.
   :math:`|T_d| \le 1` on ``[a, b]`` while it grows like
   :math:`\cosh(d\,\operatorname{arccosh}|x|)` below ``a``, so an eigenvector component with
   eigenvalue :math:`\lambda < a` is amplified relative to all of ``[a, b]`` by
   :math:`T_d((c - \lambda)/e)`: the subspace converges to the lowest ``p`` eigenvectors at the
   rate the gap :math:`a - \lambda_k` allows, with the square-root acceleration of Krylov
   methods. The three-term recurrence is scaled (Zhou & Saad 2007, Algorithm 3.2) so that
   nothing overflows. The cut ``a`` is the largest Ritz value in the block, but at least
   ``MIN_CUT`` (1%) of ``b - theta_1`` above the lowest one ``theta_1``: when a cluster of equal
   levels is wider than the block (the null space of a low-rank matrix), the largest Ritz value
   lies inside it, and only a cut above it separates the cluster from the levels above
   (measured: no change on random and Ising matrices; convergence in 4 cycles instead of none on
   rank-96 Wishart matrices of 192 rows).
3. **Rayleigh-Ritz.** Orthonormalise the filtered block (QR), diagonalise the ``p x p``
   projection :math:`X^\dagger A X`, rotate the block to its Ritz vectors.
4. **Convergence, per sample.** A sample has converged when every wanted Ritz pair satisfies
   :math:`\|A x_i - \theta_i x_i\| \le \tau \|A\|`, ``tau = TOLERANCE * sqrt(n) * eps`` of the
   dtype (about the rounding noise of computing that residual, so ten times it is attainable)
   and :math:`\|A\|` estimated by ``max(|theta_1|, |b|)``. A sample whose residual, shrinking
   at twice its last cycle's rate, would still miss the tolerance at the cycle cap is given up
   (so a hopeless sample costs two or three cycles, not the whole cap). Its loop stops when it has
   converged or been given up, or after ``max_cycles`` cycles.

A converged pair has an eigenvalue within :math:`\|r\|` of :math:`\theta_i` (within
:math:`\|r\|^2/\mathrm{gap}` when the level is separated by ``gap`` from the rest of the spectrum)
and a vector within angle :math:`\|r\|/\mathrm{gap}` of the eigenvector.

Why this method: on a CPU a step costs about what reading the ``n x n`` matrix costs (a block of
8 vectors costs 2-3 times one vector, not 8), so the block is wide and every filter step is a
single matrix product. A restarted block Lanczos method reached the tolerance in fewer products
but each of its steps adds two re-orthogonalisations and a QR, and it measured slower; see
``docs/eigensolvers.md`` for the measurements.

Examples
--------
>>> import numpy as np
>>> matrices = jnp.asarray(np.diag(np.arange(40.0)))[None]
>>> found = lowest_eigenpairs(matrices, 2)
>>> found.values.round(3).tolist(), found.converged.tolist()
([[0.0, 1.0]], [True])
"""

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, Bool, Inexact, Int, Real

#: Krylov blocks of the warm-up (step 1).
WARMUP_BLOCKS = 3
#: Degree of the Chebyshev filter of each cycle (step 2).
DEGREE = 12
#: Residual tolerance in units of ``sqrt(n) * eps * ||A||`` (step 4).
TOLERANCE = 10.0
#: The damped interval starts at least this fraction of the spectrum's width above the lowest
#: Ritz value (step 2).
MIN_CUT = 0.01


class Eigenpairs(NamedTuple):
    """The lowest eigenpairs found, whether each sample converged, and its filter cycles."""

    values: Real[Array, "batch k"]
    vectors: Inexact[Array, "batch n k"]
    converged: Bool[Array, " batch"]
    cycles: Int[Array, " batch"]


def block_size(size: int, count: int) -> int:
    """Columns ``p`` of the iterated block for ``count`` wanted pairs of ``size x size`` matrices.

    ``count + 2`` rounded up to a multiple of 4 (2 to 5 guard vectors, so that the convergence
    rate is set by the gap to a higher level than ``count + 1``; multiples of 4 multiply fastest),
    at most ``size``. Wider blocks converge in fewer steps but cost more per step: 4 columns
    measured cheapest for ``count <= 2`` (see ``docs/eigensolvers.md``).
    """
    return min(size, 4 * math.ceil((count + 2) / 4))


def default_max_cycles(size: int) -> int:
    """The cycle cap: ``max(8, n // 32)``, about half of dense ``eigh``'s time (measured)."""
    return max(8, size // 32)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def lowest_eigenpairs(
    matrices: Inexact[Array, "batch n n"],
    count: int,
    max_cycles: int | None = None,
    negated: bool = False,
) -> Eigenpairs:
    """The ``count`` lowest eigenpairs (ascending) of the Hermitian part ``A = (M + M^dagger)/2``
    of each matrix (of ``-A`` when ``negated``, which costs nothing extra); see the module doc.

    ``max_cycles`` defaults to
    ``default_max_cycles(n)``; a sample not converged by then, or given up earlier because its
    convergence rate could not reach the tolerance within it, comes back with ``converged``
    False and its last Ritz pairs.
    """
    size = matrices.shape[-1]
    cycles = default_max_cycles(size) if max_cycles is None else max_cycles
    solve_one = functools.partial(_lowest, count=count, cycles=cycles, sign=-1 if negated else 1)
    return lax.map(solve_one, matrices)


def _lowest(matrix: Array, count: int, cycles: int, sign: int) -> Eigenpairs:
    """Steps 1-4 for the Hermitian part of one ``(n, n)`` matrix, times ``sign``."""
    matrix = hermitian_part(matrix)  # here, one matrix at a time, it is read from the cache
    size = matrix.shape[-1]
    block = block_size(size, count)
    operator = _operator(matrix, sign)
    values, vectors, residuals, upper = _warm_up(
        operator, _gershgorin(matrix, sign), count, block, size
    )
    scale = jnp.maximum(jnp.abs(values[0]), jnp.abs(upper))
    tolerance = TOLERANCE * math.sqrt(size) * jnp.finfo(matrix.dtype).eps * scale
    excess = jnp.max(residuals) / tolerance
    hopeless = jnp.zeros((), bool)
    start = _State(jnp.zeros((), jnp.int32), values[:block], vectors[:, :block], excess, hopeless)

    def unfinished(state: _State) -> Array:
        return (state.cycle < cycles) & (state.excess > 1) & ~state.hopeless

    def cycle(state: _State) -> _State:
        filtered = _filter(operator, state.vectors, state.values, upper)
        basis = jnp.linalg.qr(filtered)[0]
        values, vectors, residuals = _rayleigh_ritz(basis, operator(basis), count)
        excess = jnp.max(residuals) / tolerance
        # give up when even twice the last cycle's progress would miss the tolerance by the cap
        # (convergence speeds up as the cut a improves; measured up to 2x on random matrices)
        progress = jnp.log(jnp.maximum(state.excess / excess, 1))
        late = jnp.log(excess) > 2 * (cycles - state.cycle - 1) * progress
        hopeless = (state.cycle > 0) & (excess > 1) & late
        return _State(state.cycle + 1, values, vectors, excess, hopeless)

    final = lax.while_loop(unfinished, cycle, start)
    return Eigenpairs(
        final.values[:count], final.vectors[:, :count], final.excess <= 1, final.cycle
    )


class _State(NamedTuple):
    cycle: Array
    values: Array
    vectors: Array
    excess: Array  # the largest wanted residual over the tolerance
    hopeless: Array


def _warm_up(
    operator: Callable[[Array], Array], gershgorin: Array, count: int, block: int, size: int
) -> tuple[Array, Array, Array, Array]:
    """Step 1: the Ritz values, vectors and wanted residuals on the block Krylov space from the
    fixed start, and the upper bound of the spectrum (at most ``gershgorin``)."""
    start = _start_block(size, block, gershgorin.dtype)
    basis = _krylov(operator, start, max(1, min(WARMUP_BLOCKS, size // block)))
    products = operator(basis)
    values, vectors, residuals = _rayleigh_ritz(basis, products, count)
    remainder = products - basis @ (_adjoint(basis) @ products)
    gram = jnp.linalg.eigvalsh(_adjoint(remainder) @ remainder)
    remainder_norm = jnp.sqrt(jnp.maximum(jnp.max(gram), 0))
    upper = jnp.minimum(values[-1] + remainder_norm, gershgorin)
    return values, vectors, residuals, upper


def _operator(matrix: Array, sign: int) -> Callable[[Array], Array]:
    """``x -> sign * matrix @ x``; a complex product as one real product (XLA's complex one is
    2-4x slower on CPU)."""
    if sign < 0:
        positive = _operator(matrix, 1)
        return lambda block: -positive(block)
    if not jnp.iscomplexobj(matrix):
        return lambda block: matrix @ block
    size = matrix.shape[-1]
    stacked = jnp.concatenate([matrix.real, matrix.imag], axis=-2)

    def apply(block: Array) -> Array:
        width = block.shape[-1]
        product = stacked @ jnp.concatenate([block.real, block.imag], axis=-1)
        real = product[:size, :width] - product[size:, width:]
        imag = product[:size, width:] + product[size:, :width]
        return lax.complex(real, imag)

    return apply


def _start_block(size: int, block: int, dtype: jnp.dtype) -> Array:
    """A fixed random orthonormal ``(size, block)`` start (the same for every call, so results
    are reproducible)."""
    gaussian = np.random.default_rng(0).standard_normal((size, block))
    return jnp.asarray(np.linalg.qr(gaussian)[0], dtype)


def _krylov(operator: Callable[[Array], Array], start: Array, blocks: int) -> Array:
    """An orthonormal basis of the block Krylov space ``[X, A X, ..., A^(blocks-1) X]`` (columns
    normalised block by block, then one QR: the low degree keeps it well conditioned)."""
    basis = [start]
    for _ in range(blocks - 1):
        image = operator(basis[-1])
        basis.append(image / jnp.linalg.norm(image, axis=0))
    return jnp.linalg.qr(jnp.concatenate(basis, axis=-1))[0]


def _rayleigh_ritz(basis: Array, products: Array, count: int) -> tuple[Array, Array, Array]:
    """Ritz values (ascending), Ritz vectors, and the residual norms of the lowest ``count``."""
    projected = _adjoint(basis) @ products
    values, rotation = jnp.linalg.eigh((projected + _adjoint(projected)) / 2)
    vectors, images = basis @ rotation, products @ rotation
    residuals = images[:, :count] - vectors[:, :count] * values[:count]
    return values, vectors, jnp.linalg.norm(residuals, axis=0)


def _filter(
    operator: Callable[[Array], Array], block: Array, ritz_values: Array, upper: Array
) -> Array:
    """``T_d((A - c)/e) block`` damping ``[a, b]`` (``a`` the block's largest Ritz value, ``b =
    upper``), scaled to about 1 at the lowest Ritz value; the recurrence of Zhou & Saad (2007)."""
    lowest = ritz_values[0]
    cut = jnp.maximum(ritz_values[-1], lowest + MIN_CUT * (upper - lowest))
    floor = jnp.finfo(ritz_values.dtype).eps * jnp.maximum(jnp.abs(upper), jnp.abs(lowest))
    half_width = jnp.maximum((upper - cut) / 2, floor + jnp.finfo(ritz_values.dtype).tiny)
    center = cut + half_width
    sigma = half_width / (lowest - center)
    tau = 2 / sigma

    def step(_: int, carry: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        previous, current, sigma = carry
        new_sigma = 1 / (tau - sigma)
        shifted = operator(current) - center * current
        nxt = shifted * (2 * new_sigma / half_width) - (sigma * new_sigma) * previous
        return current, nxt, new_sigma

    first = (operator(block) - center * block) * (sigma / half_width)
    return lax.fori_loop(1, DEGREE, step, (block, first, sigma))[1]


def _gershgorin(matrix: Array, sign: int) -> Array:
    """The Gershgorin bound ``max_i (sign Re a_ii + sum_{j != i} |a_ij|)`` on the largest
    eigenvalue of ``sign * matrix``."""
    diagonal = jnp.diagonal(matrix)
    rows = jnp.sum(jnp.abs(matrix), axis=-1) - jnp.abs(diagonal) + sign * jnp.real(diagonal)
    return jnp.max(rows)


def hermitian_part(matrices: Array) -> Array:
    """``(M + M^dagger) / 2`` of each of ``matrices`` (the last two axes)."""
    return (matrices + _adjoint(matrices)) / 2


def _adjoint(block: Array) -> Array:
    return jnp.conj(jnp.swapaxes(block, -1, -2))
