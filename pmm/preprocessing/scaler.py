"""``Scaler``: the base of the affine scalers, ``y = (x - center) / scale`` per feature.

A scaler is a module like any other: ``init`` gives neutral statistics (centre 0, scale 1: the
identity), ``fit(x)`` gives the statistics of data, and the module maps raw data to scaled data.
``inverse()`` is the module that maps scaled data back, with the same params and state.

**Where the statistics live.** In the *state*, ``{"center": tree, "scale": tree}`` (one
``(features,)`` array per data leaf, in the default float dtype); params are ``()``. ``pmm.fit``
never trains state, and a scaler returns its state unchanged even when training, so the
statistics stay exactly what ``fit`` computed (and sensitivity heuristics over params, as in
``pmm.conformal``, do not count them). They are saved and loaded with the model.

Examples
--------
>>> import numpy as np, pmm
>>> scaler = pmm.preprocessing.StandardScaler()
>>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
>>> params, state = scaler.fit(x)
>>> scaled, _ = scaler(params, x, False, state)
>>> scaled
Array([[-1., -1.],
       [ 1.,  1.]], dtype=float32)
>>> scaler.inverse()(params, scaled, False, state)[0]
Array([[ 1., 10.],
       [ 3., 30.]], dtype=float32)
"""

import abc
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PyTree

from pmm._validation import check_int, feature_size
from pmm.errors import ShapeError
from pmm.module import Module
from pmm.preprocessing.columns import check_passthrough, column_chunks, passthrough_per_leaf
from pmm.shapes import is_shape, leaf_dtype, shape_leaves, validate_shape
from pmm.typing import DataShape, DictState, Params

#: Samples read per block by ``fit``: bounds the float64 copy it holds (not its result).
CHUNK_SIZE = 65536


