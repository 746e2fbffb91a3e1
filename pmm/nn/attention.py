"""``MultiHeadAttention``: scaled dot-product attention with several heads (Vaswani et al., 2017).

Examples
--------
>>> attention = MultiHeadAttention(num_heads=2)
>>> params, state = attention.init(jax.random.key(0), (5, 8))
>>> attention(params, jnp.ones((3, 5, 8)))[0].shape
(3, 5, 8)
"""

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pmm._dtypes import as_dtype, canonical_real_dtype, check_x64, compute_dtype
from pmm._validation import array_shape, check_bool, check_int, check_number, feature_size
from pmm.errors import RngError, ShapeError
from pmm.module import Module
from pmm.nn.initializers import check_initializer
from pmm.nn.linear import Linear
from pmm.shapes import is_shape, leaf_dtype, shape_of, validate_shape
from pmm.typing import AnyData, DataShape, DictParams, State

#: The keys a dict of data may have: self-attention on ``x``, or queries ``q`` attending to
#: ``kv``; either with an optional key padding ``mask``.
_FORMS = ({"x"}, {"x", "mask"}, {"q", "kv"}, {"q", "kv", "mask"})


class _Sizes(NamedTuple):
    """The per-sample sizes of one attention call: queries ``(targets, query_features)``, keys
    and values ``(sources, source_features)``; ``None`` for an unknown sequence length."""

    targets: int | None
    query_features: int
    sources: int | None
    source_features: int


