"""The ``solver`` hyperparameter of the eigen layers: its values, checks and the ``"auto"`` rule.

``"auto"`` takes the iterative solver only where it was measured to be faster than dense ``eigh``
and its derivatives are exact: extremal eigenvalues (``which="SA"`` or ``"LA"``, no eigenvectors
returned) of matrices of at least ``MIN_ITERATIVE_SIZE`` rows, with a block of at most
``1 / MAX_BLOCK_FRACTION`` of them. The numbers come from ``benchmarks/bench_eigensolver.py``;
``docs/eigensolvers.md`` shows the measurements.

Examples
--------
>>> iterative_chosen("auto", size=512, count=2, which="SA", complex_=False, vectors=False)
True
>>> iterative_chosen("auto", size=512, count=2, which="SA", complex_=False, vectors=True)
False
"""

from typing import Any

from pmm.matrix._chebyshev import block_size

#: The valid ``solver`` values and what each does.
SOLVERS = {
    "auto": "'iterative' where it is faster and its derivatives are exact, else 'dense'",
    "dense": "LAPACK eigh of the whole matrix, then the selection",
    "iterative": "Chebyshev-filtered subspace iteration for the num_eig lowest or highest pairs",
}
#: The ``which`` values the iterative solver can compute (the ends of the spectrum).
ITERATIVE_WHICH = ("SA", "LA")
#: Smallest matrix size at which ``"auto"`` goes iterative, for real and for complex matrices.
MIN_ITERATIVE_SIZE = {False: 96, True: 96}
#: ``"auto"`` goes iterative only while the iterated block is at most this fraction of ``n``.
MAX_BLOCK_FRACTION = 16


def check_solver(value: Any, owner: str, which: str, num_eig: int | None) -> None:
    """Raise ``ValueError`` naming the field ``solver`` unless ``value`` is a valid solver for
    ``which`` and ``num_eig``."""
    if value not in SOLVERS:
        raise ValueError(f"field 'solver' of {owner} is {value!r}; give one of {list(SOLVERS)}")
    if value != "iterative":
        return
    if which not in ITERATIVE_WHICH:
        raise ValueError(
            f"field 'solver' of {owner} is 'iterative', which finds the lowest or highest "
            f"eigenpairs only, but which={which!r}; give which='SA' or 'LA', or solver='dense' "
            "or 'auto'"
        )
    if num_eig is None:
        raise ValueError(
            f"field 'solver' of {owner} is 'iterative', but num_eig=None asks for all "
            "eigenpairs, which dense eigh computes directly; give num_eig, or solver='dense' "
            "or 'auto'"
        )


def iterative_chosen(
    solver: str, size: int, count: int, which: str, complex_: bool, vectors: bool
) -> bool:
    """Whether ``solver`` means the iterative solver for ``count`` of ``size`` eigenpairs."""
    if solver != "auto":
        return solver == "iterative"
    return (
        not vectors
        and which in ITERATIVE_WHICH
        and size >= MIN_ITERATIVE_SIZE[complex_]
        and block_size(size, count) * MAX_BLOCK_FRACTION <= size
    )
