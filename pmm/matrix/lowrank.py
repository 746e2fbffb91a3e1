"""``LowRankAffineHermitianMatrix``: the affine Hermitian matrix with low-rank terms.

Examples
--------
>>> layer = LowRankAffineHermitianMatrix(matrix_size=6, rank=2)
>>> params, state = layer.init(jax.random.key(0), (3,))
>>> layer(params, jnp.ones((5, 3)), False, state, None)[0].shape
(5, 6, 6)
"""

from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Real

from pmm._dtypes import check_x64, real_dtype
from pmm._validation import check_int
from pmm.matrix.affine import (
    affine_matrix,
    check_affine_fields,
    check_parameter_size,
    feature_count,
)
from pmm.module import Module
from pmm.typing import DataShape, DictParams, State


class LowRankAffineHermitianMatrix(Module):
    r""":math:`M(x) = M_0 + \sum_{i=1}^p x_i M_i + s\,C` with every :math:`M_a` of rank ``rank``.

    The same model as ``AffineHermitianMatrix`` (see there for :math:`C` and smoothing), with
    each trainable matrix written as

    .. math::  M_a = \sum_{r=1}^{R} \lambda_{ar}\, u_{ar} u_{ar}^\dagger,

    :math:`\lambda_{ar}` real and :math:`u_{ar} \in \mathbb{C}^n`, so a matrix costs
    ``R (2n + 1)`` real numbers instead of ``n^2``. :math:`M(x)` itself is generally of full rank.

    Parameters ``{"values": (m, R), "vectors_real": (m, n, R), "vectors_imag": (m, n, R)}``, all
    real, with ``m = p + 1`` (``M_0`` first) or ``p``. Vectors start with ``E|u_i|^2 = 1`` and
    values so that ``E|M_ij|^2 = init_magnitude^2``. Shapes: ``(batch, p)`` real features to
    ``(batch, n, n)`` Hermitian matrices of ``dtype``.

    Examples
    --------
    >>> params, _ = LowRankAffineHermitianMatrix(4, rank=1).init(jax.random.key(0), (2,))
    >>> params["vectors_real"].shape
    (3, 4, 1)
    """

    matrix_size: int
    rank: int = 1
    bias_term: bool = True
    smoothing: float = 0.0
    init_magnitude: float = 1e-2
    dtype: str = "complex64"

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        check_affine_fields(self)
        check_int(self.rank, "rank", owner, minimum=1)
        if self.rank > self.matrix_size:
            raise ValueError(
                f"field 'rank' of {owner} is {self.rank}, above matrix_size={self.matrix_size} (an "
                f"n x n matrix has rank at most n); give rank <= {self.matrix_size}, or use "
                "AffineHermitianMatrix for full-rank matrices"
            )

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        count = feature_count(input_shape, repr(self)) + self.bias_term
        shape = (count, self.matrix_size, self.rank)
        check_parameter_size(self, "vectors_real", shape, count, ("matrix_size", "rank"))
        dtype = real_dtype(self.dtype)
        keys = jax.random.split(rng, 3)
        scale = self.init_magnitude / self.rank**0.5
        return {
            "values": scale * jax.random.normal(keys[0], (count, self.rank), dtype),
            "vectors_real": jax.random.normal(keys[1], shape, dtype) / 2**0.5,
            "vectors_imag": jax.random.normal(keys[2], shape, dtype) / 2**0.5,
        }, ()

    def apply(
        self,
        params: DictParams,
        data: Real[Array, "batch_size p"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Complex[Array, "batch_size n n"], State]:
        return affine_matrix(self.matrices(params), data, self.bias_term, self.smoothing), state

    def matrices(self, params: DictParams) -> Complex[Array, "m n n"]:
        """The Hermitian ``M_a = sum_r values[a, r] u_ar u_ar^dagger``, shape ``(m, n, n)``."""
        dtype = real_dtype(self.dtype)
        vectors = jax.lax.complex(
            params["vectors_real"].astype(dtype), params["vectors_imag"].astype(dtype)
        )
        values = params["values"].astype(dtype)
        return jnp.einsum("anr,ar,amr->anm", vectors, values, jnp.conj(vectors))

    def output_shape(self, input_shape: DataShape) -> DataShape:
        feature_count(input_shape, repr(self))
        return (self.matrix_size, self.matrix_size)
