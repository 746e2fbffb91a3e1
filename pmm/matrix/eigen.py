"""Eigenvalues and eigenvectors of Hermitian matrices, selected by ``which``.

``which`` picks ``num_eig`` of the ``n`` eigenpairs. The first letter says which part of the
spectrum, the second how it is ordered:

==========  ====================================================================
``"SA"``    smallest algebraic: the ``k`` lowest eigenvalues (the ground state first)
``"LA"``    largest algebraic: the ``k`` highest
``"SM"``    smallest magnitude: the ``k`` closest to zero
``"LM"``    largest magnitude: the ``k`` farthest from zero
``"EA"``    exterior algebraic: the ``k // 2`` lowest and the ``k - k // 2`` highest
``"EM"``    exterior by magnitude: the same on the eigenvalues sorted by magnitude
``"IA"``    interior algebraic: the ``k`` in the middle of the sorted spectrum
``"IM"``    interior by magnitude: the ``k`` in the middle of the magnitude-sorted spectrum
==========  ====================================================================

In the middle means sorted positions ``n // 2 - k // 2`` up to ``n // 2 + k - k // 2``.
``num_eig=None`` selects all ``n`` pairs (``which`` then only sets the order).
**Order:** the selected pairs always come in ascending order of the sort key, the eigenvalue
for ``*A`` and its magnitude for ``*M`` (ties keep ascending eigenvalue order). So ``"LA"`` ends
with the largest eigenvalue and ``"SA"`` starts with the smallest.

**Solver** (``solver``, see ``SOLVERS``): ``"dense"`` diagonalises the whole matrix with LAPACK's
``eigh`` and selects; ``"iterative"`` computes only the ``num_eig`` lowest (``"SA"``) or highest
(``"LA"``) pairs by Chebyshev-filtered subspace iteration (``pmm.matrix._chebyshev``), falling
back to dense ``eigh`` for any sample that does not converge; ``"auto"`` (the default) takes
``"iterative"`` for large matrices where it was measured to be faster and its derivatives are
exact, ``"dense"`` everywhere else. See ``docs/eigensolvers.md``.

Examples
--------
>>> matrices = jnp.diag(jnp.array([-3.0, 1.0, 2.0]))[None].astype(jnp.complex64)
>>> Eigenvalues(num_eig=2, which="SM")({}, matrices)[0]
Array([[1., 2.]], dtype=float32)
"""

from typing import Any

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Inexact, Int, Real

from pmm._validation import array_shape, check_int
from pmm.errors import ShapeError
from pmm.matrix._eigh import eigh
from pmm.matrix._partial import extremal_eigh, extremal_eigvalsh
from pmm.matrix._solvers import check_solver, iterative_chosen
from pmm.module import Parameterless
from pmm.typing import DataShape, State

#: The valid ``which`` values and what each selects.
WHICH = {
    "SA": "smallest algebraic",
    "LA": "largest algebraic",
    "SM": "smallest magnitude",
    "LM": "largest magnitude",
    "EA": "exterior algebraic",
    "EM": "exterior by magnitude",
    "IA": "interior algebraic",
    "IM": "interior by magnitude",
}


def check_which(value: Any, owner: str) -> None:
    """Raise ``ValueError`` naming the field ``which`` unless ``value`` is a key of ``WHICH``."""
    if value not in WHICH:
        raise ValueError(f"field 'which' of {owner} is {value!r}; give one of {list(WHICH)}")


def check_num_eig(value: Any, owner: str) -> None:
    """Raise ``ValueError`` naming ``num_eig`` unless ``value`` is ``None`` (all) or an int >= 1."""
    if value is not None:
        check_int(value, "num_eig", owner, minimum=1)


def selected_positions(size: int, count: int, which: str) -> np.ndarray:
    """Positions, in the spectrum sorted by the ``which`` key, of the ``count`` chosen pairs."""
    part, low = which[0], count // 2
    if part == "S":
        return np.arange(count)
    if part == "L":
        return np.arange(size - count, size)
    if part == "E":
        return np.concatenate([np.arange(low), np.arange(size - (count - low), size)])
    start = size // 2 - low
    return np.arange(start, start + count)


def select(values: Real[Array, "*batch n"], count: int, which: str) -> Int[Array, "*batch k"]:
    """Indices into ascending ``values`` of the ``count`` eigenpairs ``which`` selects."""
    positions = selected_positions(values.shape[-1], count, which)
    if which[1] == "A":
        return jnp.broadcast_to(jnp.asarray(positions), (*values.shape[:-1], count))
    return jnp.argsort(jnp.abs(values), axis=-1, stable=True)[..., positions]