class MultiHeadAttention(Module):
    """Multi-head scaled dot-product attention: self-attention, or cross-attention.

    With ``width = qkv_features`` split into ``num_heads`` heads of ``d = width / num_heads``
    features, for queries ``X_q (T, F_q)`` and keys/values ``X_kv (S, F_kv)`` of one sample::

        Q = X_q W_q + b_q,   K = X_kv W_k + b_k,   V = X_kv W_v + b_v        (T|S, width)
        head_h = softmax(Q_h K_h^T / sqrt(d) + M) V_h                        (T, d)
        output = concat(head_1, ..., head_H) W_o + b_o                       (T, features)

    where ``Q_h`` is columns ``h d`` to ``(h + 1) d - 1`` of ``Q`` (so for ``K_h``, ``V_h``),
    and ``M`` is ``0`` where query ``t`` may attend key ``s`` and ``-inf`` in effect elsewhere:
    not where ``mask[s]`` is ``False``, and, when ``causal``, not where ``s > t``. A query
    whose keys are all masked attends to every key equally (as ``jax.nn.dot_product_attention``
    and Flax do); its output means nothing, so mask it downstream.

    Data, with a leading batch axis:

    - an array ``(batch, seq, features)``: self-attention (``X_q = X_kv``);
    - ``{"x": (batch, seq, features), "mask": (batch, seq) bool}``: self-attention where
      ``mask`` is ``True`` for the positions that take part (a key padding mask);
    - ``{"q": (batch, T, F_q), "kv": (batch, S, F_kv)}``, optionally with ``"mask": (batch, S)``
      bool: cross-attention of the queries to ``kv``.

    The ``input_shape`` has the same form without the batch axis; give the mask as a bool struct,
    e.g. ``{"x": (seq, features), "mask": jax.ShapeDtypeStruct((seq,), jnp.bool_)}``. Sequence
    lengths may be ``None`` (any length). Output: ``(batch, T, features)``.

    Hyperparameters: ``features`` (output size; ``None``: ``F_q``), ``qkv_features`` (``width``;
    ``None``: ``F_q``; a multiple of ``num_heads``), ``dropout_rate`` (inverted dropout on the
    attention weights while training; needs ``rng`` then), ``causal``, ``use_bias``, ``dtype``
    (real), ``kernel_init`` (the four weights, as ``Linear``'s; biases start at zero).

    Parameters ``{"query": {"weight": (F_q, width), "bias": (width,)}, "key": {... (F_kv,
    width)}, "value": {... (F_kv, width)}, "output": {"weight": (width, features), "bias":
    (features,)}}`` (no ``"bias"`` entries when ``use_bias=False``).

    Without dropout, float32 attention runs ``jax.nn.dot_product_attention``; float64
    attention is written out instead, because that function computes its softmax in float32.

    Examples
    --------
    >>> mask = jax.ShapeDtypeStruct((7,), jnp.bool_)
    >>> MultiHeadAttention(num_heads=4, features=2).output_shape({"x": (7, 16), "mask": mask})
    ShapeDtypeStruct(shape=(7, 2), dtype=float32)
    >>> MultiHeadAttention(num_heads=2, causal=True).output_shape({"q": (3, 8), "kv": (None, 4)})
    (3, 8)
    """

    num_heads: int
    features: int | None = None
    qkv_features: int | None = None
    dropout_rate: float = 0.0
    causal: bool = False
    use_bias: bool = True
    dtype: str = "float32"
    kernel_init: str = "lecun_normal"

    def __post_init__(self) -> None:
        owner = "MultiHeadAttention"
        object.__setattr__(self, "dtype", canonical_real_dtype(self.dtype, "dtype", owner))
        super().__post_init__()
        check_int(self.num_heads, "num_heads", owner, minimum=1)
        for field in ("features", "qkv_features"):
            if getattr(self, field) is not None:
                check_int(getattr(self, field), field, owner, minimum=1)
        if self.qkv_features is not None and self.qkv_features % self.num_heads:
            raise ValueError(
                f"field 'qkv_features' of {owner} is {self.qkv_features}, which does not split "
                f"into num_heads={self.num_heads} equal heads; give a multiple of {self.num_heads}"
            )
        check_number(
            self.dropout_rate, "dropout_rate", owner, lambda r: 0 <= r < 1, "a number in [0, 1)"
        )
        check_bool(self.causal, "causal", owner)
        check_bool(self.use_bias, "use_bias", owner)
        check_initializer(self.kernel_init, "kernel_init", owner)

    def init(self, rng: Any, input_shape: DataShape) -> tuple[DictParams, State]:
        check_x64(self.dtype, repr(self))
        sizes = self._sizes(input_shape)
        width = self._width(sizes)
        fans = {
            "query": (sizes.query_features, width),
            "key": (sizes.source_features, width),
            "value": (sizes.source_features, width),
            "output": (width, self.features or sizes.query_features),
        }
        params = {
            name: self._dense(size).init(key, (fan_in,))[0]
            for (name, (fan_in, size)), key in zip(
                fans.items(), jax.random.split(rng, len(fans)), strict=True
            )
        }
        return params, ()

    def apply(
        self, params: DictParams, data: AnyData, training: bool, state: State, rng: Any
    ) -> tuple[AnyData, State]:
        self._sizes(shape_of(data, typed=True))
        queries, sources, mask = _split(data)
        dtype = compute_dtype(queries, self.dtype)
        queries, sources = as_dtype(queries, dtype), as_dtype(sources, dtype)
        dropout = training and self.dropout_rate > 0
        if dropout and rng is None:
            raise RngError(
                f"attention dropout with rate {self.dropout_rate} is random when training=True, "
                "so it needs a PRNG key: pass rng=jax.random.key(0) (a fresh key per step), or "
                "training=False to evaluate"
            )
        q, k, v = (
            _heads(_project(params[name], x), self.num_heads)
            for name, x in (("query", queries), ("key", sources), ("value", sources))
        )
        if dropout or q.dtype == jnp.float64:
            attended = _attention(
                q, k, v, mask, self.causal, self.dropout_rate if dropout else 0, rng
            )
        else:
            padding = None if mask is None else mask[:, None, None, :]
            attended = jax.nn.dot_product_attention(q, k, v, mask=padding, is_causal=self.causal)
        merged = attended.reshape(*attended.shape[:2], -1)
        return _project(params["output"], merged), state

    def output_shape(self, input_shape: DataShape) -> DataShape:
        sizes = self._sizes(input_shape)
        return (sizes.targets, self.features or sizes.query_features)

    def _dense(self, features: int) -> Linear:
        return Linear(
            features=features,
            use_bias=self.use_bias,
            dtype=self.dtype,
            kernel_init=self.kernel_init,
        )

    def _width(self, sizes: _Sizes) -> int:
        """``qkv_features``, or the query features, which must then split into the heads."""
        width = self.qkv_features or sizes.query_features
        if width % self.num_heads:
            raise ShapeError(
                f"{self!r} splits the query features into {self.num_heads} heads, but the "
                f"queries have {width} features; set qkv_features to a multiple of "
                f"{self.num_heads}, or choose a num_heads that divides {width}"
            )
        return width

    def _sizes(self, input_shape: DataShape) -> _Sizes:
        """The sizes of an attention input; ``ShapeError`` for any other form, a mask that is not
        bool data of the key sequence's length, or queries and keys of other ranks."""
        validate_shape(input_shape)
        queries, sources, mask = _split(input_shape)
        targets, query_features = _sequence(queries, "queries")
        sources_length, source_features = _sequence(sources, "keys/values")
        if mask is not None:
            _check_mask(mask, sources_length)
        return _Sizes(targets, query_features, sources_length, source_features)


