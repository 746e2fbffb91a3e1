"""Secondary matrices: sums of expectation values or transition probabilities of eigenvectors.

Both layers read ``r`` state vectors (the columns of an ``(n, r)`` array, normally from
``Eigenvectors``) and produce ``q`` real outputs from ``q x l`` trainable Hermitian observables
:math:`D_{km}`, ``k = 1..q``, ``m = 1..l``.

Examples
--------
>>> layer = ExpectationValueSum(output_size=2, num_observables=3)
>>> params, state = layer.init(jax.random.key(0), (4, 2))
>>> params["observables"].shape
(2, 3, 4, 4)
"""

import abc
from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Complex, Inexact, Real

from pmm._dtypes import check_x64, real_dtype
from pmm._validation import array_shape, check_array_size, check_bool, check_int
from pmm.errors import ShapeError
from pmm.matrix._eigh import eigh
from pmm.matrix._hermitian import complex_dtype, hermitian, raw_normal
from pmm.matrix.affine import check_init_magnitude
from pmm.module import Module
from pmm.typing import DataShape, DictParams, State


class _ObservableSum(Module):
    """Shared fields, parameters, shapes and centering of the two observable layers."""

    output_size: int
    num_observables: int = 1
    centered: bool = True
    init_magnitude: float = 1e-2
    dtype: str = "complex64"

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        check_int(self.output_size, "output_size", owner, minimum=1)
        check_int(self.num_observables, "num_observables", owner, minimum=1)
        check_bool(self.centered, "centered", owner)
        check_init_magnitude(self.init_magnitude, owner)
        object.__setattr__(self, "dtype", complex_dtype(self.dtype, owner))

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        size = self._vector_size(input_shape)
        shape = (self.output_size, self.num_observables, size, size)
        check_array_size(
            shape,
            real_dtype(self.dtype),
            f"{type(self).__name__}'s params['observables']",
            f"field 'output_size' ({self.output_size}), field 'num_observables' "
            f"({self.num_observables}) or the state size n ({size}) of input_shape (n, r)",
        )
        return {"observables": raw_normal(rng, shape, self.dtype, self.init_magnitude)}, ()

    def apply(
        self,
        params: DictParams,
        data: Inexact[Array, "batch_size n r"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Real[Array, "batch_size q"], State]:
        observables = hermitian(params["observables"], self.dtype)
        size = observables.shape[-1]
        if data.ndim != 3 or data.shape[1] != size:
            raise ShapeError(
                f"expected state vectors of shape (batch, {size}, r), as the observables are "
                f"{size}x{size}, got {data.dtype}{list(data.shape)}"
            )
        outputs = self._terms(observables, data.astype(self.dtype)).sum(axis=-1)
        if self.centered:
            outputs = outputs - centering(observables)
        return outputs, state

    @abc.abstractmethod
    def _terms(
        self, observables: Complex[Array, "q l n n"], vectors: Complex[Array, "batch_size n r"]
    ) -> Real[Array, "batch_size q l"]:
        """The uncentered output terms, one per observable."""

    def output_shape(self, input_shape: DataShape) -> DataShape:
        self._vector_size(input_shape)
        return (self.output_size,)

    def _vector_size(self, input_shape: Any) -> int:
        shape = array_shape(input_shape, repr(self))
        if len(shape) != 2 or shape[0] is None:
            raise ShapeError(
                f"{self!r} takes r state vectors of known size n as columns, input_shape (n, r), "
                f"but got {shape!r}; feed it the output of pmm.matrix.Eigenvectors"
            )
        return shape[0]


def centering(observables: Complex[Array, "q l n n"]) -> Real[Array, " q"]:
    r"""The centering :math:`\frac{1}{2} \sum_m \|D_{km}\|_2^2`, one value per output ``k``.

    The spectral norm is the largest :math:`|\lambda|`, differentiated through ``eigh``, so its
    gradient is finite even when that eigenvalue is degenerate.
    """
    norms = jnp.max(jnp.abs(eigh(observables)[0]), axis=-1)
    return 0.5 * jnp.sum(norms**2, axis=-1)


class ExpectationValueSum(_ObservableSum):
    r"""Sums of expectation values of trainable Hermitian observables in ``r`` states.

    For states :math:`v_1, \ldots, v_r` (the columns of the input) and observables
    :math:`D_{km}`,

    .. math::  z_k = \sum_{m=1}^{l} \Big( \sum_{i=1}^{r} v_i^\dagger D_{km} v_i
               \;-\; c\,\tfrac{1}{2} \|D_{km}\|_2^2 \Big),

    with :math:`c = 1` when ``centered`` and :math:`\|\cdot\|_2` the spectral norm (largest
    :math:`|\lambda|`). The centering, per observable and not scaled by ``r``, matches the
    reference implementation of Cook et al.; it shifts each term by a constant that is invariant
    under a common unitary change of basis. Assumes normalised states (else the terms scale with
    :math:`\|v_i\|^2`) and does not depend on their phases.

    Parameters ``{"observables": (q, l, n, n)}`` real, each slice read as a Hermitian matrix the
    way ``AffineHermitianMatrix`` reads its parameters. Shapes: ``(batch, n, r)`` to
    ``(batch, output_size)`` real.

    Examples
    --------
    >>> ExpectationValueSum(output_size=3).output_shape((5, 2))
    (3,)
    """

    def _terms(
        self, observables: Complex[Array, "q l n n"], vectors: Complex[Array, "batch_size n r"]
    ) -> Real[Array, "batch_size q l"]:
        return jnp.einsum("bai,klac,bci->bkl", jnp.conj(vectors), observables, vectors).real


class TransitionAmplitudeSum(_ObservableSum):
    r"""Sums of transition probabilities of trainable Hermitian observables between ``r`` states.

    For states :math:`v_1, \ldots, v_r` (the columns of the input) and observables
    :math:`D_{km}`,

    .. math::  z_k = \sum_{m=1}^{l} \Big( \sum_{i,j=1}^{r} \big|v_i^\dagger D_{km} v_j\big|^2
               \;-\; c\,\tfrac{1}{2} \|D_{km}\|_2^2 \Big),

    with :math:`c = 1` when ``centered`` and :math:`\|\cdot\|_2` the spectral norm. This is the
    decoder of Cook et al. (Methods) with one observable shared by all pairs :math:`(i, j)`; the
    diagonal terms are squared expectation values. For normalised states each pair's term lies in
    :math:`[0, \|D\|_2^2]`; the centering subtracts half that range once per observable (not
    :math:`r^2` times), as the reference implementation does. Independent of the states' phases.

    Parameters ``{"observables": (q, l, n, n)}`` real, read as Hermitian matrices the way
    ``AffineHermitianMatrix`` reads its parameters. Shapes: ``(batch, n, r)`` to
    ``(batch, output_size)`` real.

    Examples
    --------
    >>> TransitionAmplitudeSum(output_size=1, num_observables=2).output_shape((5, 3))
    (1,)
    """

    def _terms(
        self, observables: Complex[Array, "q l n n"], vectors: Complex[Array, "batch_size n r"]
    ) -> Real[Array, "batch_size q l"]:
        amplitudes = jnp.einsum("bai,klac,bcj->bklij", jnp.conj(vectors), observables, vectors)
        return jnp.sum(amplitudes.real**2 + amplitudes.imag**2, axis=(-2, -1))
