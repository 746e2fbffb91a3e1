"""The Parametric Matrix Models of Cook et al. as ready-made models: AE-PMM and AO-PMM.

Each is a ``pmm.Composite``: a frozen spec whose ``init``, ``apply`` and ``output_shape`` are
those of the equivalent ``pmm.Sequential`` of primitives (``built``), so its params are that
Sequential's tuple, one entry per layer.

Examples
--------
>>> model = AEPMM(matrix_size=5, num_eig=2)
>>> params, state = model.init(jax.random.key(0), (1,))
>>> model(params, jnp.ones((8, 1)), False, state, None)[0].shape
(8, 2)
"""

import warnings

from pmm._dtypes import real_dtype
from pmm._validation import check_bool, check_int
from pmm.combinators import Sequential
from pmm.composite import Composite
from pmm.matrix._solvers import check_solver
from pmm.matrix.affine import AffineHermitianMatrix, check_affine_fields
from pmm.matrix.eigen import Eigenvalues, Eigenvectors, check_num_eig, check_which
from pmm.matrix.observables import ExpectationValueSum, TransitionAmplitudeSum
from pmm.nn.linear import Bias


class _AffinePMM(Composite):
    """The fields every affine PMM shares; ``build()`` gives the Sequential of primitives."""

    matrix_size: int
    num_eig: int | None = 1
    which: str = "SA"
    smoothing: float = 0.0
    bias_term: bool = True
    init_magnitude: float = 1e-2
    dtype: str = "complex64"
    solver: str = "auto"

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        check_affine_fields(self)
        check_num_eig(self.num_eig, owner)
        if self.num_eig is not None and self.num_eig > self.matrix_size:
            raise ValueError(
                f"field 'num_eig' of {owner} is {self.num_eig}, more than the {self.matrix_size} "
                f"eigenpairs of a matrix_size={self.matrix_size} matrix; lower num_eig or raise "
                "matrix_size"
            )
        check_which(self.selection, owner)
        check_solver(self.solver, owner, self.selection, self.num_eig)

    @property
    def selection(self) -> str:
        """The ``which`` in effect (``which`` itself unless a subclass gives it a default)."""
        return self.which

    def _matrix(self) -> AffineHermitianMatrix:
        return AffineHermitianMatrix(
            self.matrix_size, self.bias_term, self.smoothing, self.init_magnitude, self.dtype
        )


class AffineEigenvaluePMM(_AffinePMM):
    r"""AE-PMM: selected eigenvalues of a Hermitian matrix affine in the features.

    .. math::  M(x) = M_0 + \sum_{i=1}^{p} x_i M_i + s\,C, \qquad
               y(x) = (\lambda_{j_1}(x), \ldots, \lambda_{j_k}(x)),

    the ``num_eig`` eigenvalues of :math:`M(x)` that ``which`` selects, in the order
    ``Eigenvalues`` documents (``which="SA"``: lowest first, so output 0 is the ground state).
    Eigenvalues of an affine Hermitian family are analytic in :math:`x` away from level crossings
    and grow at most linearly, which is why an AE-PMM extrapolates well beyond its training range
    (Cook et al., Methods). See ``AffineHermitianMatrix`` for :math:`C` and ``smoothing``.

    ``num_eig=None`` gives all ``n`` eigenvalues. ``solver`` picks the eigensolver (see
    ``pmm.matrix.eigen``; ``"auto"`` goes iterative for large ``matrix_size``, with exact
    gradients).

    Equal to ``AffineHermitianMatrix(...) >> Eigenvalues(num_eig, which, solver)``; params are
    that Sequential's ``({"matrices": (m, n, n)}, ())``. Shapes: ``(batch, p)`` real to
    ``(batch, num_eig)`` real.

    Examples
    --------
    >>> AEPMM(matrix_size=6, num_eig=1, which="SA").output_shape((2,))
    (1,)
    """

    def build(self) -> Sequential:
        return Sequential(self._matrix(), Eigenvalues(self.num_eig, self.selection, self.solver))