def _split(tree: Any) -> tuple[Any, Any, Any]:
    """``(queries, keys_values, mask)`` of attention data or of its shape (``mask`` may be
    ``None``); ``ShapeError`` naming the accepted forms for anything else."""
    if isinstance(tree, dict):
        if set(tree) not in _FORMS:
            raise ShapeError(
                f"MultiHeadAttention takes an array (batch, seq, features), or a dict with keys "
                f"'x' (self-attention) or 'q' and 'kv' (cross-attention), each optionally with "
                f"'mask'; got keys {sorted(tree)}"
            )
        queries = tree.get("x", tree.get("q"))
        return queries, tree.get("kv", queries), tree.get("mask")
    if not is_shape(tree) and not isinstance(tree, jax.Array):
        raise ShapeError(
            f"MultiHeadAttention takes an array (batch, seq, features) or a dict with keys 'x' "
            f"or 'q' and 'kv' (and 'mask'), got {type(tree).__name__}"
        )
    return tree, tree, None


def _sequence(shape: Any, name: str) -> tuple[int | None, int]:
    """``(length, features)`` of the per-sample shape of one sequence of vectors."""
    sizes = array_shape(shape, "MultiHeadAttention")
    if len(sizes) != 2:
        raise ShapeError(
            f"MultiHeadAttention takes its {name} as (seq, features) per sample, i.e. data "
            f"(batch, seq, features), but their per-sample shape is {sizes}; add a sequence "
            "axis of length 1 for single vectors, or flatten extra axes into the batch"
        )
    return sizes[0], feature_size(shape, "MultiHeadAttention")


def _check_mask(mask: Any, length: int | None) -> None:
    """``ShapeError`` unless ``mask`` is bool data of shape ``(length,)`` per sample."""
    sizes = array_shape(mask, "MultiHeadAttention")
    if not isinstance(mask, jax.ShapeDtypeStruct) or leaf_dtype(mask) != np.bool_:
        kind = leaf_dtype(mask) if isinstance(mask, jax.ShapeDtypeStruct) else "float"
        raise ShapeError(
            f"the attention mask must be bool data (True where a key takes part), but it is "
            f"{kind} data; pass mask.astype(bool), and in input_shape "
            f"jax.ShapeDtypeStruct({sizes!r}, jnp.bool_)"
        )
    if len(sizes) != 1 or (None not in (sizes[0], length) and sizes[0] != length):
        raise ShapeError(
            f"the attention mask has per-sample shape {sizes}, but the keys form a sequence of "
            f"length {length}; give one bool per key position: mask (batch, {length})"
        )


def _project(params: DictParams, data: jax.Array) -> jax.Array:
    """``data @ weight + bias`` (the bias only if ``params`` has one)."""
    projected = data @ params["weight"]
    return projected + params["bias"] if "bias" in params else projected


def _heads(projected: jax.Array, num_heads: int) -> jax.Array:
    """``(batch, seq, width)`` to ``(batch, seq, heads, width / heads)``: head ``h`` takes
    columns ``h d`` to ``(h + 1) d - 1``."""
    return projected.reshape(*projected.shape[:2], num_heads, -1)


def _attention(
    q: jax.Array,
    k: jax.Array,
    v: jax.Array,
    mask: jax.Array | None,
    causal: bool,
    dropout_rate: float,
    rng: Any,
) -> jax.Array:
    """Attention ``(batch, T, heads, d)`` written out, with dropout on its weights; the same
    masking as ``jax.nn.dot_product_attention`` (a large finite negative logit), but with the
    softmax in the logits' own precision when that is above float32."""
    precision = jnp.promote_types(q.dtype, jnp.float32)
    logits = jnp.einsum("btnh,bsnh->bnts", q, k, preferred_element_type=precision)
    logits = logits / math.sqrt(q.shape[-1])
    allowed = jnp.ones(logits.shape[-2:], bool)
    if causal:
        allowed = jnp.tril(allowed)
    if mask is not None:
        allowed = allowed & mask[:, None, None, :]
    if causal or mask is not None:
        largest = min(jnp.finfo(precision).max, jnp.finfo(jnp.float32).max)
        logits = jnp.where(allowed, logits, jnp.asarray(-0.7 * largest, precision))
    weights = jax.nn.softmax(logits, axis=-1).astype(v.dtype)
    if dropout_rate:
        keep = jax.random.bernoulli(rng, 1 - dropout_rate, weights.shape)
        weights = jnp.where(keep, weights / (1 - dropout_rate), 0)
    return jnp.einsum("bnts,bsnh->btnh", weights, v)
