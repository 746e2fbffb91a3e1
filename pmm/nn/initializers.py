"""Weight initializers chosen by name, as in ``Linear(features=8, kernel_init="he_normal")``.

A layer stores the name, a plain string, in its spec, so the choice is saved with the model and
checked at construction (``check_initializer``); ``initialize`` draws the array at ``init``. The
names are those of ``jax.nn.initializers``:

- the variance-scaling family: ``E|w|^2 = scale / fan`` with

  ======================================  =====  ============================
  name                                    scale  fan
  ======================================  =====  ============================
  ``lecun_normal``, ``lecun_uniform``     1      ``fan_in``
  ``glorot_normal``, ``glorot_uniform``   1      ``(fan_in + fan_out) / 2``
  ``he_normal``, ``he_uniform``           2      ``fan_in``
  ======================================  =====  ============================

  ``*_normal`` draws from a normal distribution (not truncated, unlike ``jax.nn.initializers``,
  whose ``*_normal`` cut it at two standard deviations and rescale: the variance is the same),
  ``*_uniform`` from ``[-a, a]`` with ``a = sqrt(3 scale / fan)``. Complex dtypes draw the real
  and the imaginary part independently, each with half the variance. ``fan_in`` is the number of
  inputs each output sums over (``in`` for a dense weight ``(in, out)``, ``in * prod(kernel)``
  for a convolution kernel), ``fan_out`` the number of outputs each input feeds; a zero fan
  counts as one (the array is then empty anyway);
- ``orthogonal``: the array reshaped to ``(prod(shape[:-1]), shape[-1])`` has orthonormal rows
  or columns (``jax.nn.initializers.orthogonal``, unit scale);
- ``zeros``.

Examples
--------
>>> check_initializer("he_normal", "kernel_init", "Linear")
>>> initialize("glorot_uniform", jax.random.key(0), (3, 2), "float32", fan_in=3, fan_out=2).shape
(3, 2)
"""

from typing import Any

import jax
import jax.numpy as jnp

from pmm._dtypes import HALF_DTYPES, normal, uniform
from pmm._validation import check_array_size

#: The variance-scaling initializers: name -> (scale, fan, distribution).
VARIANCE_SCALING = {
    "lecun_normal": (1.0, "fan_in", normal),
    "lecun_uniform": (1.0, "fan_in", uniform),
    "glorot_normal": (1.0, "fan_avg", normal),
    "glorot_uniform": (1.0, "fan_avg", uniform),
    "he_normal": (2.0, "fan_in", normal),
    "he_uniform": (2.0, "fan_in", uniform),
}

#: Every initializer name a layer's ``kernel_init`` accepts.
INITIALIZERS = (*VARIANCE_SCALING, "orthogonal", "zeros")


def check_initializer(name: Any, field: str, owner: str) -> None:
    """Raise ``ValueError`` naming ``field`` of ``owner`` unless ``name`` is in ``INITIALIZERS``.

    Examples
    --------
    >>> check_initializer("kaiming", "kernel_init", "Conv")
    Traceback (most recent call last):
    ValueError: field 'kernel_init' of Conv is 'kaiming', not an initializer name; give one of ...
    """
    if not isinstance(name, str) or name not in INITIALIZERS:
        raise ValueError(
            f"field {field!r} of {owner} is {name!r}, not an initializer name; give one of "
            f"{list(INITIALIZERS)}"
        )


def initialize(
    name: str, key: Any, shape: tuple[int, ...], dtype: str, *, fan_in: int, fan_out: int
) -> jax.Array:
    """An array of ``shape`` and ``dtype`` drawn by the initializer called ``name``.

    ``fan_in`` and ``fan_out`` are used by the variance-scaling names only (see the module
    docstring).

    Examples
    --------
    >>> w = initialize("lecun_normal", jax.random.key(0), (400, 300), "float32", fan_in=400,
    ...                fan_out=300)
    >>> round(float(w.var() * 400), 1)
    1.0
    """
    if name == "zeros":
        return jnp.zeros(shape, dtype)
    if name == "orthogonal":
        drawn = "float32" if dtype in HALF_DTYPES else dtype
        return jax.nn.initializers.orthogonal()(key, shape, drawn).astype(dtype)
    scale, mode, distribution = VARIANCE_SCALING[name]
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    return distribution(key, shape, dtype, variance=scale / max(fan, 1))


def dense_weight(layer: Any, key: Any, size: int, contracted: str) -> jax.Array:
    """The ``(size, layer.features)`` weight of a dense layer (``Linear``, ``MatMul``), drawn by
    its ``kernel_init`` with ``fan_in = size``.

    Sizes no machine can hold are a ``ValueError`` naming ``features`` or the ``contracted``
    axis (``"the input's last axis"``) before any array is built.

    Examples
    --------
    >>> import pmm
    >>> dense_weight(pmm.nn.Linear(features=2), jax.random.key(0), 3, "the input's last axis").shape
    (3, 2)
    """
    owner = type(layer).__name__
    features = f"field 'features' ({layer.features})"
    check_array_size((layer.features,), layer.dtype, f"{owner}'s output features", features)
    cause = f"{features} or {contracted} ({size})"
    check_array_size((size, layer.features), layer.dtype, f"{owner}'s weight", cause)
    return initialize(
        layer.kernel_init,
        key,
        (size, layer.features),
        layer.dtype,
        fan_in=size,
        fan_out=layer.features,
    )
