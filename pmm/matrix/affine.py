"""``AffineHermitianMatrix``: a Hermitian matrix that is affine in the input features.

The primary matrix of the Parametric Matrix Models of Cook et al., Nat. Commun. 16, 5929 (2025).
``affine_matrix`` and ``smoothing_matrix`` hold the math, shared with the low-rank variant.

Examples
--------
>>> layer = AffineHermitianMatrix(matrix_size=4)
>>> params, state = layer.init(jax.random.key(0), (2,))
>>> layer(params, jnp.ones((8, 2)), False, state, None)[0].shape
(8, 4, 4)
"""

import math
from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Complex, Real

from pmm._dtypes import check_x64, real_dtype
from pmm._validation import array_shape, check_array_size, check_bool, check_int, check_number
from pmm.errors import ShapeError
from pmm.matrix._hermitian import complex_dtype, hermitian, raw_normal
from pmm.module import Module
from pmm.typing import DataShape, DictParams, State


class AffineHermitianMatrix(Module):
    r"""The Hermitian matrix :math:`M(x) = M_0 + \sum_{i=1}^p x_i M_i + s\,C`, one per sample.

    :math:`M_0, \ldots, M_p` are trainable Hermitian ``n x n`` matrices (:math:`M_0` only when
    ``bias_term``), :math:`x_1, \ldots, x_p` the input features, :math:`s` the ``smoothing``
    hyperparameter and

    .. math::  C = i \sum_{a > b} [M_a, M_b] = i \sum_a \Big[M_a, \sum_{b < a} M_b\Big],

    summed over all trainable matrices (:math:`M_0` included). :math:`C` is Hermitian, depends on
    the parameters only (not on :math:`x`), and vanishes when the :math:`M_a` commute.

    Smoothing: eigenvectors of :math:`M(x)` turn fast where two levels nearly cross, and their
    derivatives grow like ``1 / gap`` there (see ``Eigenvectors``). :math:`C` couples levels
    wherever the :math:`M_a` fail to commute, which tends to open such avoided crossings wider:
    for :math:`M(x) = \sigma_z + x\sigma_x` it is :math:`C = 2\sigma_y`, and the smallest gap grows
    from 2 to :math:`2\sqrt{1 + 4s^2}`. Outputs built from eigenvectors then vary more slowly
    and their gradients stay moderate. It is a heuristic regulariser (from the reference
    implementation) that changes the function; tune ``s`` like a weight decay.

    Parameters ``{"matrices": (m, n, n)}`` real, with ``m = p + 1`` (``M_0`` first) or ``p``; each
    slice ``A`` is read as the Hermitian matrix ``((1 + i) A + (1 - i) A^T) / 2`` (a bijection, so
    the parameters are unconstrained and real, and their gradients need no conjugation). Entries
    start with ``E|M_ij|^2 = init_magnitude^2``. Shapes: ``(batch, p)`` real features to
    ``(batch, n, n)`` Hermitian matrices of ``dtype``.

    Examples
    --------
    >>> layer = AffineHermitianMatrix(matrix_size=3, smoothing=0.1)
    >>> params, _ = layer.init(jax.random.key(0), (2,))
    >>> params["matrices"].shape
    (3, 3, 3)
    """

    matrix_size: int
    bias_term: bool = True
    smoothing: float = 0.0
    init_magnitude: float = 1e-2
    dtype: str = "complex64"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_affine_fields(self)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        count = feature_count(input_shape, repr(self)) + self.bias_term
        shape = (count, self.matrix_size, self.matrix_size)
        check_parameter_size(self, "matrices", shape, count, ("matrix_size",))
        return {"matrices": raw_normal(rng, shape, self.dtype, self.init_magnitude)}, ()

    def apply(
        self,
        params: DictParams,
        data: Real[Array, "batch_size p"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Complex[Array, "batch_size n n"], State]:
        matrices = hermitian(params["matrices"], self.dtype)
        return affine_matrix(matrices, data, self.bias_term, self.smoothing), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        feature_count(input_shape, repr(self))
        return (self.matrix_size, self.matrix_size)


def check_affine_fields(layer: Any) -> None:
    """Validate the fields shared by the affine layers; ``ValueError`` names the field."""
    owner = type(layer).__name__
    check_int(layer.matrix_size, "matrix_size", owner, minimum=1)
    check_bool(layer.bias_term, "bias_term", owner)
    check_number(layer.smoothing, "smoothing", owner, math.isfinite, "a finite real number")
    check_init_magnitude(layer.init_magnitude, owner)
    object.__setattr__(layer, "dtype", complex_dtype(layer.dtype, owner))


def check_parameter_size(
    layer: Any, name: str, shape: tuple[int, ...], matrices: int, fields: tuple[str, ...]
) -> None:
    """Refuse (``ValueError``) a parameter ``name`` of ``shape`` that no machine could hold, naming
    the ``fields`` that size it and the number of ``matrices`` (input features, plus one with a
    bias term)."""
    named = ", ".join(f"field {field!r} ({getattr(layer, field)})" for field in fields)
    check_array_size(
        shape,
        real_dtype(layer.dtype),
        f"{type(layer).__name__}'s params[{name!r}]",
        f"{named} or the number of input features (giving {matrices} matrices)",
    )


def check_init_magnitude(value: Any, owner: str) -> None:
    """Raise ``ValueError`` naming ``init_magnitude`` unless ``value`` is a finite number > 0."""
    check_number(
        value, "init_magnitude", owner, lambda v: math.isfinite(v) and v > 0, "a finite number > 0"
    )


def feature_count(input_shape: Any, owner: str) -> int:
    """``p`` for an ``input_shape`` of ``(p,)``; ``ShapeError`` for anything else."""
    shape = array_shape(input_shape, owner)
    if len(shape) != 1 or shape[0] is None:
        raise ShapeError(
            f"{owner} takes a vector of p known features per sample, input_shape (p,), but got "
            f"{shape!r}; flatten the features first (pmm.nn.Flatten) or give the size of None"
        )
    return shape[0]


def affine_matrix(
    matrices: Complex[Array, "m n n"],
    features: Real[Array, "batch_size p"],
    bias_term: bool,
    smoothing: float,
) -> Complex[Array, "batch_size n n"]:
    """``M_0 + sum_i x_i M_i + s C`` for Hermitian ``matrices`` (``M_0`` first when ``bias_term``).

    Raises ``ShapeError`` when ``features`` is not real ``(batch, p)`` with ``p`` matching
    ``matrices``.
    """
    count = matrices.shape[0] - bias_term
    if features.ndim != 2 or features.shape[1] != count:
        raise ShapeError(
            f"expected features of shape (batch, {count}), the params were built for {count} "
            f"features, got {features.dtype}{list(features.shape)}"
        )
    if jnp.iscomplexobj(features):
        raise ShapeError(
            f"expected real features (complex ones would make M(x) non-Hermitian), got "
            f"{features.dtype}{list(features.shape)}; split them first, e.g. into real and "
            "imaginary parts"
        )
    real = jnp.real(matrices[:1]).dtype
    output = jnp.einsum("bp,pij->bij", features.astype(real), matrices[bias_term:])
    if bias_term:
        output = output + matrices[0]
    if smoothing:
        output = output + smoothing * smoothing_matrix(matrices)
    return output


def smoothing_matrix(matrices: Complex[Array, "m n n"]) -> Complex[Array, "n n"]:
    """``C = i sum_{a > b} [M_a, M_b]``, via the running sums ``S_a = sum_{b < a} M_b``."""
    earlier = jnp.cumsum(matrices, axis=0)[:-1]
    later = matrices[1:]
    commutators = jnp.einsum("aij,ajk->ik", later, earlier) - jnp.einsum(
        "aij,ajk->ik", earlier, later
    )
    return 1j * commutators


__all__ = ["AffineHermitianMatrix", "affine_matrix", "smoothing_matrix"]
