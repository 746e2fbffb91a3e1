"""``Embedding``: a trainable lookup table from integer ids to vectors.

Examples
--------
>>> ids = jax.ShapeDtypeStruct((12,), jnp.int32)
>>> params, state = Embedding(num_embeddings=100, features=8).init(jax.random.key(0), ids)
>>> Embedding(num_embeddings=100, features=8)(params, jnp.zeros((4, 12), jnp.int32))[0].shape
(4, 12, 8)
"""

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Inexact, Int

from pmm._calls import traced
from pmm._dtypes import canonical_dtype, check_x64
from pmm._switch import CHECKS
from pmm._validation import array_shape, check_int
from pmm.errors import ShapeError, module_label
from pmm.module import Module
from pmm.nn.initializers import check_initializer, initialize
from pmm.shapes import leaf_dtype, validate_shape
from pmm.typing import DataShape, DictParams, State


class Embedding(Module):
    """Row ``id`` of a table ``(num_embeddings, features)`` for every integer id of the data.

    Parameters ``{"embedding": (num_embeddings, features)}``, drawn by ``kernel_init`` (a name
    from ``pmm.nn.initializers.INITIALIZERS``, the same field as on ``Linear``) with
    ``fan_in = features`` and ``fan_out = num_embeddings``, as Flax's ``Embed`` does: the default
    ``"lecun_normal"`` gives entries of variance ``1 / features``, so each vector has an expected
    squared norm of one.

    Shapes: integer ids ``(batch, *rest)`` to ``(batch, *rest, features)``. ``init`` and
    ``output_shape`` take ``input_shape`` as a ``jax.ShapeDtypeStruct`` with an integer dtype,
    e.g. ``jax.ShapeDtypeStruct((seq,), jnp.int32)`` (a plain tuple stands for float data and is
    refused).

    Ids outside ``[0, num_embeddings)`` (negative ids included: they do not count from the end)
    give a vector of NaN (of ``nan + nan j`` for complex tables), so a model fed a wrong id
    produces NaN rather than quietly reading a wrong row; the table's gradient ignores them.
    Under shape checks (``pmm.checked``, ``pmm.shape_checks()``) they are an error instead: a
    ``pmm.ShapeError`` when the ids are concrete arrays, and, when they are traced under
    ``jax.jit``, an error raised by a ``jax.debug.callback`` when the compiled code runs (JAX
    reports it as a ``JaxRuntimeError`` whose message holds the ``ShapeError``'s text).

    Examples
    --------
    >>> embed = Embedding(num_embeddings=3, features=2)
    >>> params, _ = embed.init(jax.random.key(0), jax.ShapeDtypeStruct((), jnp.int32))
    >>> embed(params, jnp.array([0, 3]))[0][1]
    Array([nan, nan], dtype=float32)
    """

    num_embeddings: int
    features: int
    dtype: str = "float32"
    kernel_init: str = "lecun_normal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", canonical_dtype(self.dtype, "dtype", "Embedding"))
        super().__post_init__()
        check_int(self.num_embeddings, "num_embeddings", "Embedding", minimum=1)
        check_int(self.features, "features", "Embedding", minimum=1)
        check_initializer(self.kernel_init, "kernel_init", "Embedding")

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        self._ids_shape(input_shape)
        table = initialize(
            self.kernel_init,
            rng,
            (self.num_embeddings, self.features),
            self.dtype,
            fan_in=self.features,
            fan_out=self.num_embeddings,
        )
        return {"embedding": table}, ()

    def apply(
        self,
        params: DictParams,
        data: Int[Array, " batch_size *rest"],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[Inexact[Array, " batch_size *rest features"], State]:
        if CHECKS.value:
            self._check_range(data)
        table = params["embedding"]
        vectors = table.at[data].get(mode="fill", fill_value=jnp.nan, wrap_negative_indices=False)
        return vectors, state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        return (*self._ids_shape(input_shape), self.features)

    def _ids_shape(self, input_shape: DataShape) -> tuple[int | None, ...]:
        """The sizes of ``input_shape``; ``ShapeError`` unless it describes integer ids."""
        validate_shape(input_shape)
        sizes = array_shape(input_shape, "Embedding")
        dtype = leaf_dtype(input_shape)
        if not jnp.issubdtype(dtype, jnp.integer):
            given = (
                f"{dtype} data ({input_shape!r})"
                if isinstance(input_shape, jax.ShapeDtypeStruct)
                else f"float data (input_shape {input_shape!r}: a plain tuple stands for floats)"
            )
            raise ShapeError(
                f"{self!r} looks up integer ids, but it was given {given}; pass integer ids, "
                f"described to init as jax.ShapeDtypeStruct({sizes!r}, jnp.int32)"
            )
        return sizes

    def _check_range(self, ids: jax.Array) -> None:
        """Refuse ids outside ``[0, num_embeddings)``: now for concrete ids, when the compiled
        code runs for traced ones."""
        if not ids.size:
            return
        if traced(ids):  # checked when the compiled code runs; the error cannot carry a path
            where = f"{module_label(self)}: "
            refuse = functools.partial(_refuse_out_of_range, where, self.num_embeddings)
            jax.debug.callback(refuse, ids.min(), ids.max())
        else:  # in numpy: under jax.jit, jnp operations on concrete ids would be traced
            values = np.asarray(ids)
            _refuse_out_of_range("", self.num_embeddings, values.min(), values.max())


def _refuse_out_of_range(where: str, count: int, smallest: Any, largest: Any) -> None:
    """``ShapeError`` unless the ids from ``smallest`` to ``largest`` index ``count`` rows."""
    smallest, largest = int(np.asarray(smallest)), int(np.asarray(largest))
    if smallest < 0 or largest >= count:
        raise ShapeError(
            f"{where}ids must lie in [0, {count - 1}] (the table has {count} embeddings), but "
            f"they run from {smallest} to {largest}; map them into range (e.g. reserve an id "
            "for unknown tokens) or raise num_embeddings"
        )