class Scaler(Module):
    """Per-feature affine scaling ``(x - center) / scale`` of every leaf of the data.

    Subclasses say how ``fit`` computes ``center`` and ``scale`` from the data (``summarise``).
    ``passthrough`` names columns to leave alone (centre 0, scale 1 whatever the data), e.g.
    categorical columns: a tuple of column indices for every leaf, or one tuple per data leaf in
    ``jax.tree.leaves`` order. Data is real floating, ``(batch, *rest, features)`` per leaf,
    statistics over every axis but the last; the output has the input's shape and dtype.

    Examples
    --------
    >>> scaler = pmm.preprocessing.MinMaxScaler(passthrough=(1,))
    >>> params, state = scaler.fit(np.array([[0.0, 5.0], [4.0, 7.0]]))
    >>> scaler(params, jnp.array([[2.0, 6.0]]), False, state)[0]
    Array([[0.5, 6. ]], dtype=float32)
    """

    passthrough: tuple = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        check_passthrough(self.passthrough, type(self).__name__)

    @abc.abstractmethod
    def summarise(self, chunks: Iterator[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(center, scale)`` (float64, ``(features,)``) of one leaf read as ``chunks``.

        ``chunks`` yields float64 ``(rows, features)`` blocks, one pass; ``scale`` must be
        positive (``pmm.preprocessing.columns.constant_columns`` tells which get scale 1).
        """

    def init(self, rng: Any, input_shape: DataShape) -> tuple[Params, DictState]:
        """Neutral statistics for data of ``input_shape``: centre 0 and scale 1 (the identity)."""
        sizes = self._feature_sizes(input_shape)
        passthrough_per_leaf(self.passthrough, [size for size, _ in sizes], type(self).__name__)
        structure = jax.tree.structure(input_shape, is_leaf=is_shape)
        state = {
            name: jax.tree.unflatten(
                structure, [jnp.full(size, value, dtype) for size, dtype in sizes]
            )
            for name, value in (("center", 0.0), ("scale", 1.0))
        }
        return (), state

    def _feature_sizes(self, input_shape: DataShape) -> list[tuple[int, np.dtype]]:
        """``(features, statistics dtype)`` of each leaf; refuses integer and complex leaves."""
        validate_shape(input_shape)
        owner = type(self).__name__
        sizes = []
        for leaf in shape_leaves(input_shape):
            dtype = leaf_dtype(leaf)
            if not jnp.issubdtype(dtype, jnp.floating):
                raise ShapeError(
                    f"{owner} takes real floating data, but input_shape has the leaf {leaf}; "
                    "encode class ids with pmm.preprocessing.OneHot, or cast the data to float"
                )
            sizes.append((feature_size(leaf, owner), dtype))
        return sizes

    def fit(self, x: Any, *, chunk_size: int = CHUNK_SIZE) -> tuple[Params, DictState]:
        """``(params, state)`` holding the statistics of ``x``, computed in one pass.

        Parameters
        ----------
        x
            Training data: an array or PyTree of arrays (numpy or JAX), samples first, real
            floating, finite. Statistics are per feature (last axis) over all other axes.
        chunk_size
            Samples converted to float64 at a time (the statistics are accumulated in float64).

        Returns
        -------
        tuple
            ``((), {"center": tree, "scale": tree})``: what ``init`` builds for the shape of
            ``x``, with the data's statistics in place of the neutral ones.

        Raises
        ------
        ValueError
            ``x`` is empty, not floating, holds NaN or inf, or its leaves differ in sample count.
        """
        check_int(chunk_size, "chunk_size", f"{type(self).__name__}.fit", minimum=1)
        leaves, structure = jax.tree.flatten(x)
        _check_samples(leaves, structure)
        shape = jax.tree.unflatten(structure, [tuple(np.shape(leaf)[1:]) for leaf in leaves])
        params, neutral = self.init(None, shape)
        skips = passthrough_per_leaf(
            self.passthrough, [np.shape(leaf)[-1] for leaf in leaves], type(self).__name__
        )
        centers, scales = [], []
        for path_leaf, skip, template in zip(
            jax.tree_util.tree_leaves_with_path(x),
            skips,
            jax.tree.leaves(neutral["center"]),
            strict=True,
        ):
            path, leaf = path_leaf
            where = f"x{jax.tree_util.keystr(path)}"
            center, scale = self.summarise(column_chunks(leaf, chunk_size, where))
            center[list(skip)], scale[list(skip)] = 0.0, 1.0
            centers.append(jnp.asarray(center, template.dtype))
            scales.append(jnp.asarray(scale, template.dtype))
        return params, {
            "center": jax.tree.unflatten(structure, centers),
            "scale": jax.tree.unflatten(structure, scales),
        }

    def apply(
        self,
        params: Params,
        data: PyTree[Float[Array, " batch_size ..."]],
        training: bool,
        state: DictState,
        rng: Any,
    ) -> tuple[PyTree[Float[Array, " batch_size ..."]], DictState]:
        center, scale = self._statistics(state)
        scaled = jax.tree.map(lambda x, c, s: _kept_dtype((x - c) / s, x), data, center, scale)
        return scaled, state

    def undo(self, data: Any, state: DictState) -> Any:
        """The raw data whose scaling is ``data``: ``data * scale + center``, leaf by leaf."""
        center, scale = self._statistics(state)
        return jax.tree.map(lambda y, c, s: _kept_dtype(y * s + c, y), data, center, scale)

    def _statistics(self, state: Any) -> tuple[Any, Any]:
        if not isinstance(state, dict) or sorted(state) != ["center", "scale"]:
            raise ShapeError(
                f"{self!r} keeps its statistics in its state, so it needs the state that its "
                f"fit (or init) returned ({{'center', 'scale'}}), got {jax.tree.structure(state)}"
            )
        return state["center"], state["scale"]

    def output_shape(self, input_shape: DataShape) -> DataShape:
        self._feature_sizes(input_shape)
        return input_shape

    def inverse(self) -> Module:
        """The module that undoes this scaler: ``Inverse(self)``, same params and state."""
        from pmm.preprocessing.inverse import Inverse

        return Inverse(self)


def _kept_dtype(result: Any, data: Any) -> Any:
    """``result`` in the dtype JAX gives ``data`` (numpy float64 stays float64 only with x64)."""
    return result.astype(jnp.asarray(data).dtype)


def _check_samples(leaves: list[Any], structure: Any) -> None:
    """``ValueError`` unless every leaf has a sample axis of one non-zero length and features."""
    if not leaves:
        raise ValueError("x holds no arrays; give the data to fit, samples first")
    counts = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in leaves}
    if None in counts or any(np.ndim(leaf) < 2 for leaf in leaves):
        shapes = jax.tree.unflatten(structure, [np.shape(leaf) for leaf in leaves])
        raise ValueError(
            f"x has shapes {shapes}; scalers need (samples, ..., features) per leaf "
            "(reshape a column of values to (samples, 1))"
        )
    if len(counts) != 1 or 0 in counts:
        shapes = jax.tree.unflatten(structure, [np.shape(leaf) for leaf in leaves])
        raise ValueError(
            f"x has shapes {shapes}; fit needs at least one sample, the same number in every leaf"
        )