class AffineObservablePMM(_AffinePMM):
    r"""AO-PMM: observables of selected eigenvectors of a Hermitian matrix affine in the features.

    .. math::  M(x) = M_0 + \sum_{i=1}^{p} x_i M_i + s\,C, \qquad M(x)\,v_j = \lambda_j v_j,

    then, with the ``num_eig`` eigenvectors :math:`v_1..v_r` that ``which`` selects and trainable
    Hermitian observables :math:`D_{km}`,

    .. math::  z_k = g_k + \sum_{m=1}^{l} \Big( \sum_{i,j=1}^{r} |v_i^\dagger D_{km} v_j|^2
               - \tfrac{1}{2}\|D_{km}\|_2^2 \Big),

    (``TransitionAmplitudeSum``), or with :math:`\sum_i v_i^\dagger D_{km} v_i` in place of the
    transition sum when ``use_expectation_values`` (``ExpectationValueSum``). The centering term
    is dropped when ``centered=False`` and the trainable bias :math:`g_k` when
    ``output_bias=False``.

    ``which=None`` (the default) means ``"LM"`` (largest magnitude, as in Cook et al.) without
    smoothing and ``"SA"`` with it, as the reference implementation does: magnitude-based ``which``
    values and ``smoothing`` do not combine well, since smoothing widens gaps between
    algebraically adjacent levels only, so giving both warns (``UserWarning``). The field keeps
    ``None``, so that changing ``smoothing`` with ``dataclasses.replace`` changes the default too;
    ``selection`` is the value in effect. ``solver``: see ``pmm.matrix.eigen`` (``"auto"`` uses
    dense ``eigh`` here, whose eigenvector derivatives are exact).

    Equal to ``AffineHermitianMatrix >> Eigenvectors >> (Transition|Expectation)Sum [>> Bias]``;
    params are that Sequential's tuple. Shapes: ``(batch, p)`` real to ``(batch, output_size)``
    real.

    Examples
    --------
    >>> AOPMM(matrix_size=7, num_eig=3, output_size=2).output_shape((4,))
    (2,)
    """

    which: str | None = None
    output_size: int = 1
    num_observables: int = 1
    use_expectation_values: bool = False
    centered: bool = True
    output_bias: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        check_int(self.output_size, "output_size", owner, minimum=1)
        check_int(self.num_observables, "num_observables", owner, minimum=1)
        for field in ("use_expectation_values", "centered", "output_bias"):
            check_bool(getattr(self, field), field, owner)
        if self.smoothing and self.selection[1] == "M":
            warnings.warn(
                f"field 'which' of {owner} is {self.which!r}, a selection by magnitude, together "
                f"with smoothing={self.smoothing!r}; smoothing widens the gaps between "
                "algebraically adjacent levels only, so use which='SA' or 'LA' (or leave which "
                "unset: it is 'SA' with smoothing)",
                UserWarning,
                stacklevel=3,
            )

    @property
    def selection(self) -> str:
        """The ``which`` in effect: ``which``, or for ``None`` ``"SA"`` with smoothing, else
        ``"LM"``."""
        if self.which is not None:
            return self.which
        return "SA" if self.smoothing else "LM"

    def build(self) -> Sequential:
        readout = ExpectationValueSum if self.use_expectation_values else TransitionAmplitudeSum
        chain = (
            self._matrix(),
            Eigenvectors(self.num_eig, self.selection, self.solver),
            readout(
                self.output_size,
                self.num_observables,
                self.centered,
                self.init_magnitude,
                self.dtype,
            ),
        )
        if self.output_bias:
            chain = (*chain, Bias(dtype=real_dtype(self.dtype)))
        return Sequential(*chain)


#: Short name of ``AffineEigenvaluePMM``.
AEPMM = AffineEigenvaluePMM
#: Short name of ``AffineObservablePMM``.
AOPMM = AffineObservablePMM
