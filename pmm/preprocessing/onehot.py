"""``OneHot``: integer class ids to one-hot vectors; ``ArgMax``, its inverse, back to ids.

Examples
--------
>>> import jax, jax.numpy as jnp
>>> ids = jax.ShapeDtypeStruct((), jnp.int32)
>>> encoder = OneHot(num_classes=3)
>>> params, state = encoder.init(None, ids)
>>> encoder(params, jnp.array([2, 0]), False, state)[0]
Array([[0., 0., 1.],
       [1., 0., 0.]], dtype=float32)
>>> encoder.inverse()((), jnp.array([[0.1, 0.7, 0.2]]), False, ())[0]
Array([1], dtype=int32)
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PyTree

from pmm._validation import check_int, feature_size
from pmm.errors import ShapeError
from pmm.module import Parameterless
from pmm.shapes import dims, leaf_dtype, map_shapes, shape_leaves, validate_shape
from pmm.typing import DataShape, Params, State


class OneHot(Parameterless):
    """Each integer id ``i`` in ``[0, num_classes)`` becomes the vector ``e_i`` of that length.

    Leaf by leaf: ids ``(batch, *rest)`` to ``(batch, *rest, num_classes)`` of JAX's default
    float dtype. Its input shape carries an integer dtype, e.g. ``jax.ShapeDtypeStruct((),
    jnp.int32)`` for one id per sample. Nothing to learn: params and state are ``()``, and
    ``fit(x)`` only checks that every id is in range (inside a model an out-of-range id becomes
    a row of zeros, as ``jax.nn.one_hot`` gives: a compiled model cannot raise).

    ``inverse()`` is ``ArgMax(num_classes)``: it recovers the ids from one-hot vectors, and
    turns class scores into labels at prediction time.

    Examples
    --------
    >>> OneHot(num_classes=4).output_shape(jax.ShapeDtypeStruct((2,), jnp.int32))
    ShapeDtypeStruct(shape=(2, 4), dtype=float32)
    """

    num_classes: int

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int(self.num_classes, "num_classes", "OneHot", minimum=1)

    def apply(
        self,
        params: Params,
        data: PyTree[Int[Array, " batch_size ..."]],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[PyTree[Float[Array, " batch_size ..."]], State]:
        dtype = jnp.result_type(float)
        return jax.tree.map(
            lambda ids: jax.nn.one_hot(ids, self.num_classes, dtype=dtype), data
        ), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        validate_shape(input_shape)
        for leaf in shape_leaves(input_shape):
            if not jnp.issubdtype(leaf_dtype(leaf), jnp.integer):
                raise ShapeError(
                    f"OneHot takes integer class ids, but input_shape has the leaf {leaf} "
                    "(a tuple means floating data); give jax.ShapeDtypeStruct(shape, jnp.int32)"
                )
        return map_shapes(lambda leaf: (*dims(leaf), self.num_classes), input_shape)

    def fit(self, x: Any) -> tuple[Params, State]:
        """``((), ())`` after checking that ``x`` holds integer ids in ``[0, num_classes)``.

        Raises ``ValueError`` naming the leaf and the first id out of range.
        """
        for path, leaf in jax.tree_util.tree_leaves_with_path(x):
            where = f"x{jax.tree_util.keystr(path)}"
            values = np.asarray(leaf)
            if not np.issubdtype(values.dtype, np.integer):
                raise ValueError(f"{where} is {values.dtype} data; OneHot takes integer class ids")
            bad = (values < 0) | (values >= self.num_classes)
            if bad.any():
                raise ValueError(
                    f"{where} holds the id {values[bad].flat[0]}, outside [0, {self.num_classes}); "
                    "raise num_classes or map the ids to 0 .. num_classes - 1"
                )
        return (), ()

    def inverse(self) -> "ArgMax":
        """``ArgMax(num_classes)``: one-hot vectors (or class scores) back to integer ids."""
        return ArgMax(self.num_classes)


class ArgMax(Parameterless):
    """The id of the largest entry of the last axis: ``(batch, *rest, num_classes)`` to int32
    ``(batch, *rest)``, leaf by leaf. It undoes ``OneHot(num_classes)``.

    Not differentiable (its output is integers): place it after training, e.g.
    ``labels = net >> pmm.preprocessing.ArgMax(3)`` for prediction. No params or state.

    Examples
    --------
    >>> ArgMax(num_classes=3).inverse()
    OneHot(num_classes=3)
    """

    num_classes: int

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int(self.num_classes, "num_classes", "ArgMax", minimum=1)

    def apply(
        self,
        params: Params,
        data: PyTree[Float[Array, " batch_size ..."]],
        training: bool,
        state: State,
        rng: Any,
    ) -> tuple[PyTree[Int[Array, " batch_size ..."]], State]:
        return jax.tree.map(
            lambda scores: jnp.argmax(scores, axis=-1).astype(jnp.int32), data
        ), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        validate_shape(input_shape)

        def ids(leaf: Any) -> tuple[int | None, ...]:
            if feature_size(leaf, "ArgMax") != self.num_classes:
                raise ShapeError(
                    f"ArgMax(num_classes={self.num_classes}) takes {self.num_classes} class "
                    f"scores on the last axis, but input_shape has the leaf {leaf}"
                )
            return dims(leaf)[:-1]

        return map_shapes(ids, input_shape)

    def inverse(self) -> OneHot:
        """``OneHot(num_classes)``."""
        return OneHot(self.num_classes)