class _Eigen(Parameterless):
    """Shared fields, checks and shapes of ``Eigenvalues``, ``Eigenvectors``, ``Eigensystem``."""

    num_eig: int | None = 1
    which: str = "SA"
    solver: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        check_num_eig(self.num_eig, owner)
        check_which(self.which, owner)
        check_solver(self.solver, owner, self.which, self.num_eig)

    def _size(self, input_shape: Any) -> int:
        shape = array_shape(input_shape, repr(self))
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] is None:
            raise ShapeError(
                f"{self!r} takes square matrices of known size, input_shape (n, n), but got "
                f"{shape!r}"
            )
        if self.num_eig is not None and shape[0] < self.num_eig:
            raise ShapeError(
                f"{self!r} selects num_eig={self.num_eig} eigenpairs of {shape[0]}x{shape[0]} "
                f"matrices; lower num_eig to at most {shape[0]} or use larger matrices"
            )
        return shape[0]

    def _count(self, size: int) -> int:
        """The number of selected pairs: ``num_eig``, or all ``size`` of them for ``None``."""
        return size if self.num_eig is None else self.num_eig

    def _values(self, matrices: Array) -> Array:
        """The selected eigenvalues ``(batch, k)`` of ``matrices``."""
        count, iterative = self._prepared(matrices, vectors=False)
        if iterative:  # reads the Hermitian part itself, and differentiates without it
            return extremal_eigvalsh(matrices, count, self.which == "LA")
        return self._dense(matrices, count)[0]

    def _pairs(self, matrices: Array) -> tuple[Array, Array]:
        """The selected ``(values (batch, k), vectors (batch, n, k))`` of ``matrices``."""
        count, iterative = self._prepared(matrices, vectors=True)
        if iterative:
            return extremal_eigh(matrices, count, self.which == "LA")
        return self._dense(matrices, count)

    def _prepared(self, matrices: Array, vectors: bool) -> tuple[int, bool]:
        """The number of selected pairs, and whether to iterate."""
        if matrices.ndim != 3 or matrices.shape[1] != matrices.shape[2]:
            raise ShapeError(
                f"expected matrices of shape (batch, n, n), got {matrices.dtype}"
                f"{list(matrices.shape)}"
            )
        size = self._size(matrices.shape[1:])
        count = self._count(size)
        complex_ = bool(jnp.iscomplexobj(matrices))
        return count, iterative_chosen(self.solver, size, count, self.which, complex_, vectors)

    def _dense(self, matrices: Array, count: int) -> tuple[Array, Array]:
        values, vectors = eigh((matrices + jnp.conj(jnp.swapaxes(matrices, -1, -2))) / 2)
        index = select(values, count, self.which)
        return (
            jnp.take_along_axis(values, index, axis=-1),
            jnp.take_along_axis(vectors, index[:, None, :], axis=-1),
        )


class Eigenvalues(_Eigen):
    r"""The ``num_eig`` eigenvalues of Hermitian matrices that ``which`` selects.

    For each sample's matrix :math:`M = V \operatorname{diag}(\lambda) V^\dagger`, returns the
    selected :math:`\lambda_j`, ordered as the module docstring of ``pmm.matrix.eigen`` says
    (ascending key; ``which="SA"`` gives the lowest levels, ground state first). The input is
    read as its Hermitian part :math:`(M + M^\dagger)/2`.

    Gradients are first-order perturbation theory, :math:`d\lambda_j = v_j^\dagger\, dM\, v_j`
    (Hellmann-Feynman, with either solver; the iterative one is never differentiated through),
    and stay finite at degenerate spectra (there they pick one valid derivative; a sum over a
    whole degenerate group is exact). No parameters. Shapes: ``(batch, n, n)`` to
    ``(batch, num_eig)`` real (``(batch, n)`` for ``num_eig=None``).

    Examples
    --------
    >>> Eigenvalues(num_eig=2).output_shape((5, 5))
    (2,)
    """

    def apply(
        self,
        params: Any,
        data: Inexact[Array, "batch_size n n"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Real[Array, "batch_size k"], State]:
        return self._values(data), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        return (self._count(self._size(input_shape)),)


class Eigenvectors(_Eigen):
    r"""The normalised eigenvectors (as columns) of the ``num_eig`` eigenvalues ``which`` selects.

    Column ``j`` is :math:`v_j` with :math:`M v_j = \lambda_j v_j`, :math:`\|v_j\| = 1`, in the
    order of ``Eigenvalues``; the phase of each column is arbitrary (as in ``numpy.linalg.eigh``),
    so use them through phase-invariant outputs such as ``ExpectationValueSum``.

    Gradients: :math:`dv_j = \sum_{i \ne j} v_i\, (v_i^\dagger dM v_j) / (\lambda_j - \lambda_i)`.
    They are ill-defined at a degenerate eigenvalue (any basis of the eigenspace is valid; the
    rotation inside it is left out, which is exact for outputs summed over the whole group) and
    grow like ``1 / gap`` near an avoided crossing, which can spoil training. Smoothing in
    ``AffineHermitianMatrix`` widens such gaps. With ``solver="iterative"`` the sum runs over the
    ``num_eig`` computed vectors only, which is exact only when ``dM`` keeps their span invariant
    (see ``pmm.matrix._partial``; ``solver="auto"`` therefore uses dense ``eigh`` here). No
    parameters. Shapes: ``(batch, n, n)`` to ``(batch, n, num_eig)`` of the input's (complex)
    dtype.

    Examples
    --------
    >>> Eigenvectors(num_eig=2, which="LM").output_shape((5, 5))
    (5, 2)
    """

    def apply(
        self,
        params: Any,
        data: Inexact[Array, "batch_size n n"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, "batch_size n k"], State]:
        return self._pairs(data)[1], state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        size = self._size(input_shape)
        return (size, self._count(size))


class Eigensystem(_Eigen):
    """``(Eigenvalues, Eigenvectors)`` of the same selected eigenpairs, from one decomposition.

    See ``Eigenvalues`` and ``Eigenvectors`` for order, phases and gradients. No parameters.
    Shapes: ``(batch, n, n)`` to the tuple ``((batch, num_eig) real, (batch, n, num_eig))``.

    Examples
    --------
    >>> Eigensystem(num_eig=3).output_shape((4, 4))
    ((3,), (4, 3))
    """

    def apply(
        self,
        params: Any,
        data: Inexact[Array, "batch_size n n"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[tuple[Real[Array, "batch_size k"], Inexact[Array, "batch_size n k"]], State]:
        return self._pairs(data), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        size = self._size(input_shape)
        count = self._count(size)
        return ((count,), (size, count))
